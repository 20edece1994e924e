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

from mockserver.engine import jsonio

SCHEMA_VERSION = 1
COMPACT_AFTER = 10_000  # writes appended before a running server compacts its state file


class StateFileError(Exception):
    """The state file cannot be used; the message names the file and says why."""


class StateLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.appended = 0  # entries appended since the file was last compacted
        self.image_chars = 0  # size of the last compacted image
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
                self.appended += 1
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: the write could not be made durable ({exc})") from None

    def rewrite(self, entries: list[dict[str, Any]]) -> None:
        """Replace every entry by ``entries``, in one transaction (a crash keeps the old or the new)."""
        texts = [jsonio.dumps(entry).decode("utf-8") for entry in entries]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute("DELETE FROM writes")
                    self._db.executemany("INSERT INTO writes (entry) VALUES (?)", [(t,) for t in texts])
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: cannot be compacted ({exc})") from None
            self.appended = 0
            self.image_chars = sum(len(t) for t in texts)

    def should_compact(self) -> bool:
        """Whether the writes since the last compaction outweigh the live state enough to compact."""
        return self.appended >= max(COMPACT_AFTER, self.image_chars // 200)

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
