"""Server-side sessions: a signed-in browser is a row of the `sessions` table.

The session cookie carries a random token (32 bytes) and nothing else about the user; the table
keeps the token's SHA-256, the user, when it was opened and last seen, when it expires and
when it ended. Logging out ends the row, so a copy of the cookie taken before opens nothing
afterwards; a password change or reset and a deactivation end every row of the user.

A visitor who never signed in has no row (their CSRF token lives in the cookie alone)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import connections

from farm.accounts.models import Session, User

SESSION_DAYS = 14
LIFETIME = timedelta(days=SESSION_DAYS)
# last_seen_at is written at most this often per session: a page view is a read, not a write
SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_CHARS = 120
TOKEN_BYTES = 32
TOKEN_KEY = "sid"  # the only key of a signed-in browser's session cookie


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def csrf_secret(token: str, *, secret: str) -> str:
    """A signed-in session's CSRF token: derived from its session token (not stored)."""
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Opened:
    id: int
    last_seen_at: datetime


async def open_session(*, user: User, user_agent: str, now: datetime) -> str:
    """A new session for `user`; its token, for the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await Session.create(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + LIFETIME,
        user_agent=user_agent[:USER_AGENT_CHARS],
    )
    return token


@functools.cache
def _session_user_sql(dialect: str) -> str | None:
    """Built on first use: the model's columns are complete only once Tortoise is set up."""
    marks = {"postgres": ("$1", "$2"), "sqlite": ("?", "?")}.get(dialect)
    if marks is None:
        return None
    columns = ", ".join(f'u."{c}"' for c in User._meta.fields_db_projection.values())
    return (
        f'SELECT {columns}, s."id" AS "session_id", s."last_seen_at" AS "session_seen" '  # noqa: S608
        'FROM "sessions" s JOIN "users" u ON u."id" = s."user_id" '
        f'WHERE s."token_hash" = {marks[0]} AND s."ended_at" IS NULL '
        f'AND s."expires_at" > {marks[1]} AND u."is_active"'
    )


async def session_user(token: str, *, now: datetime) -> tuple[User, Opened] | None:
    """The user of an open session, read on every request: one statement (session and user
    together), the model built from its row without the query builder. None when the session
    ended, expired, or its user is deactivated."""
    conn = connections.get("default")
    sql = _session_user_sql(conn.capabilities.dialect)
    if sql is None:  # pragma: no cover - the two engines we run are above
        row = await Session.filter(
            token_hash=token_hash(token), ended_at__isnull=True, expires_at__gt=now
        ).first()
        user = await User.get_or_none(id=row.user_id, is_active=True) if row else None
        return (user, Opened(row.id, row.last_seen_at)) if row and user else None
    rows = await conn.execute_query_dict(sql, [token_hash(token), now])
    if not rows:
        return None
    found = dict(rows[0])
    opened = Opened(found.pop("session_id"), found.pop("session_seen"))
    if isinstance(opened.last_seen_at, str):  # SQLite through a raw query
        opened = Opened(opened.id, datetime.fromisoformat(opened.last_seen_at))
    return User._init_from_db(**found), opened


async def seen(opened: Opened, *, now: datetime) -> None:
    """Note that the session is in use, at most every SEEN_EVERY."""
    if now - opened.last_seen_at >= SEEN_EVERY:
        await Session.filter(id=opened.id).update(last_seen_at=now)


async def end_session(token: str, *, now: datetime) -> None:
    """Log out: this session opens nothing any more, wherever its cookie was copied."""
    await Session.filter(token_hash=token_hash(token), ended_at__isnull=True).update(ended_at=now)


async def end_sessions_of(
    user_id: int, *, now: datetime, keep_id: int | None = None, conn=None
) -> int:
    """End every open session of the user (all but `keep_id`, the one asking); in `conn`'s
    transaction when given (with the password change that ends them)."""
    query = Session.filter(user_id=user_id, ended_at__isnull=True)
    if keep_id is not None:
        query = query.exclude(id=keep_id)
    return await query.using_db(conn).update(ended_at=now)


async def active_sessions(user_id: int, *, now: datetime) -> list[Session]:
    """The user's open sessions, the most recently seen first."""
    return (
        await Session.filter(user_id=user_id, ended_at__isnull=True, expires_at__gt=now)
        .order_by("-last_seen_at", "-id")
        .limit(50)
    )


async def purge(*, now: datetime) -> int:
    """Delete sessions that expired or ended a day ago or more (the scheduler's housekeeping)."""
    before = now - timedelta(days=1)
    return (
        await Session.filter(expires_at__lt=now).delete()
        + await Session.filter(ended_at__lt=before).delete()
    )
