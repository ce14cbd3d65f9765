"""Limits on attempts, kept in the database so they hold across worker processes and
machines: failed logins per account and per client address, sign-ups and password resets per
address and per account, wrong current passwords per account.

The attempts on one key are counted one after another, whatever the number of processes: each
is written and checked in a transaction that first takes an advisory lock on the limit and
key (on SQLite the first write holds the database until commit), so each sees every earlier
one and exactly the limit's free attempts get through a crowd. (Reading the limit before the
new attempt was written let 68 of 100 concurrent wrong passwords be checked; writing first
and counting every attempt in flight, with no lock, could refuse a whole crowd of sign-ups,
every one seeing the others before they were taken back.)

A login refused by the account's limit stays counted, a guess all the same (the
account's owner signs in from a known browser, below); an attempt refused by the other
limits is taken back. One that succeeds is taken back too, where the limit counts failures.

The owner of an account is not locked out by someone else's guesses: a browser that signed in
to the account before carries a device token (`device_cookie`, read back by `device_of`), and
its attempts are counted against that device, not against the account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from tortoise.transactions import in_transaction

from farm.accounts import rules
from farm.accounts.models import Attempt
from farm.errors import TooManyRequests
from farm.i18n import _
from farm.sql import advisory_lock


@dataclass(frozen=True)
class Limit:
    kind: str
    free: int  # attempts in the window that pass
    window: timedelta
    # After the free ones, login_wait's doubling waits (30 s, 1 min, … 15 min) rather than
    # waiting out the window; and a refused attempt stays counted (it was a guess at the
    # account all the same), so a crowd of guesses cannot slip under the limit together.
    doubling: bool = False


LOGIN_ACCOUNT = Limit("login-account", free=5, window=rules.FAILURE_WINDOW, doubling=True)
LOGIN_ADDRESS = Limit("login-address", free=20, window=timedelta(minutes=15))
SIGNUP_ADDRESS = Limit("signup-address", free=10, window=timedelta(hours=1))
RESET_ADDRESS = Limit("reset-address", free=10, window=timedelta(hours=1))
RESET_ACCOUNT = Limit("reset-account", free=3, window=timedelta(hours=1))
# Mails to an account's owner that anyone can set off: "someone tried to sign up with your
# address", and confirmation links sent again.
SIGNUP_ACCOUNT = Limit("signup-account", free=3, window=timedelta(hours=1))
CONFIRM_ACCOUNT = Limit("confirm-account", free=3, window=timedelta(hours=1))
# Gift claim codes tried per client address (farm.gifts): a wrong one stays counted.
GIFT_CODE_ADDRESS = Limit("gift-code-address", free=10, window=timedelta(hours=1))
# Wrong current passwords typed to change a signed-in account's password (a stolen session
# guessing the password it lacks): counted per account, a wrong one stays counted.
PASSWORD_CHANGE = Limit("password-change", free=5, window=timedelta(hours=1))
LIMITS = (
    LOGIN_ACCOUNT, LOGIN_ADDRESS, SIGNUP_ADDRESS, RESET_ADDRESS, RESET_ACCOUNT, SIGNUP_ACCOUNT,
    CONFIRM_ACCOUNT, GIFT_CODE_ADDRESS, PASSWORD_CHANGE,
)  # fmt: skip


def wait_for(limit: Limit, others: list[datetime], *, now: datetime) -> timedelta:
    """How long an attempt must wait, given the times of the other attempts in the window."""
    recent = sorted(at for at in others if now - at < limit.window)
    if limit.doubling:
        return rules.login_wait(failures=recent, now=now, free_attempts=limit.free)
    if len(recent) < limit.free:
        return timedelta(0)
    return max(recent[len(recent) - limit.free] + limit.window - now, timedelta(0))


@dataclass(frozen=True)
class Taken:
    """An attempt that the limit let through; `forgive` takes it back."""

    id: int


async def take(
    limit: Limit, key: str, *, now: datetime, device: str = "", free: int | None = None
) -> Taken:
    """Count one attempt against `limit` for `key` (for `device` only, when given), or raise
    TooManyRequests with how long to wait, counting nothing. `free` overrides the limit's
    free attempts (a setting)."""
    if free is not None:
        limit = Limit(limit.kind, free, limit.window, limit.doubling)
    key = key[:254]
    async with in_transaction() as conn:
        await advisory_lock(conn, f"limit:{limit.kind}:{key}")
        mine = await Attempt.create(kind=limit.kind, key=key, device=device, at=now, using_db=conn)
        others = Attempt.filter(kind=limit.kind, key=key, at__gt=now - limit.window)
        if device:
            others = others.filter(device=device)
        times = await others.exclude(id=mine.id).using_db(conn).values_list("at", flat=True)
        wait = wait_for(limit, list(times), now=now)
        if wait > timedelta(0) and not limit.doubling:
            await Attempt.filter(id=mine.id).using_db(conn).delete()
    if wait > timedelta(0):
        raise TooManyRequests(_wait_message(limit, wait))
    return Taken(mine.id)


def _wait_message(limit: Limit, wait: timedelta) -> str:
    if limit.doubling:
        seconds = int(wait.total_seconds()) + 1
        return _("Too many failed attempts. Try again in %(seconds)d seconds.") % {
            "seconds": seconds
        }
    minutes = int(wait.total_seconds() // 60) + 1
    if limit.kind == PASSWORD_CHANGE.kind:
        return _("Too many wrong passwords. Try again in %(minutes)d minutes.") % {
            "minutes": minutes
        }
    return _("Too many attempts from your network. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }


DEVICE_COOKIE = "farm_device"
DEVICE_MAX_AGE_S = 365 * 24 * 3600


def _devices(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="device")


def device_cookie(*, secret: str, user_id: int, token: str | None = None) -> str:
    """The cookie a browser gets when its owner signs in or resets the password: this user's
    id and a random device token, signed."""
    return _devices(secret).dumps({"u": user_id, "d": token or secrets.token_hex(16)})


def device_of(cookie: str, *, secret: str, user_id: int | None) -> str:
    """The device token of a browser that signed in to this account before, else ''."""
    if not cookie or user_id is None:
        return ""
    try:
        data = _devices(secret).loads(cookie)
    except BadSignature:
        return ""
    if not isinstance(data, dict) or data.get("u") != user_id:
        return ""
    token = data.get("d")
    return token if isinstance(token, str) and len(token) == 32 else ""


async def forgive(*taken: Taken) -> None:
    """Take attempts back (they succeeded, where only failures count)."""
    await Attempt.filter(id__in=[t.id for t in taken]).delete()


async def clear(limit: Limit, key: str) -> None:
    """Forget every attempt on `key` (the account's owner proved who they are)."""
    await Attempt.filter(kind=limit.kind, key=key[:254]).delete()


async def purge(*, now: datetime) -> int:
    """Delete attempts older than the longest window: what the scheduler does hourly, so
    guesses at unknown emails do not pile up."""
    longest = max(limit.window for limit in LIMITS)
    return await Attempt.filter(at__lt=now - longest).delete()
