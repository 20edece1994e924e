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

Threads: a QuickJS runtime must not be used by two threads, so each thread that calls a
:class:`JsSandbox` gets its own runtimes (``threading.local``); no lock is held while JS runs and the
engine releases the GIL, so threads run transforms in parallel. Each thread keeps the compiled form of
its ``max_cached`` most recently used codes, one runtime per code: different codes never share
globals. Records run by the same code in the same thread do share its globals, as in a warm worker;
a runtime that failed (timeout, memory, engine error) is thrown away and compiled afresh next time.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol, cast

__all__ = ["JsSandbox", "TransformError", "TransformErrorCode", "TransformOutcome"]


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
  const then = Promise.prototype.then, apply = Reflect.apply;
  let transform = undefined;
  let state = null;

  const describe = (e) => {
    try {
      if (e !== null && typeof e === "object" && "message" in e) {
        const name = typeof e.name === "string" && e.name ? e.name : "Error";
        let text = name + ": " + String(e.message);
        const stack = typeof e.stack === "string" ? e.stack.trim().split("\n")[0].trim() : "";
        if (stack) text += " (" + stack + ")";
        return text;
      }
      return "Uncaught " + String(e);
    } catch (_) {
      return "Uncaught exception (not printable)";
    }
  };
  const fail = (kind, message) => { state = stringify({ ok: false, kind, message }); };
  const settle = (value) => {
    try {
      if (value === undefined || value === null) { state = stringify({ ok: true, payloads: [] }); return; }
      const items = isArray(value) ? value : [value];
      const payloads = [];
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
        const text = stringify(item);
        if (typeof text !== "string" || text[0] !== "{") {
          fail("result", where + "an object that does not serialise to a JSON object");
          return;
        }
        payloads.push(text);
      }
      state = stringify({ ok: true, payloads });
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
    context: _JsContext
    start: _JsFunction
    state: _JsFunction


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
    """Runs transformation code on records in QuickJS; safe to share between threads (see module doc)."""

    def __init__(
        self,
        *,
        memory_limit: int = 64 * 1024 * 1024,
        max_stack_size: int = 1024 * 1024,
        max_cached: int = 16,
    ) -> None:
        self.memory_limit = memory_limit
        self.max_stack_size = max_stack_size
        self.max_cached = max_cached
        self._local = threading.local()

    # --- public API ---------------------------------------------------------------------------

    def run(
        self,
        code: str,
        record: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        timeout_ms: int = 1000,
    ) -> TransformOutcome:
        """Apply ``code``'s ``transform`` to one record."""
        return self.run_many(code, [record], secrets, timeout_ms)[0]

    def run_many(
        self,
        code: str,
        records: Iterable[Mapping[str, Any]],
        secrets: Mapping[str, str] | None = None,
        timeout_ms: int = 1000,
        *,
        deadline: float | None = None,
    ) -> list[TransformOutcome]:
        """Apply ``code``'s ``transform`` to each record: compiled once, ``timeout_ms`` per record.

        ``deadline`` (a :func:`time.monotonic` reading) bounds them all in wall-clock time: each
        record gets at most what is left, and records reached after it fail with a timeout without
        running. A compile error is the outcome of every record. Records must be JSON-serialisable
        (``TypeError``/``ValueError`` otherwise, as from :func:`json.dumps`)."""
        record_texts = [json.dumps(record, allow_nan=False) for record in records]
        secrets_json = json.dumps(dict(secrets or {}))
        first = self._compiled(code, timeout_ms)
        if isinstance(first, TransformOutcome):
            return [first] * len(record_texts)
        compiled: _Compiled | None = first
        outcomes: list[TransformOutcome] = []
        for text in record_texts:
            budget_ms = timeout_ms
            if deadline is not None:
                left_ms = int((deadline - time.monotonic()) * 1000)
                if left_ms <= 0:
                    outcomes.append(_OVER_BUDGET)
                    continue
                budget_ms = min(timeout_ms, left_ms)
            if compiled is None:  # the previous record broke the runtime: start a fresh one
                fresh = self._compiled(code, timeout_ms)
                if isinstance(fresh, TransformOutcome):
                    outcomes.append(fresh)
                    continue
                compiled = fresh
            outcome, healthy = self._run_one(compiled, text, secrets_json, budget_ms)
            if not healthy:
                self._forget(code)
                compiled = None
            outcomes.append(outcome)
        return outcomes

    def check(self, code: str, timeout_ms: int = 1000) -> TransformError | None:
        """Compile ``code`` (running its top level) and say what is wrong with it, if anything."""
        compiled = self._compiled(code, timeout_ms)
        return compiled.error if isinstance(compiled, TransformOutcome) else None

    def clear(self) -> None:
        """Drop this thread's compiled transformations (other threads keep theirs)."""
        self._cache().clear()

    # --- internals ----------------------------------------------------------------------------

    def _cache(self) -> OrderedDict[str, _Compiled]:
        cache: OrderedDict[str, _Compiled] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = OrderedDict()
            self._local.cache = cache
        return cache

    def _forget(self, code: str) -> None:
        self._cache().pop(code, None)

    def _compiled(self, code: str, timeout_ms: int) -> _Compiled | TransformOutcome:
        cache = self._cache()
        found = cache.get(code)
        if found is not None:
            cache.move_to_end(code)
            return found
        made = self._compile(code, timeout_ms)
        if isinstance(made, _Compiled):
            cache[code] = made
            while len(cache) > self.max_cached:
                cache.popitem(last=False)
        return made

    def _compile(self, code: str, timeout_ms: int) -> _Compiled | TransformOutcome:
        quickjs = _Engine.module()
        try:
            context = cast(_JsContext, quickjs.Context())
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

    @staticmethod
    def _outcome(state: object) -> TransformOutcome:
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
            if not isinstance(record, dict):
                return _failure(TransformErrorCode.INVALID_RESULT, "transform returned a non-object record")
            records.append(record)
        return TransformOutcome(records=records, payloads=payloads, error=None)
