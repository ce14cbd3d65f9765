"""Database helpers the services share: the dialect, advisory locks, bulk inserts, one row
of one's own or "not found", rows counted by a column, and a query's rows a chunk at a time
in id order."""

from __future__ import annotations

import hashlib
import re
import tempfile
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date
from operator import attrgetter
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from farm.errors import NotFound

M = TypeVar("M", bound=Model)
BATCH_ROWS = 5000  # rows per prepared-statement call


def advisory_key(job: str, on: date, unit: int) -> int:
    """A signed 64-bit PostgreSQL advisory lock key for one job, one date and one unit."""
    job_code = zlib.crc32(job.encode()) % 4096
    key = (job_code << 48) | (on.toordinal() << 24) | (unit & 0xFFFFFF)
    return key - (1 << 63) if key >= (1 << 63) else key


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def try_advisory_lock(
    conn: BaseDBAsyncClient, job: str, on: date, unit: int, *, shared: bool = False
) -> bool:
    """Take a transaction-scoped advisory lock on PostgreSQL, without waiting: False when it
    is held (a `shared` one: held alone). Always True elsewhere: SQLite has one writer at a
    time, and the unique rows decide."""
    if not is_postgres(conn):
        return True
    key = advisory_key(job, on, unit)
    take = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
    rows = await conn.execute_query_dict(f"SELECT {take}($1) AS got", [key])
    return bool(rows[0]["got"])


def name_key(name: str) -> int:
    """A signed 64-bit PostgreSQL advisory lock key for a name (two names that share a key
    only wait for each other)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def advisory_lock(conn: BaseDBAsyncClient, name: str) -> None:
    """Wait for a transaction-scoped advisory lock on `name` on PostgreSQL, so that the
    transactions that take it run one after another. Nothing elsewhere: SQLite has one writer
    at a time, and a transaction's first write holds it until commit."""
    if is_postgres(conn):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [name_key(name)])


async def insert_rows(conn: BaseDBAsyncClient, model: type[Model], rows: list[dict]) -> None:
    """Insert many rows in one prepared statement, without building a model object per row
    (which costs more than the insert at 100,000 boxes). Plain fields go through their own
    conversion, so values are stored exactly as the ORM would store them; foreign keys are
    given as their `<name>_id` columns. Column names come from the model, never from input."""
    if not rows:
        return
    columns = list(rows[0])
    fields_map = model._meta.fields_map
    for c in columns:
        if c not in model._meta.fields_db_projection and c.removesuffix("_id") not in fields_map:
            raise ValueError(f"{model.__name__} has no column {c}")
    if is_postgres(conn):
        marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
    else:
        marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({marks})'  # noqa: S608

    def db_value(column: str, value: object) -> object:
        if column in model._meta.fields_db_projection:
            return fields_map[column].to_db_value(value, model)
        return value  # a foreign key id

    for start in range(0, len(rows), BATCH_ROWS):
        values = [
            [db_value(c, row[c]) for c in columns] for row in rows[start : start + BATCH_ROWS]
        ]
        await conn.execute_many(sql, values)


def _pg_type(model: type[Model], column: str) -> str:
    field = model._meta.fields_map[column]  # a foreign key's `<name>_id` is a field too
    return field.get_for_dialect("postgres", "SQL_TYPE")


async def insert_columns(
    conn: BaseDBAsyncClient,
    model: type[Model],
    *,
    same: dict[str, object],
    columns: dict[str, Sequence[object]],
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert one row per position of the (equally long) lists in `columns`, each row also
    taking the values in `same`; returns the `returning` columns of each row inserted.

    On PostgreSQL this is one statement however many rows, `INSERT ... SELECT FROM unnest()`
    of typed arrays sent in binary: the server plans and runs it once, not once a row as
    with a prepared statement per row. Values are given as the driver takes them (int, str,
    a StrEnum, date, an aware datetime, None). SQLite gets `insert_rows`, and no `returning`.
    Column names come from the model, never from input."""
    count = len(next(iter(columns.values()))) if columns else 0
    if not count:
        return []
    if any(len(values) != count for values in columns.values()):
        raise ValueError("columns of different lengths")
    if not is_postgres(conn):
        if returning:
            raise ValueError("returning is for PostgreSQL only")
        names = list(columns)
        rows = [
            dict(zip(names, row, strict=True)) | same for row in zip(*columns.values(), strict=True)
        ]
        await insert_rows(conn, model, rows)
        return []
    fields_map = model._meta.fields_map
    for c in [*same, *columns, *returning]:
        if c not in fields_map:
            raise ValueError(f"{model.__name__} has no column {c}")
    params: list[object] = [*same.values(), *(list(v) for v in columns.values())]
    constants = [f"${i + 1}::{_pg_type(model, c)}" for i, c in enumerate(same)]
    arrays = [f"${len(same) + i + 1}::{_pg_type(model, c)}[]" for i, c in enumerate(columns)]
    names = ", ".join(f'"{c}"' for c in [*same, *columns])
    values = ", ".join([*constants, *(f"u.c{i}" for i in range(len(columns)))])
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({names})'  # noqa: S608
        f" SELECT {values} FROM unnest({', '.join(arrays)}) AS u({aliases})"
    )
    if not returning:
        await conn.execute_query(sql, params)
        return []
    sql += " RETURNING " + ", ".join(f'"{c}"' for c in returning)
    rows = await conn.execute_query_dict(sql, params)  # execute_query drops an INSERT's rows
    return [tuple(row[c] for c in returning) for row in rows]


def portable(conn: BaseDBAsyncClient, sql: str) -> str:
    """SQL written with PostgreSQL's numbered parameters ($1, $2, …, in any order, each as
    often as needed) in the form the connection's driver takes (`?1`, `?2`, … on SQLite)."""
    if is_postgres(conn):
        return sql
    return re.sub(r"\$(\d+)", r"?\1", sql)


async def select(conn: BaseDBAsyncClient, sql: str, params: list[object]) -> list[dict]:
    """Rows of a read-only query written for `portable`."""
    return await conn.execute_query_dict(portable(conn, sql), params)


async def one_or_not_found(
    query: QuerySet[M],
    missing: str,
    *,
    conn: BaseDBAsyncClient | None = None,
    no_key: bool = False,
) -> M:
    """The row `query` finds, or NotFound(missing). The query says whose it must be (the
    manager's cooperative, the customer), so anyone else's is "not found" too. Within `conn`
    the row is locked (FOR UPDATE, or FOR NO KEY UPDATE with `no_key`: for a caller that
    changes none of its keys and need not stop rows referring to it) for the caller's
    transaction."""
    if conn is not None:
        query = query.select_for_update(no_key=no_key).using_db(conn)
    found = await query.first()
    if found is None:
        raise NotFound(missing)
    return found


async def count_by(query: QuerySet[Any], column: str) -> dict[Any, int]:
    """How many of the rows `query` finds have each value of `column`: one GROUP BY; a value
    with no row is absent."""
    rows = await query.annotate(n=Count("id")).group_by(column).values_list(column, "n")
    return {value: int(n) for value, n in rows}


async def id_chunks(
    query: QuerySet[Any],
    size: int,
    read: Callable[[QuerySet[Any]], Awaitable[Sequence[Any]]] = lambda chunk: chunk,
    id_of: Callable[[Any], int] = attrgetter("id"),
) -> AsyncIterator[list[Any]]:
    """The rows `query` finds, `size` at a time in id order, each chunk read after the last
    one's id (never an offset: rows the caller changes between chunks move nothing). `read`
    fetches a chunk's query (with its select_related or values_list); `id_of` is a row's id."""
    after = 0
    while True:
        rows = list(await read(query.filter(id__gt=after).order_by("id").limit(size)))
        if not rows:
            return
        yield rows
        after = id_of(rows[-1])


COPY_SPOOL_BYTES = 1 << 20  # a copy's first MiB is kept in memory, the rest in a temporary file
COPY_READ_BYTES = 1 << 16


async def copy_csv(
    conn: BaseDBAsyncClient, query: str, args: Sequence[object]
) -> AsyncIterator[bytes]:
    """PostgreSQL only: the rows of a query as CSV written by the server (`COPY ... TO
    STDOUT`), with CRLF line ends as Python's csv writer makes them (a line break inside a
    quoted cell stays as it is). The server formats every cell, so a file of 100,000 rows
    costs this process little more than passing its bytes on. The copy is taken as fast as
    the server sends it into a spooled temporary file (memory stays at a MiB whatever the
    size) and the connection goes back to the pool at once: a slow reader, or many, never
    hold the pool's connections. NULL is an empty cell and an empty string a quoted one
    (""), so write NULLIF(x, '') for text shown empty. `args` are quoted into the query by
    the server ($1, $2, … as usual)."""
    with tempfile.SpooledTemporaryFile(max_size=COPY_SPOOL_BYTES) as spool:

        async def write(chunk: bytes) -> None:
            spool.write(chunk)

        async with conn.acquire_connection() as raw:  # type: ignore[attr-defined]
            await raw.copy_from_query(query, *args, output=write, format="csv")
        spool.seek(0)
        quoted = False  # whether the bytes so far end inside a quoted cell
        while chunk := spool.read(COPY_READ_BYTES):
            if not quoted and b'"' not in chunk:
                yield chunk.replace(b"\n", b"\r\n")
                continue
            out = bytearray()
            for k, piece in enumerate(chunk.split(b"\n")):
                if k:
                    out += b"\n" if quoted else b"\r\n"
                out += piece
                quoted ^= piece.count(b'"') % 2 == 1  # an escaped quote ("") counts twice
            yield bytes(out)


def parameterized(query) -> tuple[str, list[object]]:
    """The SQL a Tortoise query would send and its parameters ($1, $2, … on PostgreSQL), to
    be used inside a statement of one's own (a COPY, say) without writing its filters twice.
    Tortoise has no public call that gives both."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)
