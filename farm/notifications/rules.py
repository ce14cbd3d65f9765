"""Which mail a family may turn off, and how long a failing message is tried."""

from __future__ import annotations

from datetime import datetime, timedelta

# Bulk mail, by kind -> the User flag that says the family wants it. Every other kind is
# transactional (payments, refunds, resets, ship-day changes...): always sent.
BULK = {
    "photos": "mail_photos",
    "announcement": "mail_announcements",
}

FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(days=1)


def is_bulk(kind: str) -> bool:
    return kind in BULK


def wants(kind: str, *, preferences: dict[str, bool]) -> bool:
    """Whether a user with these flags (User.mail_* -> bool) gets mail of this kind."""
    flag = BULK.get(kind)
    return flag is None or preferences.get(flag, True)


def retry_at(*, attempts: int, now: datetime) -> datetime:
    """When to try again after the `attempts`-th failed try: 1, 2, 4... minutes, at most two
    hours apart."""
    wait = min(FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 12), LONGEST_WAIT)
    return now + wait


def gives_up(*, created_at: datetime, now: datetime) -> bool:
    """A message still failing a day after it was queued is not tried again."""
    return now - created_at >= GIVE_UP_AFTER
