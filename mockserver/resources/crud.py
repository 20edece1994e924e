"""List, get, search and delete: one implementation for every resource family, driven by a table."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine import assumptions
from mockserver.engine.errors import ApiError, BadRequest, MissingReference, NotFound, ResourceInUse
from mockserver.engine.store import Account, Record, Records, api_view
from mockserver.resources.context import Context, Handler
from mockserver.spec import Schema

Predicate = Callable[[Record, Any, Account], bool]
SortKey = Callable[[Record, Account], Any]


@dataclass(frozen=True)
class Family:
    """How one resource family is named, filtered, sorted and shown."""

    name: str  # attribute of Account and key of the list response: "sources"
    singular: str  # for messages: "source"
    id_field: str  # "sourceID"
    search_field: str  # "sourceIDs"
    filters: Mapping[str, Predicate] = field(default_factory=dict)
    sort_keys: Mapping[str, SortKey] = field(default_factory=dict)
    public: Callable[[Record, Context], Record] | None = None  # hides write-only data

    def records(self, account: Account) -> dict[str, Record]:
        return account.family(self.name)

    def get(self, ctx: Context, record_id: str, where: str | None = None) -> Record:
        record = self.records(ctx.account).get(record_id)
        if record is None:
            if where is not None:
                raise missing_reference(ctx, f"{where}: no {self.singular} with ID {record_id!r} exists")
            raise NotFound(f"No {self.singular} with ID {record_id!r} exists")
        return record

    def show(self, record: Record, ctx: Context, schema: Schema) -> Record:
        """The record as an answer with ``schema`` shows it: its public form, only the fields the
        schema names (all when it names none)."""
        visible = self.public(record, ctx) if self.public is not None else record
        return api_view(visible, ctx.checks.named_fields(schema))

    def show_all(self, records: Iterable[Record], ctx: Context, schema: Schema) -> list[Record]:
        """:meth:`show` of each record (a page), the schema's fields looked up once for them all."""
        named = ctx.checks.named_fields(schema)
        public = self.public
        if public is None:
            return [api_view(record, named) for record in records]
        return [api_view(public(record, ctx), named) for record in records]


def missing_reference(ctx: Context, message: str) -> ApiError:
    """The error for a body naming a resource that does not exist (the body fits the schema).

    One status whatever the operation (create or update): 400 ``resource_not_found``. The published
    spec gives no status for it; 400 is the only error status it documents for these operations, so
    it is our pick (ledger: missing-reference-in-body, an assumption about the status only: the
    refusal itself is the state's, not an assumed rule). A 404 is kept for the resource the URL names.
    """
    del ctx  # the same answer on every operation
    return MissingReference(message)


def in_list(field_name: str) -> Predicate:
    return lambda record, wanted, _account: record.get(field_name) in wanted


def equals(field_name: str) -> Predicate:
    return lambda record, wanted, _account: record.get(field_name) == wanted


def by_field(field_name: str) -> SortKey:
    return lambda record, _account: record.get(field_name)


def paginate(
    items: Sequence[Record] | dict[str, Record], ctx: Context
) -> tuple[list[Record], dict[str, int]]:
    """One page of ``items`` and the pagination object that describes it.

    ``items`` is either the ordered records, or, for the default listing (no filter, newest first),
    the family's own dict: then only the requested page is walked, whatever the collection's size.
    """
    per_page: int = ctx.request.query.get("itemsPerPage", 10)
    page: int = ctx.request.query.get("page", 1)
    nb_items = len(items)
    start = (page - 1) * per_page
    if start >= nb_items:
        chosen: list[Record] = []
    elif isinstance(items, Records):
        chosen = items.page(start, per_page, newest_first=ctx.request.query.get("order", "desc") == "desc")
    elif isinstance(items, dict):
        newest_first = ctx.request.query.get("order", "desc") == "desc"
        walk = reversed(items.values()) if newest_first else iter(items.values())
        chosen = list(itertools.islice(walk, start, start + per_page))
    else:
        chosen = list(items[start : start + per_page])
    pagination = {
        "nbPages": max(1, math.ceil(nb_items / per_page)),
        "page": page,
        "nbItems": nb_items,
        "itemsPerPage": per_page,
    }
    return chosen, pagination


def is_default_listing(family: Family, ctx: Context) -> bool:
    query = ctx.request.query
    return query.get("sort", "createdAt") == "createdAt" and not any(name in query for name in family.filters)


def select(family: Family, ctx: Context, records: Iterable[Record] | None = None) -> list[Record]:
    """The family's records (or ``records``) after the request's filters, in the requested order."""
    query = ctx.request.query
    account = ctx.account
    if records is None:
        records = family.records(account).values()
    active = [(pred, query[name]) for name, pred in family.filters.items() if name in query]
    if active:
        records = [r for r in records if all(pred(r, wanted, account) for pred, wanted in active)]
    sort = query.get("sort", "createdAt")
    descending = query.get("order", "desc") == "desc"
    if sort == "createdAt":
        ordered = list(records)  # insertion order is creation order
        if descending:
            ordered.reverse()
        return ordered
    key = family.sort_keys.get(sort)
    if key is None:
        raise BadRequest(f"query.sort: {sort!r} is not a sort key of {family.name}")
    indexed = list(enumerate(records))
    # Ties keep creation order, reversed with the rest when descending.
    indexed.sort(key=lambda pair: (_sortable(key(pair[1], account)), pair[0]), reverse=descending)
    return [r for _, r in indexed]


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    return (1, value)


def list_handler(family: Family) -> Handler:
    def handle(ctx: Context) -> Any:
        schema = ctx.response_schema()
        item_schema = schema["properties"][family.name]["items"]
        records = family.records(ctx.account)
        page, pagination = paginate(records if is_default_listing(family, ctx) else select(family, ctx), ctx)
        return {family.name: family.show_all(page, ctx, item_schema), "pagination": pagination}

    return handle


def get_handler(family: Family) -> Handler:
    def handle(ctx: Context) -> Any:
        record = family.get(ctx, ctx.request.path[family.id_field])
        return family.show(record, ctx, ctx.response_schema())

    return handle


def search_handler(family: Family) -> Handler:
    def handle(ctx: Context) -> Any:
        records = family.records(ctx.account)
        item_schema = ctx.response_schema().get("items", {})
        seen: set[str] = set()
        found = []
        for record_id in ctx.body[family.search_field]:
            if record_id in records and record_id not in seen:
                seen.add(record_id)
                found.append(family.show(records[record_id], ctx, item_schema))
        return found

    return handle


Referrers = Callable[[Context, str], list[str]]


def delete_handler(
    family: Family, referrers: Referrers | None = None, assumed_rule: str | None = None
) -> Handler:
    """DELETE of one record of ``family``; refused (400 resource_in_use) while ``referrers`` finds
    users. ``assumed_rule``: that refusal is this assumed rule (not made when they are off)."""
    if assumed_rule is not None and assumed_rule not in assumptions.CODE_RULES:
        raise KeyError(f"{assumed_rule!r} is not an assumed rule checked in code")

    def handle(ctx: Context) -> Any:
        record_id = ctx.request.path[family.id_field]
        family.get(ctx, record_id)
        checked = referrers is not None and (assumed_rule is None or ctx.assumed_rules)
        users = referrers(ctx, record_id) if referrers is not None and checked else []
        if users:
            message = (
                f"The {family.singular} {record_id!r} cannot be deleted: it is used by {', '.join(users)}"
            )
            if assumed_rule is not None:
                message = f"{message} {assumptions.note(assumed_rule)}"
            raise ResourceInUse(message)
        ctx.account.remove(family.name, record_id)
        return {"deletedAt": ctx.now()}

    return handle


def require_all(ctx: Context, family: Family, ids: list[str], where: str) -> None:
    """Every ID in a request's list must name an existing record of ``family``."""
    for i, record_id in enumerate(ids):
        family.get(ctx, record_id, f"{where}[{i}]")


def merge_input(old: Any, new: Any) -> Any:
    """PATCH semantics for an ``input`` object: given keys replace, others stay."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **new}
    return new


def stamp_update(record: Record, changes: Mapping[str, Any], ctx: Context) -> Record:
    updated = dict(record)
    for key, value in changes.items():
        updated[key] = merge_input(record.get(key), value) if key == "input" else value
    updated["updatedAt"] = ctx.now()
    return updated


def create_record(family: Family, ctx: Context, fields: Mapping[str, Any]) -> Any:
    """Store a new record of ``family`` (new ID, both timestamps now) and answer as the spec says."""
    now = ctx.now()
    record: Record = {family.id_field: ctx.new_id(), **fields, "createdAt": now, "updatedAt": now}
    family.records(ctx.account)[record[family.id_field]] = record
    return family.show(record, ctx, ctx.response_schema())


def patch_record(family: Family, ctx: Context, record: Record, changes: Mapping[str, Any]) -> Any:
    """Apply a PATCH (``input`` merged, other fields replaced), restamp, store and answer."""
    updated = stamp_update(record, changes, ctx)
    family.records(ctx.account)[record[family.id_field]] = updated
    return family.show(updated, ctx, ctx.response_schema())
