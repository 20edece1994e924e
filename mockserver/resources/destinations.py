"""Destinations: where records land (an Algolia index), optionally through transformations."""

from __future__ import annotations

from typing import Any

from mockserver.resources import authentications, transformations
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
    require_all,
    search_handler,
)

FAMILY = Family(
    name="destinations",
    singular="destination",
    id_field="destinationID",
    search_field="destinationIDs",
    filters={
        "type": in_list("type"),
        "authenticationID": in_list("authenticationID"),
        "transformationID": lambda r, wanted, _a: wanted in r.get("transformationIDs", ()),
    },
    sort_keys={"name": by_field("name"), "type": by_field("type"), "updatedAt": by_field("updatedAt")},
)


def referrers(ctx: Context, destination_id: str) -> list[str]:
    return [
        f"task {t['taskID']!r}" for t in ctx.account.tasks.values() if t["destinationID"] == destination_id
    ]


def _check_references(ctx: Context, body: dict[str, Any]) -> None:
    if "authenticationID" in body:
        authentications.FAMILY.get(ctx, body["authenticationID"], "body.authenticationID")
    if "transformationIDs" in body:
        require_all(ctx, transformations.FAMILY, body["transformationIDs"], "body.transformationIDs")


def create(ctx: Context) -> Any:
    body = ctx.body
    _check_references(ctx, body)
    return create_record(FAMILY, ctx, body)


def update(ctx: Context) -> Any:
    destination_id = ctx.request.path["destinationID"]
    record = FAMILY.get(ctx, destination_id)
    _check_references(ctx, ctx.body)
    return patch_record(FAMILY, ctx, record, ctx.body)


HANDLERS: dict[str, Handler] = {
    "listDestinations": list_handler(FAMILY),
    "createDestination": create,
    "searchDestinations": search_handler(FAMILY),
    "getDestination": get_handler(FAMILY),
    "updateDestination": update,
    "deleteDestination": delete_handler(FAMILY, referrers),
}
