"""Push the shop's catalogue to an index through the Ingestion API's push pipeline."""

from __future__ import annotations

from typing import Any

from algoliasearch.ingestion.client import IngestionClientSync

CATALOGUE: list[dict[str, Any]] = [
    {"objectID": "sku-1", "name": "Trail shoe", "price": 89.0},
    {"objectID": "sku-2", "name": "Rain jacket", "price": 129.0},
]


def ensure_push_pipeline(client: IngestionClientSync, index_name: str) -> str:
    """The ID of the push task that feeds ``index_name``, created (source, destination, task) if missing."""
    destinations = client.list_destinations(items_per_page=100).destinations
    targets = {d.destination_id for d in destinations if d.input.to_dict().get("indexName") == index_name}
    for task in client.list_tasks(items_per_page=100).tasks:
        if task.destination_id in targets:
            return task.task_id
    source = client.create_source({"type": "push", "name": f"{index_name} push"})
    destination = client.create_destination(
        {"type": "search", "name": index_name, "input": {"indexName": index_name}}
    )
    created = client.create_task(
        {"sourceID": source.source_id, "destinationID": destination.destination_id, "action": "save"}
    )
    return created.task_id


def sync_catalogue(client: IngestionClientSync, index_name: str) -> int:
    """Push every catalogue record to ``index_name`` and wait until the runs are done; the count pushed."""
    ensure_push_pipeline(client, index_name)
    client.chunked_push(index_name, CATALOGUE, wait_for_tasks=True)
    return len(CATALOGUE)
