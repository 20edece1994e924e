"""``State``: the resources that exist, which referenced and path IDs are drawn from."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from mockserver.engine.store import Account, api_view
from mockserver.strategies._pools import OMIT

# Which family a path or body ID names.
ID_FAMILIES: Final = {
    "authenticationID": "authentications",
    "authenticationIDs": "authentications",
    "sourceID": "sources",
    "sourceIDs": "sources",
    "destinationID": "destinations",
    "destinationIDs": "destinations",
    "taskID": "tasks",
    "taskIDs": "tasks",
    "transformationID": "transformations",
    "transformationIDs": "transformations",
    "runID": "runs",
    "eventID": "events",
}


Record = Mapping[str, Any]


@dataclass(frozen=True)
class State:
    """The resources that exist, as the API shows them; IDs are drawn from here.

    Build it from an in-process mock (``State.from_app(app, app_id)``), from its store
    (``State.from_account``), or from records a server returned (``State(sources=[...], ...)``;
    only the ID fields, ``type``, the references and a destination's ``input.indexName`` matter).
    ``events`` maps a run ID to the IDs of its published events.
    """

    authentications: Sequence[Record] = ()
    sources: Sequence[Record] = ()
    destinations: Sequence[Record] = ()
    transformations: Sequence[Record] = ()
    tasks: Sequence[Record] = ()
    runs: Sequence[Record] = ()
    events: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_account(cls, account: Account, now: float | None = None) -> State:
        """From a mock's ``Account`` (``app.store.account(app_id)``); ``now``: epoch seconds for events
        (a run's events are published when it finishes)."""
        moment = float("inf") if now is None else now
        timelines = account.meta.runs

        def published(run_id: str) -> bool:
            timeline = timelines.get(run_id)
            return timeline is None or timeline.finish_at <= moment

        events = {
            run_id: tuple(found) if published(run_id) else () for run_id, found in account.events.items()
        }
        return cls(
            authentications=tuple(api_view(r) for r in account.authentications.values()),
            sources=tuple(api_view(r) for r in account.sources.values()),
            destinations=tuple(api_view(r) for r in account.destinations.values()),
            transformations=tuple(api_view(r) for r in account.transformations.values()),
            tasks=tuple(api_view(r) for r in account.tasks.values()),
            runs=tuple(api_view(r) for r in account.runs.values()),
            events=events,
        )

    @classmethod
    def from_app(cls, app: Any, app_id: str) -> State:
        """What an in-process mock holds for ``app_id`` right now."""
        store = app.store
        with store.lock:
            return cls.from_account(store.account(app_id), store.clock.now().timestamp())

    def ids(self, family: str) -> list[str]:
        if family == "events":
            return sorted({e for found in self.events.values() for e in found})
        id_field = id_field_of(family)
        return [str(r[id_field]) for r in getattr(self, family)]

    def type_of(self, family: str, record_id: str) -> str | None:
        for record in getattr(self, family):
            if record.get(id_field_of(family)) == record_id:
                kind = record.get("type")
                return str(kind) if kind is not None else None
        return None

    def task_source_type(self, task_id: str) -> str | None:
        for task in self.tasks:
            if task.get("taskID") == task_id:
                return self.type_of("sources", str(task.get("sourceID")))
        return None

    def referenced(self) -> set[str]:
        """IDs something else refers to (and so cannot be deleted)."""
        used: set[str] = set()
        for record in (*self.sources, *self.destinations):
            if record.get("authenticationID"):
                used.add(str(record["authenticationID"]))
        for record in self.destinations:
            used.update(record.get("transformationIDs", ()))
        for record in self.transformations:
            used.update(record.get("authenticationIDs", ()))
        for task in self.tasks:
            used.update((str(task.get("sourceID")), str(task.get("destinationID"))))
        return used

    def push_indexes(self) -> list[str]:
        """Index names exactly one push task writes to (what ``POST /1/push/{indexName}`` needs)."""
        push_sources = {s["sourceID"] for s in self.sources if s.get("type") == "push"}
        index_of = {d["destinationID"]: d.get("input", {}).get("indexName") for d in self.destinations}
        counts: dict[str, int] = {}
        for task in self.tasks:
            index = index_of.get(task.get("destinationID"))
            if task.get("sourceID") in push_sources and index:
                counts[index] = counts.get(index, 0) + 1
        return sorted(name for name, n in counts.items() if n == 1)


def id_field_of(family: str) -> str:
    return {
        "authentications": "authenticationID",
        "sources": "sourceID",
        "destinations": "destinationID",
        "transformations": "transformationID",
        "tasks": "taskID",
        "runs": "runID",
    }[family]


_UUID_RNG = random.Random(20260101)
# Fresh IDs: version-4 UUIDs from a fixed sequence (one choice per draw, reproducible).
UUIDS = st.sampled_from(tuple(str(uuid.UUID(int=_UUID_RNG.getrandbits(128), version=4)) for _ in range(1024)))


def fresh_id(state: State | None) -> SearchStrategy[str]:
    """An ID that names nothing (a random UUID not in the state)."""
    taken = set() if state is None else {i for fam in _FAMILIES for i in state.ids(fam)}
    return UUIDS.filter(lambda i: i not in taken)


_FAMILIES = ("authentications", "sources", "destinations", "transformations", "tasks", "runs")


def existing_id(state: State | None, family: str, required: bool) -> SearchStrategy[Any]:
    """An existing ID of ``family`` (state given), else a fresh UUID when required, else OMIT."""
    ids = state.ids(family) if state is not None else []
    if ids:
        return st.sampled_from(ids)
    if state is None and required:
        return UUIDS
    return st.nothing() if required else st.just(OMIT)
