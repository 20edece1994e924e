"""mockserver.engine.indexes.apply: the seven push actions on an in-memory index, and what each reports."""

from __future__ import annotations

import json
import weakref
from typing import Any

import pytest

from mockserver.engine import indexes, jsonio
from mockserver.engine.indexes import Index, PushedText, PushedTexts


def _catalog() -> dict[str, Any]:
    return {
        "products": {
            "1": {"objectID": "1", "name": "shoe", "price": 10},
            "2": {"objectID": "2", "name": "hat", "price": 5},
        },
        "other": {"9": {"objectID": "9", "name": "untouched"}},
    }


@pytest.mark.parametrize("action", ["addObject", "updateObject"])
def test_add_and_update_replace_the_whole_record(action: str) -> None:
    store = _catalog()
    results = indexes.apply(store, "products", action, [{"objectID": "1", "name": "boot"}])
    assert store["products"]["1"] == {"objectID": "1", "name": "boot"}  # price is gone: replaced
    assert store["products"]["2"] == {"objectID": "2", "name": "hat", "price": 5}
    assert results == [{"objectID": "1", "action": action, "outcome": "updated"}]


@pytest.mark.parametrize("action", ["addObject", "updateObject"])
def test_add_and_update_create_missing_records(action: str) -> None:
    store = _catalog()
    results = indexes.apply(store, "products", action, [{"objectID": "3", "name": "sock"}])
    assert store["products"]["3"] == {"objectID": "3", "name": "sock"}
    assert results == [{"objectID": "3", "action": action, "outcome": "created"}]


@pytest.mark.parametrize("action", ["addObject", "updateObject", "partialUpdateObject"])
def test_writes_create_an_index_that_does_not_exist(action: str) -> None:
    store: dict[str, Index] = {}
    indexes.apply(store, "fresh", action, [{"objectID": "a", "v": 1}])
    assert store == {"fresh": {"a": {"objectID": "a", "v": 1}}}


def test_partial_update_merges_into_existing_record() -> None:
    store = _catalog()
    results = indexes.apply(store, "products", "partialUpdateObject", [{"objectID": "1", "price": 12}])
    assert store["products"]["1"] == {"objectID": "1", "name": "shoe", "price": 12}
    assert results == [{"objectID": "1", "action": "partialUpdateObject", "outcome": "updated"}]


def test_partial_update_creates_missing_record() -> None:
    store = _catalog()
    results = indexes.apply(store, "products", "partialUpdateObject", [{"objectID": "7", "price": 1}])
    assert store["products"]["7"] == {"objectID": "7", "price": 1}
    assert results == [{"objectID": "7", "action": "partialUpdateObject", "outcome": "created"}]


def test_partial_update_no_create_merges_existing_and_skips_missing() -> None:
    store = _catalog()
    results = indexes.apply(
        store,
        "products",
        "partialUpdateObjectNoCreate",
        [{"objectID": "2", "price": 6}, {"objectID": "8", "price": 1}],
    )
    assert store["products"] == {
        "1": {"objectID": "1", "name": "shoe", "price": 10},
        "2": {"objectID": "2", "name": "hat", "price": 6},
    }
    assert results == [
        {"objectID": "2", "action": "partialUpdateObjectNoCreate", "outcome": "updated"},
        {"objectID": "8", "action": "partialUpdateObjectNoCreate", "outcome": "skipped"},
    ]


def test_delete_object_removes_records_and_skips_missing_ones() -> None:
    store = _catalog()
    results = indexes.apply(store, "products", "deleteObject", [{"objectID": "1"}, {"objectID": "42"}])
    assert store["products"] == {"2": {"objectID": "2", "name": "hat", "price": 5}}
    assert results == [
        {"objectID": "1", "action": "deleteObject", "outcome": "deleted"},
        {"objectID": "42", "action": "deleteObject", "outcome": "skipped"},
    ]


def test_clear_empties_the_index_but_keeps_it() -> None:
    store = _catalog()
    results = indexes.apply(store, "products", "clear", [{"objectID": "1"}])
    assert store["products"] == {}
    assert "products" in store
    assert store["other"] == {"9": {"objectID": "9", "name": "untouched"}}
    assert results == []


def test_delete_removes_the_index_itself() -> None:
    store = _catalog()
    results = indexes.apply(store, "products", "delete", [])
    assert "products" not in store
    assert store["other"] == {"9": {"objectID": "9", "name": "untouched"}}
    assert results == []


def test_delete_of_a_missing_index_is_harmless() -> None:
    store = _catalog()
    assert indexes.apply(store, "nope", "delete", []) == []
    assert set(store) == {"products", "other"}


def test_one_result_per_record_in_order_with_string_object_ids() -> None:
    store: dict[str, Index] = {}
    records: list[dict[str, Any]] = [{"objectID": 3}, {"objectID": "b"}, {"objectID": 3, "again": True}]
    results = indexes.apply(store, "i", "addObject", records)
    assert [(r["objectID"], r["outcome"]) for r in results] == [
        ("3", "created"),
        ("b", "created"),
        ("3", "updated"),
    ]
    assert store["i"]["3"] == {"objectID": 3, "again": True}


def test_stored_records_are_never_changed_in_place() -> None:
    """The index may hold the pushed objects themselves (the journal holds them too): a later
    partial update must leave the earlier objects exactly as they were sent."""
    store: dict[str, Index] = {}
    first = {"objectID": "1", "name": "x", "price": 1}
    indexes.apply(store, "i", "addObject", [first])
    update = {"objectID": "1", "price": 2}
    indexes.apply(store, "i", "partialUpdateObject", [update])
    assert first == {"objectID": "1", "name": "x", "price": 1}
    assert update == {"objectID": "1", "price": 2}
    assert store["i"]["1"] == {"objectID": "1", "name": "x", "price": 2}


def test_results_are_only_built_when_asked() -> None:
    assert indexes.apply({}, "i", "addObject", [{"objectID": "1"}], results=False) == []


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown push action"):
        indexes.apply({}, "i", "upsert", [{"objectID": "1"}])


@pytest.mark.parametrize(
    ("task_action", "push_action"),
    [
        ("replace", "updateObject"),
        ("save", "updateObject"),
        ("append", "addObject"),
        ("partial", "partialUpdateObject"),
        ("partialNoCreate", "partialUpdateObjectNoCreate"),
    ],
)
def test_every_task_action_maps_to_a_push_action(task_action: str, push_action: str) -> None:
    assert indexes.TASK_ACTION_TO_PUSH[task_action] == push_action


# -------------------------------------------------------------------------------- the compact Index


def test_an_index_reads_back_equal_fresh_records() -> None:
    index = Index({"a": {"objectID": "a", "tags": ["x"], "n": 1.5}})
    record = index["a"]
    assert record == {"objectID": "a", "tags": ["x"], "n": 1.5}
    record["tags"].append("changed")
    assert index["a"]["tags"] == ["x"]
    assert index == {"a": {"objectID": "a", "tags": ["x"], "n": 1.5}}
    assert list(index) == ["a"] and "a" in index and len(index) == 1


def test_an_index_keeps_an_objectid_that_is_a_number_a_number() -> None:
    catalog: dict[str, Any] = {}
    indexes.apply(
        catalog, "p", "addObject", [{"objectID": 7, "name": "seven"}, {"name": "x", "objectID": "s"}]
    )
    assert isinstance(catalog["p"], Index)
    assert catalog["p"]["7"] == {"objectID": 7, "name": "seven"}
    assert catalog["p"]["s"] == {"objectID": "s", "name": "x"}


def test_an_index_refuses_what_json_cannot_hold_and_a_key_that_is_not_the_objectid() -> None:
    index = Index()
    with pytest.raises(ValueError, match="NaN"):
        index["a"] = {"objectID": "a", "n": float("nan")}
    with pytest.raises(ValueError, match="objectID"):
        index["a"] = {"objectID": "b"}
    catalog: dict[str, Any] = {"p": index}
    with pytest.raises(ValueError, match="NaN"):
        indexes.apply(catalog, "p", "addObject", [{"objectID": "ok"}, {"objectID": "x", "n": float("inf")}])
    assert len(index) == 0  # nothing of a refused batch is stored


def test_copies_of_an_index_are_independent() -> None:
    import copy

    index = Index({"a": {"objectID": "a"}})
    twin = copy.deepcopy(index)
    twin["b"] = {"objectID": "b"}
    del index["a"]
    assert list(twin) == ["a", "b"] and len(index) == 0


def test_every_change_moves_the_version_and_what_was_derived_is_rebuilt() -> None:
    store: dict[str, Any] = {}
    indexes.apply(store, "i", "addObject", [{"objectID": "a", "n": 1}])
    index: Index = store["i"]
    built: list[int] = []

    def count(idx: Index) -> int:
        built.append(idx.version)
        return len(idx)

    assert (index.derived(count), index.derived(count)) == (1, 1)
    assert len(built) == 1  # kept while the index does not change
    versions = [index.version]
    indexes.apply(store, "i", "addObject", [{"objectID": "b"}])  # the bulk path
    versions.append(index.version)
    indexes.apply(store, "i", "partialUpdateObject", [{"objectID": "a", "n": 2}])
    versions.append(index.version)
    index.pop_packed("b")
    versions.append(index.version)
    index.watch()
    index.clear()
    versions.append(index.version)
    index.put_back(index.touched())
    versions.append(index.version)
    assert versions == sorted(set(versions)), "each change moves the version on"
    assert index.derived(count) == 1 and len(built) == 2
    assert index.copy().version == 0 and index.copy().derived(count) == 1  # a copy starts its own


# --- a push's records kept as the push's own text ------------------------------------------------


def _pushed(
    store: dict[str, Any], name: str, text: str, action: str = "addObject", texts: PushedTexts | None = None
) -> Index:
    """Apply a push body (its JSON text) as the push handler does: records decoded from the text."""
    raw = text.encode()
    records = jsonio.loads(raw)["records"]
    bound = texts if texts is not None else PushedTexts()
    indexes.apply(store, name, action, records, results=False, checked=True, text=raw, texts=bound)
    index: Index = store[name]
    return index


def _texts(index: Index) -> set[int]:
    """The pushed texts the index still refers to (by identity)."""
    return {id(data) for data in index._packed.values() if isinstance(data, PushedText)}


def test_a_pushed_text_is_kept_until_a_record_is_read_then_each_record_is_compact_json() -> None:
    text = (
        '{"action": "addObject",\n "records": [\n  {"objectID": "a", "name": "caf\\u00e9", "n": 1.50},\n'
        '  {"objectID": "b", "tags": [ "x" , "y" ]},\n'
        '  {"objectID": "a", "name": "last", "deep": {"k": null}}\n ]}'
    )
    store: dict[str, Any] = {}
    index = _pushed(store, "i", text)
    assert len(index) == 2 and len(_texts(index)) == 1, "nothing encoded at push time"
    # A repeated objectID: its last record, as a push stores it; every record as compact JSON.
    assert index.packed_record("a") == b'{"objectID":"a","name":"last","deep":{"k":null}}'
    assert _texts(index) == set(), "the first read spread the text into the records' own JSON"
    assert index.packed_record("b") == b'{"objectID":"b","tags":["x","y"]}'
    assert dict(index) == {
        "a": {"objectID": "a", "name": "last", "deep": {"k": None}},
        "b": {"objectID": "b", "tags": ["x", "y"]},
    }


def test_records_kept_as_text_read_as_records_encoded_one_by_one() -> None:
    records = [
        {"objectID": f"r{i}", "price": i / 3, "name": "é" * (i % 4), "on": i % 2 == 0} for i in range(50)
    ]
    body = json.dumps({"records": records, "action": "updateObject"}, indent=2)  # \u escapes, spaces
    by_text = _pushed({}, "i", body, "updateObject")
    one_by_one: dict[str, Any] = {}
    indexes.apply(one_by_one, "i", "updateObject", records)
    assert by_text == one_by_one["i"]
    for object_id in one_by_one["i"]:
        assert by_text.packed_record(object_id) == one_by_one["i"].packed_record(object_id)


def test_each_way_of_reading_or_removing_a_record_held_as_text_sees_it() -> None:
    text = '{"records": [{"objectID": "a", "n": 1}, {"objectID": "b", "n": 2}, {"objectID": "c"}]}'
    store: dict[str, Any] = {}
    index = _pushed(store, "i", text)
    assert index.pop_packed("a") == b'{"objectID":"a","n":1}'
    assert "a" not in index and len(index) == 2
    index = _pushed(store, "i", text)
    indexes.apply(store, "i", "partialUpdateObject", [{"objectID": "b", "m": 3}])
    assert index["b"] == {"objectID": "b", "n": 2, "m": 3}
    index = _pushed(store, "i", text)
    results = indexes.apply(store, "i", "deleteObject", [{"objectID": "c"}, {"objectID": "z"}])
    assert [r["outcome"] for r in results] == ["deleted", "skipped"]
    index = _pushed(store, "i", text)
    twin = index.copy()
    del index["a"]
    assert twin["a"] == {"objectID": "a", "n": 1} and "a" not in index
    index.clear()
    assert len(index) == 0 and len(twin) == 3


def test_a_watched_write_never_keeps_a_text_and_reports_text_held_records_as_json() -> None:
    """The state file logs each record's JSON: a watched push encodes its records as before, and a
    record held as text before the watch began is reported (touched) as its JSON."""
    store: dict[str, Any] = {}
    index = _pushed(store, "i", '{"records": [{"objectID": "a", "n": 1}, {"objectID": "b"}]}')
    index.watch()
    _pushed(store, "i", '{"records": [{"objectID": "a", "n": 2}]}')
    assert type(index._packed["a"]) is bytes, "a watched write encodes what it writes"
    touched = index.touched()
    assert touched == {"a": b'{"objectID":"a","n":1}'}
    index.put_back(touched)
    assert index["a"] == {"objectID": "a", "n": 1} and index["b"] == {"objectID": "b"}


def _kept_bytes(*kept: Index) -> int:
    """The bytes of the distinct pushed texts these indexes refer to."""
    texts = {id(d): d for index in kept for d in index._packed.values() if isinstance(d, PushedText)}
    return sum(len(t.text) for t in texts.values())


def test_kept_texts_are_bounded_in_bytes_whatever_they_hold_beside_their_records() -> None:
    """Texts holding far more than their records (padding, a key given twice, a first "records"
    array overridden, a big record replaced by the next push) cost at most the mock's bound:
    past it, the oldest text still kept is spread into per-record JSON; the records read the same."""
    bound = PushedTexts(max_bytes=20_000)
    store: dict[str, Any] = {}
    padding, big = " " * 3000, "x" * 3000
    bodies = [
        lambda i: f'{{"records": [{{"objectID": "p{i}"}}]{padding}}}',
        lambda i: f'{{"records": [{{"objectID": "d{i}", "v": "{big}", "v": 1}}]}}',
        lambda i: (
            f'{{"records": [{{"objectID": "gone", "v": "{big}"}}], "records": [{{"objectID": "r{i}"}}]}}'
        ),
        lambda i: f'{{"records": [{{"objectID": "same", "v": "{big}"}}, {{"objectID": "s{i}"}}]}}',
    ]
    for i in range(200):
        _pushed(store, "a" if i % 2 else "b", bodies[i % 4](i), texts=bound)
        assert _kept_bytes(*store.values()) <= 20_000 + 3200
    records = {**dict(store["a"]), **dict(store["b"])}
    assert records["p196"] == {"objectID": "p196"} and records["d197"] == {"objectID": "d197", "v": 1}
    assert records["r198"] == {"objectID": "r198"} and "gone" not in records
    assert records["same"] == {"objectID": "same", "v": big} and records["s199"] == {"objectID": "s199"}
    assert len(records) == 201


def test_a_copy_never_shares_a_text_with_its_index() -> None:
    """Each text is kept by the one index the bound knows of: a copy first spreads them."""
    store: dict[str, Any] = {}
    index = _pushed(store, "i", '{"records": [{"objectID": "a", "n": 1}, {"objectID": "b"}]}')
    twin = index.copy()
    assert _kept_bytes(index) == 0 and _kept_bytes(twin) == 0
    assert twin == index and twin["a"] == {"objectID": "a", "n": 1}


def test_a_text_fully_replaced_is_let_go_at_once() -> None:
    store: dict[str, Any] = {}
    bound = PushedTexts()
    first = _pushed(store, "i", '{"records": [{"objectID": "a"}, {"objectID": "b"}]}', texts=bound)
    held = weakref.ref(next(d for d in first._packed.values() if isinstance(d, PushedText)))
    _pushed(store, "i", '{"records": [{"objectID": "b"}, {"objectID": "a", "v": 2}]}', texts=bound)
    assert held() is None, "no index refers to it: freed, though the bound still counts it"
    assert len(bound) == 2 and first["a"] == {"objectID": "a", "v": 2}


def test_a_partial_update_applies_operations_sets_other_values_and_leaves_what_it_cannot_apply() -> None:
    store = _catalog()
    changes = [
        {
            "objectID": "1",
            "price": {"_operation": "Increment", "value": 5},
            "tags": {"_operation": "Add", "value": "x"},
        },
        {"objectID": "2", "price": {"_operation": "Bogus", "value": "1"}},  # not an operation: data
        {"objectID": "9", "n": {"_operation": "Increment", "value": 1e308}},
    ]
    store["products"]["9"] = {"objectID": "9", "n": 1.7e308}
    results = indexes.apply(store, "products", "partialUpdateObject", changes)
    assert store["products"]["1"] == {"objectID": "1", "name": "shoe", "price": 15, "tags": ["x"]}
    assert store["products"]["2"] == {
        "objectID": "2",
        "name": "hat",
        "price": {"_operation": "Bogus", "value": "1"},
    }
    assert store["products"]["9"] == {"objectID": "9", "n": 1.7e308}
    assert [r["outcome"] for r in results] == ["updated", "updated", "skipped"]


def test_a_kept_text_holds_nothing_per_record_beside_its_bytes() -> None:
    """What the bound counts is what a kept text holds: its bytes. (It kept a list of the records'
    objectIDs, one fresh string per record: 500,000 copies of one record pinned ~30 MB the bound
    did not see.)"""
    import tracemalloc

    raw = json.dumps({"records": [{"objectID": "ab"}] * 10_000}).encode()
    records = jsonio.loads(raw)["records"]
    store: dict[str, Any] = {}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        indexes.apply(
            store, "i", "addObject", records, results=False, checked=True, text=raw, texts=PushedTexts()
        )
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 16_000, f"{kept} bytes kept for a text of {len(raw)} bytes held already"
    assert store["i"]["ab"] == {"objectID": "ab"}
