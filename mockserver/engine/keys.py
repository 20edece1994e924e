"""The extra API keys of a mock (``settings.keys``), indexed for a lookup in constant time.

A key belongs to one application (its ``appID``, else the configured ``app_id``) or, on a server
without configured credentials and with no ``appID`` of its own, to every application. The index is
built from the settings' tuple of keys and kept in step with the changes the engine makes to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from mockserver.settings import MAX_KEYS_PER_APPLICATION

ANY_APPLICATION = "*"  # how a key of every application is shown (its appID is null)


def owner_of(key: Mapping[str, Any], default_app: str | None) -> str | None:
    """The application a key opens (None: every application)."""
    owner = key.get("appID", default_app)
    return None if owner is None else str(owner)


def key_id(owner: str | None, api_key: str) -> str:
    """A key's stable name in listings and in ``DELETE /__mock__/keys/{keyID}``, which never shows
    the key itself: a digest of its application and its value."""
    text = f"{owner if owner is not None else ANY_APPLICATION}\n{api_key}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


class KeyIndex:
    """``(application, key) -> key`` for the keys of one settings tuple; the first one given wins
    when two name the same application and key (as a scan of the tuple would find it)."""

    def __init__(self, keys: tuple[Mapping[str, Any], ...], default_app: str | None) -> None:
        self.keys = keys  # the tuple this index was built from (the engine compares by identity)
        self.default_app = default_app
        self._by_owner: dict[tuple[str | None, str], Mapping[str, Any]] = {}
        self._counts: dict[str | None, int] = {}
        for key in keys:
            self._put(key)

    def _put(self, key: Mapping[str, Any]) -> None:
        owner = owner_of(key, self.default_app)
        slot = (owner, str(key.get("apiKey", "")))
        if slot not in self._by_owner:
            self._by_owner[slot] = key
            self._counts[owner] = self._counts.get(owner, 0) + 1

    def find(self, app_id: str, api_key: str) -> Mapping[str, Any] | None:
        """The key these credentials are: the application's own, else one of every application."""
        found = self._by_owner.get((app_id, api_key))
        if found is None:
            found = self._by_owner.get((None, api_key))
        return found

    def get(self, owner: str | None, api_key: str) -> Mapping[str, Any] | None:
        """The key of exactly this owner (None: of every application)."""
        return self._by_owner.get((owner, api_key))

    def count(self, owner: str | None) -> int:
        return self._counts.get(owner, 0)

    def of(self, owner: str | None) -> list[tuple[str | None, Mapping[str, Any]]]:
        """Keys with their owner: those of ``owner`` and of every application (all keys when
        ``owner`` is None)."""
        return [
            (key_owner, key)
            for (key_owner, _), key in self._by_owner.items()
            if owner is None or key_owner in (owner, None)
        ]

    def with_key(self, key: Mapping[str, Any]) -> KeyIndex:
        """This index's keys and ``key``, replacing a key of the same application and value."""
        owner = owner_of(key, self.default_app)
        api_key = str(key["apiKey"])
        if (owner, api_key) in self._by_owner:
            return self.without(owner, api_key).with_key(key)
        index = self._copy((*self.keys, key))
        index._put(key)
        return index

    def without(self, owner: str | None, api_key: str) -> KeyIndex:
        """This index's keys but the one of ``owner`` and ``api_key`` (every copy of it)."""
        kept = tuple(
            key
            for key in self.keys
            if not (owner_of(key, self.default_app) == owner and str(key.get("apiKey", "")) == api_key)
        )
        return KeyIndex(kept, self.default_app)

    def _copy(self, keys: tuple[Mapping[str, Any], ...]) -> KeyIndex:
        index = KeyIndex((), self.default_app)
        index.keys = keys
        index._by_owner = dict(self._by_owner)
        index._counts = dict(self._counts)
        return index


__all__ = ["ANY_APPLICATION", "MAX_KEYS_PER_APPLICATION", "KeyIndex", "key_id", "owner_of"]
