"""Hypothesis strategies for Ingestion API requests, generated from the spec.

Every request body and every operation's parameters have a strategy, and what they draw is valid
in the way the service means it, not only against the schema:

* an authentication's or a source's ``input`` fits its ``type`` (the spec's per-type variants: a
  ``oneOf`` with a ``discriminator`` on ``type``), a transformation's ``input`` fits its ``type``;
* a task's ``input`` fits its source's type (the spec's ``x-input-schema-by-source-type``);
* every ``cron`` is a five-field cron expression that parses, URLs are http(s) URLs, required
  text is not blank;
* given a :class:`State` (the resources that exist), every referenced ID names one of them, and
  path IDs name a resource the operation can act on (a deletable one for a delete, a docker
  source for a discovery, ...). Without a state, required IDs are fresh UUIDs and optional
  references are left out.

Any top-level field can be overridden with a value or a strategy
(``source_create(type="json", name=st.just("x"))``; ``OMIT`` leaves a field out), and each body
has an ``invalid_*`` twin that breaks exactly one rule and says which (:class:`Invalid`).

How it stays fast: values come from schemathesis's JSON Schema generator, run once per schema
(after the type-specific rules are resolved into plain schemas) to fill a pool of distinct valid
values, smallest first, which is cached for the process. A draw is then a few choices among
pools, so it is cheap, reproducible under Hypothesis's seed (the pools are built from a fixed
seed) and shrinks towards the simplest values. ``POOL_SIZE`` sets how many values each pool holds.

Import from this package: its modules are internal (their names have no leading underscore, so
they are free to use each other's). By concern: ``_pools`` (values of a schema, ``from_schema``,
``pool``), ``_state`` (:class:`State`), ``_variants`` (the spec's schemas prepared, per-type
variants), ``_bodies`` (the named valid bodies), ``_operations`` (parameters, :class:`Request`,
``request(s)``, ``feasible``) and ``_invalid`` (:class:`Invalid`, ``RULES``, the ``invalid_*``
family).
"""

from __future__ import annotations

from mockserver.strategies._bodies import (
    authentication_create,
    authentication_update,
    destination_create,
    destination_update,
    push_payload,
    run_source_payload,
    run_task_payload,
    search,
    source_create,
    source_update,
    task_create,
    task_create_v1,
    task_replace,
    task_update,
    task_update_v1,
    transformation_create,
    transformation_try,
)
from mockserver.strategies._invalid import (
    RULES,
    Invalid,
    invalid_authentication_create,
    invalid_authentication_update,
    invalid_body,
    invalid_destination_create,
    invalid_destination_update,
    invalid_request,
    invalid_source_create,
    invalid_source_update,
    invalid_task_create,
    invalid_task_create_v1,
    invalid_task_replace,
    invalid_task_update,
    invalid_task_update_v1,
    invalid_transformation_create,
)
from mockserver.strategies._operations import Request, body, feasible, parameters, request, requests, warm_up
from mockserver.strategies._pools import OMIT, from_schema, pool
from mockserver.strategies._state import State

POOL_SIZE = 32
"""Distinct values kept per schema (per type variant). Larger pools: more variety, slower start.

Read at each pool's first use (``mockserver.strategies.POOL_SIZE = 64`` before drawing)."""

__all__ = [
    "OMIT",
    "POOL_SIZE",
    "RULES",
    "Invalid",
    "Request",
    "State",
    "authentication_create",
    "authentication_update",
    "body",
    "destination_create",
    "destination_update",
    "feasible",
    "from_schema",
    "invalid_authentication_create",
    "invalid_authentication_update",
    "invalid_body",
    "invalid_destination_create",
    "invalid_destination_update",
    "invalid_request",
    "invalid_source_create",
    "invalid_source_update",
    "invalid_task_create",
    "invalid_task_create_v1",
    "invalid_task_replace",
    "invalid_task_update",
    "invalid_task_update_v1",
    "invalid_transformation_create",
    "parameters",
    "pool",
    "push_payload",
    "request",
    "requests",
    "run_source_payload",
    "run_task_payload",
    "search",
    "source_create",
    "source_update",
    "task_create",
    "task_create_v1",
    "task_replace",
    "task_update",
    "task_update_v1",
    "transformation_create",
    "transformation_try",
    "warm_up",
]
