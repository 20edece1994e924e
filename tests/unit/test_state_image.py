"""The state file's image of accounts: every field of the records' metadata goes and comes back, and
an image of version 1 (metadata as ``_`` keys inside the records) is converted when it is read."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from mockserver.durability import image
from mockserver.engine.store import Account, AccountMeta, RunMeta, TaskMeta


def unset(value: Any, default: Any) -> list[str]:
    """The fields of a dataclass ``value`` that hold what they hold in ``default``."""
    return [f.name for f in dataclasses.fields(value) if getattr(value, f.name) == getattr(default, f.name)]


def every_field_set() -> AccountMeta:
    """Metadata in which no field holds its default (so a field the image forgot would show)."""
    records = [{"objectID": "1", "n": 1}]
    run = RunMeta(10.0, 11.0, 12.5, "failure", "critical", "it broke", [("products", "addObject", records)])
    task = TaskMeta("subscription", blocked=True, critical_streak=2)
    meta = AccountMeta(runs={"r1": run}, tasks={"t1": task})
    assert unset(run, RunMeta(0.0, 0.0, 0.0, None, "")) == []  # a new field: give it a value here
    assert unset(task, TaskMeta()) == []
    # (polls hold monotonic readings of this process: an image leaves them out on purpose)
    assert unset(meta, AccountMeta()) == ["polls"]
    return meta


def test_every_field_of_the_metadata_survives_the_image() -> None:
    account = Account("A", meta=every_field_set())
    text = json.dumps(image.accounts_to_json({"A": account}))
    back = image.accounts_from_json(json.loads(text))["A"]
    assert back.meta == account.meta
    assert isinstance(back.meta.runs["r1"].pending[0], tuple)


def test_a_version_1_account_has_its_metadata_taken_out_of_its_records() -> None:
    old = {
        "app_id": "A",
        "tasks": [
            [
                "t1",
                {
                    "taskID": "t1",
                    "enabled": False,
                    "_triggerType": "schedule",
                    "cron": "0 * * * *",
                    "_criticalStreak": 2,
                    "_blocked": True,
                },
            ],
            ["t2", {"taskID": "t2", "enabled": True, "_triggerType": "streaming"}],
        ],
        "runs": {
            "r1": {
                "runID": "r1",
                "taskID": "t1",
                "status": "started",
                "_created": 10.0,
                "_startAt": 11.0,
                "_finishAt": 12.5,
                "_outcome": "success",
                "_reasonCode": "ok",
                "_reason": "",
                "_pending": [["products", "addObject", [{"objectID": "1"}]]],
            },
            "r2": {
                "runID": "r2",
                "taskID": "t1",
                "status": "skipped",
                "_created": 13.0,
                "_startAt": 13.0,
                "_finishAt": 13.0,
                "_outcome": None,
                "_reasonCode": "blocking",
                "_reason": "",
            },
        },
        "events": {
            "r1": {"e1": {"eventID": "e1", "runID": "r1", "_publishAt": 12.5, "_firstPolled": 7.0}},
            "r2": {},
        },
        "unsettled_runs": ["r1"],
    }
    account = image.account_from_json(old, version=1)
    assert account.meta == AccountMeta(
        runs={
            "r1": RunMeta(
                10.0, 11.0, 12.5, "success", "ok", "", [("products", "addObject", [{"objectID": "1"}])]
            ),
            "r2": RunMeta(13.0, 13.0, 13.0, None, "blocking"),
        },
        tasks={"t1": TaskMeta("schedule", blocked=True, critical_streak=2), "t2": TaskMeta("streaming")},
    )  # (an event's first poll, a monotonic reading of the process that wrote it, is dropped)
    assert account.tasks["t1"] == {"taskID": "t1", "enabled": False, "cron": "0 * * * *"}
    assert account.runs["r2"] == {"runID": "r2", "taskID": "t1", "status": "skipped"}
    assert account.events["r1"]["e1"] == {"eventID": "e1", "runID": "r1"}
