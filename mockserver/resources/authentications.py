"""Authentications: typed credentials whose secrets are write-only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockserver.engine.store import Account, Record
from mockserver.resources.context import Context, Handler, Hooks, SchemaChecks
from mockserver.resources.crud import (
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


def is_secret(checks: SchemaChecks, auth_type: str | None) -> Callable[[str], bool]:
    """Which input keys of an authentication of ``auth_type`` are write-only (all, when unknown)."""
    schema_name = checks.input_schema_for("AuthenticationCreate", auth_type) if auth_type else None
    if schema_name is None:
        return lambda _key: True
    schema = checks.spec.schema(schema_name)
    if schema.get("x-secret-values"):
        return lambda _key: True
    props = schema.get("properties", {})
    return lambda key: bool(props.get(key, {}).get("writeOnly", False))


def not_returned(checks: SchemaChecks, auth_type: str | None) -> Callable[[str], bool]:
    """Which input keys of an authentication of ``auth_type`` answers leave out (``x-not-returned``)."""
    schema_name = checks.input_schema_for("AuthenticationCreate", auth_type) if auth_type else None
    if schema_name is None:
        return lambda _key: False
    props = checks.spec.schema(schema_name).get("properties", {})
    return lambda key: bool(props.get(key, {}).get("x-not-returned", False))


def without_secrets(record: Record, checks: SchemaChecks, account: Account | None = None) -> Record:
    """The record as the API shows it: each write-only field of its input is there, as ``null``,
    but those the spec marks ``x-not-returned``, which are left out.

    The published spec says of most secrets "This field is `null` in the API response": the key
    stays (a client sees which secrets are set), the value never comes back. Of the OAuth ``code``
    it says that it is not returned at all.
    """
    secret = is_secret(checks, record.get("type"))
    hidden = not_returned(checks, record.get("type"))
    shown = {k: None if secret(k) else v for k, v in record.get("input", {}).items() if not hidden(k)}
    return {**record, "input": shown}


def _given_values(payload: Any) -> Any:
    """A request's input without its ``null`` values: a secret sent back as the API showed it
    (``null``) is no new value, so the stored one stays (on create: none is stored)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("input"), dict):
        return payload
    return {**payload, "input": {k: v for k, v in payload["input"].items() if v is not None}}


def public_view(record: Record, ctx: Context) -> Record:
    return without_secrets(record, ctx.checks)


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
    return create_record(FAMILY, ctx, _given_values(ctx.body))


def update(ctx: Context) -> Any:
    auth_id = ctx.request.path["authenticationID"]
    record = FAMILY.get(ctx, auth_id)
    changes = dict(ctx.body)
    if "input" in changes:
        schema_name = ctx.checks.input_schema_for("AuthenticationUpdate", record["type"])
        if schema_name is not None:
            # Valid for some type, maybe not for this authentication's: 400 naming the rule.
            ctx.checks.check(schema_name, changes["input"], "body.input")
    return patch_record(FAMILY, ctx, record, _given_values(changes))


HANDLERS: dict[str, Handler] = {
    "listAuthentications": list_handler(FAMILY),
    "createAuthentication": create,
    "searchAuthentications": search_handler(FAMILY),
    "getAuthentication": get_handler(FAMILY),
    "updateAuthentication": update,
    "deleteAuthentication": delete_handler(FAMILY, referrers),
}


def _stored_type(account: Account, path_params: Mapping[str, str]) -> str | None:
    record = account.authentications.get(path_params.get("authenticationID", ""))
    kind = record.get("type") if record is not None else None
    return kind if isinstance(kind, str) else None


HOOKS = Hooks(views={"authentications": without_secrets}, types={"updateAuthentication": _stored_type})
