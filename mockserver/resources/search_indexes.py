"""The Search API's indexes: list, delete, copy and move (with ``scope``), settings, and synonyms
and rules stored as resources (save, get, delete, batch, clear, search).

An index exists once it is in ``Account.indexes`` (a write of any kind makes it, empty at first);
its settings, synonyms, rules and dates are kept beside it (``Account.index_settings``, ...) and
go wherever it goes: a copy carries them (all of them, or those ``scope`` names), a move takes
them, a delete drops them. Every stored value is replaced, never edited in place (the state file
compares them by identity).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mockserver.engine import assumptions, jsonio, search
from mockserver.engine.errors import BadRequest, NotFound, shown
from mockserver.engine.indexes import Index
from mockserver.engine.store import Account, Record
from mockserver.resources.context import Context, Handler
from mockserver.resources.search_records import all_settled, existing_index, object_id_of, writable_index
from mockserver.resources.search_tasks import new_task

UNCOPIED_SETTINGS = ("enableReRanking", "mode", "replicas")  # published: a copy leaves them out
SCOPES = ("settings", "synonyms", "rules")


# --- indexes --------------------------------------------------------------------------------------
def _data_size(index: Mapping[str, Record]) -> int:
    if isinstance(index, Index):
        return sum(len(index.packed_record(object_id) or b"") for object_id in index)
    return sum(len(jsonio.dumps(record)) for record in index.values())


def _listed(ctx: Context, name: str) -> Record:
    account = ctx.account
    index = account.indexes[name]
    now = ctx.now()
    created, updated = account.index_dates.get(name, (now, now))
    size = _data_size(index)
    item: Record = {
        "name": name,
        "createdAt": created if len(index) else "",  # published: empty for an index with no records
        "updatedAt": updated,
        "entries": len(index),
        "dataSize": size,
        "fileSize": size,
        "lastBuildTimeS": 0,
        "numberOfPendingTasks": 0,
        "pendingTask": False,
    }
    settings = account.index_settings.get(name, {})
    if settings.get("replicas"):
        item["replicas"] = list(settings["replicas"])
    if isinstance(settings.get("primary"), str):
        item["primary"] = settings["primary"]
    return item


def list_indices(ctx: Context) -> Any:
    """GET /1/indexes: every index by name; one page of ``hitsPerPage`` when ``page`` is given,
    all of them otherwise (published: a null page is not paginated)."""
    names = sorted(ctx.account.indexes)
    page = ctx.request.query.get("page")
    per_page = int(ctx.request.query.get("hitsPerPage", 100))
    if per_page < 1 and ctx.assumed_rules:
        raise assumptions.refuse(
            "search-list-indices-page-size",
            f"query.hitsPerPage: {per_page} is below 1; a page holds at least one index",
        )
    if page is None:
        return {"items": [_listed(ctx, name) for name in names], "nbPages": 1}
    if per_page < 1:  # (the assumed rules off) a page that holds nothing: no page to hold any index
        return {"items": [], "nbPages": 0}
    start = int(page) * per_page
    items = [_listed(ctx, name) for name in names[start : start + per_page]]
    return {"items": items, "nbPages": math.ceil(len(names) / per_page)}


def delete_index(ctx: Context) -> Any:
    """DELETE /1/indexes/{indexName}: the index, its settings, synonyms and rules; a missing one
    is ignored (published)."""
    index_name = ctx.request.path["indexName"]
    ctx.account.drop_index(index_name)
    return {**new_task(ctx, index_name), "deletedAt": ctx.now()}


def _copied_records(index: Mapping[str, Record] | None) -> Index:
    if isinstance(index, Index):
        return index.copy()
    return Index(dict(index) if index is not None else None)


def _copy(account: Account, source: str, destination: str, scopes: Iterable[str] | None) -> None:
    """Copy ``source`` onto ``destination``: everything, or only the parts ``scopes`` names (the
    destination's records and other parts stay then)."""
    parts = set(scopes) if scopes is not None else {"records", *SCOPES}
    if "records" in parts:
        account.indexes[destination] = _copied_records(account.indexes.get(source))
    else:
        writable_index(account, destination)
    if "settings" in parts:
        settings = {
            k: v for k, v in account.index_settings.get(source, {}).items() if k not in UNCOPIED_SETTINGS
        }
        _put(account.index_settings, destination, settings)  # (a destination with replicas: refused)
    for part, held in (("synonyms", account.synonyms), ("rules", account.rules)):
        if part in parts:
            _put(held, destination, dict(held.get(source, {})))


def _put(held: dict[str, Any], name: str, value: Mapping[str, Any]) -> None:
    """Store ``value`` under ``name``; an empty one is not kept."""
    if value:
        held[name] = value
    else:
        held.pop(name, None)


def _move(account: Account, source: str, destination: str) -> None:
    """``destination`` becomes what ``source`` was (records, settings, synonyms, rules, dates);
    ``source`` is gone."""
    moved_settings = account.index_settings.get(source)
    dates = account.index_dates.get(source)
    records = account.indexes[source]
    synonyms, rules = account.synonyms.get(source), account.rules.get(source)
    account.drop_index(source)
    replicas = account.index_settings.get(destination, {}).get("replicas")
    account.drop_index(destination)
    account.indexes[destination] = records
    settings = dict(moved_settings or {})
    if replicas:  # published: a destination with replicas keeps them (they get the data)
        settings["replicas"] = replicas
    _put(account.index_settings, destination, settings)
    _put(account.synonyms, destination, synonyms or {})
    _put(account.rules, destination, rules or {})
    if dates is not None:
        account.index_dates[destination] = dates


def operation_index(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/operation: copy (all, or the parts ``scope`` names) or move
    (``scope`` is for copies only, as published: a move ignores it)."""
    source = ctx.request.path["indexName"]
    body = ctx.body
    destination, scope = body["destination"], body.get("scope")
    account = ctx.account
    if body["operation"] == "copy":
        if account.index_settings.get(destination, {}).get("replicas") and source != destination:
            raise BadRequest(
                f"body.destination: index {shown(destination, 100)} has replicas; a copy cannot "
                "overwrite an index with replicas (remove its replicas setting first)"
            )
        if source != destination:
            _copy(account, source, destination, scope)
            account.stamp_index(destination, ctx.now())
    elif source in account.indexes and source != destination:  # a missing source: ignored (published)
        _move(account, source, destination)
        account.stamp_index(destination, ctx.now())
    return {**new_task(ctx, source, stamp=False), "updatedAt": ctx.now()}


# --- settings -------------------------------------------------------------------------------------
def get_settings(ctx: Context) -> Any:
    """GET /1/indexes/{indexName}/settings: what setSettings set (no defaults added)."""
    index_name = ctx.request.path["indexName"]
    existing_index(ctx, index_name)
    return dict(ctx.account.index_settings.get(index_name, {}))


def set_settings(ctx: Context) -> Any:
    """PUT /1/indexes/{indexName}/settings: the settings given change, the others stay; null
    resets one (published). ``forwardToReplicas`` is accepted (the mock makes no replicas)."""
    index_name = ctx.request.path["indexName"]
    body = ctx.body
    if not isinstance(body, dict):
        raise BadRequest(f"body: index settings are a JSON object, not {shown(body)}")
    search.check_settings(body)
    account = ctx.account
    merged = {**account.index_settings.get(index_name, {}), **body}
    writable_index(account, index_name)
    _put(account.index_settings, index_name, {k: v for k, v in merged.items() if v is not None})
    return {**new_task(ctx, index_name), "updatedAt": ctx.now()}


# --- synonyms and rules ---------------------------------------------------------------------------
class Kind:
    """Synonyms or rules: where they are kept and what they are called."""

    def __init__(
        self, name: str, label: str, held: Callable[[Account], dict[str, dict[str, Record]]]
    ) -> None:
        self.name = name  # synonyms | rules
        self.label = label  # Synonym | Rule
        self.held = held

    def of(self, account: Account, index_name: str) -> dict[str, Record]:
        return self.held(account).get(index_name, {})

    def replace(self, account: Account, index_name: str, objects: dict[str, Record]) -> None:
        _put(self.held(account), index_name, objects)

    def missing(self, object_id: str, index_name: str) -> NotFound:
        return NotFound(
            f"{self.label} {shown(object_id, 100)} does not exist",
            detail=(
                f"path.objectID: index {shown(index_name, 100)} has no {self.label.lower()} "
                f"{shown(object_id, 100)}"
            ),
            apart=True,
        )


SYNONYMS = Kind("synonyms", "Synonym", lambda account: account.synonyms)
RULES = Kind("rules", "Rule", lambda account: account.rules)


def _one(kind: Kind, ctx: Context) -> tuple[str, str]:
    return ctx.request.path["indexName"], str(ctx.request.path["objectID"])


def _checked_objects(kind: Kind, items: Any, where: str) -> list[Record]:
    if not isinstance(items, list):
        raise BadRequest(f"{where}: a list of {kind.name}, not {shown(items)}")
    checked = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"{where}[{i}]: a {kind.label.lower()} is a JSON object, not {shown(item)}")
        object_id = object_id_of(item, f"{where}[{i}]")
        if object_id is None:
            raise BadRequest(
                f"{where}[{i}].objectID: every {kind.label.lower()} of a batch needs its objectID"
            )
        checked.append({**item, "objectID": object_id})
    return checked


def _save_one(kind: Kind) -> Handler:
    def save(ctx: Context) -> Any:
        index_name, object_id = _one(kind, ctx)
        body = ctx.body
        if not isinstance(body, dict):
            raise BadRequest(f"body: a {kind.label.lower()} is a JSON object, not {shown(body)}")
        account = ctx.account
        writable_index(account, index_name)
        kind.replace(
            account, index_name, {**kind.of(account, index_name), object_id: {**body, "objectID": object_id}}
        )
        answer = {**new_task(ctx, index_name), "updatedAt": ctx.now()}
        if kind is SYNONYMS:
            answer["id"] = object_id  # published: saveSynonym answers the synonym's ID as id
        return answer

    return save


def _save_many(kind: Kind, replace_flag: str) -> Handler:
    def save_many(ctx: Context) -> Any:
        index_name = ctx.request.path["indexName"]
        objects = _checked_objects(kind, ctx.body, "body")
        account = ctx.account
        writable_index(account, index_name)
        replace = ctx.request.query.get(replace_flag) is True
        kept = {} if replace else dict(kind.of(account, index_name))
        kept.update((o["objectID"], o) for o in objects)
        kind.replace(account, index_name, kept)
        return {**new_task(ctx, index_name), "updatedAt": ctx.now()}

    return save_many


def _get_one(kind: Kind) -> Handler:
    def get(ctx: Context) -> Any:
        index_name, object_id = _one(kind, ctx)
        existing_index(ctx, index_name)
        found = kind.of(ctx.account, index_name).get(object_id)
        if found is None:
            raise kind.missing(object_id, index_name)
        return dict(found)

    return get


def _delete_one(kind: Kind, stamp_field: str) -> Handler:
    def delete(ctx: Context) -> Any:
        index_name, object_id = _one(kind, ctx)
        existing_index(ctx, index_name)
        objects = kind.of(ctx.account, index_name)
        if object_id not in objects:
            raise kind.missing(object_id, index_name)
        kind.replace(ctx.account, index_name, {k: v for k, v in objects.items() if k != object_id})
        return {**new_task(ctx, index_name), stamp_field: ctx.now()}

    return delete


def _clear(kind: Kind) -> Handler:
    def clear(ctx: Context) -> Any:
        index_name = ctx.request.path["indexName"]
        kind.replace(ctx.account, index_name, {})
        return {**new_task(ctx, index_name), "updatedAt": ctx.now()}

    return clear


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _synonym_texts(synonym: Record) -> Iterable[str]:
    for field in ("objectID", "input", "word", "placeholder", "synonyms", "corrections", "replacements"):
        yield from _texts(synonym.get(field))


def _rule_texts(rule: Record) -> Iterable[str]:
    yield from _texts(rule.get("objectID"))
    yield from _texts(rule.get("description"))
    for condition in rule.get("conditions") or ():
        if isinstance(condition, dict):
            yield from _texts(condition.get("pattern"))


def _matches(texts: Iterable[str], query: str) -> bool:
    return not query or any(query in text.casefold() for text in texts)


def _page(ctx: Context, hits: list[Record]) -> tuple[list[Record], int, int]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    page, per_page = int(body.get("page") or 0), int(body.get("hitsPerPage") or 20)
    return hits[page * per_page : (page + 1) * per_page], page, math.ceil(len(hits) / per_page)


def search_synonyms(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/synonyms/search: ``query`` a case-insensitive substring of a
    synonym's words (or its objectID), ``type`` its type; in the order they were saved."""
    index_name = ctx.request.path["indexName"]
    existing_index(ctx, index_name)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    query = str(body.get("query") or "").casefold()
    wanted = body.get("type")
    hits = [
        dict(s)
        for s in SYNONYMS.of(ctx.account, index_name).values()
        if (wanted is None or str(s.get("type", "")).casefold() == str(wanted).casefold())
        and _matches(_synonym_texts(s), query)
    ]
    shown_hits, _, _ = _page(ctx, hits)
    return {"hits": shown_hits, "nbHits": len(hits)}


def _conditions(rule: Record) -> list[Record]:
    return [c for c in rule.get("conditions") or () if isinstance(c, dict)]


def search_rules(ctx: Context) -> Any:
    """POST /1/indexes/{indexName}/rules/search: ``query`` a case-insensitive substring of a rule's
    objectID, description or a condition's pattern; ``anchoring`` and ``context`` a condition's;
    ``enabled`` the rule's (true when unset); in the order they were saved."""
    index_name = ctx.request.path["indexName"]
    existing_index(ctx, index_name)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    query = str(body.get("query") or "").casefold()
    anchoring, context, enabled = body.get("anchoring"), body.get("context"), body.get("enabled")
    hits = [
        dict(rule)
        for rule in RULES.of(ctx.account, index_name).values()
        if _matches(_rule_texts(rule), query)
        and (anchoring is None or any(c.get("anchoring") == anchoring for c in _conditions(rule)))
        and (context is None or any(c.get("context") == context for c in _conditions(rule)))
        and (enabled is None or bool(rule.get("enabled", True)) is enabled)
    ]
    shown_hits, page, pages = _page(ctx, hits)
    return {"hits": shown_hits, "nbHits": len(hits), "page": page, "nbPages": pages}


HANDLERS: dict[str, Handler] = all_settled(
    {
        "listIndices": list_indices,
        "deleteIndex": delete_index,
        "operationIndex": operation_index,
        "getSettings": get_settings,
        "setSettings": set_settings,
        "saveSynonym": _save_one(SYNONYMS),
        "saveSynonyms": _save_many(SYNONYMS, "replaceExistingSynonyms"),
        "getSynonym": _get_one(SYNONYMS),
        "deleteSynonym": _delete_one(SYNONYMS, "deletedAt"),
        "clearSynonyms": _clear(SYNONYMS),
        "searchSynonyms": search_synonyms,
        "saveRule": _save_one(RULES),
        "saveRules": _save_many(RULES, "clearExistingRules"),
        "getRule": _get_one(RULES),
        "deleteRule": _delete_one(RULES, "updatedAt"),
        "clearRules": _clear(RULES),
        "searchRules": search_rules,
    }
)
