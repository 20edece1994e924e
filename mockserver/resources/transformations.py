"""Transformations: JavaScript (or no-code steps) applied to records on their way to a destination."""

from __future__ import annotations

import json
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
    list_handler,
    require_all,
    search_handler,
)

FAMILY = Family(
    name="transformations",
    singular="transformation",
    id_field="transformationID",
    search_field="transformationIDs",
    filters={"type": lambda r, wanted, _a: r.get("type", "code") == wanted},
    sort_keys={"name": by_field("name"), "updatedAt": by_field("updatedAt")},
)


def referrers(ctx: Context, transformation_id: str) -> list[str]:
    return [
        f"destination {d['destinationID']!r}"
        for d in ctx.account.destinations.values()
        if transformation_id in d.get("transformationIDs", ())
    ]


def normalise(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Resolve ``type``/``input``/``code`` into one consistent set, as the service stores them.

    ``code`` at the top level is the older way to give a code transformation's source; ``input``
    the newer. Either may be sent; both are returned.
    """
    kind = body.get("type", "code")
    given = body.get("input")
    rule = "transformation-input-follows-type"
    if not ctx.assumed_rules:
        # The published schemas: any input with any type, neither required. A code transformation
        # without code returns the record unchanged when tried.
        code = given["code"] if isinstance(given, dict) and "code" in given else body.get("code", "")
        default_input = {"code": code} if kind == "code" else {"steps": []}
        fields: dict[str, Any] = {
            "type": kind,
            "code": code,
            "input": given if given is not None else default_input,
        }
    elif kind == "code":
        if given is not None and "code" not in given:
            raise assumptions.refuse(
                rule, "body.input: a code transformation's input needs 'code' (rule for type 'code')"
            )
        code = given["code"] if given is not None else body.get("code")
        if code is None:
            raise assumptions.refuse(
                rule, "body.code: a code transformation needs its code, in 'input.code' or 'code'"
            )
        fields = {"type": "code", "code": code, "input": {"code": code}}
    else:
        if given is None or "steps" not in given:
            raise assumptions.refuse(
                rule, "body.input: a noCode transformation needs 'input.steps' (rule for type 'noCode')"
            )
        fields = {"type": "noCode", "code": body.get("code", ""), "input": given}
    if "authenticationIDs" in body:
        require_all(ctx, authentications.FAMILY, body["authenticationIDs"], "body.authenticationIDs")
    for key in ("name", "description", "authenticationIDs"):
        if key in body:
            fields[key] = body[key]
    return fields


def create(ctx: Context) -> Any:
    return create_record(FAMILY, ctx, normalise(ctx, ctx.body))


def replace(ctx: Context) -> Any:
    """PUT: the new body replaces every writable field; what it leaves out is gone."""
    transformation_id = ctx.request.path["transformationID"]
    record = FAMILY.get(ctx, transformation_id)
    fields = normalise(ctx, ctx.body)
    updated: Record = {
        "transformationID": transformation_id,
        **fields,
        "createdAt": record["createdAt"],
        "updatedAt": ctx.now(),
    }
    FAMILY.records(ctx.account)[transformation_id] = updated
    return FAMILY.show(updated, ctx, ctx.response_schema())


TRY_TIMEOUT_MS = 1000


def secrets_of(auths: list[Record]) -> dict[str, str]:
    """What ``helper.secrets.get(name)`` answers: the string values of the linked authentications."""
    found: dict[str, str] = {}
    for auth in auths:
        for key, value in (auth.get("input") or {}).items():
            if isinstance(value, str):
                found[key] = value
    return found


def linked_secrets(ctx: Context, transformation: Record) -> dict[str, str]:
    auths = ctx.account.authentications
    return secrets_of([auths[a] for a in transformation.get("authenticationIDs", ()) if a in auths])


def _try(ctx: Context, fields: dict[str, Any], secrets: dict[str, str]) -> Any:
    sample = ctx.body["sampleRecord"]
    if fields["type"] == "noCode" or not fields["code"]:
        # No-code steps are run by Algolia's own engine, which the mock does not reproduce: the
        # record comes back as it went in.
        return {"payloads": [json.dumps(sample)]}
    # The store's lock is let go while the code runs (a fresh runtime, owned by this request): other
    # applications go on meanwhile; this one's requests wait for it, as for any of its requests.
    with ctx.store_released():
        outcome = ctx.sandbox.run(fields["code"], sample, secrets, TRY_TIMEOUT_MS, deadline=ctx.deadline)
    return outcome.to_response()


def try_transformation(ctx: Context) -> Any:
    """POST /1/transformations/try: run the code on the sample record, save nothing."""
    body = ctx.body
    fields = normalise(ctx, {"name": "try", **body})
    return _try(ctx, fields, secrets_of(body.get("authentications", [])))


def try_before_update(ctx: Context) -> Any:
    """POST /1/transformations/{id}/try: the changed code (or the saved one) on the sample record."""
    record = FAMILY.get(ctx, ctx.request.path["transformationID"])
    body = ctx.body
    # A lone ``type`` changes nothing: without code or input the saved transformation is tried.
    changed = {"code", "input"} & set(body)
    given = {k: body[k] for k in ("code", "type", "input") if k in body} if changed else {}
    fields = normalise(
        ctx, {"name": record["name"], **(given or {"type": record["type"], "input": record["input"]})}
    )
    secrets = {**linked_secrets(ctx, record), **secrets_of(body.get("authentications", []))}
    return _try(ctx, fields, secrets)


HANDLERS: dict[str, Handler] = {
    "tryTransformation": try_transformation,
    "tryTransformationBeforeUpdate": try_before_update,
    "listTransformations": list_handler(FAMILY),
    "createTransformation": create,
    "searchTransformations": search_handler(FAMILY),
    "getTransformation": get_handler(FAMILY),
    "updateTransformation": replace,
    # The published deleteTransformation says nothing of transformations in use: an assumed rule.
    "deleteTransformation": delete_handler(FAMILY, referrers, "transformation-in-use"),
}
