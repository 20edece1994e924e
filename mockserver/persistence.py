"""Opt-in durable state (``--state-file``): a write-ahead log of acknowledged writes in SQLite.

Each write the mock acknowledges (a 2xx to a non-GET call, or a control-plane change) is appended
as one row before the answer leaves, with the clock reading and the IDs it generated, so that
replaying the log on start-up rebuilds exactly the state clients were told about. SQLite runs in
WAL mode with ``synchronous=FULL``: a row that was committed survives ``kill -9``. One server per
file: the file is locked (``flock``) for the life of the log, and a second server is refused.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import jsonio

SCHEMA_VERSION = 1


class StateFileError(Exception):
    """The state file cannot be used; the message names the file and says why."""


class StateLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._lock_fd = self._take_file_lock()
        try:
            self._db = self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise

    def _take_file_lock(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateFileError(f"{self.path}: cannot be opened ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateFileError(
                f"{self.path}: in use by another mockserver (one server per state file)"
            ) from None
        return fd

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS writes "
                "(seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)"
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: not a mockserver state file ({exc})") from None
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif str(row[0]) != str(SCHEMA_VERSION):
            db.close()
            raise StateFileError(f"{self.path}: state file format {row[0]} is not {SCHEMA_VERSION}")
        return db

    def append(self, entry: dict[str, Any]) -> None:
        """Make one entry durable; a failure (disk full, file gone) is a StateFileError."""
        text = jsonio.dumps(entry).decode("utf-8")
        with self._lock:
            try:
                self._db.execute("INSERT INTO writes (entry) VALUES (?)", (text,))
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: the write could not be made durable ({exc})") from None

    def entries(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            try:
                rows = self._db.execute("SELECT seq, entry FROM writes ORDER BY seq").fetchall()
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: cannot be read ({exc})") from None
        for seq, text in rows:
            try:
                entry: dict[str, Any] = jsonio.load_trusted(text.encode("utf-8"))
            except ValueError:
                raise StateFileError(f"{self.path}: entry {seq} is not valid JSON") from None
            yield entry

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM writes").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            if self._lock_fd < 0:
                return
            self._db.close()
            os.close(self._lock_fd)
            self._lock_fd = -1
