"""Authentications: typed credentials whose secrets are write-only."""

from __future__ import annotations

from typing import Any

from ..store import Record
from .context import Context, Handler
from .crud import Family, by_field, delete_handler, get_handler, list_handler, search_handler, stamp_update


def _platform_matches(record: Record, wanted: list[str], _account: Any) -> bool:
    platform = record.get("platform")
    return platform in wanted or (platform is None and "none" in wanted)


def public_view(record: Record, ctx: Context) -> Record:
    """The record without its secrets: write-only fields of its input schema are left out."""
    schema_name = ctx.checks.input_schema_for("AuthenticationCreate", record["type"])
    schema = ctx.checks.spec.schema(schema_name) if schema_name else {}
    secret_values = bool(schema.get("x-secret-values"))
    props = schema.get("properties", {})
    shown = {
        k: v
        for k, v in record["input"].items()
        if not secret_values and not props.get(k, {}).get("writeOnly", False)
    }
    return {**record, "input": shown}


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
    filters={"type": lambda r, wanted, _a: r["type"] in wanted, "platform": _platform_matches},
    sort_keys={
        "name": by_field("name"),
        "type": by_field("type"),
        "platform": by_field("platform"),
        "updatedAt": by_field("updatedAt"),
    },
    public=public_view,
)


def create(ctx: Context) -> Any:
    body = ctx.body
    now = ctx.now()
    record: Record = {"authenticationID": ctx.new_id(), **body, "createdAt": now, "updatedAt": now}
    FAMILY.records(ctx.account)[record["authenticationID"]] = record
    return FAMILY.show(record, ctx, ctx.response_schema())


def update(ctx: Context) -> Any:
    auth_id = ctx.request.path["authenticationID"]
    record = FAMILY.get(ctx, auth_id)
    changes = dict(ctx.body)
    if "input" in changes:
        schema_name = ctx.checks.input_schema_for("AuthenticationUpdate", record["type"])
        if schema_name is not None:
            ctx.checks.check(schema_name, changes["input"], "body.input")
    updated = stamp_update(record, changes, ctx)
    FAMILY.records(ctx.account)[auth_id] = updated
    return FAMILY.show(updated, ctx, ctx.response_schema())


HANDLERS: dict[str, Handler] = {
    "listAuthentications": list_handler(FAMILY),
    "createAuthentication": create,
    "searchAuthentications": search_handler(FAMILY),
    "getAuthentication": get_handler(FAMILY),
    "updateAuthentication": update,
    "deleteAuthentication": delete_handler(FAMILY, referrers),
}
