"""MockSettings: every option of a mock, stated once.

The ways of configuring a mock (``create_app(**options)``, ``mockserver serve`` flags, the pytest
marker and ini options, the control plane's ``/__mock__/settings``) are all built from the table of
fields below: each field says which of those ways offer it and how. Nothing else defines an option.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_JOURNAL_SIZE = 100_000
DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_TRANSFORM_BUDGET = 5.0  # seconds of transformations one request may use
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_KEEP_ALIVE_TIMEOUT = 5.0
DEFAULT_MAX_CONNECTIONS = 500
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
MAX_KEYS_PER_APPLICATION = 1_000  # extra API keys one application (or every application) may hold

ClockSetting = str  # "real", "frozen", "auto" or an RFC 3339 instant
DataSetRef = str | Path | Mapping[str, Any]


def text_value(text: str) -> str:
    """Text options are the text, trimmed."""
    return text.strip()


def boolean_value(text: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``); anything else is refused."""
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean: write true or false")


def whole_value(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def keys_value(text: str) -> tuple[dict[str, Any], ...]:
    """Space-separated ``KEY:ACL1,ACL2`` (or ``APP:KEY:ACL1,ACL2``) items."""
    return tuple(parse_key(part) for part in text.split())


def fixtures_value(text: str) -> str | tuple[str, ...]:
    """Data-set names or paths, separated by spaces or commas."""
    parts = text.replace(",", " ").split()
    return tuple(parts) if len(parts) != 1 else parts[0]


def runs_value(text: str) -> dict[str, Any]:
    """``deferred`` or ``deferred:5`` (runs finish after 5 s of the mock's clock)."""
    mode, _, seconds = text.partition(":")
    policy: dict[str, Any] = {"mode": mode.strip()}
    if seconds.strip():
        try:
            policy["finish_after"] = float(seconds)
        except ValueError:
            raise ValueError(f"{text!r} is not MODE[:SECONDS]") from None
    return policy


@dataclass(frozen=True)
class Offer:
    """How one field is offered: a ``serve`` flag, a marker key, an ini option, a control-plane key."""

    flag: str | None = None  # e.g. "--app-id"; None: not a serve flag
    marker: bool = False  # a key of @pytest.mark.ingestion_mock
    ini: bool = False  # an ``ingestion_mock_<name>`` ini option
    help: str = ""
    metavar: str | None = None
    # The field's value from its text form (an ini option): ValueError says what is wrong.
    parse: Callable[[str], Any] = text_value


def _offer(**kwargs: Any) -> dict[str, Offer]:
    return {"offer": Offer(**kwargs)}


@dataclass
class MockSettings:
    """How a mock behaves. Every field has the default a new user expects."""

    # --- credentials ---------------------------------------------------------------------------
    app_id: str | None = field(
        default=None,
        metadata=_offer(
            flag="--app-id",
            marker=True,
            ini=True,
            help="application ID of the configured credentials (with api_key; strict: the only one accepted)",
        ),
    )
    api_key: str | None = field(
        default=None,
        metadata=_offer(
            flag="--api-key", marker=True, ini=True, help="API key of the configured credentials"
        ),
    )
    strict: bool | None = field(
        default=None,
        metadata=_offer(
            parse=boolean_value,
            marker=True,
            ini=True,
            help="accept only the configured app_id/api_key pair (default: on when both are given to "
            "create_app or serve; off in pytest, where they are what the fixtures send)",
        ),
    )
    keys: tuple[Mapping[str, Any], ...] = field(
        default=(),
        metadata=_offer(
            parse=keys_value,
            flag="--key",
            marker=True,
            ini=True,
            help="an API key with only these ACLs (repeatable): KEY:ACL1,ACL2 or APP:KEY:ACL1,ACL2; "
            "as a setting {'apiKey': K, 'acl': [...], 'appID': A (optional)}; other keys have every ACL",
            metavar="KEY:ACL1,ACL2",
        ),
    )
    admin_key: str | None = field(
        default=None,
        metadata=_offer(
            flag="--admin-key",
            help="a key for the control plane alone (header x-mockserver-admin-key): it may act on every "
            "application and server-wide; without it, configured credentials open the control plane for "
            "their own application",
        ),
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_offer(
            flag="--allowed-host",
            help="a host name clients may reach the mock by (repeatable; '*' for any): a request whose "
            "Host header names another answers 403 host_not_allowed (localhost, 127.0.0.1, [::1] and the "
            "address a client connected to are always allowed)",
            metavar="NAME",
        ),
    )
    # --- data ----------------------------------------------------------------------------------
    fixtures: DataSetRef | tuple[DataSetRef, ...] | None = field(
        default=None,
        metadata=_offer(
            parse=fixtures_value,
            flag="--fixtures",
            marker=True,
            ini=True,
            help="data set every application starts with: empty, catalog, run_history, or a YAML/JSON file",
            metavar="NAME|PATH",
        ),
    )
    data: Mapping[str, Any] | None = field(
        default=None,
        metadata=_offer(marker=True, help="inline data set, loaded after fixtures"),
    )
    seed: int | None = field(
        default=None,
        metadata=_offer(
            parse=whole_value, flag="--seed", marker=True, ini=True, help="make generated IDs reproducible"
        ),
    )
    state_file: str | None = field(
        default=None,
        metadata=_offer(
            flag="--state-file", help="keep state in this SQLite file across restarts", metavar="PATH"
        ),
    )
    # --- time and runs -------------------------------------------------------------------------
    clock: ClockSetting = field(
        default="real",
        metadata=_offer(
            flag="--clock",
            marker=True,
            ini=True,
            help="'real' (default), 'frozen' (now, moving only when told), "
            "or an RFC 3339 instant to freeze at",
            metavar="real|frozen|INSTANT",
        ),
    )
    runs: Mapping[str, Any] | None = field(
        default=None,
        metadata=_offer(
            parse=runs_value,
            marker=True,
            ini=True,
            help="how runs behave: {mode: immediate|deferred, start_after, finish_after, outcome, "
            "reason_code, reason}; the ini form is mode[:finish_after]",
        ),
    )
    # --- misbehaviour --------------------------------------------------------------------------
    faults: tuple[Mapping[str, Any], ...] = field(
        default=(),
        metadata=_offer(
            marker=True,
            help="fault rules: {operation, path_params, query, body, status, message, rate, times, latency, "
            "drop, drop_after, retry_after}",
        ),
    )
    stubs: tuple[Mapping[str, Any], ...] = field(
        default=(),
        metadata=_offer(
            marker=True,
            help="stubbed answers: {operation, path_params, query, body (a subset), status, response, "
            "headers, times, check}; a matching request is answered so and changes no state",
        ),
    )
    rate_limit: bool | Mapping[str, Any] = field(
        default=False,
        metadata=_offer(
            parse=boolean_value,
            flag="--rate-limit",
            marker=True,
            ini=True,
            help="enforce the documented per-IP rate limits (429), or custom {limit, window, ...}",
        ),
    )
    # --- limits --------------------------------------------------------------------------------
    max_body_bytes: int = field(
        default=DEFAULT_MAX_BODY_BYTES,
        metadata=_offer(
            flag="--max-body-bytes", help="largest request body accepted (default: 10 MiB)", metavar="N"
        ),
    )
    max_depth: int = field(
        default=DEFAULT_MAX_DEPTH,
        metadata=_offer(
            flag="--max-depth", help="deepest nesting of arrays and objects accepted in a body", metavar="N"
        ),
    )
    journal_size: int | None = field(
        default=DEFAULT_JOURNAL_SIZE,
        metadata=_offer(
            flag="--journal-size",
            help="calls kept in the journal; over it, the oldest of the application holding most go first",
            metavar="N",
        ),
    )
    journal_bytes: int = field(
        default=DEFAULT_JOURNAL_BYTES,
        metadata=_offer(
            flag="--journal-bytes",
            help=(
                "memory budget of the journal's bodies and answers (default: 64 MiB); over it, the "
                "oldest call of the application holding the most goes"
            ),
            metavar="N",
        ),
    )
    max_applications: int | None = field(
        default=None,
        metadata=_offer(
            flag="--max-applications", help="refuse new application IDs beyond this many", metavar="N"
        ),
    )
    max_resources: int | None = field(
        default=None,
        metadata=_offer(
            flag="--max-resources",
            help="refuse creating resources beyond this many per family and application",
            metavar="N",
        ),
    )
    transform_budget: float = field(
        default=DEFAULT_TRANSFORM_BUDGET,
        metadata=_offer(
            flag="--transform-budget",
            help="seconds of wall-clock time the transformations of one request may take in all (default: "
            "5); records past it fail their transform event (each record also has its own 1 s limit)",
            metavar="S",
        ),
    )
    # --- connections (mockserver serve) --------------------------------------------------------
    body_timeout: float = field(
        default=DEFAULT_BODY_TIMEOUT,
        metadata=_offer(
            flag="--body-timeout",
            help="seconds a client may take to send a request body; past it the answer is 408 (default: 30)",
            metavar="S",
        ),
    )
    keep_alive_timeout: float = field(
        default=DEFAULT_KEEP_ALIVE_TIMEOUT,
        metadata=_offer(
            flag="--keep-alive-timeout",
            help="seconds an idle keep-alive connection stays open (default: 5)",
            metavar="S",
        ),
    )
    max_connections: int = field(
        default=DEFAULT_MAX_CONNECTIONS,
        metadata=_offer(
            flag="--max-connections",
            help="requests under way at once (idle connections do not count); beyond, 503 (default: 500)",
            metavar="N",
        ),
    )
    shutdown_timeout: float = field(
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metadata=_offer(
            flag="--shutdown-timeout",
            help="seconds SIGTERM waits for open requests before closing them (default: 10)",
            metavar="S",
        ),
    )
    # --- checks and logs -----------------------------------------------------------------------
    check_responses: bool = field(
        default=False,
        metadata=_offer(
            parse=boolean_value,
            ini=True,
            help="check every response of the mock against its spec (a bug is an error)",
        ),
    )
    fail_on_rejection: bool = field(
        default=False,
        metadata=_offer(
            parse=boolean_value,
            marker=True,
            ini=True,
            help="fail a test when the mock rejected a request (4xx) the test did not expect",
        ),
    )
    intercept: bool = field(
        default=False,
        metadata=_offer(
            parse=boolean_value,
            marker=True,
            ini=True,
            help="pytest: answer every algoliasearch client the code under test builds itself (aimed at "
            "Algolia's hosts) with the test's mock, as the algolia_intercept fixture does; off, such a "
            "client's requests go to the real Algolia",
        ),
    )
    assumed_rules: bool = field(
        default=True,
        metadata=_offer(
            parse=boolean_value,
            flag="--no-assumed-rules",
            marker=True,
            ini=True,
            help="on by default: refuse what the mock assumes the service refuses, on no evidence (each "
            "rule an 'assumption' of the deviation ledger, its refusal saying so); off "
            "(--no-assumed-rules): refuse only what the published spec and observed answers refuse",
        ),
    )
    validation: Literal["fast", "openapi-core"] = "fast"
    access_log: Literal["off", "text", "json"] = field(
        default="text",
        metadata=_offer(
            flag="--access-log",
            help="one line per request: plain text, a JSON object, or nothing (default: %(default)s)",
        ),
    )

    def __post_init__(self) -> None:
        # Rules given as a list (a marker's, JSON's) are kept as the tuple the field is.
        for name in ("keys", "faults", "stubs", "allowed_hosts"):
            value = getattr(self, name)
            if isinstance(value, list):
                setattr(self, name, tuple(value))

    # --- derived -------------------------------------------------------------------------------
    @property
    def strict_credentials(self) -> bool:
        if self.app_id is None or self.api_key is None:
            return False
        return True if self.strict is None else bool(self.strict)

    def replace(self, **changes: Any) -> MockSettings:
        return dataclasses.replace(self, **changes)

    def check(self) -> None:
        """Refuse combinations that cannot work, with the reason (ValueError)."""
        if (self.app_id is None) != (self.api_key is None) and self.strict:
            raise ValueError("app_id and api_key go together when strict")
        for name in ("max_body_bytes", "max_depth", "journal_bytes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}: must be at least 1")
        for name in ("transform_budget", "body_timeout", "keep_alive_timeout", "shutdown_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
                raise ValueError(f"{name}: {value!r} is not a number of seconds between 0 and 3600")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not -(2**63) <= self.seed < 2**63
        ):
            raise ValueError(f"seed: {self.seed!r} is not a whole number of at most 64 bits")
        if int(self.max_connections) < 1:
            raise ValueError("max_connections: must be at least 1")
        for name in ("journal_size", "max_applications", "max_resources"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name}: must be at least 1")
        if self.validation not in ("fast", "openapi-core"):
            raise ValueError(f"validation: {self.validation!r} is not fast or openapi-core")
        owners: dict[Any, int] = {}
        for key in self.keys:
            check_key(key)
            owner = key.get("appID", self.app_id)
            owners[owner] = owners.get(owner, 0) + 1
        crowded = sorted((str(owner) for owner, n in owners.items() if n > MAX_KEYS_PER_APPLICATION))
        if crowded:
            raise ValueError(
                f"keys: more than {MAX_KEYS_PER_APPLICATION} keys for the application(s) {crowded[:5]} "
                "(None: keys of every application); that is the most one application may hold"
            )
        for host in self.allowed_hosts:
            if not isinstance(host, str) or not host.strip() or any(c in host for c in "/@ \t"):
                raise ValueError(f"allowed_hosts: {host!r} is not a host name (e.g. mock.internal) or '*'")
        for name in ("faults", "stubs"):
            rules = getattr(self, name)
            if not isinstance(rules, tuple) or not all(isinstance(rule, Mapping) for rule in rules):
                raise ValueError(f"{name}: a list of rules (mappings of their fields), not {rules!r:.100}")
        if self.access_log not in ("off", "text", "json"):
            raise ValueError(f"access_log: {self.access_log!r} is not off, text or json")


# What the control plane may change on a running mock (POST /__mock__/settings): the run-time ones.
RUNTIME_FIELDS = ("seed", "clock", "runs", "faults", "stubs", "rate_limit", "assumed_rules")
# What a running mock may also be given (MockControl.reconfigure, per pytest test): whom it accepts
# and what the plugin checks after a test or intercepts during it. (A test's own data sets are seeded
# into its application.)
PER_TEST_FIELDS = ("app_id", "api_key", "strict", "keys", "fail_on_rejection", "intercept")
SECRET_FIELDS = ("api_key", "admin_key")


def to_json(settings: MockSettings) -> dict[str, Any]:
    """The settings as JSON, secrets masked (the API key, extra keys' keys)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(MockSettings):
        value = getattr(settings, f.name)
        if f.name in SECRET_FIELDS and value is not None:
            value = "***"
        elif f.name == "keys":
            value = [{**dict(k), "apiKey": "***"} for k in value]
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [
                dict(v) if isinstance(v, Mapping) else str(v) if isinstance(v, Path) else v for v in value
            ]
        elif isinstance(value, Mapping):
            value = dict(value)
        out[f.name] = value
    return out


def parse_key(text: str) -> dict[str, Any]:
    """``KEY:ACL1,ACL2`` or ``APP:KEY:ACL1,ACL2`` (an empty ACL list is allowed: ``KEY:``)."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(parts[:-1]):
        raise ValueError(f"key {text!r}: expected KEY:ACL1,ACL2 or APP:KEY:ACL1,ACL2")
    key: dict[str, Any] = {"apiKey": parts[-2], "acl": [a for a in parts[-1].split(",") if a]}
    if len(parts) == 3:
        key["appID"] = parts[0]
    return key


def check_key(key: Any) -> dict[str, Any]:
    """A key setting as the engine reads it; ValueError naming what is wrong."""
    if not isinstance(key, Mapping):
        raise ValueError(f"keys: {key!r} is not {{'apiKey': ..., 'acl': [...]}}")
    unknown = sorted(set(key) - {"apiKey", "acl", "appID"})
    if unknown:
        raise ValueError(f"keys: unknown fields {unknown}; a key has apiKey, acl and (optional) appID")
    if not isinstance(key.get("apiKey"), str) or not key["apiKey"]:
        raise ValueError("keys: apiKey must be a non-empty string")
    acl = key.get("acl", [])
    if not isinstance(acl, (list, tuple)) or not all(isinstance(a, str) for a in acl):
        raise ValueError("keys: acl must be a list of ACL names")
    if "appID" in key and (not isinstance(key["appID"], str) or not key["appID"]):
        raise ValueError("keys: appID must be a non-empty string")
    return {**dict(key), "acl": list(acl)}


def offers() -> Iterator[tuple[str, Offer]]:
    """Every field with how it is offered (fields without an offer are create_app-only)."""
    for f in dataclasses.fields(MockSettings):
        offer = f.metadata.get("offer")
        yield f.name, offer if isinstance(offer, Offer) else Offer()


def field_names() -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(MockSettings))


def marker_keys() -> frozenset[str]:
    return frozenset(name for name, offer in offers() if offer.marker)


def ini_options() -> dict[str, str]:
    """``ingestion_mock_<field>`` -> field name, for the fields offered as ini options."""
    return {f"ingestion_mock_{name}": name for name, offer in offers() if offer.ini}


def serve_flags() -> dict[str, str]:
    """``--flag`` -> field name, for the fields ``mockserver serve`` offers."""
    return {offer.flag: name for name, offer in offers() if offer.flag is not None}


def help_of(name: str) -> str:
    return dict(offers())[name].help


def parse_of(name: str) -> Callable[[str], Any]:
    """How the field ``name`` reads its text form (ini options)."""
    return dict(offers())[name].parse


def from_options(options: Mapping[str, Any], base: MockSettings | None = None) -> MockSettings:
    """Settings from keyword options; an unknown option is a TypeError naming it and the known ones."""
    known = field_names()
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown mock options {unknown}; known: {sorted(known)}")
    settings = dataclasses.replace(base or MockSettings(), **dict(options))
    settings.check()
    return settings
