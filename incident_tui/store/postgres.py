"""The log in PostgreSQL (SPEC 12): the store of record behind several `serve` replicas.

Why appends serialise: a `bigserial` is assigned at insert but becomes visible at commit,
so a reader resuming from "seq > N" could see N+2 before N+1 commits and skip N+1 for
ever. Every append here first locks the one counter row (`... FOR UPDATE`), takes its
seqs from it and commits; the next append waits for that lock, so commits happen in seq
order, `seq` has no gaps, and a rolled-back transaction leaves none. Writes in a war room
are a few per second: one lock is not a bottleneck (see bench/bench_postgres.py).

Why NOTIFY is only a doorbell: it is delivered at commit, carries at most 8000 bytes and
is never replayed to a listener that was disconnected. The listener thread therefore
only learns "something is new" from it; what is new is always read with `seq > cursor`,
and it asks for the latest seq after every (re)connect and every quiet interval too, so
a lost notification delays a reader by at most `catch_up` seconds.

Each event's JSON (without its seq) is kept as text exactly as encoded on append, so a
migration can prove byte-for-byte that it moved the same events.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import orjson

from ..domain.events import Event, EventError, placeholder_event, stored_event
from .base import LinkState, StoreError, StoreUnavailable

try:
    import psycopg
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - exercised only without the extra installed
    psycopg = None  # type: ignore[assignment]

CHANNEL = "incident_tui_events"
T = TypeVar("T")
APPEND_SQL = "SELECT * FROM incident_tui_append(%s, %s, %s, %s, %s)"
PROBE_SQL = "SELECT seq, body FROM incident_tui_events WHERE seq = %s"
SCHEMA_VERSION = 2
# Taken by a replica while it creates or migrates the schema, so replicas started together
# do not race each other's CREATE TABLE.
_MIGRATE_LOCK = 0x1_7C1D_E17  # any constant shared by every replica

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE incident_tui_counter (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        seq bigint NOT NULL
    );
    INSERT INTO incident_tui_counter (seq) VALUES (0);
    CREATE TABLE incident_tui_events (
        seq bigint PRIMARY KEY,
        id text NOT NULL UNIQUE,
        incident text NOT NULL,
        kind text NOT NULL,
        body text NOT NULL
    );
    CREATE INDEX incident_tui_events_incident ON incident_tui_events (incident, seq);
    """,
    # One append is one statement: the counter row's lock is held for the server's own
    # work and the commit, never across client round trips. Seven round trips under the
    # lock (a loaded replica descheduled mid-transaction stalled the other replica's
    # appends behind it) set bench_postgres's ack tail (p99 210 ms, the file server 84).
    2: """
    CREATE FUNCTION incident_tui_append(
        p_ids text[], p_incidents text[], p_kinds text[], p_bodies text[], p_channel text,
        OUT seqs bigint[], OUT fresh boolean[]
    ) LANGUAGE plpgsql AS $$
    DECLARE
        n bigint;
        before bigint;
        s bigint;
    BEGIN
        seqs := '{}';
        fresh := '{}';
        SELECT c.seq INTO n FROM incident_tui_counter c FOR UPDATE;
        before := n;
        FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
            SELECT e.seq INTO s FROM incident_tui_events e WHERE e.id = p_ids[i];
            IF NOT FOUND THEN
                n := n + 1;
                INSERT INTO incident_tui_events (seq, id, incident, kind, body)
                    VALUES (n, p_ids[i], p_incidents[i], p_kinds[i], p_bodies[i]);
                s := n;
            END IF;
            seqs := seqs || s;
            fresh := fresh || (s > before);
        END LOOP;
        IF n > before THEN
            UPDATE incident_tui_counter SET seq = n;
            PERFORM pg_notify(p_channel, n::text);
        END IF;
    END
    $$;
    """,
}


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced, for messages and the server's start line."""
    dsn = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn, flags=re.IGNORECASE)


def is_database_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("postgresql://", "postgres://"))


def _unavailable(exc: BaseException) -> StoreUnavailable:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailable(f"database unavailable: {first}")


def _event(seq: int, body: str) -> Event:
    try:
        d = orjson.loads(body)
        d["seq"] = seq
        return stored_event(d)
    except (KeyError, TypeError, ValueError):
        # The row's seq places it: a body this version cannot read is skipped by the fold
        # (named by its seq), never allowed to stop every reader.
        return placeholder_event(seq)


class PostgresStore:
    """The Store protocol over PostgreSQL; safe to share between threads."""

    def __init__(
        self,
        dsn: str,
        *,
        catch_up: float = 0.5,
        connect_timeout: float = 5.0,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if psycopg is None:
            raise StoreError("PostgreSQL support is not installed: pip install 'incident-tui[postgres]'")
        self.dsn = dsn
        self.location = redact_dsn(dsn)
        self._catch_up = catch_up
        self._warn = warn or (lambda _msg: None)
        self._cond = threading.Condition()
        self._known = 0  # the highest seq known committed
        self._listening = False
        self._stop = threading.Event()
        kwargs: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout)), "application_name": "incident-tui"}
        try:
            with psycopg.connect(dsn, autocommit=True, **kwargs) as conn:
                self._migrate(conn)
                self._known = self._latest(conn)
        except psycopg.Error as exc:
            raise _unavailable(exc) from None
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=8,
            # Each use is one statement (an append is one function call): no BEGIN/COMMIT trips.
            kwargs={**kwargs, "autocommit": True},
            timeout=connect_timeout,
            # No check on checkout: `_use` runs a use again when its connection was dropped.
            reconnect_timeout=0,  # keep trying for as long as the server runs
            open=True,
            name="incident-tui",
        )
        self._listener = threading.Thread(target=self._listen, name="incident-tui-pg-listen", daemon=True)
        self._listener.start()

    # -- schema ----------------------------------------------------------------------

    @staticmethod
    def _migrate(conn: Any) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS incident_tui_schema (version integer NOT NULL)")
            row = conn.execute("SELECT max(version) FROM incident_tui_schema").fetchone()
            version = row[0] or 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database holds schema version {version}; this incident-tui knows up to "
                    f"{SCHEMA_VERSION}: upgrade incident-tui"
                )
            for v in range(version + 1, SCHEMA_VERSION + 1):
                conn.execute(MIGRATIONS[v])
                conn.execute("INSERT INTO incident_tui_schema (version) VALUES (%s)", (v,))

    @staticmethod
    def _latest(conn: Any) -> int:
        row = conn.execute("SELECT seq FROM incident_tui_counter").fetchone()
        return int(row[0])

    # -- the doorbell ------------------------------------------------------------------

    def _seen(self, seq: int) -> None:
        with self._cond:
            if seq > self._known:
                self._known = seq
                self._cond.notify_all()

    def _listen(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, connect_timeout=5, application_name="incident-tui-listen"
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening = True
                    backoff = 0.1
                    # Anything committed while we were not listening is found here.
                    self._seen(self._latest(conn))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self._catch_up):
                            if note.payload.isdigit():
                                self._seen(int(note.payload))
                        # A quiet interval: ask anyway, in case a notification was lost.
                        self._seen(self._latest(conn))
            except psycopg.Error as exc:
                if self._listening:
                    self._warn(f"database listener lost: {str(exc).strip().splitlines()[0] if str(exc) else exc}")
            self._listening = False
            with self._cond:
                self._cond.notify_all()  # a waiter may want to see the link drop
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 2.0)

    # -- the protocol -------------------------------------------------------------------

    def _use(self, work: Callable[[Any], T]) -> T:
        """`work(conn)` on a pooled connection; a lost or unreachable database is
        StoreUnavailable (503), any other database error a StoreError.

        A connection the database dropped while it sat in the pool fails its first
        statement: the pool's idle connections are checked (a restart drops them all) and
        that use runs once more, on a fresh connection. Every use here may run
        twice (an append is idempotent by event id, the rest are reads), and this costs
        nothing on the path taken every time, where checking each connection on checkout
        cost a round trip per use (bench_postgres: two of an acknowledgement's four)."""
        for retry in (True, False):
            try:
                with self._pool.connection() as conn:
                    return work(conn)
            except PoolTimeout as exc:  # no connection to be had: the database is away
                raise _unavailable(exc) from None
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if not retry:
                    raise _unavailable(exc) from None
                self._pool.check()  # its idle neighbours were dropped too (a restart): replace them
            except psycopg.Error as exc:
                raise StoreError(f"database: {str(exc).strip().splitlines()[0]}") from None
        raise AssertionError("unreachable")

    def append(self, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        args = self._append_args(events)
        # autocommit: the function's statement is the transaction
        seqs, out = self._use(lambda conn: self._append(conn, events, conn.execute(APPEND_SQL, args).fetchone()))
        self._seen(max(seqs))
        return out

    def append_probing(self, events: Sequence[Event], probe_seq: int) -> tuple[list[Event], Event | None]:
        """`append`, and the event stored at `probe_seq` read in the same round trip (a
        pipeline): the server checks after every append that the database still holds the
        history it streamed, and on its own that check was a second round trip per
        acknowledgement (bench_postgres's ack p99 is made of such trips)."""
        if not events:
            found = self.read(probe_seq - 1, 1)
            return [], found[0] if found else None
        args = self._append_args(events)

        def work(conn: Any) -> tuple[list[int], list[Event], Event | None]:
            with conn.pipeline():
                appended = conn.execute(APPEND_SQL, args)
                probed = conn.execute(PROBE_SQL, (probe_seq,))
            seqs, out = self._append(conn, events, appended.fetchone())
            row = probed.fetchone()
            return seqs, out, None if row is None else _event(*row)

        seqs, out, found = self._use(work)
        self._seen(max(seqs))
        return out, found

    @staticmethod
    def _append_args(events: Sequence[Event]) -> tuple[Any, ...]:
        """The append function's arguments; every event validated whole first."""
        for e in events:
            try:
                Event.from_dict(e.to_dict())
            except EventError as exc:
                raise StoreError(f"refused event {e.id}: {exc}") from None
        bodies: list[str] = []
        for e in events:
            d = e.to_dict()
            d.pop("seq", None)
            try:
                bodies.append(orjson.dumps(d).decode())
            except (TypeError, ValueError) as exc:  # e.g. lone surrogates
                raise StoreError(f"refused event {e.id}: {exc}") from None
        return ([e.id for e in events], [e.incident for e in events], [e.kind for e in events], bodies, CHANNEL)

    @staticmethod
    def _append(conn: Any, events: Sequence[Event], answer: tuple[Any, Any]) -> tuple[list[int], list[Event]]:
        """The events as stored, from the append function's answer (seqs, which were new)."""
        seqs, fresh = answer
        out: list[Event] = []
        mine: dict[str, Event] = {}
        earlier: list[int] = []
        for i, (e, seq, new) in enumerate(zip(events, seqs, fresh, strict=True)):
            if new:  # stored by this call (a second copy of an id answers the first)
                out.append(mine.setdefault(e.id, replace(e, seq=seq)))
            else:
                out.append(e)
                earlier.append(i)
        if earlier:  # stored before: answer the first stored copy, as it is stored
            rows = conn.execute(
                "SELECT seq, body FROM incident_tui_events WHERE seq = ANY(%s)", ([seqs[i] for i in earlier],)
            ).fetchall()
            stored = {seq: _event(seq, body) for seq, body in rows}
            for i in earlier:
                out[i] = stored[seqs[i]]
        return seqs, out

    def read(self, after: int = 0, limit: int | None = None) -> list[Event]:
        sql = "SELECT seq, body FROM incident_tui_events WHERE seq > %s ORDER BY seq"
        params: tuple[int, ...] = (max(after, 0),)
        if limit is not None:
            sql += " LIMIT %s"
            params += (limit,)
        rows = self._use(lambda conn: conn.execute(sql, params).fetchall())
        return [_event(seq, body) for seq, body in rows]

    def read_bodies(self, after: int = 0, limit: int = 10_000) -> list[tuple[int, str]]:
        """(seq, the event's JSON as stored) for a migration's byte-for-byte check."""
        sql = "SELECT seq, body FROM incident_tui_events WHERE seq > %s ORDER BY seq LIMIT %s"
        return self._use(lambda conn: conn.execute(sql, (after, limit)).fetchall())

    def wait(self, after: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._known <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def latest_seq(self) -> int:
        seq = self._use(self._latest)
        self._seen(seq)
        return seq

    def link_state(self) -> LinkState:
        return "connected" if self._listening else "offline"

    def pending(self) -> list[Event]:
        return []

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._pool.close()
        self._listener.join(self._catch_up + 2)

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
