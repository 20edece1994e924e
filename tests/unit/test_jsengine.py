"""mockserver.engine.jsengine: transformations really run, in a sandboxed QuickJS, within time and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from mockserver.engine.jsengine import JsSandbox, TransformErrorCode, TransformOutcome

RECORD: dict[str, Any] = {"objectID": "1", "name": "shoe", "price": 10, "tags": ["a"], "brand": {"id": 7}}


@pytest.fixture(scope="module")
def sandbox() -> JsSandbox:
    return JsSandbox(memory_limit=32 * 1024 * 1024)


def _ok(outcome: TransformOutcome) -> list[dict[str, Any]]:
    assert outcome.error is None, outcome.error
    assert outcome.ok
    assert [json.loads(p) for p in outcome.payloads] == outcome.records
    return outcome.records


def _error(outcome: TransformOutcome, code: TransformErrorCode) -> str:
    assert outcome.error is not None, outcome.records
    assert not outcome.ok
    assert outcome.error.code == code, outcome.error
    assert outcome.records == [] and outcome.payloads == []
    return outcome.error.message


# --- what a transformation returns ----------------------------------------------------------------


def test_identity(sandbox: JsSandbox) -> None:
    outcome = sandbox.run("async function transform(record, helper) { return record; }", RECORD)
    assert _ok(outcome) == [RECORD]
    assert outcome.to_response() == {"payloads": [json.dumps(RECORD, separators=(",", ":"))]}


def test_modify_a_field(sandbox: JsSandbox) -> None:
    code = """
    function transform(record) {
      record.name = record.name.toUpperCase();
      record.price *= 2;
      return record;
    }
    """
    assert _ok(sandbox.run(code, RECORD)) == [{**RECORD, "name": "SHOE", "price": 20}]


def test_async_function_with_awaits_and_es2020_syntax(sandbox: JsSandbox) -> None:
    code = """
    const later = (value) => new Promise((resolve) => resolve(value));
    async function transform(record, helper) {
      const label = await later(record.brand?.name ?? "no brand");
      const tags = [...(record.tags ?? []), await later("new")];
      return { ...record, label, tags, missing: record.nope?.deep?.field ?? null };
    }
    """
    assert _ok(sandbox.run(code, RECORD)) == [
        {**RECORD, "label": "no brand", "tags": ["a", "new"], "missing": None}
    ]


def test_arrow_function_bound_with_const(sandbox: JsSandbox) -> None:
    code = "const transform = (record) => ({ objectID: record.objectID, kept: Object.keys(record).length });"
    assert _ok(sandbox.run(code, RECORD)) == [{"objectID": "1", "kept": 5}]


def test_returning_an_array_gives_several_records(sandbox: JsSandbox) -> None:
    code = """
    async function transform(record) {
      return record.tags.concat(["b"]).map((tag) => ({ objectID: `${record.objectID}-${tag}`, tag }));
    }
    """
    outcome = sandbox.run(code, RECORD)
    assert _ok(outcome) == [{"objectID": "1-a", "tag": "a"}, {"objectID": "1-b", "tag": "b"}]
    assert outcome.payloads == ['{"objectID":"1-a","tag":"a"}', '{"objectID":"1-b","tag":"b"}']


@pytest.mark.parametrize(
    "body",
    ["return null;", "return undefined;", "", "return [];"],
    ids=["null", "undefined", "no-return", "empty-array"],
)
def test_returning_nothing_drops_the_record(sandbox: JsSandbox, body: str) -> None:
    outcome = sandbox.run(f"async function transform(record) {{ {body} }}", RECORD)
    assert _ok(outcome) == []
    assert outcome.to_response() == {"payloads": []}


def test_secrets_helper(sandbox: JsSandbox) -> None:
    code = """
    function transform(record, helper) {
      return { ...record, token: helper.secrets.get("api-token"), other: typeof helper.secrets.get("nope") };
    }
    """
    outcome = sandbox.run(code, RECORD, secrets={"api-token": "s3cr3t"})
    assert _ok(outcome) == [{**RECORD, "token": "s3cr3t", "other": "undefined"}]
    # secrets belong to the call, not to the compiled code: without them, get() answers undefined
    assert _ok(sandbox.run(code, RECORD)) == [{**RECORD, "other": "undefined"}]


# --- failures come back as errors --------------------------------------------------------------


def test_syntax_error(sandbox: JsSandbox) -> None:
    outcome = sandbox.run("async function transform(record { return record; }", RECORD)
    message = _error(outcome, TransformErrorCode.COMPILE_ERROR)
    assert message.startswith("SyntaxError")
    assert outcome.to_response() == {"payloads": [], "error": {"code": 400, "message": message}}


def test_code_without_a_transform_function(sandbox: JsSandbox) -> None:
    outcome = sandbox.run("function transfrom(r) { return r; }", RECORD)
    message = _error(outcome, TransformErrorCode.COMPILE_ERROR)
    assert "transform" in message
    assert sandbox.check("function transfrom(r) { return r; }") is not None
    assert sandbox.check("function transform(r) { return r; }") is None


def test_compile_error_is_the_outcome_of_every_record(sandbox: JsSandbox) -> None:
    outcomes = sandbox.run_many("function transform(", [RECORD, RECORD])
    assert [o.error.code if o.error else None for o in outcomes] == [TransformErrorCode.COMPILE_ERROR] * 2


def test_runtime_error_carries_the_thrown_message(sandbox: JsSandbox) -> None:
    code = "function transform(record) { throw new TypeError('no price for ' + record.objectID); }"
    message = _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)
    assert "TypeError: no price for 1" in message


def test_rejected_promise_carries_the_message(sandbox: JsSandbox) -> None:
    code = "async function transform(record) { await null; throw new Error('upstream said no'); }"
    assert "upstream said no" in _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)


def test_property_of_undefined_is_a_runtime_error(sandbox: JsSandbox) -> None:
    code = "function transform(record) { return { objectID: record.missing.field }; }"
    assert "TypeError" in _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)


def test_promise_that_never_settles(sandbox: JsSandbox) -> None:
    code = "function transform(record) { return new Promise(() => {}); }"
    assert "never settles" in _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)


@pytest.mark.parametrize(
    ("returned", "said"),
    [
        ("42", "number"),
        ("'text'", "string"),
        ("true", "boolean"),
        ("[record, 1]", "item 1 is number"),
        ("[[record]]", "item 0 is an array"),
        ("{ price: 1n }", "BigInt"),
    ],
)
def test_non_object_results_are_errors(sandbox: JsSandbox, returned: str, said: str) -> None:
    outcome = sandbox.run(f"function transform(record) {{ return {returned}; }}", RECORD)
    assert said in _error(outcome, TransformErrorCode.INVALID_RESULT)


def test_cyclic_record_is_an_error(sandbox: JsSandbox) -> None:
    code = "function transform(record) { record.self = record; return record; }"
    assert "circular" in _error(sandbox.run(code, RECORD), TransformErrorCode.INVALID_RESULT)


def test_deep_recursion_is_a_runtime_error(sandbox: JsSandbox) -> None:
    code = "function transform(record) { const f = (n) => f(n + 1) + 1; return { objectID: '1', n: f(0) }; }"
    assert "RangeError" in _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "function transform(record) { while (true) {} }",
        "function transform(record) { for (;;) { try { while (true) {} } catch (e) {} } }",
        "async function transform(record) { for (;;) { await null; } }",
        "while (true) {}\nfunction transform(record) { return record; }",
    ],
    ids=["sync-loop", "loop-that-catches", "await-loop", "top-level-loop"],
)
def test_infinite_loop_is_stopped_at_the_time_limit(sandbox: JsSandbox, code: str) -> None:
    # The budget is CPU time (see the module's doc): measure this thread's CPU, which the loop burns,
    # so that the check holds on a loaded machine too; the wall-clock bound only proves it returned.
    cpu, wall = time.thread_time(), time.monotonic()
    outcome = sandbox.run(code, RECORD, timeout_ms=200)
    cpu, wall = time.thread_time() - cpu, time.monotonic() - wall
    assert "time limit" in _error(outcome, TransformErrorCode.TIMEOUT)
    assert cpu < 0.2 + 0.3, f"ran {cpu:.3f}s of CPU for a 0.2s budget"
    assert wall < 60
    assert _ok(sandbox.run("function transform(r) { return r; }", RECORD)) == [RECORD]


def test_timed_out_runtime_is_replaced_and_other_records_still_run(sandbox: JsSandbox) -> None:
    code = "function transform(record) { if (record.objectID === '2') { for (;;) {} } return record; }"
    records = [{"objectID": str(i)} for i in range(1, 5)]
    outcomes = sandbox.run_many(code, records, timeout_ms=100)
    codes = [o.error.code if o.error else None for o in outcomes]
    assert codes == [None, TransformErrorCode.TIMEOUT, None, None]
    assert [o.records for o in outcomes if o.ok] == [[records[0]], [records[2]], [records[3]]]


@pytest.mark.parametrize(
    "code",
    [
        "function transform(record) { const a = []; for (;;) { a.push(new Array(100000).fill(1.5)); } }",
        "const hoard = [];\n"
        "function transform(record) { for (;;) { hoard.push('x'.repeat(1 << 20) + Math.random()); } }",
    ],
    ids=["arrays", "global-strings"],
)
def test_memory_blowup_is_an_error(sandbox: JsSandbox, code: str) -> None:
    outcome = sandbox.run(code, RECORD, timeout_ms=5000)
    assert outcome.error is not None
    assert outcome.error.code in (TransformErrorCode.OUT_OF_MEMORY, TransformErrorCode.RUNTIME_ERROR)
    assert "memory" in outcome.error.message
    assert _ok(sandbox.run(code.replace("for (;;)", "if (false)"), RECORD)) == []  # the runtime was replaced


# --- isolation ----------------------------------------------------------------------------------


def test_no_access_to_the_host(sandbox: JsSandbox) -> None:
    names = [
        *("require", "process", "fetch", "XMLHttpRequest", "WebSocket", "console", "setTimeout"),
        *("std", "os", "Deno", "Bun", "python", "print", "scriptArgs"),
    ]
    code = f"""
    function transform(record) {{
      const names = {json.dumps(names)};
      const found = {{}};
      for (const name of names) found[name] = eval("typeof " + name);
      return {{ objectID: record.objectID, found }};
    }}
    """
    found = _ok(sandbox.run(code, RECORD))[0]["found"]
    assert found == dict.fromkeys(names, "undefined")


@pytest.mark.parametrize("module", ["fs", "os", "std", "child_process", "https://example.com/x.js"])
def test_importing_modules_is_refused(sandbox: JsSandbox, module: str) -> None:
    code = f"async function transform(record) {{ await import({json.dumps(module)}); return record; }}"
    assert "could not load module" in _error(sandbox.run(code, RECORD), TransformErrorCode.RUNTIME_ERROR)


def test_different_codes_do_not_share_globals(sandbox: JsSandbox) -> None:
    writer = "function transform(record) { globalThis.leak = 'from writer'; return record; }"
    reader = "function transform(record) { return { objectID: '1', leak: typeof globalThis.leak }; }"
    _ok(sandbox.run(writer, RECORD))
    assert _ok(sandbox.run(reader, RECORD)) == [{"objectID": "1", "leak": "undefined"}]


def test_user_code_cannot_replace_the_runner(sandbox: JsSandbox) -> None:
    code = """
    globalThis.__mockserverStart = () => '{"ok": true, "payloads": ["{}"]}';
    JSON.stringify = () => 'hijacked';
    function transform(record) { return record; }
    """
    assert _ok(sandbox.run(code, RECORD)) == [RECORD]


def test_importing_mockserver_does_not_load_the_engine() -> None:
    probe = (
        "import sys, mockserver.engine.jsengine; print(sorted({'quickjs', '_quickjs'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- many records, many threads -----------------------------------------------------------------

PRICING = """
async function transform(record, helper) {
  const rate = Number(helper.secrets.get("rate"));
  if (record.price < 0) return null;
  const price = Math.round(record.price * rate * 100) / 100;
  return { ...record, price, currency: helper.secrets.get("currency") };
}
"""


def _expected(record: dict[str, Any], rate: float, currency: str) -> list[dict[str, Any]]:
    if record["price"] < 0:
        return []
    return [{**record, "price": round(record["price"] * rate * 100) / 100, "currency": currency}]


def test_a_thousand_records_through_one_compiled_transform(sandbox: JsSandbox) -> None:
    records = [{"objectID": str(i), "price": (i % 50) - 5, "name": f"item {i}"} for i in range(1000)]
    outcomes = sandbox.run_many(PRICING, records, secrets={"rate": "1.5", "currency": "EUR"})
    assert len(outcomes) == 1000
    for record, outcome in zip(records, outcomes, strict=True):
        assert _ok(outcome) == _expected(record, 1.5, "EUR")


def test_threads_run_concurrently_and_each_gets_its_own_answers() -> None:
    shared = JsSandbox()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        try:
            start.wait()
            rate, currency = 1 + n / 10, f"C{n}"
            records = [{"objectID": f"{n}-{i}", "price": (i % 20) - 2} for i in range(250)]
            secrets = {"rate": str(rate), "currency": currency}
            outcomes = shared.run_many(PRICING, records, secrets=secrets)
            for record, outcome in zip(records, outcomes, strict=True):
                assert _ok(outcome) == _expected(record, rate, currency)
            for record in records[:25]:  # single runs, mixed with another code on the same thread
                assert _ok(shared.run(PRICING, record, secrets=secrets)) == _expected(record, rate, currency)
                assert _ok(shared.run("const transform = (r) => [r, r];", record)) == [record, record]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


# --- nothing outlives a call; a budget for all runtimes together (issue 21) ------------------------

KEEPER = """
const kept = [];
function transform(record) {
  kept.push(record.secret);
  globalThis.seen = (globalThis.seen || []).concat([record.secret]);
  return { objectID: record.objectID, kept: kept.slice(), seen: globalThis.seen };
}
"""


def test_the_same_code_carries_nothing_from_one_call_to_the_next(sandbox: JsSandbox) -> None:
    first = _ok(sandbox.run(KEEPER, {"objectID": "a", "secret": "A-PRIVATE-VALUE"}))
    assert first == [{"objectID": "a", "kept": ["A-PRIVATE-VALUE"], "seen": ["A-PRIVATE-VALUE"]}]
    second = _ok(sandbox.run(KEEPER, {"objectID": "b", "secret": "B"}))
    assert second == [{"objectID": "b", "kept": ["B"], "seen": ["B"]}]


def test_records_of_one_call_share_its_runtime(sandbox: JsSandbox) -> None:
    outcomes = sandbox.run_many(KEEPER, [{"objectID": "1", "secret": "x"}, {"objectID": "2", "secret": "y"}])
    assert _ok(outcomes[1]) == [{"objectID": "2", "kept": ["x", "y"], "seen": ["x", "y"]}]


def test_a_changed_prototype_does_not_reach_the_next_call(sandbox: JsSandbox) -> None:
    tamper = "function transform(record) { Object.prototype.planted = 'yes'; return record; }"
    probe = "function transform(record) { return { objectID: '1', planted: String(({}).planted) }; }"
    _ok(sandbox.run(tamper, RECORD))
    assert _ok(sandbox.run(probe, RECORD)) == [{"objectID": "1", "planted": "undefined"}]
    _ok(sandbox.run(tamper + "\n// the same code text, changed", RECORD))
    assert _ok(sandbox.run(probe, RECORD)) == [{"objectID": "1", "planted": "undefined"}]


@pytest.mark.parametrize("depth", [65, 1_000, 5_000])
def test_a_deeply_nested_output_fails_the_record_with_its_reason(sandbox: JsSandbox, depth: int) -> None:
    code = (
        "function transform(record) { let o = { objectID: '1' };"
        f" for (let i = 0; i < {depth}; i++) o = {{ objectID: '1', a: o }}; return o; }}"
    )
    message = _error(sandbox.run(code, RECORD), TransformErrorCode.INVALID_RESULT)
    if depth > 1_000:  # deeper than QuickJS's own stack lets JSON.stringify go
        assert "cannot be serialised to JSON: RangeError: Maximum call stack size exceeded" in message
    else:
        assert "nested more than 64 levels deep" in message and "max_depth" in message


def test_output_at_the_depth_limit_passes() -> None:
    shallow = JsSandbox(max_depth=3)
    assert _ok(shallow.run("const transform = () => ({ objectID: '1', a: { b: [1] } });", RECORD))
    deep = "const transform = () => ({ objectID: '1', a: { b: [[1]] } });"
    assert "more than 3 levels" in _error(shallow.run(deep, RECORD), TransformErrorCode.INVALID_RESULT)


@pytest.mark.parametrize("prototype", ["Object", "Array"])
def test_a_tojson_on_a_prototype_fails_with_a_clear_message(sandbox: JsSandbox, prototype: str) -> None:
    code = (
        f"function transform(record) {{ {prototype}.prototype.toJSON = () => 'hijacked'; return [record]; }}"
    )
    outcome = sandbox.run(code, RECORD)
    if prototype == "Array":  # the record's own array is serialised as JavaScript says; the runner's are not
        assert _ok(outcome) == [{**RECORD, "tags": "hijacked"}]
        return
    message = _error(outcome, TransformErrorCode.INVALID_RESULT)
    assert 'the JSON text "hijacked"' in message and "toJSON" in message


def test_a_tojson_on_the_prototype_answering_objects_is_javascripts_rule(sandbox: JsSandbox) -> None:
    code = "function transform(r) { Object.prototype.toJSON = () => ({ objectID: 'o' }); return r; }"
    assert _ok(sandbox.run(code, RECORD)) == [{"objectID": "o"}]


def test_the_memory_budget_is_the_runtimes_alive_at_once_times_their_limit() -> None:
    assert JsSandbox().memory_budget == 4 * 64 * 1024 * 1024
    assert JsSandbox(max_runtimes=2, memory_limit=1024 * 1024).memory_budget == 2 * 1024 * 1024
    with pytest.raises(ValueError, match="max_runtimes"):
        JsSandbox(max_runtimes=0)


def test_a_call_waits_for_a_free_runtime_until_its_deadline() -> None:
    single = JsSandbox(max_runtimes=1)
    spin = "function transform(record) { while (true) {} }"
    started = threading.Event()
    held: list[TransformOutcome] = []

    def hold() -> None:
        started.set()
        held.extend(single.run_many(spin, [RECORD], timeout_ms=1500))

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait()
    time.sleep(0.2)  # the spinner has its runtime
    message = _error(single.run(PRICING, RECORD, deadline=time.monotonic() + 0.1), TransformErrorCode.TIMEOUT)
    thread.join(timeout=30)
    assert "all 1 JavaScript runtimes of this mock stayed busy" in message
    assert held[0].error is not None and held[0].error.code == TransformErrorCode.TIMEOUT
    # once the spinner's runtime is freed, the next call gets it
    assert single.run("const transform = (r) => r;", RECORD, deadline=time.monotonic() + 5).ok
