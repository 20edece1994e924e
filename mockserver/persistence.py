"""Opt-in durable state (``--state-file``): a write-ahead log of acknowledged writes in SQLite.

Each write the mock acknowledges (a 2xx to a non-GET call, or a control-plane change) is appended
as one row before the answer leaves, with the clock reading and the IDs it generated, so that
replaying the log on start-up rebuilds exactly the state clients were told about. SQLite runs in
WAL mode with ``synchronous=FULL``: a row that was committed survives ``kill -9``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


class StateLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)"
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise ValueError(f"{self.path}: state file format {row[0]} is not {SCHEMA_VERSION}")

    def append(self, entry: dict[str, Any]) -> None:
        text = json.dumps(entry, separators=(",", ":"))
        with self._lock:
            self._db.execute("INSERT INTO writes (entry) VALUES (?)", (text,))

    def entries(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT entry FROM writes ORDER BY seq").fetchall()
        for (text,) in rows:
            entry: dict[str, Any] = json.loads(text)
            yield entry

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM writes").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()
