"""Database wiring: the model modules, Tortoise's config, connect/migrate/close."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from farm.settings import Settings

MODEL_MODULES = [
    "farm.accounts.models",
    "farm.land.models",
    "farm.partners.models",
    "farm.subscriptions.models",
    "farm.payments.models",
    "farm.fieldwork.models",
    "farm.shipments.models",
    "farm.vouchers.models",
    "farm.notifications.models",
    "farm.audit.models",
    "farm.announcements.models",
    "farm.gifts.models",
    "farm.renewals.models",
    "farm.cropplans.models",
]


class PooledConnection(asyncpg.Connection):
    """A pooled PostgreSQL connection returned to the pool without asyncpg's reset query
    (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL): one round trip saved on every query.
    Nothing here leaves session state behind: advisory locks are transaction-scoped, there is
    no LISTEN and no SET; asyncpg still rolls back a transaction left open."""

    def get_reset_query(self) -> str:
        return ""


def _connection(db_url: str) -> str | dict[str, Any]:
    if not db_url.startswith(("postgres://", "postgresql://")):
        return db_url
    config = expand_db_url(db_url)
    if config["engine"] == "tortoise.backends.asyncpg":
        config["credentials"]["connection_class"] = PooledConnection
    return config


def tortoise_config(db_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(db_url)},
        "apps": {
            "farm": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "farm.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For `tortoise -c farm.db.TORTOISE_ORM makemigrations` when changing models.
TORTOISE_ORM = tortoise_config("sqlite://data/farm.sqlite3")


async def connect(settings: Settings) -> None:
    """Connect for this process. The context is global so that every task (each request,
    each scheduled job) sees it, not only the one that ran the lifespan."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(
        config=tortoise_config(settings.pooled_db_url), _enable_global_fallback=True
    )


def migration_config(db_url: str) -> dict[str, Any]:
    """The configuration migrations run with. On SQLite, foreign keys are off while they run,
    as SQLite asks of a table made again: tortoise changes a column there by copying the table,
    dropping the old one and renaming the copy, and with foreign keys on, that DROP deletes
    every row that references the table by CASCADE (or fails on RESTRICT). `migrate` checks
    the keys once they are done."""
    config = tortoise_config(db_url)
    if not db_url.startswith(("postgres://", "postgresql://")):
        connection = expand_db_url(db_url)
        connection["credentials"]["foreign_keys"] = "OFF"
        config["connections"]["default"] = connection
    return config


async def migrate(settings: Settings) -> None:
    """Apply every pending migration (idempotent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        await run_migrations(config=migration_config(settings.db_url))
        conn = connections.get("default")
        if conn.capabilities.dialect == "sqlite":
            broken = await conn.execute_query_dict("PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"migrations left rows pointing at no row: {broken[:5]}")
    finally:
        await connections.close_all()


async def close() -> None:
    await Tortoise.close_connections()  # also drops the global fallback


async def is_healthy() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


# What a request meets when PostgreSQL cannot be reached or has no connection left for it:
# the service is unavailable for a moment, not broken.
_UNREACHABLE = (
    ConnectionError,  # refused, reset
    TimeoutError,  # connecting timed out
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
)


def is_unreachable(exc: BaseException) -> bool:
    """Whether an exception, or one it was raised from, says the database is out of reach."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNREACHABLE):
            return True
        if type(current).__name__ == "DBConnectionError":  # tortoise's wrapper
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def pool_size_of(url: str) -> int:
    """The most connections one process opens for a database URL (its maxsize; SQLite: 1)."""
    match = re.search(r"[?&]maxsize=(\d+)", url)
    return int(match.group(1)) if match else 1


def pool_budget_problem(
    workers: int, per_worker: int, max_connections: int, reserved: int
) -> str | None:
    """Why `workers` processes with a pool of `per_worker` each would run PostgreSQL out of
    connections at the busiest minute (the scheduler and a psql session need some too), or
    None when they fit."""
    wanted = workers * per_worker
    available = max_connections - reserved - 5  # the scheduler's pool, a psql session
    if wanted <= available:
        return None
    return (
        f"{workers} workers × {per_worker} connections = {wanted}, but PostgreSQL allows "
        f"{available} (max_connections {max_connections}, {reserved} reserved, 5 kept for the "
        f"scheduler and psql): lower FARM_DB_POOL_SIZE to {max(1, available // workers)} "
        "or raise max_connections, or requests will fail with 503 under load"
    )


async def server_connection_limits(url: str) -> tuple[int, int]:
    """PostgreSQL's max_connections and superuser_reserved_connections."""
    clean = re.sub(r"[?&]maxsize=\d+", "", url).replace("postgres://", "postgresql://", 1)
    conn = await asyncpg.connect(clean, timeout=5)
    try:
        limit = int(await conn.fetchval("SHOW max_connections"))
        reserved = int(await conn.fetchval("SHOW superuser_reserved_connections"))
    finally:
        await conn.close()
    return limit, reserved
