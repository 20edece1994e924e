"""Sources: where records come from. Their ``input`` shape is chosen by their ``type``."""

from __future__ import annotations

from typing import Any

from mockserver.engine import assumptions
from mockserver.engine.store import Record
from mockserver.resources import authentications
from mockserver.resources.context import Context, Handler
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

FAMILY = Family(
    name="sources",
    singular="source",
    id_field="sourceID",
    search_field="sourceIDs",
    filters={
        "type": in_list("type"),
        # 'none' selects the sources that have no authentication.
        "authenticationID": lambda r, wanted, _a: r.get("authenticationID", "none") in wanted,
    },
    sort_keys={"name": by_field("name"), "type": by_field("type"), "updatedAt": by_field("updatedAt")},
)


def referrers(ctx: Context, source_id: str) -> list[str]:
    return [f"task {t['taskID']!r}" for t in ctx.account.tasks.values() if t["sourceID"] == source_id]


def check_update_input(ctx: Context, record: Record, new_input: Any) -> None:
    """An update's input must fit the shape of the source's own type (else 400, naming the type):
    an assumed rule (source-input-follows-type), not checked when they are off."""
    if not ctx.assumed_rules:
        return
    schema_name = ctx.checks.input_schema_for("SourceUpdate", record["type"])
    if schema_name is None:
        raise assumptions.refuse(
            "source-input-follows-type", f"body.input: a {record['type']} source takes no input"
        )
    message = ctx.checks.error_of(schema_name, new_input, "body.input")
    if message is not None:
        raise assumptions.refuse("source-input-follows-type", message)


def _with_csv_delimiter(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """A CSV source left without a delimiter gets the published default (a comma), as a task gets
    its published ``enabled``; only when its input is a CSV one (the assumed rules may be off)."""
    source_input = body.get("input")
    if body.get("type") != "csv" or not isinstance(source_input, dict) or "delimiter" in source_input:
        return body
    default = ctx.checks.spec.schema("SourceCSV")["properties"]["delimiter"].get("default")
    filled = {**source_input, "delimiter": default}
    if default is None or ctx.checks.error_of("SourceCSV", filled, "body.input") is not None:
        return body
    return {**body, "input": filled}


def create(ctx: Context) -> Any:
    body = ctx.body
    if "authenticationID" in body:
        authentications.FAMILY.get(ctx, body["authenticationID"], "body.authenticationID")
    return create_record(FAMILY, ctx, _with_csv_delimiter(ctx, dict(body)))


def update(ctx: Context) -> Any:
    source_id = ctx.request.path["sourceID"]
    record = FAMILY.get(ctx, source_id)
    body = ctx.body
    if "input" in body:
        check_update_input(ctx, record, body["input"])
    if "authenticationID" in body:
        authentications.FAMILY.get(ctx, body["authenticationID"], "body.authenticationID")
    return patch_record(FAMILY, ctx, record, body)


HANDLERS: dict[str, Handler] = {
    "listSources": list_handler(FAMILY),
    "createSource": create,
    "searchSources": search_handler(FAMILY),
    "getSource": get_handler(FAMILY),
    "updateSource": update,
    "deleteSource": delete_handler(FAMILY, referrers),
}
