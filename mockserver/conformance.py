"""Check that a server implements the spec: schemathesis's checks, stateless and along the links.

``run_conformance(url)`` (what ``mockserver check --url URL`` runs) or ``run_conformance(app=app)``
(an ASGI app in-process) generates requests for every operation with schemathesis, sends them,
runs all of schemathesis's checks on each answer, optionally follows the spec's OpenAPI links
through sequences of calls (``stateful=True``), and returns a :class:`ConformanceReport`.
``assert_conformance(...)`` is the same as a pytest helper: it fails with the rendered report.

The spec is handed to schemathesis as it is (its type-dependent inputs are discriminated
``oneOf`` variants, which schemathesis generates from) and every check runs: the mock refuses
schema-valid data only where the API's own rules say so, with the status the API documents for it
(400, which ``data/schemathesis.toml`` tells schemathesis to expect for valid data; a resource the
URL names that does not exist is a 404).
"""

from __future__ import annotations

import copy
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.data import schemathesis_config
from mockserver.engine.errors import ApiError
from mockserver.engine.validation import MISSING, RequestValidators
from mockserver.names import API_KEY_HEADER, APP_ID_HEADER
from mockserver.spec import Spec, load_spec


@dataclass
class Finding:
    """One distinct failure: which check, on which operation, how often, and how to reproduce it."""

    operation: str
    check: str
    title: str
    message: str
    reproduce: str
    count: int = 1


# The share of the tested operations that must get at least one 2xx answer. The generated cases
# reach a 2xx on about a third of the operations of a correct server (the bundled mock: 16-21 of 59
# with 2-20 examples): the others need resources that exist, or data that keeps rules the schema
# cannot state. 0.2 fails a server that refuses or breaks most operations, and passes a correct one.
DEFAULT_MIN_COVERAGE = 0.2
REFUSALS = frozenset({401, 403})
REFUSAL_EVIDENCE = 3  # operations refused in a row (and no 2xx) after which the run stops


class UnusableSpec(ValueError):
    """The spec cannot be checked against: schemathesis cannot load it, or it has no operation."""


@dataclass(frozen=True)
class Progress:
    """Where a conformance run is, given to ``run_conformance(progress=...)`` after every request
    (and once more when the run is done): ``phase`` is "stateless", "stateful" or "done"."""

    phase: str
    operations_done: int  # operations whose stateless cases have all run
    operations: int  # operations to test
    requests: int  # sent so far, stateless and in linked sequences
    failures: int  # failed checks so far (each time), errors and requests that got no answer
    elapsed: float  # seconds since the run started


@dataclass
class ConformanceReport:
    """What a conformance run did and saw, and its verdict (``ok``, ``failures``, ``render()``).

    The verdict fails closed: besides check failures and errors, it fails when the server could
    not be reached, when it refused the credentials, when no request got an answer, and when
    fewer than ``min_coverage`` of the operations ever answered with a 2xx (a check that only
    ever saw errors has not checked the operation's success answers).
    """

    target: str
    operations: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    cases: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stateful: bool = False
    stateful_note: str = ""  # why linked sequences were asked for but could not run
    stateful_steps: int = 0
    links: int = 0
    elapsed: float = 0.0
    app_id: str = "conformance"
    min_coverage: float = DEFAULT_MIN_COVERAGE
    max_examples: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)  # operation -> status -> answers
    unanswered: dict[str, int] = field(default_factory=dict)  # operation -> requests with no answer
    unanswered_reason: str = ""
    unreachable: str | None = None  # why the server could not be reached at all
    credential_options: str = "app_id= and api_key="  # how the caller changes the credentials sent
    coverage_option: str = "min_coverage"  # how the caller changes the share required

    def saw(self, operation: str, status: int) -> None:
        self.statuses.setdefault(operation, Counter())[status] += 1

    @property
    def total_cases(self) -> int:
        return sum(self.cases.values())

    @property
    def answers(self) -> int:
        return sum(sum(seen.values()) for seen in self.statuses.values())

    @property
    def covered(self) -> list[str]:
        """The tested operations that got at least one 2xx answer."""
        return [op for op in self.operations if any(200 <= s < 300 for s in self.statuses.get(op, ()))]

    @property
    def coverage(self) -> float:
        return len(self.covered) / len(self.operations) if self.operations else 0.0

    @property
    def credentials_refused(self) -> bool:
        """No 2xx anywhere, and most answers were 401/403: the server did not take the credentials."""
        answers = self.answers
        refused = sum(n for seen in self.statuses.values() for s, n in seen.items() if s in REFUSALS)
        return answers > 0 and not self.covered and refused * 2 > answers

    @property
    def failures(self) -> list[str]:
        """Why the run failed, one line each (empty when it passed)."""
        if self.unreachable is not None:
            return [self.unreachable]
        if self.credentials_refused:
            refused = sum(n for seen in self.statuses.values() for s, n in seen.items() if s in REFUSALS)
            tried = len(self.cases)
            return [
                f"the server refused the credentials: {refused} of {self.answers} answers "
                f"(from the first {tried} operations) were 401/403 and none was "
                f"a 2xx (sent app ID {self.app_id!r}); give the server's application ID and API "
                f"key with {self.credential_options}"
            ]
        reasons = []
        if not self.operations:
            reasons.append("no operation was tested")
        elif self.answers == 0:
            reasons.append("no request got an answer")
        elif self.coverage < self.min_coverage:
            reasons.append(
                f"coverage too low: {len(self.covered)} of {len(self.operations)} operations got a 2xx "
                f"({self.coverage:.0%}), below the {self.min_coverage:.0%} required by "
                f"{self.coverage_option} (operations without one are marked 'no 2xx' above)"
            )
        if self.unanswered:
            reasons.append(
                f"{sum(self.unanswered.values())} requests got no answer ({self.unanswered_reason}) "
                f"on {len(self.unanswered)} operations"
            )
        if self.errors:
            reasons.append(f"{len(self.errors)} errors (ERROR lines above)")
        if self.findings:
            reasons.append(f"{len(self.findings)} distinct check failures (listed below)")
        return reasons

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """The verdict in one line."""
        failures = self.failures
        if failures:
            return "FAILED: " + "; ".join(failures)
        return (
            f"PASSED: no failures; coverage {len(self.covered)} of {len(self.operations)} operations "
            f"got a 2xx ({self.coverage:.0%}) ({self.elapsed:.1f} s)"
        )

    def render(self) -> str:
        if self.unreachable is not None or self.credentials_refused:
            return f"Conformance of {self.target}\n{self.summary()}"
        ran = f"stateless cases (positive and negative, up to {self.max_examples} each per operation)"
        lines = [
            f"Conformance of {self.target}",
            f"  ran:        {ran}"
            + (" and linked sequences (stateful)" if self.stateful else " only")
            + (f" (no linked sequences: {self.stateful_note})" if self.stateful_note else ""),
            f"  operations: {len(self.operations)} tested (every check on every operation: none left out)",
            f"  requests:   {self.total_cases} (stateless)"
            + (
                f", {self.stateful_steps} in linked sequences over {self.links} links"
                if self.stateful
                else ""
            ),
            f"  checks:     {', '.join(self.checks)}",
        ]
        lines.append(
            f"  coverage:   {len(self.covered)} of {len(self.operations)} operations got a 2xx "
            f"({self.coverage:.0%}; at least {self.min_coverage:.0%} required)"
        )
        lines.append("  statuses seen per operation:")
        width = max((len(op) for op in self.operations), default=0)
        covered = set(self.covered)
        for op in self.operations:
            seen = self.statuses.get(op, Counter())
            text = ", ".join(f"{status} x{n}" for status, n in sorted(seen.items())) or "no answer"
            if op in self.unanswered:
                text += f", no answer x{self.unanswered[op]}"
            lines.append(f"    {op:<{width}}  {text}" + ("" if op in covered else "  (no 2xx)"))
        for error in self.errors:
            lines.append(f"  ERROR: {error}")
        lines.append(self.summary())
        for i, finding in enumerate(self.findings, 1):
            lines.append(f"{i}. [{finding.check}] {finding.operation}: {finding.title} (x{finding.count})")
            lines.extend("     " + line for line in finding.message.strip().splitlines()[:12])
            lines.append(f"     reproduce: {finding.reproduce}")
        return "\n".join(lines)


def _spelled(value: Any) -> list[str]:
    if isinstance(value, list):
        return [",".join(_spelled(v)[0] for v in value)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return ["" if value is None else str(value)]


def _valid_on_the_wire(case: Any, validators: RequestValidators) -> bool:
    """Whether the request, as it travels (query values are text), is valid for the spec.

    schemathesis calls a query value "invalid" by its JSON type (a number for a list of
    strings), but the query string spells ``123`` and ``["123"]`` alike; a server reading the
    text gets a valid request and is right to accept it.
    """
    op_id = case.operation.definition.raw.get("operationId")
    if op_id is None:
        return False
    try:
        validator = validators[op_id]
    except KeyError:
        return False
    query = {str(k): _spelled(v) for k, v in (case.query or {}).items()}
    path = {str(k): str(v) for k, v in (case.path_parameters or {}).items()}
    body = case.body if case.body is not None and not _is_not_set(case.body) else MISSING
    try:
        validator.validate(path, query, body)
    except ApiError:
        return False
    except Exception:
        return False
    return True


def _is_not_set(value: Any) -> bool:
    return type(value).__name__ == "NotSet"


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    return False


def run_conformance(
    url: str | None = None,
    *,
    app: Any = None,
    spec: Spec | str | Path | None = None,
    app_id: str = "conformance",
    api_key: str = "conformance-key",
    max_examples: int = 20,
    seed: int = 0,
    stateful: bool = True,
    stateful_examples: int = 10,
    operations: Iterable[str] | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    progress: Callable[[Progress], None] | None = None,
) -> ConformanceReport:
    """Run the spec's contract against the server at ``url`` or the ASGI ``app``.

    By default it runs the stateless cases of every operation and then the linked sequences
    (``stateful=False`` runs the stateless cases only). See :class:`ConformanceReport` for the
    verdict; ``min_coverage`` is the share of the operations that must get a 2xx answer. Operations
    the spec marks ``x-mock-served: false`` (the Search API's that the mock answers with a 402
    naming them) are left out unless ``operations`` names them.
    ``progress`` is called with a :class:`Progress` after every request and when the run is done
    (throttling is the caller's). A spec schemathesis cannot load, or one without operations, is
    an :class:`UnusableSpec` (before the server is contacted).
    """
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.result import Err

    if (url is None) == (app is None):
        raise ValueError("give either url or app")
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    started = time.perf_counter()
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage: {min_coverage} is not between 0 and 1")
    if max_examples < 1:
        raise ValueError(f"max_examples: {max_examples} must be at least 1")
    unknown = sorted(set(operations or ()) - set(loaded.operations))
    if unknown:
        raise ValueError(f"operations: {unknown} are not operationIds of the spec")
    if not loaded.operations:
        raise UnusableSpec(f"{loaded.path or 'the spec'}: it has no operation to check")
    report = ConformanceReport(
        target=url or f"in-process app {type(app).__name__}",
        stateful=stateful,
        app_id=app_id,
        min_coverage=min_coverage,
        max_examples=max_examples,
    )
    # A copy: schemathesis fills in the document it is given (``links: {}`` on every response),
    # and ``loaded`` is the process's cached spec, the one every mock here is built from.
    # The configuration the README's schemathesis command line uses too: 400, which the Ingestion
    # API documents for every operation, is an expected answer to valid data (a rule no schema
    # keyword states: a reference naming nothing, a resource in use).
    config = SchemathesisConfig.from_path(schemathesis_config())
    try:
        schema = schemathesis.openapi.from_dict(copy.deepcopy(loaded.document), config=config)
    except Exception as exc:  # schemathesis's LoaderError: no version, an unsupported one...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UnusableSpec(f"{loaded.path or 'the spec'}: schemathesis cannot load it: {reason}") from None
    if url is not None:
        report.unreachable = _unreachable(url)
        if report.unreachable is not None:
            report.elapsed = time.perf_counter() - started
            return report
    load_all_checks()
    names = sorted(CHECKS.get_all_names())
    report.checks = names
    headers = {APP_ID_HEADER: app_id, API_KEY_HEADER: api_key}
    call_kwargs: dict[str, Any] = {"headers": headers}
    if url is not None:
        call_kwargs["base_url"] = url.rstrip("/")

    if app is not None:
        schema.app = app
    wanted = set(operations) if operations is not None else None
    if wanted is None:  # the operations the mock does not serve answer one fixed 402 by design
        unserved = {op_id for op_id, op in loaded.operations.items() if op.raw.get("x-mock-served") is False}
        if unserved:
            wanted = set(loaded.operations) - unserved
    findings: dict[tuple[str, str, str], Finding] = {}
    validators = RequestValidators(loaded)
    to_test = len(wanted) if wanted is not None else len(loaded.operations)
    sent = [0]  # stateless requests so far

    def tell(phase: str) -> None:
        if progress is None:
            return
        failures = sum(f.count for f in findings.values()) + len(report.errors)
        progress(
            Progress(
                phase=phase,
                operations_done=len(report.cases),
                operations=to_test,
                requests=sent[0] + report.stateful_steps,
                failures=failures + sum(report.unanswered.values()),
                elapsed=time.perf_counter() - started,
            )
        )

    def record(error: BaseException, case: Any, label: str) -> None:
        failures = error.exceptions if isinstance(error, BaseExceptionGroup) else (error,)
        for failure in failures:
            check = ",".join(getattr(failure, "checks", ())) or type(failure).__name__
            if "negative_data_rejection" in check and _valid_on_the_wire(case, validators):
                continue  # schemathesis's "invalid" value reads as a valid one once in a query string
            title = str(getattr(failure, "title", type(failure).__name__))
            key = (label, check, title)
            if key in findings:
                findings[key].count += 1
                continue
            message = str(getattr(failure, "message", failure))
            findings[key] = Finding(label, check, title, message, case.as_curl_command(headers=headers))

    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot load
            report.errors.append(f"cannot load an operation: {result.err()}")
            continue
        operation = result.ok()
        op_id = operation.definition.raw.get("operationId", operation.label)
        if wanted is not None and op_id not in wanted:
            continue
        report.operations.append(op_id)
        spec_op = loaded.operations.get(op_id)
        arrays = frozenset(
            p.name
            for p in (spec_op.parameters if spec_op is not None else ())
            if p.location == "query" and p.schema.get("type") == "array"
        )
        free_form = spec_op is None or any(
            p.location == "query" and p.schema.get("type") == "object" for p in spec_op.parameters
        )
        known = (
            None
            if free_form or spec_op is None
            else frozenset(p.name for p in spec_op.parameters if p.location == "query")
        )
        label = f"{op_id} ({operation.label})"
        count = [0]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as exc:
                report.errors.append(f"{label}: cannot generate {mode.value} cases: {exc}")
                continue

            def on_case(case: Any, label: str = label, op_id: str = op_id, count: list[int] = count) -> None:
                count[0] += 1
                sent[0] += 1
                try:
                    response = case.call(**call_kwargs)
                except _transport_errors() as exc:
                    report.unanswered[op_id] = report.unanswered.get(op_id, 0) + 1
                    report.unanswered_reason = _transport_reason(exc)
                    tell("stateless")
                    return
                report.saw(op_id, response.status_code)
                try:
                    case.validate_response(response, headers=headers)
                except (AssertionError, BaseExceptionGroup) as error:
                    record(error, case, label)
                tell("stateless")

            try:
                _stateless(strategy, on_case, max_examples, seed, arrays, known)
            except Exception as exc:
                report.errors.append(f"{label}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        report.cases[op_id] = count[0]
        tell("stateless")
        if len(report.operations) >= REFUSAL_EVIDENCE and report.credentials_refused:
            break  # the other operations would be refused too: say so now

    if stateful and wanted is not None and _count_links(loaded.document, wanted) == 0:
        report.stateful = False  # no sequence can be made of these operations: say so, not an error
        report.stateful_note = "no link of the spec joins the operations chosen"
    elif stateful and not report.credentials_refused:
        report.links = _count_links(loaded.document)
        machine_schema = schema if wanted is None else schema.include(operation_id=sorted(wanted))
        _run_stateful(
            machine_schema,
            report,
            record,
            call_kwargs,
            stateful_examples,
            seed,
            headers,
            on_step=lambda: tell("stateful"),
        )
    report.findings = list(findings.values())
    report.elapsed = time.perf_counter() - started
    tell("done")
    return report


def _spellable(case: Any, arrays: frozenset[str], known: frozenset[str] | None = None) -> bool:
    """Whether the query string can say what the case means (and the case is not a non-rule).

    Undeclared query parameters are not a violation: the official clients send some of their
    own (``x-algolia-agent``), and the service ignores what it does not know.

    A JSON null has no query-string spelling (schemathesis sends the text "null" or nothing), and
    for a comma-separated array an empty value is the spelling of ``[]``, which is valid: a
    negative case built that way reaches the server as a valid one.
    """
    query = case.query or {}
    if _has_null(query) or (known is not None and not set(query) <= known):
        return False
    return not any(name in arrays and value in ("", []) for name, value in query.items())


def _stateless(
    strategy: Any,
    on_case: Any,
    max_examples: int,
    seed: int,
    arrays: frozenset[str] = frozenset(),
    known: frozenset[str] | None = None,
) -> None:
    from hypothesis import HealthCheck, Phase, assume, given, settings

    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def test(case: Any) -> None:
        assume(_spellable(case, arrays, known))
        on_case(case)

    _seeded(test, seed)()


def _seeded(test: Any, seed: int) -> Any:
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)(test)


def _run_stateful(
    schema: Any,
    report: ConformanceReport,
    record: Any,
    call_kwargs: dict[str, Any],
    examples: int,
    seed: int,
    headers: dict[str, str],
    on_step: Callable[[], None] = lambda: None,
) -> None:
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return dict(call_kwargs)

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            report.stateful_steps += 1
            report.saw(
                case.operation.definition.raw.get("operationId", case.operation.label), response.status_code
            )
            try:
                case.validate_response(
                    response,
                    headers=headers,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )
            except (AssertionError, BaseExceptionGroup) as error:
                op_id = case.operation.definition.raw.get("operationId", case.operation.label)
                record(error, case, f"{op_id} ({case.operation.label}, in a linked sequence)")
            finally:
                on_step()

    config = settings(
        max_examples=examples,
        stateful_step_count=8,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    try:
        _seeded(lambda: run_state_machine_as_test(Machine, settings=config), seed)()
    except Exception as exc:
        report.errors.append(f"stateful run: {type(exc).__name__}: {str(exc).splitlines()[0]}")


def _count_links(document: Mapping[str, Any], among: set[str] | None = None) -> int:
    """The spec's links (only those from and to operations of ``among``, when given)."""
    total = 0
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            if among is not None and operation.get("operationId") not in among:
                continue
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict):
                    links = response.get("links", {}).values()
                    total += sum(1 for link in links if among is None or link.get("operationId") in among)
    return total


def _transport_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.exceptions.RequestException,)


def _transport_reason(exc: BaseException) -> str:
    """Why a request got no answer, in a few words (the innermost OS error, when there is one)."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return "not an http:// or https:// URL"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return "not a valid URL"
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused (is the server running, on that port?)"
        if isinstance(current, socket.gaierror):
            return f"cannot resolve the host name ({current.strerror})"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _unreachable(url: str, timeout: float = 10.0) -> str | None:
    """Why the server at ``url`` cannot be reached (any HTTP answer at all means it can), or None."""
    import requests

    try:
        requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.exceptions.RequestException as exc:
        return f"cannot reach {url}: {_transport_reason(exc)}"
    return None


def assert_conformance(url: str | None = None, **options: Any) -> ConformanceReport:
    """``run_conformance`` for pytest: fails with the rendered report unless it passed (same verdict)."""
    report = run_conformance(url, **options)
    if not report.ok:
        raise AssertionError(report.render())
    return report
