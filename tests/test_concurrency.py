"""Many clients at once: nothing lost, nothing doubled, every acknowledged push accounted for.

Bounded and loopback only: a fixed number of operations from a fixed number of threads against the
live server (a real uvicorn on 127.0.0.1), then the same idea in-process with asyncio.gather.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mockserver import MockApp
from mockserver.http.live_server import LiveServer
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import TLS

THREADS = 16
OPS_PER_THREAD = 30  # 480 operations in all, plus the set-up and the checks
DEADLINE = 120.0  # seconds for the whole workload; it takes a few
SHARED_INDEX = "concurrency-shared"
PAGE = 7  # a page size that makes every listing span several pages

FAMILIES = {  # family -> (collection path, ID field, list key)
    "sources": ("/1/sources", "sourceID", "sources"),
    "destinations": ("/1/destinations", "destinationID", "destinations"),
    "tasks": ("/2/tasks", "taskID", "tasks"),
}


@dataclass
class Ledger:
    """What one client saw acknowledged."""

    created: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FAMILIES})
    deleted: dict[str, set[str]] = field(default_factory=lambda: {f: set() for f in FAMILIES})
    pushes: dict[str, list[str]] = field(default_factory=dict)  # runID -> objectIDs acknowledged
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # 5xx, transport errors, inconsistent pages

    def merge(self, other: Ledger) -> None:
        for family in FAMILIES:
            self.created[family] += other.created[family]
            self.deleted[family] |= other.deleted[family]
        for run_id, ids in other.pushes.items():
            assert run_id not in self.pushes, f"run {run_id} acknowledged to two pushes"
            self.pushes[run_id] = ids
        self.statuses.update(other.statuses)
        self.failures += other.failures

    def alive(self, family: str) -> set[str]:
        return set(self.created[family]) - self.deleted[family]


class Worker:
    """One client thread: a seeded random walk over creates, updates, deletes, pushes and reads."""

    def __init__(self, number: int, client: httpx.Client, shared_task: str) -> None:
        self.number = number
        self.client = client
        self.shared_task = shared_task
        self.rng = random.Random(number)
        self.ledger = Ledger()
        self.own: dict[str, list[str]] = {f: [] for f in FAMILIES}
        self.links: dict[str, tuple[str, str]] = {}  # taskID -> (sourceID, destinationID)

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            self.ledger.failures.append(f"{method} {path}: {exc!r}")
            return None
        self.ledger.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.ledger.failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    def create(self, family: str, body: dict[str, Any]) -> str | None:
        path, id_field, _ = FAMILIES[family]
        response = self.request("POST", path, body)
        if response is None or response.status_code != 200:
            return None
        new_id: str = response.json()[id_field]
        self.ledger.created[family].append(new_id)
        self.own[family].append(new_id)
        return new_id

    def delete(self, family: str, resource_id: str) -> None:
        path, _, _ = FAMILIES[family]
        response = self.request("DELETE", f"{path}/{resource_id}")
        if response is not None and response.status_code == 200:
            self.ledger.deleted[family].add(resource_id)
            self.own[family].remove(resource_id)
            self.links.pop(resource_id, None)

    def step(self, n: int) -> None:
        tag = f"w{self.number}-s{n}"
        choice = self.rng.choices(
            ["source", "destination", "task", "update", "delete", "push", "list", "get"],
            weights=[3, 3, 3, 2, 3, 5, 1, 1],
        )[0]
        if choice == "source":
            self.create("sources", {"type": "push", "name": tag})
        elif choice == "destination":
            self.create("destinations", {"type": "search", "name": tag, "input": {"indexName": f"idx-{tag}"}})
        elif choice == "task" and self.own["sources"] and self.own["destinations"]:
            source, destination = (
                self.rng.choice(self.own["sources"]),
                self.rng.choice(self.own["destinations"]),
            )
            task = self.create("tasks", {"sourceID": source, "destinationID": destination, "action": "save"})
            if task is not None:
                self.links[task] = (source, destination)
        elif choice == "update" and self.own["sources"]:
            self.request(
                "PATCH", f"/1/sources/{self.rng.choice(self.own['sources'])}", {"name": f"{tag}-renamed"}
            )
        elif choice == "delete":
            self.delete_one()
        elif choice == "push":
            self.push(tag)
        elif choice == "list":
            self.check_a_page()
        elif choice == "get" and self.own["destinations"]:
            response = self.request("GET", f"/1/destinations/{self.rng.choice(self.own['destinations'])}")
            if response is not None and response.status_code != 200:
                self.ledger.failures.append(f"own destination not found: {response.text[:200]}")

    def delete_one(self) -> None:
        """Tasks go first; a source or destination only once no task of ours uses it."""
        if self.own["tasks"] and self.rng.random() < 0.6:
            self.delete("tasks", self.rng.choice(self.own["tasks"]))
            return
        used = {s for s, _ in self.links.values()} | {d for _, d in self.links.values()}
        for family in ("sources", "destinations"):
            free = [i for i in self.own[family] if i not in used]
            if free:
                self.delete(family, self.rng.choice(free))
                return

    def push(self, tag: str) -> None:
        ids = [f"{tag}-r{k}" for k in range(self.rng.randint(1, 5))]
        body = {"action": "addObject", "records": [{"objectID": i, "tag": tag} for i in ids]}
        response = self.request("POST", f"/2/tasks/{self.shared_task}/push", body)
        if response is not None and response.status_code == 200:
            self.ledger.pushes[response.json()["runID"]] = ids

    def check_a_page(self) -> None:
        family = self.rng.choice(list(FAMILIES))
        path, _, key = FAMILIES[family]
        response = self.request("GET", f"{path}?itemsPerPage={PAGE}&page={self.rng.randint(1, 3)}")
        if response is None or response.status_code != 200:
            return
        body = response.json()
        pagination = body["pagination"]
        if len(body[key]) > PAGE or pagination["nbPages"] != max(1, math.ceil(pagination["nbItems"] / PAGE)):
            self.ledger.failures.append(f"inconsistent page of {family}: {pagination}")

    def run(self, start: threading.Barrier) -> Ledger:
        start.wait(timeout=30)
        for n in range(OPS_PER_THREAD):
            self.step(n)
        return self.ledger


def walk_pages(
    client: httpx.Client, path: str, key: str, query: str = ""
) -> tuple[list[dict[str, Any]], set[int]]:
    """Every item of a listing, page by page; also every nbItems the pages reported."""
    items: list[dict[str, Any]] = []
    totals: set[int] = set()
    page, pages = 1, 1
    while page <= pages:
        response = client.get(f"{path}?itemsPerPage={PAGE}&page={page}{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        items += body[key]
        totals.add(body["pagination"]["nbItems"])
        pages = body["pagination"]["nbPages"]
        page += 1
    return items, totals


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers=CREDENTIALS, timeout=30) as client:
        yield client


def test_many_clients_lose_and_double_nothing(
    live: LiveServer, live_app: MockApp, http: httpx.Client
) -> None:
    # Shared set-up: a push task every worker pushes through.
    source = http.post("/1/sources", json={"type": "push", "name": "shared"}).json()["sourceID"]
    destination = http.post(
        "/1/destinations", json={"type": "search", "name": "shared", "input": {"indexName": SHARED_INDEX}}
    ).json()["destinationID"]
    task = http.post(
        "/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"}
    ).json()["taskID"]
    baseline = {"sources": {source}, "destinations": {destination}, "tasks": {task}}

    start = threading.Barrier(THREADS)
    clients = [
        httpx.Client(base_url=live.url, headers=CREDENTIALS, timeout=30, verify=TLS) for _ in range(THREADS)
    ]
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(Worker(i, clients[i], task).run, start) for i in range(THREADS)]
            done, not_done = wait(futures, timeout=DEADLINE)
            assert not not_done, f"{len(not_done)} clients still busy after {DEADLINE}s"
    finally:
        for client in clients:
            client.close()
    ledger = Ledger()
    for future in done:
        ledger.merge(future.result())

    # Every request answered, none with a server error, and the work really was concurrent and varied.
    assert not ledger.failures, "\n".join(ledger.failures[:20])
    assert sum(ledger.statuses.values()) >= THREADS * OPS_PER_THREAD * 0.8
    assert not any(status >= 500 for status in ledger.statuses), ledger.statuses
    assert len(ledger.pushes) >= THREADS and all(ledger.created.values()) and all(ledger.deleted.values())

    for family, (path, id_field, key) in FAMILIES.items():
        created = ledger.created[family]
        assert len(created) == len(set(created)), f"an ID was issued twice among {family}"
        expected = ledger.alive(family) | baseline[family]
        items, totals = walk_pages(http, path, key)
        listed = [item[id_field] for item in items]
        assert len(listed) == len(set(listed)), f"{family}: listed twice: {Counter(listed).most_common(3)}"
        assert set(listed) == expected, (
            f"{family}: missing {expected - set(listed)}, extra {set(listed) - expected}"
        )
        assert totals == {len(expected)}, f"{family}: nbItems {totals}, expected {len(expected)}"
        for gone in list(ledger.deleted[family])[:20]:
            assert http.get(f"{path}/{gone}").status_code == 404, gone

    # One push run per acknowledged push, each with its record event; the index holds exactly their records.
    runs, totals = walk_pages(http, "/1/runs", "runs", f"&taskID={task}")
    run_ids = [r["runID"] for r in runs]
    assert len(run_ids) == len(set(run_ids))
    assert set(run_ids) == set(ledger.pushes), "runs and acknowledged pushes differ"
    assert totals == {len(ledger.pushes)}
    assert {r["type"] for r in runs} == {"push"}
    state = live_app.control.dump(APP_ID)["applications"][APP_ID]
    for run_id, ids in ledger.pushes.items():
        events = state["events"][run_id]
        assert [(e["type"], e["batchSize"]) for e in events] == [("record", len(ids))], events
    acknowledged = [object_id for ids in ledger.pushes.values() for object_id in ids]
    assert len(acknowledged) == len(set(acknowledged))
    index = live_app.control.index(SHARED_INDEX, APP_ID)
    assert index is not None
    assert sorted(r["objectID"] for r in index) == sorted(acknowledged)


def test_concurrent_asyncio_requests_in_process(app: MockApp) -> None:
    asyncio.run(_asyncio_workload(app))


async def _asyncio_workload(app: MockApp) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=CREDENTIALS) as client:
        source = (await client.post("/1/sources", json={"type": "push", "name": "p"})).json()["sourceID"]
        destination = (
            await client.post(
                "/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "async"}}
            )
        ).json()["destinationID"]
        task = (
            await client.post(
                "/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"}
            )
        ).json()["taskID"]

        # Round one: 200 requests at once - creations, pushes and reads interleaved.
        calls = []
        for i in range(200):
            kind = i % 5
            if kind in (0, 1):
                calls.append(client.post("/1/sources", json={"type": "push", "name": f"async-{i}"}))
            elif kind in (2, 3):
                records = [{"objectID": f"a{i}-{k}"} for k in range(i % 3 + 1)]
                calls.append(
                    client.post(f"/2/tasks/{task}/push", json={"action": "addObject", "records": records})
                )
            else:
                calls.append(client.get("/1/sources", params={"itemsPerPage": "100"}))
        answers = await asyncio.gather(*calls)
        assert all(a.status_code == 200 for a in answers), Counter(a.status_code for a in answers)
        created = [a.json()["sourceID"] for i, a in enumerate(answers) if i % 5 in (0, 1)]
        runs = [a.json()["runID"] for i, a in enumerate(answers) if i % 5 in (2, 3)]
        pushed = [f"a{i}-{k}" for i in range(200) if i % 5 in (2, 3) for k in range(i % 3 + 1)]
        assert len(set(created)) == 80 and len(set(runs)) == 80

        # Round two: delete half of them while reading the others, all at once.
        doomed, kept = created[::2], created[1::2]
        second = [client.delete(f"/1/sources/{s}") for s in doomed] + [
            client.get(f"/1/sources/{s}") for s in kept
        ]
        answers = await asyncio.gather(*second)
        assert all(a.status_code == 200 for a in answers), Counter(a.status_code for a in answers)

        listed: list[str] = []
        page, pages = 1, 1
        while page <= pages:
            body = (await client.get("/1/sources", params={"itemsPerPage": "9", "page": str(page)})).json()
            listed += [s["sourceID"] for s in body["sources"]]
            assert body["pagination"]["nbItems"] == len(kept) + 1
            pages, page = body["pagination"]["nbPages"], page + 1
        assert sorted(listed) == sorted([*kept, source])

    account = app.store.accounts[APP_ID]
    assert {r["runID"] for r in account.runs.values() if r["taskID"] == task} == set(runs)
    index = app.control.index("async", APP_ID)
    assert index is not None
    assert sorted(r["objectID"] for r in index) == sorted(pushed)
    assert app.journal.call_count("pushTask") == 80
    assert not app.journal.rejections()
