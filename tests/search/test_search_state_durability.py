"""The Search API's state of indexes (settings, synonyms, rules, dates, tasks) as the state file
takes it: what a write changed, logged, undone, applied again; the image and back."""

from __future__ import annotations

import copy
import json
from typing import Any

from mockserver.durability import changes, image
from mockserver.engine.indexes import Index
from mockserver.engine.store import Account, SearchTasks


def search_state(account: Account) -> dict[str, Any]:
    return {
        "indexes": {name: dict(index) for name, index in account.indexes.items()},
        "index_settings": account.index_settings,
        "index_dates": account.index_dates,
        "synonyms": account.synonyms,
        "rules": account.rules,
        "search_tasks": account.search_tasks,
    }


def before() -> Account:
    account = Account("APP")
    account.indexes = {"a": Index({"1": {"objectID": "1"}}), "b": Index()}
    account.index_settings = {"a": {"customRanking": ["desc(x)"]}, "b": {"hitsPerPage": 5}}
    account.index_dates = {"a": ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")}
    account.synonyms = {"a": {"s1": {"objectID": "s1", "type": "synonym", "synonyms": ["x", "y"]}}}
    account.rules = {"a": {"r1": {"objectID": "r1", "consequence": {}}}, "b": {"r2": {"objectID": "r2"}}}
    account.search_tasks = SearchTasks(7, {7: 1e10})
    return account


def write(account: Account) -> None:
    """A bit of everything a Search write does: replace, add, remove, move an index's state."""
    account.index_settings["a"] = {"customRanking": ["asc(x)"]}
    del account.index_settings["b"]
    account.index_settings["c"] = {"searchableAttributes": ["name"]}
    account.index_dates["c"] = ("2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z")
    account.synonyms["a"]["s2"] = {"objectID": "s2", "type": "synonym", "synonyms": ["p", "q"]}
    del account.synonyms["a"]["s1"]
    account.synonyms["c"] = {
        "s3": {"objectID": "s3", "type": "onewaysynonym", "input": "i", "synonyms": ["o"]}
    }
    account.rules["c"] = account.rules.pop("b")  # a move
    account.search_tasks.last += 2
    account.search_tasks.pending[9] = 2e10
    account.indexes["c"] = Index({"2": {"objectID": "2"}})


def test_a_change_applied_to_the_state_before_gives_the_state_after() -> None:
    account = before()
    replica = copy.deepcopy(account)
    shadow = changes.take(account)
    write(account)
    change = changes.diff(shadow, account)
    for key in ("index_settings", "index_dates", "synonyms", "rules", "search_tasks"):
        assert key in change, key
    logged = json.loads(json.dumps(change))
    changes.apply(replica, logged)
    assert search_state(replica) == search_state(account)


def test_undo_puts_the_search_state_back() -> None:
    account = before()
    expected = search_state(copy.deepcopy(account))
    shadow = changes.take(account)
    write(account)
    changes.undo(shadow, account)
    assert search_state(account) == expected


def test_nothing_changed_logs_nothing() -> None:
    account = before()
    shadow = changes.take(account)
    assert changes.diff(shadow, account) == {}


def test_the_image_keeps_the_search_state() -> None:
    account = before()
    write(account)

    again = image.account_from_json(json.loads(json.dumps(image.account_to_json(account))))
    assert search_state(again) == search_state(account)


def test_damage_in_the_image_costs_only_what_is_damaged() -> None:
    account = before()
    value = image.account_to_json(account)
    value["synonyms"]["a"]["bad"] = ["not", "an", "object"]
    value["search_tasks"] = {"last": "seven"}
    warnings: list[str] = []
    again = image.account_from_json(value, warn=warnings.append)
    assert set(again.synonyms["a"]) == {"s1"}
    assert again.rules == account.rules
    assert again.search_tasks == SearchTasks()
    assert len(warnings) == 2 and "synonyms" in warnings[0] and "search_tasks" in warnings[1]
