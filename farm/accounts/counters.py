"""Counts in fixed windows, one atomic statement each: for a limit on the flash sale's path,
where farm.accounts.limits' insert-then-count (an insert and a read, through the ORM) tripled
the cost of a reservation (97 against 285 requests/s, bench/sale.py).

`count` adds one to the (kind, key, window) row with an upsert and reads the new count in the
same statement: concurrent upserts of one row queue on its lock, so each sees the others and
no more than `free` get through, whatever the number of processes. A refused or failed attempt
is taken back (`uncount`). The window is fixed (the clock's hours for an hour-long window), so
at a window's edge up to twice `free` may pass within a short time: fine against hoarding."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections

from farm.errors import TooManyRequests


@dataclass(frozen=True)
class Counted:
    kind: str
    key: str
    window_start: datetime


@dataclass(frozen=True)
class Limit:
    """A count that a statement takes itself (the flash sale's reservation, in
    farm.subscriptions.claims): one more on `counted`'s row, unless it holds `free` already,
    with the same upsert as `count`."""

    counted: Counted
    free: int


def limit(kind: str, key: str, *, free: int, window: timedelta, now: datetime) -> Limit:
    return Limit(Counted(kind, key[:254], window_start(now, window)), free)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window `now` falls in (windows are counted from the epoch)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // window) * window


@functools.cache
def _upsert_sql(dialect: str) -> str:
    marks = _marks(dialect)
    return (
        'INSERT INTO "window_counts" ("kind", "key", "window_start", "count") '  # noqa: S608
        f"VALUES ({marks[0]}, {marks[1]}, {marks[2]}, 1) "
        'ON CONFLICT ("kind", "key", "window_start") '
        'DO UPDATE SET "count" = "window_counts"."count" + 1 RETURNING "count"'
    )


async def count(
    kind: str, key: str, *, free: int, window: timedelta, now: datetime, refused: str
) -> Counted:
    """One more for `key` in this window, or TooManyRequests(`refused` % minutes to wait)
    when that is more than `free` (and then nothing stays counted)."""
    start = window_start(now, window)
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _upsert_sql(conn.capabilities.dialect), [kind, key[:254], start]
    )
    counted = Counted(kind, key[:254], start)
    if rows[0]["count"] > free:
        await uncount(counted)
        minutes = int((start + window - now).total_seconds() // 60) + 1
        raise TooManyRequests(refused % {"minutes": minutes})
    return counted


async def uncount(*counted: Counted) -> None:
    """Take counts back (the attempt was refused, or made nothing)."""
    conn = connections.get("default")
    marks = _marks(conn.capabilities.dialect)
    for c in counted:
        await conn.execute_query(
            'UPDATE "window_counts" SET "count" = "count" - 1 '  # noqa: S608
            f'WHERE "kind" = {marks[0]} AND "key" = {marks[1]} AND "window_start" = {marks[2]}',
            [c.kind, c.key, c.window_start],
        )


async def purge(*, now: datetime, older_than: timedelta) -> int:
    """Delete the counts of windows that ended `older_than` ago or more."""
    conn = connections.get("default")
    mark = _marks(conn.capabilities.dialect)[0]
    deleted, _rows = await conn.execute_query(
        f'DELETE FROM "window_counts" WHERE "window_start" < {mark}',  # noqa: S608
        [now - older_than],
    )
    return deleted


def _marks(dialect: str) -> tuple[str, str, str]:
    return ("$1", "$2", "$3") if dialect == "postgres" else ("?", "?", "?")
