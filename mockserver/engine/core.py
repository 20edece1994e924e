"""The mock without HTTP: one object that owns the spec, the state and everything that acts on it.

Every way in (the HTTP face, seeding, the state file's replay, the control plane, the pytest API)
calls :meth:`Engine.execute` with an :class:`ApiRequest` and gets an :class:`Answer` back: a value
with a status, a JSON body and headers. Domain errors raised by handlers become answers here, in
one place; nothing above the engine builds a handler context of its own.
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from mockserver.durability.log import StateLog
from mockserver.engine import steering
from mockserver.engine.clock import Clock
from mockserver.engine.errors import ApiError, Forbidden, InvalidCredentials, LimitExceeded, NotServed
from mockserver.engine.examples import example_response
from mockserver.engine.faults import Faults, RateLimit
from mockserver.engine.journal import (
    REJECTED_BODY_BYTES,
    Call,
    Journal,
    estimate_size,
    kept_call,
    truncated_body,
)
from mockserver.engine.jsengine import JsSandbox
from mockserver.engine.keys import MAX_KEYS_PER_APPLICATION, KeyIndex, owner_of
from mockserver.engine.masking import Masker, mask_query
from mockserver.engine.response_checker import ResponseChecker
from mockserver.engine.store import RunPolicy, Store
from mockserver.engine.stubs import Stubs
from mockserver.engine.validation import MISSING, RequestValidators, ValidRequest
from mockserver.names import APP_ID_HEADER, DEFAULT_APP_ID
from mockserver.resources import Context, Handler, Hooks, SchemaChecks, handlers, hooks
from mockserver.settings import RUNTIME_FIELDS, MockSettings
from mockserver.spec import Operation, Spec, bundled_spec_path

if TYPE_CHECKING:
    from mockserver.engine.reference_validator import ReferenceValidator

T = TypeVar("T")


class DurableWrites(Protocol):
    """What the engine asks of the state file (``durability/state.py`` implements it)."""

    def api_write(self, app_id: str, act: Callable[[], T]) -> T:
        """Run ``act`` and make what it changed durable; StateUnavailable (nothing changed) if not."""
        ...  # a Protocol's signature

    def may_change(self, app_id: str) -> bool:
        """Whether a read may change this application (runs whose end it would settle)."""
        ...  # a Protocol's signature

    def close(self) -> None:
        """Let go of the state file."""
        ...  # a Protocol's signature


_TRIES_CODE = frozenset({"tryTransformation", "tryTransformationBeforeUpdate"})
_MAY_TRANSFORM = frozenset({"push", "pushTask", "runTask", "runTaskV1", "runSource"})
# The operations that create one resource of a family (what max_resources counts).
CREATES = {
    "createAuthentication": "authentications",
    "createDestination": "destinations",
    "createSource": "sources",
    "createTask": "tasks",
    "createTaskV1": "tasks",
    "createTransformation": "transformations",
}


_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Answer(NamedTuple):
    """What the mock answers: a status, a JSON body (None: no body) and extra headers.

    (A NamedTuple, immutable as the frozen dataclass it was: one or two are made per request, and a
    frozen dataclass sets each of its six fields through object.__setattr__; callgrind: 11.2k ->
    4.1k instructions an answer.)"""

    status: int
    body: Any = None
    headers: Mapping[str, str] = _NO_HEADERS  # (read-only: one empty mapping shared by all)
    injected: bool = False  # asked for by a fault rule (or an unchecked stub): not held against the spec
    stub_id: str | None = None  # the stub that gave this answer (the mock did not act on the request)
    # "Not there yet" (a poller's expected 404), not a refusal: see ApiError.not_ready
    not_ready: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @classmethod
    def of_error(cls, error: ApiError, injected: bool = False) -> Answer:
        return cls(error.status, error.body(), error.headers, injected, not_ready=error.not_ready)


@dataclass(slots=True)
class ApiRequest:
    """One call of an operation, already taken apart: what the engine needs, nothing of HTTP."""

    operation: Operation | None  # None when no operation matched (journaled, never executed)
    app_id: str | None
    method: str
    path: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = MISSING
    headers: Mapping[str, str] = field(default_factory=dict)  # only the reference validator reads them
    internal: bool = False  # made inside the process (seeding, replay): no HTTP request to hold it against
    body_bytes: int | None = None  # the JSON body's size (inflated, if it came gzipped), when known
    # The JSON text ``body`` was parsed from, when the face has it: the journal keeps it as is
    # (nothing encoded again) when masking leaves the body unchanged.
    body_json: bytes | None = None

    @property
    def operation_id(self) -> str | None:
        return self.operation.operation_id if self.operation is not None else None


class Engine:
    """One mock's state and behaviour. Two engines never share state (what they share, the compiled
    request validators of their spec, holds none)."""

    def __init__(
        self,
        spec: Spec,
        settings: MockSettings | None = None,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        _factory: bool = False,
    ) -> None:
        """An engine with its settings in force: IDs, clock, run policy, fault rules, rate limit.

        Data sets and the state file are not the engine's alone (seeding and replay go through the
        control plane): settings that name them are refused here, and :func:`mockserver.open_mock`
        (or ``create_app``) builds the complete mock.
        """
        settings = settings or MockSettings()
        if not _factory and (settings.fixtures or settings.data or settings.state_file):
            raise ValueError(
                "Engine(...) does not load data sets or a state file (fixtures, data, state_file): build "
                "the mock with mockserver.open_mock(...) or mockserver.create_app(...), which apply every "
                "setting"
            )
        self.spec = spec
        self.settings = settings
        self.store = store or Store(clock=clock, seed=settings.seed)
        self.validators = RequestValidators.of(spec)
        self._published_validators: RequestValidators | None = None  # compiled on first need
        self.checks = SchemaChecks(spec)
        self.handlers: dict[str, Handler] = handlers()
        self.hooks: Hooks = hooks()
        self.masker = Masker(spec)
        self.journal = Journal(settings.journal_size, settings.journal_bytes, spec.operations)
        self.faults = Faults()
        self.stubs = Stubs()
        self.js = JsSandbox(max_depth=settings.max_depth)  # every application's runtimes: one budget
        bundled = spec.bundled or (spec.path is not None and spec.path == bundled_spec_path())
        self.response_checker = ResponseChecker(strict_errors=bundled) if settings.check_responses else None
        self.reference: ReferenceValidator | None = None
        if settings.validation == "openapi-core":
            from mockserver.engine.reference_validator import ReferenceValidator

            self.reference = ReferenceValidator.of(spec)
        schemes = spec.document.get("components", {}).get("securitySchemes", {}).values()
        self.algolia_credentials = any(s.get("name", "").lower() == APP_ID_HEADER for s in schemes)
        self._key_index = KeyIndex(settings.keys, settings.app_id)  # see key_index
        self.durability: DurableWrites | None = None  # the state file, once attached
        self.state_log: StateLog | None = None  # its log
        self.apply_settings(settings, RUNTIME_FIELDS, initial=True)
        self.initial_clock = self.store.clock.state()  # what a full reset goes back to
        self.initial_ids = self.store.ids.state()

    # --- settings --------------------------------------------------------------------------------
    @property
    def published_validators(self) -> RequestValidators:
        """The request validators without the assumed rules (``assumed_rules=False``), compiled once."""
        if self._published_validators is None:
            self._published_validators = RequestValidators.of(self.spec, assumed_rules=False)
        return self._published_validators

    def apply_settings(
        self, settings: MockSettings, fields: Iterable[str] = RUNTIME_FIELDS, *, initial: bool = False
    ) -> None:
        """Put the run-time ``fields`` of ``settings`` in force; each replaces what was there (the
        fault rules and the rate limit too: never added on top). ``clock="real"`` leaves a new
        engine's clock as it was given (``initial``) and puts a running one back on real time.

        Checks every value before changing anything: TypeError/ValueError naming the field."""
        fields = frozenset(fields)
        unknown = sorted(fields - set(RUNTIME_FIELDS))
        if unknown:
            raise ValueError(f"settings {unknown} are fixed when the mock starts")
        spec, store = self.spec, self.store
        policy = (
            steering.run_policy(RunPolicy(), dict(settings.runs or {}), spec) if "runs" in fields else None
        )
        rules = (
            [steering.fault_rule(dict(rule), spec) for rule in settings.faults] if "faults" in fields else []
        )
        stubs = [steering.stub_rule(dict(rule), spec) for rule in settings.stubs] if "stubs" in fields else []
        limits = settings.rate_limit
        rate_limit = RateLimit(**(dict(limits) if isinstance(limits, Mapping) else {})) if limits else None
        moment = None
        if "clock" in fields and settings.clock not in ("", "real", "frozen"):
            moment = steering.instant(settings.clock, "clock")
        # every value is good: apply them
        if "seed" in fields and settings.seed is not None:
            store.ids.seed(settings.seed)
        if "clock" in fields:
            if moment is not None:
                store.clock.freeze(moment)
            elif settings.clock == "frozen":
                store.clock.freeze()
            elif not initial:
                store.clock.restore((None, timedelta(0)))
        if policy is not None:
            store.run_policy = policy
        if "faults" in fields:
            self.faults.replace_server_rules(rules)
        if "stubs" in fields:
            self.stubs.replace_server_stubs(stubs)
        if "rate_limit" in fields:
            self.faults.set_rate_limit(rate_limit)
        self.settings = dataclasses.replace(
            self.settings, **{name: getattr(settings, name) for name in fields}
        )

    def attach_durability(self, durability: DurableWrites, log: StateLog) -> None:
        """Make every API write durable through ``durability`` from now on (done by the factory,
        once the state file is replayed); ``log`` is its state log."""
        self.durability = durability
        self.state_log = log

    # --- the way in ------------------------------------------------------------------------------
    def request(
        self,
        operation_id: str,
        app_id: str,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, list[str]] | None = None,
        body: Any = MISSING,
    ) -> ApiRequest:
        """An ApiRequest for an operation called from inside the process (seeding, the Python API)."""
        operation = self.spec.operations[operation_id]
        params = dict(path_params or {})
        path = operation.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        return ApiRequest(
            operation, app_id, operation.method, path, params, dict(query or {}), body, internal=True
        )

    def authenticate(
        self, app_id: str | None, api_key: str | None, operation: Operation | None = None
    ) -> str | ApiError:
        """The application the credentials open, or the error to answer.

        A key of ``settings.keys`` has only its ACLs: an operation whose ``x-acl`` (in the spec)
        names one it lacks is refused with 403. Any other accepted key has every ACL.
        """
        if not self.algolia_credentials:
            return DEFAULT_APP_ID
        if not app_id or not api_key:
            return InvalidCredentials()
        settings = self.settings
        key = self._extra_key(app_id, api_key)
        if (
            key is None
            and settings.strict_credentials
            and not (
                hmac.compare_digest(app_id.encode(), str(settings.app_id).encode())
                and hmac.compare_digest(api_key.encode(), str(settings.api_key).encode())
            )
        ):
            return InvalidCredentials()
        if key is not None and operation is not None:
            needed = [str(a) for a in operation.raw.get("x-acl", ())]
            granted = {str(a) for a in key.get("acl", ())}
            missing = [a for a in needed if a not in granted]
            if missing:
                return Forbidden(
                    f"Method not allowed with this API key: {operation.operation_id} needs the ACLs "
                    f"{', '.join(needed)}; this key lacks {', '.join(missing)}"
                )
        return app_id

    def _extra_key(self, app_id: str, api_key: str) -> Mapping[str, Any] | None:
        """The configured extra key these credentials are, if any (its appID defaults to app_id's):
        one dictionary lookup, however many keys there are (none when no key is configured: the
        common case, on every request)."""
        if not self.settings.keys:
            return None
        return self.key_index().find(app_id, api_key)

    def key_index(self) -> KeyIndex:
        """The index of ``settings.keys``, built again only when the settings' keys (or the
        configured application, their default owner) were replaced."""
        index = self._key_index
        settings = self.settings
        if index.keys is not settings.keys or index.default_app != settings.app_id:
            index = self._key_index = KeyIndex(settings.keys, settings.app_id)
        return index

    def grants(self, app_id: str | None, api_key: str | None) -> frozenset[str] | None:
        """The ACLs accepted credentials hold: an extra key's own list, or None for every ACL (the
        configured credentials, any key of an open server, a spec without Algolia's credentials)."""
        if not self.algolia_credentials or not app_id or not api_key:
            return None
        key = self._extra_key(app_id, api_key)
        return None if key is None else frozenset(str(a) for a in key.get("acl", ()))

    def put_key(self, key: Mapping[str, Any]) -> str | None:
        """Accept one more extra key (a checked key setting), in place of one of the same
        application and value; returns its owner (None: every application). More than
        MAX_KEYS_PER_APPLICATION keys for one owner: 429 limit_exceeded, nothing changed."""
        index = self.key_index()
        owner = owner_of(key, self.settings.app_id)
        replaces = index.get(owner, str(key["apiKey"])) is not None
        if not replaces and index.count(owner) >= MAX_KEYS_PER_APPLICATION:
            whose = (
                f"application {owner!r}" if owner is not None else "every application (keys without appID)"
            )
            raise LimitExceeded(
                f"keys: {whose} holds {MAX_KEYS_PER_APPLICATION} API keys, the most one application may "
                "hold; delete one (DELETE /__mock__/keys/{keyID}) to make room"
            )
        index = index.with_key(key)
        self.settings = dataclasses.replace(self.settings, keys=index.keys)
        self._key_index = index
        return owner

    def drop_key(self, owner: str | None, api_key: str) -> Mapping[str, Any] | None:
        """Forget the extra key of ``owner`` (None: of every application) and ``api_key``; returns
        it, or None when there was none."""
        index = self.key_index()
        key = index.get(owner, api_key)
        if key is None:
            return None
        index = index.without(owner, api_key)
        self.settings = dataclasses.replace(self.settings, keys=index.keys)
        self._key_index = index
        return key

    def execute(self, request: ApiRequest, *, record: bool = True, durable: bool = True) -> Answer:
        """Validate and act on one request; the answer is journaled (unless ``record`` is false)."""
        answer = self._answer(request, durable)
        if record:
            self.record(request, answer)
        return answer

    def may_run_long(self, request: ApiRequest) -> bool:
        """Whether acting on this request may run JavaScript (transformations): the HTTP face then
        runs it off the event loop, so one slow request never holds up the others."""
        operation_id = request.operation_id
        if operation_id in _TRIES_CODE:
            return True
        if operation_id not in _MAY_TRANSFORM:
            return False
        account = self.store.accounts.get(request.app_id or "")
        return account is not None and bool(account.transformations)

    def record(
        self, request: ApiRequest, answer: Answer, *, answer_json: bytes | None = None, made: bool = True
    ) -> Call | None:
        """Journal a request and its answer (secrets masked) and hold the answer against the spec;
        the call journaled, or None without ``made`` (then the journal makes it when first read).

        ``answer_json``: the answer as the JSON sent, when the caller encoded it already (the journal
        keeps that text rather than encoding the answer again)."""
        operation = request.operation
        body = request.body
        body_json = request.body_json
        body_size = 0  # (a body that was not JSON is not kept: it costs the journal nothing)
        if body is not MISSING and answer.status >= 400:
            body_size = request.body_bytes if request.body_bytes is not None else estimate_size(body)
        if body_size > REJECTED_BODY_BYTES:
            body = truncated_body(body_size)  # a refused body is not worth its memory
            body_json = None
        elif (
            body is not MISSING
            and operation is not None
            and self.masker.may_hold_secrets(operation.body_schema)
        ):
            # (Only a body whose schema may hold secrets is walked, and only then is the stored
            # resource's type looked up: createSource and push have none to mask.)
            hint = self.hooks.type_of(
                operation.operation_id, self.store.accounts.get(request.app_id or ""), request.path_params
            )
            masked = self.masker.mask(body, operation.body_schema, hint)
            if masked is not body:
                body, body_json = masked, None  # the text holds secrets: keep the masked value
        kept, size = kept_call(
            operation.operation_id if operation is not None else None,
            request.method,
            request.path,
            request.app_id,
            request.path_params,
            mask_query(request.query),
            None if body is MISSING else body,
            None if body is MISSING else body_json,
            answer.status,
            answer.body,
            answer_json,
            answer.not_ready,
            answer.stub_id,
        )
        call = Call.of_kept(kept) if made else None
        if call is None:
            self.journal.record_kept(kept, size)
        else:
            self.journal.record(call, size)
        if self.response_checker is not None and operation is not None and not answer.injected:
            self.response_checker.check(operation, answer.status, answer.body)
        return call

    # --- acting --------------------------------------------------------------------------------
    def _answer(self, request: ApiRequest, durable: bool) -> Answer:
        operation = request.operation
        assert operation is not None and request.app_id is not None, "execute needs a matched, known caller"
        if operation.raw.get("x-mock-served") is False:
            return self._not_served(request, operation)
        try:
            if self.reference is not None and not request.internal:
                self.reference.validate(operation, request.path, request.query, request.body, request.headers)
            validators = self.validators if self.settings.assumed_rules else self.published_validators
            valid = validators[operation.operation_id].validate(
                request.path_params, request.query, request.body, request.body_json
            )
        except ApiError as error:
            return Answer.of_error(error)
        stubbed = self._stubbed(request, operation)
        if stubbed is not None:  # answered as the test asked: the mock does not act on it
            return stubbed
        handler = self.handlers.get(operation.operation_id)
        if handler is None:  # generic mode: an operation with no behaviour answers from its spec
            status, example = example_response(operation)
            return Answer(status, example)
        store = self.store
        app_id = request.app_id
        with store.app_lock(app_id), store.lock:
            fresh = app_id not in store.accounts
            try:
                self._check_caps(app_id, fresh, operation)
                durability = self.durability if durable else None
                if durability is not None and (operation.method != "GET" or durability.may_change(app_id)):
                    result = durability.api_write(
                        app_id, lambda: handler(self.context(app_id, operation, valid))
                    )
                else:
                    result = handler(self.context(app_id, operation, valid))
            except ApiError as error:
                if fresh:  # a refused first request leaves no trace of the application
                    store.accounts.pop(app_id, None)
                return Answer.of_error(error)
        return Answer(operation.success_status, result)

    def _stubbed(self, request: ApiRequest, operation: Operation) -> Answer | None:
        """The answer of the first stub matching a client's request, if any."""
        if request.internal or not self.stubs.active:
            return None
        stub = self.stubs.match(operation.operation_id, request.app_id, _Seen.of(request))
        if stub is None:
            return None
        body = copy.deepcopy(stub.response)
        return Answer(stub.status, body, dict(stub.headers), injected=not stub.check, stub_id=stub.id)

    def _not_served(self, request: ApiRequest, operation: Operation) -> Answer:
        """An operation the spec lists but the mock does not serve: a stub of the test's may answer
        it; otherwise 402 naming it, before anything of the request is validated."""
        stubbed = self._stubbed(request, operation)
        if stubbed is not None:
            return stubbed
        return Answer.of_error(
            NotServed(
                f"mockserver does not serve {operation.operation_id} ({operation.method} {operation.path}): "
                "the operation is in its spec but has no behaviour in the mock; a stub can answer it in a "
                "test"
            )
        )

    def _check_caps(self, app_id: str, fresh: bool, operation: Operation) -> None:
        """Refuse a new application or resource beyond the configured caps (429 limit_exceeded)."""
        settings = self.settings
        store = self.store
        if (
            fresh
            and settings.max_applications is not None
            and len(store.accounts) >= settings.max_applications
        ):
            raise LimitExceeded(
                f"max_applications: this mock holds {settings.max_applications} applications, "
                "the most it is configured for; reset one to make room"
            )
        family = CREATES.get(operation.operation_id)
        account = store.accounts.get(app_id)
        if family is None or settings.max_resources is None or account is None:
            return
        if len(account.family(family)) >= settings.max_resources:
            raise LimitExceeded(
                f"max_resources: application {app_id!r} holds {settings.max_resources} {family}, "
                "the most this mock is configured for; delete some to make room"
            )

    def context(self, app_id: str, operation: Operation, valid: ValidRequest) -> Context:
        """The one place a handler context is made."""
        deadline = time.monotonic() + self.settings.transform_budget
        return Context(
            self.store,
            self.store.account(app_id),
            operation,
            valid,
            self.checks,
            self.js,
            deadline=deadline,
            assumed_rules=self.settings.assumed_rules,
        )

    def call_internal(self, app_id: str, operation_id: str, action: Callable[[Context], Any]) -> Any:
        """Run a domain action that no API operation offers (seeded history) under the store's lock."""
        operation = self.spec.operations[operation_id]
        with self.store.lock:
            return action(self.context(app_id, operation, ValidRequest({}, {}, MISSING)))

    def replay_write(self, entry: Mapping[str, Any]) -> Answer:
        """Apply one logged request again (a state file of schema 1), with the clock reading, run
        policy and IDs it had."""
        body = MISSING if entry["missing"] else entry["body"]
        request = self.request(entry["op"], entry["app"], entry["path"], entry["query"], body)
        moment = datetime.fromisoformat(entry["now"])
        # A write once acknowledged is replayed as it was, even if it was accepted with the assumed
        # rules off and the mock now has them on (they only ever refuse more).
        in_force = self.settings
        self.settings = dataclasses.replace(in_force, assumed_rules=False)
        try:
            with self.replaying(moment, entry["ids"], RunPolicy(**entry["policy"]), entry["app"]):
                return self.execute(request, record=False, durable=False)
        finally:
            self.settings = in_force

    @contextmanager
    def replaying(
        self, now: datetime, ids: list[str], policy: RunPolicy, app_id: str | None = None
    ) -> Iterator[None]:
        """Replay with the clock reading, IDs and run policy a write had (on its application's own
        clock and policy when it has them)."""
        store = self.store
        account = store.accounts.get(app_id) if app_id is not None else None
        clock = store.clock_of(account)
        own_policy = account is not None and account.run_policy is not None
        saved_clock, saved_policy = clock.state(), store.policy_of(account)
        clock.freeze(now)
        store.ids.replay.extend(ids)
        if own_policy:
            assert account is not None
            account.run_policy = policy
        else:
            store.run_policy = policy
        try:
            yield
        finally:
            clock.restore(saved_clock)
            if own_policy:
                assert account is not None
                account.run_policy = saved_policy
            else:
                store.run_policy = saved_policy
            store.ids.replay.clear()

    def close(self) -> None:
        if self.durability is not None:
            self.durability.close()
            self.durability = None
            self.state_log = None


@dataclass(frozen=True, slots=True)
class _Seen:
    """What a stub matches a request by (its body None when it had none)."""

    body: Any
    query: dict[str, list[str]]
    path_params: dict[str, str]

    @classmethod
    def of(cls, request: ApiRequest) -> _Seen:
        return cls(None if request.body is MISSING else request.body, request.query, request.path_params)
