"""Run Ingestion transformations for real: JavaScript in an embedded, sandboxed QuickJS, with limits.

A transformation's code defines ``transform(record, helper)`` (async or not). :class:`JsSandbox` runs
it on one record or on many (compiled once, called per record) and answers a :class:`TransformOutcome`:
the output records and their JSON payloads, or a :class:`TransformError` (``code``, ``message``). That
is the shape of ``tryTransformation``'s answer (:meth:`TransformOutcome.to_response`). Returning an
array means several records; returning ``null``/``undefined`` drops the record (no payloads).

The engine is `quickjs-ng <https://pypi.org/project/quickjs-ng/>`_ (the maintained QuickJS fork),
imported on first use so that importing :mod:`mockserver` stays cheap. Its context is a bare
ECMAScript realm: no ``require``, ``process``, ``fetch``, ``console``, timers, file system or
network, and ``import()`` of any module is refused. Limits, enforced by the engine:

* time: ``timeout_ms`` per record (and for the code's top level when it is compiled), counted in
  CPU time of the process (C ``clock()``, the clock QuickJS's interrupt handler reads): the engine
  interrupts a script past the budget, an interruption JS cannot catch, and a chain of awaits is cut
  at the same budget between jobs. On an idle machine that is wall time. On a loaded one, an infinite
  loop is stopped after ``timeout_ms`` of CPU time, later in wall time; and while several threads run
  transforms at once each budget also counts the others' CPU time, so a slow one may stop early.
* memory: ``memory_limit`` bytes per runtime (64 MiB by default); past it allocations fail with
  ``out of memory``. Native stack: ``max_stack_size`` (1 MiB) so deep recursion is a ``RangeError``.
* output: a record nested deeper than ``max_depth`` arrays and objects (the mock's limit for every
  JSON value it accepts) fails, as a record that does not serialise to a JSON object does.

Isolation: nothing JavaScript made outlives the call that made it. Each :meth:`JsSandbox.run_many`
(one request: a try, or one transformation of a push) gets a fresh runtime, evaluates the code in it,
runs its records and frees it before returning, so no global, closure or changed prototype reaches
another request, of the same application or another. Records of one call share the runtime, as in a
warm worker; a runtime that failed (timeout, memory, engine error) is replaced for the next record.
A fresh runtime costs ~0.6 ms (idle machine) against ~0.06 ms for a call in a warm one. QuickJS can
compile once to bytecode and load it into a fresh context, but the binding offers no way to: no
bytecode in its public API, and each of its contexts has its own runtime.

Memory budget: at most ``max_runtimes`` runtimes (4 by default) are alive at once in the whole mock,
so their JavaScript heaps hold at most ``max_runtimes * memory_limit`` (256 MiB by default); a call
waits for a free runtime until its deadline, then fails its records with a timeout. A freed runtime
that held ``TRIM_AFTER_BYTES`` or more hands the C heap's free pages back to the OS (glibc), so an
idle mock does not keep what its transformations once used.

Threads: a QuickJS runtime must not be used by two threads; each call creates, uses and frees its
runtime in the calling thread. No lock is held while JS runs and the engine releases the GIL, so
threads run transforms in parallel.
"""

from __future__ import annotations

import ctypes
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol, cast

from mockserver.engine.depth import deeper_than
from mockserver.settings import DEFAULT_MAX_DEPTH

__all__ = [
    "DEFAULT_MAX_RUNTIMES",
    "DEFAULT_MEMORY_LIMIT",
    "JsSandbox",
    "TransformError",
    "TransformErrorCode",
    "TransformOutcome",
]

DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024  # bytes one runtime's JavaScript heap may hold
DEFAULT_MAX_RUNTIMES = 4  # runtimes alive at once, in the whole mock: the memory budget is their product
TRIM_AFTER_BYTES = 4 * 1024 * 1024  # a freed runtime this large hands the C heap's free pages back


class TransformErrorCode(IntEnum):
    """The ``error.code`` of a failed run. Algolia documents only that it is an integer: these
    HTTP-flavoured values are the mock's own choice, one per kind of failure."""

    COMPILE_ERROR = 400  # syntax error, or the code defines no function named transform
    TIMEOUT = 408  # stopped at the time limit
    OUT_OF_MEMORY = 413  # the memory limit was reached
    INVALID_RESULT = 422  # transform returned something other than an object, an array of them or null
    RUNTIME_ERROR = 500  # transform threw, its promise rejected or never settled


@dataclass(frozen=True, slots=True)
class TransformError:
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class TransformOutcome:
    """What one record became: zero or more records (with their JSON payloads), or an error."""

    records: list[dict[str, Any]]
    payloads: list[str]
    error: TransformError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_response(self) -> dict[str, Any]:
        """The body of a ``tryTransformation`` answer: ``{"payloads": [...], "error"?: {...}}``."""
        body: dict[str, Any] = {"payloads": list(self.payloads)}
        if self.error is not None:
            body["error"] = {"code": int(self.error.code), "message": self.error.message}
        return body


def _failure(code: TransformErrorCode, message: str) -> TransformOutcome:
    return TransformOutcome(records=[], payloads=[], error=TransformError(code=code, message=message))


# --- the engine, seen through the few calls we make (quickjs-ng ships no type information) ---------


_OVER_BUDGET = _failure(
    TransformErrorCode.TIMEOUT,
    "not transformed: the request's time budget for transformations (transform_budget) ran out",
)


class _JsFunction(Protocol):
    def __call__(self, *args: str) -> object: ...


class _JsContext(Protocol):
    def eval(self, code: str) -> object: ...
    def memory(self) -> dict[str, int]: ...
    def execute_pending_job(self) -> bool: ...
    def set_time_limit(self, seconds: float) -> None: ...
    def set_memory_limit(self, limit: int) -> None: ...
    def set_max_stack_size(self, limit: int) -> None: ...


class _Engine:
    """The lazily imported ``quickjs`` module (from the quickjs-ng distribution)."""

    _lock = threading.Lock()
    _module: Any = None

    @classmethod
    def module(cls) -> Any:
        if cls._module is None:
            with cls._lock:
                if cls._module is None:
                    try:
                        import quickjs  # type: ignore[import-untyped]
                    except ImportError as exc:  # pragma: no cover - depends on the environment
                        raise RuntimeError(
                            "running transformations needs the quickjs-ng package: pip install quickjs-ng"
                        ) from exc
                    cls._module = quickjs
        return cls._module


# The runner, evaluated in every fresh context before the user's code. It keeps its own references
# to JSON and friends (the user's code may replace the globals) and always hands Python a string.
_RUNNER = r"""
(() => {
  "use strict";
  const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
  const freeze = Object.freeze, hasOwn = Object.hasOwn, define = Object.defineProperty;
  const setPrototype = Object.setPrototypeOf;
  const then = Promise.prototype.then, apply = Reflect.apply, text = String;
  let transform = undefined;
  let state = null;

  const describe = (e) => {
    try {
      if (e !== null && typeof e === "object" && "message" in e) {
        const name = typeof e.name === "string" && e.name ? e.name : "Error";
        let said = name + ": " + text(e.message);
        const stack = typeof e.stack === "string" ? e.stack.trim().split("\n")[0].trim() : "";
        if (stack) said += " (" + stack + ")";
        return said;
      }
      return "Uncaught " + text(e);
    } catch (_) {
      return "Uncaught exception (not printable)";
    }
  };
  // What Python reads is built of objects and arrays without a prototype: JSON.stringify looks for
  // a toJSON method, and the code may have put one on Object.prototype or Array.prototype.
  const bare = (value) => setPrototype(value, null);
  const answer = (value) => { state = stringify(bare(value)); };
  const fail = (kind, message) => answer({ ok: false, kind: text(kind), message: text(message) });
  const settle = (value) => {
    try {
      if (value === undefined || value === null) { answer({ ok: true, payloads: bare([]) }); return; }
      const items = isArray(value) ? value : [value];
      const payloads = bare([]);
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const where = isArray(value)
          ? "transform returned an array whose item " + i + " is "
          : "transform returned ";
        if (item === null || typeof item !== "object" || isArray(item)) {
          fail("result", where + (item === null ? "null" : isArray(item) ? "an array" : typeof item) +
               ": expected an object (a record), an array of records, or null to drop the record");
          return;
        }
        const json = stringify(item);
        if (typeof json !== "string" || json[0] !== "{") {
          fail("result", where + "an object that JSON.stringify turns into " +
               (typeof json === "string" ? "the JSON text " + json.slice(0, 40) : text(json)) +
               ", not a JSON object (is a toJSON method in the way?)");
          return;
        }
        payloads[payloads.length] = json;
      }
      answer({ ok: true, payloads });
    } catch (e) {
      fail("result", "the returned record cannot be serialised to JSON: " + describe(e));
    }
  };
  const reject = (e) => {
    const oom = e !== null && typeof e === "object" &&
      e.name === "InternalError" && e.message === "out of memory";
    fail(oom ? "memory" : "throw", describe(e));
  };
  const lock = (name, fn) =>
    define(globalThis, name, { value: fn, writable: false, configurable: false, enumerable: false });

  lock("__mockserverBind", (fn) => { transform = fn; });
  lock("__mockserverState", () => state);
  lock("__mockserverStart", (recordJson, secretsJson) => {
    state = null;
    let result;
    try {
      const secrets = parse(secretsJson);
      const helper = freeze({
        secrets: freeze({ get: (name) => (hasOwn(secrets, name) ? secrets[name] : undefined) }),
      });
      result = transform(parse(recordJson), helper);
    } catch (e) {
      reject(e);
      return state;
    }
    if (result !== null && (typeof result === "object" || typeof result === "function") &&
        typeof result.then === "function") {
      try { apply(then, Promise.resolve(result), [settle, reject]); } catch (e) { reject(e); }
    } else {
      settle(result);
    }
    return state;
  });
})();
"""

_BIND = "typeof transform === 'function' ? (__mockserverBind(transform), true) : false"


class _Timeout(Exception):
    pass


@dataclass(slots=True)
class _Compiled:
    """One runtime (QuickJS context) with the runner and the user's code in it; owned by one call."""

    context: _JsContext
    start: _JsFunction
    state: _JsFunction

    def close(self, memory_limit: int) -> int:
        """Drop this object's references to the runtime (freed now, unless someone else holds one)
        and say how many bytes its heap held."""
        held = _held(self.context, memory_limit)
        del self.start, self.state, self.context
        return held


def _held(context: _JsContext, memory_limit: int) -> int:
    """The bytes a runtime's heap holds (its limit when it cannot say: assume the worst)."""
    try:
        return int(context.memory().get("malloc_size", 0))
    except Exception:  # a runtime that failed may not answer
        return memory_limit


def _after_free(held: int) -> None:
    """After a runtime of ``held`` bytes was freed: a large one hands the C heap's free pages back to
    the OS, or they stay in the process for good (small blocks, scattered over every thread's heap:
    80 freed runtimes of 40 MB kept 2.6 GB resident)."""
    if held >= TRIM_AFTER_BYTES:
        _HeapTrim.trim()


class _HeapTrim:
    """glibc's ``malloc_trim(0)``, looked up on first use; nothing where the C library lacks it."""

    _lock = threading.Lock()
    _looked_up = False
    _trim: Any = None

    @classmethod
    def trim(cls) -> bool:
        """Return the free pages of every heap to the OS; whether it could be asked to."""
        if not cls._looked_up:
            with cls._lock:
                if not cls._looked_up:
                    try:
                        process = ctypes.CDLL(None)  # the symbols already loaded, the C library's among them
                        cls._trim = getattr(process, "malloc_trim", None)
                    except OSError:  # pragma: no cover - a platform without dlopen(NULL)
                        cls._trim = None
                    cls._looked_up = True
        if cls._trim is None:
            return False
        cls._trim(ctypes.c_size_t(0))
        return True


def _message(exc: BaseException) -> str:
    """``SyntaxError: x (at <input>:1:10)`` from QuickJS's ``SyntaxError: x\\n    at <input>:1:10``."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return f"{lines[0]} ({lines[1]})" if len(lines) > 1 and lines[1].startswith("at ") else lines[0]


def _classify(exc: BaseException, default: TransformErrorCode) -> TransformOutcome:
    text = str(exc)
    if "InternalError: interrupted" in text:
        return _failure(TransformErrorCode.TIMEOUT, "the transformation was stopped at its time limit")
    if "out of memory" in text:
        return _failure(TransformErrorCode.OUT_OF_MEMORY, "the transformation ran out of memory")
    return _failure(default, _message(exc))


class JsSandbox:
    """Runs transformation code on records in QuickJS; safe to share between threads and between
    applications, because nothing JavaScript made outlives the call that made it (see module doc)."""

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        max_stack_size: int = 1024 * 1024,
        max_runtimes: int = DEFAULT_MAX_RUNTIMES,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        if max_runtimes < 1:
            raise ValueError("max_runtimes: at least one runtime is needed to run transformations")
        self.memory_limit = memory_limit
        self.max_stack_size = max_stack_size
        self.max_runtimes = max_runtimes
        self.max_depth = max_depth
        self._slots = threading.BoundedSemaphore(max_runtimes)

    @property
    def memory_budget(self) -> int:
        """The most memory the JavaScript heaps of every runtime alive at once may hold, in bytes."""
        return self.max_runtimes * self.memory_limit

    # --- public API ---------------------------------------------------------------------------

    def run(
        self,
        code: str,
        record: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        timeout_ms: int = 1000,
        *,
        deadline: float | None = None,
    ) -> TransformOutcome:
        """Apply ``code``'s ``transform`` to one record."""
        return self.run_many(code, [record], secrets, timeout_ms, deadline=deadline)[0]

    def run_many(
        self,
        code: str,
        records: Iterable[Mapping[str, Any]],
        secrets: Mapping[str, str] | None = None,
        timeout_ms: int = 1000,
        *,
        deadline: float | None = None,
    ) -> list[TransformOutcome]:
        """Apply ``code``'s ``transform`` to each record: compiled once in a fresh runtime that is
        freed before this returns, ``timeout_ms`` of CPU per record.

        ``deadline`` (a :func:`time.monotonic` reading) bounds them all in wall-clock time, waiting
        for a free runtime included: each record gets at most what is left, and records reached after
        it fail with a timeout without running. A compile error is the outcome of every record.
        Records must be JSON-serialisable (``TypeError``/``ValueError`` otherwise, as from
        :func:`json.dumps`)."""
        record_texts = [json.dumps(record, allow_nan=False) for record in records]
        if not record_texts:
            return []
        secrets_json = json.dumps(dict(secrets or {}))
        wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        if not self._slots.acquire(timeout=wait):
            busy = _failure(
                TransformErrorCode.TIMEOUT,
                f"not transformed: all {self.max_runtimes} JavaScript runtimes of this mock stayed busy "
                "until the request's time budget for transformations (transform_budget) ran out",
            )
            return [busy] * len(record_texts)
        try:
            return self._run_fresh(code, record_texts, secrets_json, timeout_ms, deadline)
        finally:
            self._slots.release()

    def check(self, code: str, timeout_ms: int = 1000) -> TransformError | None:
        """Compile ``code`` (running its top level) and say what is wrong with it, if anything."""
        with self._slots:
            compiled = self._compile(code, timeout_ms)
            if isinstance(compiled, TransformOutcome):
                return compiled.error
            self._free(compiled)
            return None

    # --- internals ----------------------------------------------------------------------------

    def _run_fresh(
        self,
        code: str,
        record_texts: list[str],
        secrets_json: str,
        timeout_ms: int,
        deadline: float | None,
    ) -> list[TransformOutcome]:
        """The records through runtimes of this call alone (one, unless a record breaks it)."""
        compiled: _Compiled | None = None
        outcomes: list[TransformOutcome] = []
        try:
            for text in record_texts:
                budget_ms = timeout_ms
                if deadline is not None:
                    left_ms = int((deadline - time.monotonic()) * 1000)
                    if left_ms <= 0:
                        outcomes.append(_OVER_BUDGET)
                        continue
                    budget_ms = min(timeout_ms, left_ms)
                if compiled is None:  # the first record, or the previous one broke the runtime
                    fresh = self._compile(code, timeout_ms)
                    if isinstance(fresh, TransformOutcome):  # the code cannot start: nor for the rest
                        outcomes.extend([fresh] * (len(record_texts) - len(outcomes)))
                        break
                    compiled = fresh
                outcome, healthy = self._run_one(compiled, text, secrets_json, budget_ms)
                if not healthy:
                    self._free(compiled)
                    compiled = None
                outcomes.append(self._bounded(outcome))
        finally:
            if compiled is not None:
                self._free(compiled)
        return outcomes

    def _bounded(self, outcome: TransformOutcome) -> TransformOutcome:
        """The outcome, or a failure when a record it made nests deeper than ``max_depth``."""
        if any(deeper_than(record, self.max_depth) for record in outcome.records):
            return self._too_deep()
        return outcome

    def _too_deep(self) -> TransformOutcome:
        return _failure(
            TransformErrorCode.INVALID_RESULT,
            f"transform returned a record nested more than {self.max_depth} levels deep (arrays "
            "and objects); the limit is max_depth",
        )

    def _free(self, compiled: _Compiled) -> None:
        """Free a runtime now (the caller keeps no other reference to it)."""
        _after_free(compiled.close(self.memory_limit))

    def _compile(self, code: str, timeout_ms: int) -> _Compiled | TransformOutcome:
        """A fresh runtime with the runner and ``code`` evaluated in it, or why there is none (the
        runtime is freed then)."""
        quickjs = _Engine.module()
        try:
            context = cast(_JsContext, quickjs.Context())
        except Exception as exc:  # the engine failed in a way it does not name: report, never raise
            return _failure(TransformErrorCode.COMPILE_ERROR, f"the engine failed: {_message(exc)}")
        made = self._prepare(context, code, timeout_ms)
        if isinstance(made, TransformOutcome):
            held = _held(context, self.memory_limit)
            del context
            _after_free(held)
        return made

    def _prepare(self, context: _JsContext, code: str, timeout_ms: int) -> _Compiled | TransformOutcome:
        quickjs = _Engine.module()
        try:
            context.set_memory_limit(self.memory_limit)
            context.set_max_stack_size(self.max_stack_size)
            context.set_time_limit(max(timeout_ms, 1) / 1000)
            context.eval(_RUNNER)
            context.eval(code)
            if context.eval(_BIND) is not True:
                return _failure(
                    TransformErrorCode.COMPILE_ERROR,
                    "the code must define a function named transform: "
                    "async function transform(record, helper) { ... }",
                )
            start = cast(_JsFunction, context.eval("__mockserverStart"))
            state = cast(_JsFunction, context.eval("__mockserverState"))
            if not self._drain(context, time.process_time() + max(timeout_ms, 1) / 1000):
                return _failure(TransformErrorCode.TIMEOUT, "the code's top level did not finish in time")
        except quickjs.JSException as exc:
            return _classify(exc, TransformErrorCode.COMPILE_ERROR)
        except ValueError as exc:  # NUL characters or lone surrogates cannot reach the engine
            return _failure(TransformErrorCode.COMPILE_ERROR, f"the code cannot be compiled: {exc}")
        except Exception as exc:  # the engine failed in a way it does not name: report, never raise
            return _failure(TransformErrorCode.COMPILE_ERROR, f"the engine failed: {_message(exc)}")
        return _Compiled(context=context, start=start, state=state)

    def _run_one(
        self, compiled: _Compiled, record_json: str, secrets_json: str, timeout_ms: int
    ) -> tuple[TransformOutcome, bool]:
        """The outcome, and whether the runtime may be used again."""
        quickjs = _Engine.module()
        context = compiled.context
        deadline = time.process_time() + max(timeout_ms, 1) / 1000  # the clock QuickJS reads
        try:
            context.set_time_limit(max(timeout_ms, 1) / 1000)
            state = compiled.start(record_json, secrets_json)
            while state is None:
                remaining = deadline - time.process_time()
                if remaining <= 0:
                    raise _Timeout
                context.set_time_limit(remaining)
                if not context.execute_pending_job():
                    state = compiled.state()
                    if state is None:
                        return _failure(
                            TransformErrorCode.RUNTIME_ERROR,
                            "transform returned a promise that never settles",
                        ), True
                    break
                state = compiled.state()
            healthy = self._drain(context, deadline)
        except _Timeout:
            return _failure(
                TransformErrorCode.TIMEOUT, "the transformation was stopped at its time limit"
            ), False
        except quickjs.JSException as exc:
            return _classify(exc, TransformErrorCode.RUNTIME_ERROR), False
        except Exception as exc:  # the engine failed in a way it does not name: report, never raise
            return _failure(TransformErrorCode.RUNTIME_ERROR, f"the engine failed: {_message(exc)}"), False
        outcome = self._outcome(state)
        if outcome.error is not None and outcome.error.code == TransformErrorCode.OUT_OF_MEMORY:
            healthy = False  # the heap may still hold what filled it
        return outcome, healthy

    @staticmethod
    def _drain(context: _JsContext, deadline: float) -> bool:
        """Run what the transform left queued (detached promises) so the next record starts clean;
        False if that does not finish in the record's time, so the runtime is thrown away."""
        quickjs = _Engine.module()
        try:
            while True:
                remaining = deadline - time.process_time()
                if remaining <= 0:
                    return False
                context.set_time_limit(remaining)
                if not context.execute_pending_job():
                    return True
        except quickjs.JSException:
            return False

    def _outcome(self, state: object) -> TransformOutcome:
        if not isinstance(state, str):
            return _failure(TransformErrorCode.RUNTIME_ERROR, "the transformation runner was tampered with")
        try:
            answer = json.loads(state)
        except ValueError:
            return _failure(TransformErrorCode.RUNTIME_ERROR, "the transformation runner was tampered with")
        if not isinstance(answer, dict):
            return _failure(TransformErrorCode.RUNTIME_ERROR, "the transformation runner was tampered with")
        if answer.get("ok") is not True:
            kind = answer.get("kind")
            code = {
                "result": TransformErrorCode.INVALID_RESULT,
                "memory": TransformErrorCode.OUT_OF_MEMORY,
            }.get(kind if isinstance(kind, str) else "", TransformErrorCode.RUNTIME_ERROR)
            return _failure(code, str(answer.get("message", "the transformation failed")))
        payloads = answer.get("payloads")
        if not isinstance(payloads, list) or not all(isinstance(p, str) for p in payloads):
            return _failure(TransformErrorCode.RUNTIME_ERROR, "the transformation runner was tampered with")
        records: list[dict[str, Any]] = []
        for payload in payloads:
            try:
                record = json.loads(payload)
            except ValueError:
                record = None
            except RecursionError:  # deeper than Python's parser goes: deeper than max_depth too
                return self._too_deep()
            if not isinstance(record, dict):
                return _failure(TransformErrorCode.INVALID_RESULT, "transform returned a non-object record")
            records.append(record)
        return TransformOutcome(records=records, payloads=payloads, error=None)
