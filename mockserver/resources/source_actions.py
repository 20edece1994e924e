"""What a source can be asked to do besides CRUD: validate, discover its streams, run its tasks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockserver.engine import assumptions
from mockserver.engine.errors import BadRequest
from mockserver.engine.store import Record
from mockserver.engine.validation import MISSING
from mockserver.resources import authentications, fetching, sources
from mockserver.resources.context import Context, Handler
from mockserver.resources.crud import missing_reference
from mockserver.resources.pipeline import destination_index, run_task
from mockserver.resources.runs import CRITICAL, EventPlan, Verdict, create_run, show_events

SAMPLE_SIZE = 10  # records a validation answers with

_URL_FIELDS = {"json": "url", "csv": "url", "commercetools": "url", "shopify": "shopURL"}
_REQUIRED_TEXT = {
    "docker": ("image",),
    "bigquery": ("projectID", "datasetID"),
    "ga4BigqueryExport": ("projectID", "datasetID", "tablePrefix"),
    "commercetools": ("projectKey",),
    "bigcommerce": ("storeHash",),
    "algoliaIndex": ("indexName",),
}


def problems(ctx: Context, source: Record) -> list[str]:
    """Why the service could not use this source, deterministically; empty when it is fine."""
    found: list[str] = []
    source_input = source.get("input") or {}
    field = _URL_FIELDS.get(source["type"])
    if field is not None and field in source_input:
        parts = urlsplit(str(source_input[field]))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            found.append(
                f"input.{field}: {source_input[field]!r} is not an http(s) URL the service can reach"
            )
    for name in _REQUIRED_TEXT.get(source["type"], ()):
        if name in source_input and not str(source_input[name]).strip():
            found.append(f"input.{name}: must not be empty")
    auth_id = source.get("authenticationID")
    if auth_id is not None and auth_id not in ctx.account.authentications:
        found.append(f"authenticationID: no authentication with ID {auth_id!r} exists")
    return found


def _validated(ctx: Context, source: Record, owner_id: str) -> Any:
    """Validate a source as the service would: its fields, then a fetch of what it points at.

    A source the service could not fetch from (a URL no data is registered for) is answered with
    a failed ``fetch`` event and a message saying why, not refused: the payload itself is valid.
    """
    found = problems(ctx, source)
    missing = [f for f in found if f.startswith("authenticationID:")]
    if missing and (len(missing) == len(found) or not ctx.assumed_rules):
        # A reference naming nothing: resource_not_found, as on every operation.
        raise missing_reference(ctx, "The source is not valid: " + "; ".join(missing))
    if found and ctx.assumed_rules:
        # The payload fits the schema, but the service could not use the source: refusing it is
        # an assumed rule (validate-url-source); off, it is a failed validation, as for a URL the
        # mock cannot fetch.
        raise assumptions.refuse("validate-url-source", "The source is not valid: " + "; ".join(found))
    fetched = fetching.fetch(ctx.account, source, owner_id)
    if found:
        fetched = fetching.Fetched(error="; ".join(found), url=fetched.url)
    task = {"taskID": owner_id}
    if fetched.error is not None:
        plan = EventPlan("fetch", 0, {"url": fetched.url, "error": fetched.error}, status="failed")
        verdict = Verdict("failure", CRITICAL, fetched.error)
        run, events = create_run(ctx, task, "validate", [plan], finish_now=True, verdict=verdict)
        sample: list[Record] = []
        message = f"The {source['type']} source is not valid: {fetched.error}"
    else:
        sample = fetched.records[:SAMPLE_SIZE]
        run, events = create_run(ctx, task, "validate", [EventPlan("fetch", len(sample))], finish_now=True)
        message = f"The {source['type']} source is valid"
    return {
        "runID": run["runID"],
        "data": sample,
        "events": show_events(events, ctx),
        "message": message,
        "createdAt": run["createdAt"],
    }


def validate(ctx: Context) -> Any:
    """POST /1/sources/validate: check a source payload before creating it."""
    if ctx.body is MISSING:
        if ctx.assumed_rules:
            raise assumptions.refuse(
                "validate-source-body-required",
                "A source payload is needed to validate: send the body you would create the source with",
            )
        # The published spec lets the body out: nothing to validate, a validation run with no event.
        run, _ = create_run(ctx, {"taskID": ctx.new_id()}, "validate", [], finish_now=True)
        return {
            "runID": run["runID"],
            "data": [],
            "events": [],
            "message": "No source payload was given: nothing was validated",
            "createdAt": run["createdAt"],
        }
    return _validated(ctx, dict(ctx.body), ctx.new_id())


def validate_before_update(ctx: Context) -> Any:
    """POST /1/sources/{sourceID}/validate: check the source as the update would leave it."""
    source = sources.FAMILY.get(ctx, ctx.request.path["sourceID"])
    changes = ctx.body
    if "input" in changes:
        sources.check_update_input(ctx, source, changes["input"])
    if "authenticationID" in changes:
        authentications.FAMILY.get(ctx, changes["authenticationID"], "body.authenticationID")
    merged = {**source, **changes}
    if "input" in changes:
        merged["input"] = {**source.get("input", {}), **changes["input"]}
    return _validated(ctx, merged, source["sourceID"])


def discover(ctx: Context) -> Any:
    """POST /1/sources/{sourceID}/discover: only Docker sources have streams to discover."""
    source = sources.FAMILY.get(ctx, ctx.request.path["sourceID"])
    if source["type"] != "docker":
        raise BadRequest(
            f"path.sourceID: source {source['sourceID']!r} is a {source['type']} source; "
            "only docker sources can be discovered"
        )
    run, _ = create_run(ctx, {"taskID": source["sourceID"]}, "discover", [EventPlan("fetch")])
    return {"runID": run["runID"], "message": "Discovery started", "createdAt": run["createdAt"]}


RUNNABLE_SOURCE_TYPES = ("shopify", "bigcommerce", "commercetools")  # published: runSource serves these


def run_source(ctx: Context) -> Any:
    """POST /1/sources/{sourceID}/run: run every task of the source (narrowed by index lists).

    Only the source types the published spec names; any other is refused, nothing run."""
    source = sources.FAMILY.get(ctx, ctx.request.path["sourceID"])
    if source["type"] not in RUNNABLE_SOURCE_TYPES:
        raise BadRequest(
            f"path.sourceID: source {source['sourceID']!r} is a {source['type']} source; runSource runs "
            f"only {', '.join(RUNNABLE_SOURCE_TYPES[:-1])} and {RUNNABLE_SOURCE_TYPES[-1]} sources: "
            "run a task of this source instead (POST /2/tasks/{taskID}/run)"
        )
    payload = ctx.body if ctx.body is not MISSING else {}
    include = payload.get("indexToInclude")
    exclude = set(payload.get("indexToExclude", ()))
    started: dict[str, str] = {}
    for task in list(ctx.account.tasks.values()):
        if task["sourceID"] != source["sourceID"]:
            continue
        index_name = destination_index(ctx, task)
        if (include is not None and index_name not in include) or index_name in exclude:
            continue
        started[task["taskID"]] = run_task(ctx, task)["runID"]
    return {"taskWithRunID": started, "createdAt": ctx.now()}


HANDLERS: dict[str, Handler] = {
    "validateSource": validate,
    "validateSourceBeforeUpdate": validate_before_update,
    "triggerDockerSourceDiscover": discover,
    "runSource": run_source,
}
