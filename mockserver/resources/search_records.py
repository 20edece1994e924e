"""The Search API's records: save, add or update, get (one or many), delete, partial updates with
the built-in operations, batch (one index or several) and clear, on the same fake indexes the
Ingestion API pushes into (``Account.indexes``).

Every write checks the whole request before it changes anything, then answers a Search task
(``search_tasks.new_task``). A missing index or record the URL names is a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from mockserver.engine.errors import BadRequest, NotFound, shown
from mockserver.engine.indexes import Index
from mockserver.engine.partial_updates import check_partial, partial
from mockserver.engine.store import Account, Record
from mockserver.resources import runs
from mockserver.resources.context import Context, Handler
from mockserver.resources.search_tasks import new_task

BATCH_ACTIONS = (
    "addObject",
    "updateObject",
    "partialUpdateObject",
    "partialUpdateObjectNoCreate",
    "deleteObject",
    "delete",
    "clear",
)


# --- shared by the Search handlers -----------------------------------------------------------
def settled(handler: Handler) -> Handler:
    """``handler``, after the application's runs are brought up to the mock's clock: a run of the
    Ingestion API that finished by now has written its records before a Search request reads or
    writes the index (a run settles whenever something reads it, as on the Ingestion side)."""

    def settling(ctx: Context) -> Any:
        runs.settle_all(ctx)
        return handler(ctx)

    settling.__name__ = getattr(handler, "__name__", "handler")
    settling.__doc__ = handler.__doc__
    return settling


def all_settled(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """A Search family's handler table, every handler :func:`settled`."""
    return {operation_id: settled(handler) for operation_id, handler in handlers.items()}


def index_not_found(index_name: str, where: str = "path.indexName") -> NotFound:
    return NotFound(
        "Index does not exist",
        detail=f"{where}: no index {shown(index_name, 100)} in this application",
        apart=True,
    )


def existing_index(ctx: Context, index_name: str) -> MutableMapping[str, Record]:
    """The index the URL names; 404 when it does not exist."""
    found = ctx.account.indexes.get(index_name)
    if found is None:
        raise index_not_found(index_name)
    return found


def writable_index(account: Account, index_name: str) -> MutableMapping[str, Record]:
    """The index, made (empty) when it does not exist yet: a write creates it."""
    found = account.indexes.get(index_name)
    if found is None:
        found = account.indexes[index_name] = Index()
    return found


def object_id_of(record: Mapping[str, Any], where: str) -> str | None:
    """A record's objectID as text (a number is taken as its text), None when it has none."""
    value = record.get("objectID")
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise BadRequest(
                f"{where}.objectID: an objectID is not empty (a record under an empty one could not "
                "be read or deleted by its URL)"
            )
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadRequest(f"{where}.objectID: an objectID is a string, not {shown(value)}")


def retrieved(record: Record, attributes: Any) -> Record:
    """``record`` with only ``attributesToRetrieve`` (and objectID, always); ``*`` or none: all."""
    if attributes is None:
        return record
    items = [attributes] if isinstance(attributes, str) else list(attributes)
    # the official clients join a list with commas (attributesToRetrieve=name,color)
    names = [name.strip() for item in items for name in str(item).split(",")]
    if "*" in names:
        return record
    return {k: v for k, v in record.items() if k == "objectID" or k in names}


# --- one record ----------------------------------------------------------------------------------
def _record_body(ctx: Context) -> Record:
    body = ctx.body
    if not isinstance(body, dict):
        raise BadRequest(f"body: a record is a JSON object, not {shown(body)}")
    return body


def save_object(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}: add a record (its objectID made when it has none) or replace it."""
    index_name = ctx.request.path["indexName"]
    record = _record_body(ctx)
    object_id = object_id_of(record, "body")
    if object_id is None:
        object_id = ctx.new_id()
    writable_index(ctx.account, index_name)[object_id] = {**record, "objectID": object_id}
    return {"createdAt": ctx.now(), **new_task(ctx, index_name), "objectID": object_id}


def add_or_update_object(ctx: Context) -> Any:
    """PUT /1/indexes/{indexName}/{objectID}: the record replaces any with that objectID."""
    index_name, object_id = ctx.request.path["indexName"], str(ctx.request.path["objectID"])
    record = _record_body(ctx)
    writable_index(ctx.account, index_name)[object_id] = {**record, "objectID": object_id}
    return {**new_task(ctx, index_name), "updatedAt": ctx.now(), "objectID": object_id}


def get_object(ctx: Context) -> Any:
    """GET /1/indexes/{indexName}/{objectID}; 404 when the index or the record is missing."""
    index_name, object_id = ctx.request.path["indexName"], str(ctx.request.path["objectID"])
    index = ctx.account.indexes.get(index_name)
    record = index.get(object_id) if index is not None else None
    if record is None:
        if index is None:
            detail = f"path.indexName: no index {shown(index_name, 100)} in this application"
        else:
            detail = f"path.objectID: no record {shown(object_id, 100)} in index {shown(index_name, 100)}"
        raise NotFound("ObjectID does not exist", detail=detail, apart=True)
    return retrieved(dict(record), ctx.request.query.get("attributesToRetrieve"))


def get_objects(ctx: Context) -> Any:
    """POST /1/indexes/*/objects: each requested record in order, null where it is missing."""
    results: list[Record | None] = []
    for request in ctx.body["requests"]:
        index = ctx.account.indexes.get(request["indexName"])
        record = index.get(str(request["objectID"])) if index is not None else None
        results.append(
            retrieved(dict(record), request.get("attributesToRetrieve")) if record is not None else None
        )
    return {"results": results}


def delete_object(ctx: Context) -> Any:
    """DELETE /1/indexes/{indexName}/{objectID}: gone if it was there; a task either way."""
    index_name, object_id = ctx.request.path["indexName"], str(ctx.request.path["objectID"])
    index = ctx.account.indexes.get(index_name)
    if index is not None:
        index.pop(object_id, None)
    return {**new_task(ctx, index_name), "deletedAt": ctx.now()}


def partial_update_object(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/{objectID}/partial (createIfNotExists: true by default)."""
    index_name, object_id = ctx.request.path["indexName"], str(ctx.request.path["objectID"])
    changes = _record_body(ctx)
    check_partial(changes, "body")
    create = ctx.request.query.get("createIfNotExists", True) is not False
    index = ctx.account.indexes.get(index_name)
    existing = index.get(object_id) if index is not None else None
    after = partial(existing, object_id, changes, create)
    if after is not None and after is not existing:
        writable_index(ctx.account, index_name)[object_id] = after
    return {**new_task(ctx, index_name), "updatedAt": ctx.now(), "objectID": object_id}


# --- batches ------------------------------------------------------------------------------------
Step = Callable[[Account], str | None]  # applies one batch request; the objectID it touched


def _step(ctx: Context, index_name: str, action: str, body: Any, where: str) -> Step:
    """One batch request, checked, as the change it makes (applied once every request is checked)."""
    if action not in BATCH_ACTIONS:
        raise BadRequest(f"{where}.action: {shown(action)} is not one of {', '.join(BATCH_ACTIONS)}")
    if action in ("delete", "clear"):

        def whole(account: Account) -> str | None:
            if action == "delete":
                account.drop_index(index_name)
            elif index_name in account.indexes:
                account.indexes[index_name].clear()
            return None

        return whole
    if not isinstance(body, dict):
        raise BadRequest(f"{where}.body: {action} takes a record (a JSON object), not {shown(body)}")
    object_id = object_id_of(body, f"{where}.body")
    if object_id is None and action != "addObject":
        raise BadRequest(f"{where}.body.objectID: {action} needs the objectID of the record it acts on")
    if object_id is None:
        object_id = ctx.new_id()
    if action in ("addObject", "updateObject"):
        record = {**body, "objectID": object_id}

        def put(account: Account) -> str | None:
            writable_index(account, index_name)[object_id] = record
            return object_id

        return put
    if action == "deleteObject":

        def delete(account: Account) -> str | None:
            index = account.indexes.get(index_name)
            if index is not None:
                index.pop(object_id, None)
            return object_id

        return delete
    check_partial(body, f"{where}.body")
    create = action == "partialUpdateObject"
    stored = ctx.account.indexes.get(index_name)
    partial(stored.get(object_id) if stored is not None else None, object_id, body, create, f"{where}.body")

    def update(account: Account) -> str | None:
        index = account.indexes.get(index_name)
        existing = index.get(object_id) if index is not None else None
        after = partial(existing, object_id, body, create, f"{where}.body")
        if after is not None and after is not existing:
            writable_index(account, index_name)[object_id] = after
        return object_id

    return update


def _run(steps: Iterable[Step], account: Account) -> list[str]:
    return [object_id for step in steps if (object_id := step(account)) is not None]


def batch(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/batch: every request checked, then applied in order."""
    index_name = ctx.request.path["indexName"]
    steps = [
        _step(ctx, index_name, r["action"], r.get("body"), f"body.requests[{i}]")
        for i, r in enumerate(ctx.body["requests"])
    ]
    object_ids = _run(steps, ctx.account)
    return {**new_task(ctx, index_name), "objectIDs": object_ids}


def multiple_batch(ctx: Context) -> Any:
    """POST /1/indexes/*/batch: requests on several indexes, in order; one task per index."""
    requests = ctx.body["requests"]
    steps = [
        _step(ctx, r["indexName"], r["action"], r.get("body"), f"body.requests[{i}]")
        for i, r in enumerate(requests)
    ]
    object_ids = _run(steps, ctx.account)
    task_ids: dict[str, int] = {}
    for request in requests:
        if request["indexName"] not in task_ids:
            task_ids[request["indexName"]] = new_task(ctx, request["indexName"])["taskID"]
    return {"taskID": task_ids, "objectIDs": object_ids}


def clear_objects(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/clear: every record gone; the index, its settings, synonyms
    and rules stay."""
    index_name = ctx.request.path["indexName"]
    index = ctx.account.indexes.get(index_name)
    if index is not None:
        index.clear()
    return {**new_task(ctx, index_name), "updatedAt": ctx.now()}


HANDLERS: dict[str, Handler] = all_settled(
    {
        "saveObject": save_object,
        "addOrUpdateObject": add_or_update_object,
        "getObject": get_object,
        "getObjects": get_objects,
        "deleteObject": delete_object,
        "partialUpdateObject": partial_update_object,
        "batch": batch,
        "multipleBatch": multiple_batch,
        "clearObjects": clear_objects,
    }
)
