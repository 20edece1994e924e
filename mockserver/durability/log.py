"""Opt-in durable state (``--state-file``): a write-ahead log of acknowledged writes in SQLite.

Each write the mock acknowledges (a 2xx to a non-GET call, or a control-plane change) is appended
as one row before the answer leaves, with the clock reading and the IDs it generated, so that
replaying the log on start-up rebuilds exactly the state clients were told about. SQLite runs in
WAL mode with ``synchronous=FULL``: a row that was committed survives ``kill -9``. One server per
file: the file is locked (``flock``) for the life of the log, and a second server is refused.

What a row holds is ``durability/state.py``'s business; this module stores and reads rows. A row
that cannot be read (torn, not JSON, a BLOB, nested beyond reason) is skipped and named, never a
reason to refuse the rest; a row of valid JSON holding values the fast decoder cannot hold (a
number out of range, ``NaN``, a lone surrogate) is read with those values marked
(``durability/damage.py``) and costs only the parts holding them. A file whose schema is newer
than this release's is refused. The file found at the path is checked before every write: deleted
or replaced while serving, it is no longer the log, and writes fail (``StateFileError``: the
engine answers 503).

Schema 1 rows were requests replayed through the API; schema 2 rows are the after-state of what
each write changed. A schema 1 file is read as it is and becomes schema 2 with its first new row.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mockserver.durability import damage
from mockserver.durability.damage import damage_of
from mockserver.engine import jsonio

SCHEMA_VERSION = 2  # 2: rows hold what a write changed (1: the request that made it)
READABLE_SCHEMAS = (1, 2)
COMPACT_AFTER = 10_000  # writes appended before a running server compacts its state file
# Seconds a write waits for another process's lock on the file (SQLite's busy timeout, Python's
# default) before it fails: the engine answers 503 and nothing changes.
BUSY_TIMEOUT = 5.0


class StateFileError(Exception):
    """The state file cannot be used; the message names the file and says why."""


class StateLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.appended = 0  # entries appended since the file was last compacted
        self.image_chars = 0  # size of the last compacted image
        self._lock_fd = self._take_file_lock()
        stat = os.fstat(self._lock_fd)
        self._identity = (stat.st_dev, stat.st_ino)
        self._schema_on_disk = SCHEMA_VERSION
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
            db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
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
            try:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            except sqlite3.Error as exc:
                db.close()
                raise StateFileError(f"{self.path}: cannot be initialised ({exc})") from None
            return db
        try:
            schema = int(str(row[0]))
        except ValueError:
            schema = -1
        if schema not in READABLE_SCHEMAS:
            db.close()
            newer = (
                " (written by a newer mockserver: upgrade this one to read it)"
                if schema > SCHEMA_VERSION
                else ""
            )
            raise StateFileError(
                f"{self.path}: state file schema {str(row[0])[:20]!r} is not one this mockserver reads "
                f"({', '.join(map(str, READABLE_SCHEMAS))}){newer}"
            )
        self._schema_on_disk = schema
        return db

    def _check_identity(self) -> None:
        """The file at the path is still the one this log opened (not deleted, not replaced)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            raise StateFileError(
                f"{self.path}: the state file was deleted while the server ran; writes are refused "
                "(503) until the server restarts, since none of them could survive a restart"
            ) from None
        if (stat.st_dev, stat.st_ino) != self._identity:
            raise StateFileError(
                f"{self.path}: the state file was replaced while the server ran; writes are refused "
                "(503) until the server restarts (it then reads the file now at this path)"
            )

    def append(self, entry: dict[str, Any]) -> None:
        """Make one entry durable; a failure (disk full, file gone) is a StateFileError."""
        text = jsonio.dumps(entry).decode("utf-8")
        with self._lock:
            self._check_identity()
            try:
                if self._schema_on_disk != SCHEMA_VERSION:  # the first new row of an older file
                    self._db.execute("BEGIN IMMEDIATE")
                    try:
                        self._db.execute(
                            "UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),)
                        )
                        self._db.execute("INSERT INTO writes (entry) VALUES (?)", (text,))
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise
                    self._db.execute("COMMIT")
                    self._schema_on_disk = SCHEMA_VERSION
                else:
                    self._db.execute("INSERT INTO writes (entry) VALUES (?)", (text,))
                self.appended += 1
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: the write could not be made durable ({exc})") from None

    def rewrite(self, entries: list[dict[str, Any]]) -> None:
        """Replace every entry by ``entries``, in one transaction (a crash keeps the old or the new)."""
        texts = [jsonio.dumps(entry).decode("utf-8") for entry in entries]
        with self._lock:
            self._check_identity()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
                    self._db.execute("DELETE FROM writes")
                    self._db.executemany("INSERT INTO writes (entry) VALUES (?)", [(t,) for t in texts])
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: cannot be compacted ({exc})") from None
            self._schema_on_disk = SCHEMA_VERSION
            self.appended = 0
            self.image_chars = sum(len(t) for t in texts)

    def should_compact(self) -> bool:
        """Whether the writes since the last compaction outweigh the live state enough to compact."""
        return self.appended >= max(COMPACT_AFTER, self.image_chars // 200)

    def keep_copy(self) -> Path:
        """Copy the whole file beside it (``<name>.damaged-<time>``) before it is rewritten with
        less than it holds; the copy's path. StateFileError when it cannot be made (disk full)."""
        stem = f"{self.path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
        target = self.path.with_name(stem)
        taken = 1
        while target.exists():  # an earlier copy (the same second): keep it, take the next name
            taken += 1
            target = self.path.with_name(f"{stem}-{taken}")
        with self._lock:
            try:
                copy = sqlite3.connect(str(target))
                try:
                    self._db.backup(copy)
                finally:
                    copy.close()
            except sqlite3.Error as exc:
                target.unlink(missing_ok=True)
                raise StateFileError(f"{self.path}: a copy cannot be kept at {target} ({exc})") from None
        return target

    def entries(self, warn: Callable[[str], None]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every row, oldest first, as (row number, entry); a row that cannot be read is skipped and
        named through ``warn`` (the rows after it still come)."""
        with self._lock:
            try:
                # As bytes, decoded row by row: one row that is not UTF-8 must not stop the others.
                rows = self._db.execute(
                    "SELECT seq, typeof(entry), CAST(entry AS BLOB) FROM writes ORDER BY seq"
                ).fetchall()
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.path}: cannot be read ({exc})") from None
        for seq, kind, raw in rows:
            if kind != "text":
                held = {"blob": "a BLOB", "integer": "an integer", "real": "a number"}.get(kind, "no value")
                warn(f"{self.path}: row {seq} skipped: it holds {held}, not the JSON text of a write")
                continue
            try:
                entry = jsonio.load_trusted(raw)  # the row's bytes as stored (a whole image: one row)
            except (ValueError, RecursionError, UnicodeError) as exc:
                # A byte that is not UTF-8 becomes a lone surrogate, which the damage path finds:
                # it costs the value holding it, not the row.
                text = raw.decode("utf-8", "surrogateescape")
                try:  # values it cannot hold (1e400, NaN, ...)? Marked, they cost only their parts
                    entry = damage.loads(text)
                except (ValueError, RecursionError):
                    entry = None
                if damage_of(entry) is None:  # not JSON at all, or refused for another reason
                    warn(
                        f"{self.path}: row {seq} skipped: it is not valid JSON (a torn write?): "
                        f"{str(exc)[:200]}"
                    )
                    continue
                warn(
                    f"{self.path}: row {seq} holds values that cannot be read ({damage_of(entry)}): "
                    "the parts holding them are lost, each named"
                )
                for path in damage.dropped(entry)[:100]:
                    warn(
                        f"{self.path}: row {seq}: the entry at {path[:300]} is lost (its key holds a "
                        "lone surrogate)"
                    )
            if not isinstance(entry, dict):
                warn(f"{self.path}: row {seq} skipped: it is not a JSON object")
                continue
            yield seq, entry

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
