"""Authentications: typed credentials whose secrets are write-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import BadRequest, as_conflict
from ..journal import MASK
from ..store import Record
from .context import Context, Handler, SchemaChecks
from .crud import (
    Family,
    by_field,
    create_record,
    delete_handler,
    get_handler,
    in_list,
    list_handler,
    patch_record,
    search_handler,
)


def _platform_matches(record: Record, wanted: list[str], _account: Any) -> bool:
    platform = record.get("platform")
    return platform in wanted or (platform is None and "none" in wanted)


def _is_secret(checks: SchemaChecks, auth_type: str | None) -> Callable[[str], bool]:
    """Which input keys of an authentication of ``auth_type`` are write-only (all, when unknown)."""
    schema_name = checks.input_schema_for("AuthenticationCreate", auth_type) if auth_type else None
    if schema_name is None:
        return lambda _key: True
    schema = checks.spec.schema(schema_name)
    if schema.get("x-secret-values"):
        return lambda _key: True
    props = schema.get("properties", {})
    return lambda key: bool(props.get(key, {}).get("writeOnly", False))


def without_secrets(record: Record, checks: SchemaChecks) -> Record:
    """The record as the API shows it: write-only fields of its input are left out."""
    secret = _is_secret(checks, record.get("type"))
    return {**record, "input": {k: v for k, v in record.get("input", {}).items() if not secret(k)}}


def public_view(record: Record, ctx: Context) -> Record:
    return without_secrets(record, ctx.checks)


def masked(payload: Any, auth_type: str | None, checks: SchemaChecks) -> Any:
    """An authentication payload with its secret values replaced by ``***`` (for journals and logs).

    Only the fields the type's schema declares and does not mark write-only stay readable; any
    other field (a typo, another type's secret) and an input that is not an object are masked.
    """
    if not isinstance(payload, dict) or "input" not in payload:
        return payload
    given = payload["input"]
    if not isinstance(given, dict):
        return {**payload, "input": MASK}
    shown = _shown_fields(checks, auth_type)
    return {**payload, "input": {k: (v if k in shown else MASK) for k, v in given.items()}}


def _shown_fields(checks: SchemaChecks, auth_type: str | None) -> frozenset[str]:
    schema_name = checks.input_schema_for("AuthenticationCreate", auth_type) if auth_type else None
    if schema_name is None:
        return frozenset()
    schema = checks.spec.schema(schema_name)
    if schema.get("x-secret-values"):
        return frozenset()
    return frozenset(k for k, v in schema.get("properties", {}).items() if not v.get("writeOnly", False))


def mask_request_body(operation_id: str | None, body: Any, checks: SchemaChecks) -> Any:
    """Mask the secrets of any authentication a request body carries (an update's: every input value).

    Runs on every request, valid or not, so it trusts nothing about the body's shape."""
    if not isinstance(body, dict):
        return body
    if operation_id == "createAuthentication":
        return masked(body, _type_of(body), checks)
    if operation_id == "updateAuthentication":
        return masked(body, None, checks)
    if operation_id in ("tryTransformation", "tryTransformationBeforeUpdate") and isinstance(
        body.get("authentications"), list
    ):
        return {**body, "authentications": [masked(a, _type_of(a), checks) for a in body["authentications"]]}
    return body


def _type_of(payload: Any) -> str | None:
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else None


def referrers(ctx: Context, auth_id: str) -> list[str]:
    account = ctx.account
    users = [
        f"source {s['sourceID']!r}" for s in account.sources.values() if s.get("authenticationID") == auth_id
    ]
    users += [
        f"destination {d['destinationID']!r}"
        for d in account.destinations.values()
        if d.get("authenticationID") == auth_id
    ]
    users += [
        f"transformation {t['transformationID']!r}"
        for t in account.transformations.values()
        if auth_id in t.get("authenticationIDs", ())
    ]
    return users


FAMILY = Family(
    name="authentications",
    singular="authentication",
    id_field="authenticationID",
    search_field="authenticationIDs",
    filters={"type": in_list("type"), "platform": _platform_matches},
    sort_keys={
        "name": by_field("name"),
        "type": by_field("type"),
        "platform": by_field("platform"),
        "updatedAt": by_field("updatedAt"),
    },
    public=public_view,
)


def create(ctx: Context) -> Any:
    return create_record(FAMILY, ctx, ctx.body)


def update(ctx: Context) -> Any:
    auth_id = ctx.request.path["authenticationID"]
    record = FAMILY.get(ctx, auth_id)
    changes = dict(ctx.body)
    if "input" in changes:
        schema_name = ctx.checks.input_schema_for("AuthenticationUpdate", record["type"])
        if schema_name is not None:
            try:
                ctx.checks.check(schema_name, changes["input"], "body.input")
            except BadRequest as exc:  # valid for some type, not for this authentication's
                raise as_conflict(exc) from None
    return patch_record(FAMILY, ctx, record, changes)


HANDLERS: dict[str, Handler] = {
    "listAuthentications": list_handler(FAMILY),
    "createAuthentication": create,
    "searchAuthentications": search_handler(FAMILY),
    "getAuthentication": get_handler(FAMILY),
    "updateAuthentication": update,
    "deleteAuthentication": delete_handler(FAMILY, referrers),
}
