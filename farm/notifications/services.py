"""Queueing mail with the change it reports, and delivering what is queued.

A service writes a Notification row in its own transaction (so mail exists exactly when the
change does), rendered in the recipient's language; `deliver_pending` sends what is unsent. The
scheduler runs it every 30 seconds (the `send_mail` job), and retries what failed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.i18n import use_language
from farm.mail import Mail, Mailer
from farm.notifications.models import Notification

log = logging.getLogger("farm.notifications")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)  # longer than any SMTP conversation


async def queue_mail(
    *,
    user: User,
    key: str,
    render: Callable[[], tuple[str, str]],
    now: datetime,
    conn: BaseDBAsyncClient | None = None,
) -> bool:
    """Queue one email for a user, once per key. `render` returns (subject, body) and is
    called in the user's language. False when that key was queued before.

    Within the caller's transaction (conn), a duplicate key would abort the transaction on
    PostgreSQL, so the key is checked first; the unique index still has the last word."""
    if await Notification.filter(key=key).using_db(conn).exists():
        return False
    with use_language(user.language):
        subject, body = render()
    try:
        if conn is None:
            await Notification.create(
                user_id=user.id, key=key, to=user.email, subject=subject, body=body,
                created_at=now,
            )  # fmt: skip
        else:
            async with in_transaction() as inner:  # a savepoint inside the caller's work
                await Notification.create(
                    user_id=user.id, key=key, to=user.email, subject=subject, body=body,
                    created_at=now, using_db=inner,
                )  # fmt: skip
    except IntegrityError:
        return False
    return True


async def deliver_pending(*, mailer: Mailer, now: datetime, limit: int = 200) -> int:
    """Send unsent mail, oldest first; each is marked sent only after the mailer took it.
    A sender first takes a lease on a message (a conditional update), so two schedulers
    never send the same message at once; a sender that dies mid-send leaves the lease to
    run out, and the message is sent again then (at least once, never twice at once)."""
    sent = 0
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pending = (
        await Notification.filter(free, sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .limit(limit)
    )
    for note in pending:
        claimed = await Notification.filter(free, id=note.id, sent_at__isnull=True).update(
            attempts=note.attempts + 1, claimed_until=now + LEASE
        )
        if not claimed:
            continue
        try:
            await mailer.send(Mail(to=note.to, subject=note.subject, body=note.body))
        except Exception:  # noqa: BLE001 - a mail server problem must not stop the others
            log.exception("could not send notification %s", note.id)
            continue
        await Notification.filter(id=note.id).update(sent_at=now, claimed_until=None)
        sent += 1
    return sent
