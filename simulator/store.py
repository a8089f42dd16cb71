"""SQLite-backed object store: one JSON document per object, cached in memory, written through."""

import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, id INTEGER NOT NULL, uuid TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@contextmanager
def sqlite_transaction(db):
    """BEGIN ... COMMIT (ROLLBACK on error) on an autocommit SQLite connection."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Store:
    """All simulator state. Callers hold `lock` around every read-modify-write, for short moments only."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self._conditions = []
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._objects = {}
        self._by_uuid = {}
        for kind, oid, data in self._db.execute("SELECT kind, id, data FROM objects ORDER BY kind, id"):
            obj = json.loads(data)
            self._objects.setdefault(kind, {})[oid] = obj
            self._by_uuid.setdefault(kind, {})[obj["uuid"]] = oid
        self.closed = False
        self._clock = self.condition()

    def condition(self):
        """A Condition on `lock` (its wait releases the lock at every level); close() wakes its waiters."""
        condition = threading.Condition(self.lock)
        self._conditions.append(condition)
        return condition

    def pause(self, seconds):
        """Let `seconds` pass with the lock released, the caller holding it; False when the store closed meanwhile."""
        deadline = time.monotonic() + seconds
        with self._clock:
            remaining = seconds
            while remaining > 0 and not self.closed:
                self._clock.wait(remaining)
                remaining = deadline - time.monotonic()
        return not self.closed

    def meta(self, key, default=None):
        """A value of the meta table."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key, value):
        """Set a value of the meta table."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    @contextmanager
    def transaction(self):
        """Group many writes into one SQLite transaction."""
        with self.lock, sqlite_transaction(self._db):
            yield

    def add(self, kind, obj):
        """Insert a new object: assigns `id` and, if absent, `uuid`; returns the stored dict."""
        with self.lock:
            table = self._objects.setdefault(kind, {})
            obj["id"] = max(table, default=0) + 1
            obj.setdefault("uuid", str(uuid.uuid4()))
            self.save(kind, obj)
            return obj

    def save(self, kind, obj):
        """Write an object (new or changed) through to SQLite."""
        with self.lock:
            self._objects.setdefault(kind, {})[obj["id"]] = obj
            self._by_uuid.setdefault(kind, {})[obj["uuid"]] = obj["id"]
            self._db.execute("INSERT OR REPLACE INTO objects (kind, id, uuid, data) VALUES (?, ?, ?, ?)",
                             (kind, obj["id"], obj["uuid"], json.dumps(obj, sort_keys=True)))

    def delete(self, kind, obj):
        """Remove an object."""
        with self.lock:
            self._objects.get(kind, {}).pop(obj["id"], None)
            self._by_uuid.get(kind, {}).pop(obj["uuid"], None)
            self._db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, obj["id"]))

    def get(self, kind, oid):
        """An object by numeric id, or None."""
        return self._objects.get(kind, {}).get(oid)

    def by_uuid(self, kind, value):
        """An object by uuid, or None."""
        oid = self._by_uuid.get(kind, {}).get(value)
        return None if oid is None else self.get(kind, oid)

    def all(self, kind):
        """Every object of a kind, in id order."""
        return [self._objects[kind][oid] for oid in sorted(self._objects.get(kind, {}))]

    def find(self, kind, **equal):
        """Objects whose fields equal the given values."""
        return [obj for obj in self.all(kind) if all(obj.get(k) == v for k, v in equal.items())]

    def one(self, kind, **equal):
        """The first object matching, or None."""
        found = self.find(kind, **equal)
        return found[0] if found else None

    def close(self):
        """Close the database and wake every waiter; later job work is dropped (the job stays in progress)."""
        with self.lock:
            self._db.close()
            self.closed = True
            for condition in self._conditions:
                condition.notify_all()
