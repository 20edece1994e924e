"""Search semantics over the fake indexes (layer 1, pure: records, settings and parameters in,
answers out; no HTTP, no store). See README's "How search behaves"."""

from mockserver.engine.search.params import read as read_params
from mockserver.engine.search.query import (
    MAX_QUERIES,
    MAX_SETTING_NAMES,
    browse,
    check_settings,
    facet_values,
    filter_tree,
    matching_ids,
    search,
)

__all__ = [
    "MAX_QUERIES",
    "MAX_SETTING_NAMES",
    "browse",
    "check_settings",
    "facet_values",
    "filter_tree",
    "matching_ids",
    "read_params",
    "search",
]
