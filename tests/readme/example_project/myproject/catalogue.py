"""Stock levels pushed through the Ingestion API, read back through the Search API: code that builds
its own clients, aimed at Algolia's hosts (README: intercepting the clients your code builds)."""

from __future__ import annotations

from typing import Any

from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.search.client import SearchClientSync

APP_ID = "MYAPP"
API_KEY = "my-write-key"


def restock(levels: list[dict[str, Any]]) -> list[str]:
    """Push new stock levels to the ``stock`` index; the IDs of the records now in stock."""
    with IngestionClientSync(APP_ID, API_KEY, "eu") as ingestion:
        ingestion.push("stock", {"action": "partialUpdateObject", "records": levels}, watch=True)
    with SearchClientSync(APP_ID, API_KEY) as search:
        found = search.search_single_index("stock", {"filters": "stock > 0"})
    return sorted(str(hit.object_id) for hit in found.hits)
