"""Queueing mail with the change it reports, and delivering what is queued.

A service writes a Notification row in its own transaction (so mail exists exactly when the
change does), rendered in the recipient's language from templates/mail/ (farm.letters);
`deliver_pending` sends what is unsent. The scheduler runs it every 30 seconds (the
`send_mail` job): a failed try is retried after a growing wait, and a message still failing a
day after it was queued is marked failed, listed for its cooperative's managers and the
admin (`failed_mail`), and never holds up the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import NotFound
from farm.i18n import _, use_language
from farm.letters import Composed, Letter, as_letter, compose
from farm.links import Links
from farm.mail import Mail, Mailer
from farm.notifications import rules
from farm.notifications.models import Notification
from farm.sql import insert_rows

log = logging.getLogger("farm.notifications")
LEASE = timedelta(minutes=5)  # longer than any SMTP conversation


@dataclass(frozen=True)
class Unsubscribing:
    """What a bulk mail's unsubscribe link needs: the site's links and the secret that signs
    the link's token."""

    links: Links
    secret: str

    def link(self, user_id: int, kind: str) -> str:
        token = _unsubscribe_tokens(self.secret).dumps({"u": user_id, "k": kind})
        return self.links.to(f"/mail/unsubscribe/{token}")


def _unsubscribe_tokens(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="mail-unsubscribe")


async def queue_mail(
    *,
    user: User,
    key: str,
    render: Callable[[], Letter | tuple[str, str]],
    now: datetime,
    conn: BaseDBAsyncClient | None = None,
    cooperative_id: int | None = None,
    unsubscribing: Unsubscribing | None = None,
) -> bool:
    """Queue one email for a user, once per key. `render` returns a Letter (or, as older code
    does, a (subject, body) pair) and is called in the user's language. False when that key
    was queued before, or when it is bulk mail the user chose not to get (bulk mail needs
    `unsubscribing`, for its List-Unsubscribe link). `cooperative_id`: whose managers see it
    if it cannot be delivered (a manager's own cooperative by default).

    Within the caller's transaction (conn), a duplicate key would abort the transaction on
    PostgreSQL, so the key is checked first; the unique index still has the last word."""
    if await Notification.filter(key=key).using_db(conn).exists():
        return False
    with use_language(user.language):
        letter = as_letter(render())
        bulk = rules.is_bulk(letter.kind)
        if bulk and unsubscribing is None:
            raise ValueError(f"bulk mail ({letter.kind}) needs its unsubscribe link")
        if not rules.wants(letter.kind, preferences=_preferences(user)):
            return False
        unsubscribe = unsubscribing.link(user.id, letter.kind) if unsubscribing and bulk else ""
        mail = compose(letter, unsubscribe=unsubscribe)
    row = dict(
        user_id=user.id, key=key, kind=mail.kind, to=user.email, subject=mail.subject[:200],
        body=mail.text, html=mail.html, images=mail.images, unsubscribe=unsubscribe,
        cooperative_id=cooperative_id or user.cooperative_id, created_at=now,
    )  # fmt: skip
    try:
        if conn is None:
            await Notification.create(**row)
        else:
            async with in_transaction() as inner:  # a savepoint inside the caller's work
                await Notification.create(**row, using_db=inner)
    except IntegrityError:
        return False
    return True


def _preferences(user: User) -> dict[str, bool]:
    return {flag: bool(getattr(user, flag)) for flag in rules.BULK.values()}


async def deliver_pending(
    *, mailer: Mailer, now: datetime, domain: str = "localhost", limit: int = 200
) -> int:
    """Send unsent mail that is due, oldest first; each is marked sent only after the mailer
    took it. A sender first takes a lease on a message (a conditional update), so two
    schedulers never send the same message at once; a sender that dies mid-send leaves the
    lease to run out, and the message is sent again then (at least once, never twice at
    once). A failed try sets the next one further off; a day after it was queued a failing
    message is marked failed. Bulk mail whose recipient has since said no is dropped.
    `domain`: the service's own, for Message-IDs."""
    sent = 0
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pending = (
        await Notification.filter(free, sent_at__isnull=True, failed_at__isnull=True)
        .order_by("id")
        .limit(limit)
        .prefetch_related("user")
    )
    for note in pending:
        claimed = await Notification.filter(free, id=note.id, sent_at__isnull=True).update(
            attempts=note.attempts + 1, claimed_until=now + LEASE
        )
        if not claimed:
            continue
        user: User = note.user
        if not rules.wants(note.kind, preferences=_preferences(user)):
            await Notification.filter(id=note.id).update(
                failed_at=now, claimed_until=None, last_error="unsubscribed"
            )
            continue
        try:
            await mailer.send(_mail_of(note, user=user, domain=domain))
        except Exception as error:  # noqa: BLE001 - a mail server problem must not stop the others
            log.exception("could not send notification %s", note.id)
            await _failed(note, error=error, now=now)
            continue
        await Notification.filter(id=note.id).update(sent_at=now, claimed_until=None)
        sent += 1
    return sent


def _mail_of(note: Notification, *, user: User, domain: str) -> Mail:
    with use_language(user.language):
        from_name = _("Our Farm Plot")
    return Mail(
        to=note.to, subject=note.subject, body=note.body, html=note.html,
        images=dict(note.images or {}), from_name=from_name,
        message_id=f"<notification-{note.id}.{note.created_at:%Y%m%d%H%M%S}@{domain}>",
        unsubscribe=note.unsubscribe,
    )  # fmt: skip


async def _failed(note: Notification, *, error: Exception, now: datetime) -> None:
    attempts = note.attempts + 1
    reason = f"{type(error).__name__}: {error}"[:300]
    if rules.gives_up(created_at=note.created_at, now=now):
        await Notification.filter(id=note.id).update(
            failed_at=now, claimed_until=None, last_error=reason
        )
    else:
        await Notification.filter(id=note.id).update(
            claimed_until=rules.retry_at(attempts=attempts, now=now), last_error=reason
        )


async def failed_mail(*, cooperative_id: int | None, limit: int = 100) -> list[Notification]:
    """Mail given up on, newest first: a cooperative's (its manager's list), or every
    cooperative's and the platform's own (cooperative_id None: the admin's)."""
    query = Notification.filter(failed_at__isnull=False).exclude(last_error="unsubscribed")
    if cooperative_id is not None:
        query = query.filter(cooperative_id=cooperative_id)
    return await query.order_by("-failed_at", "-id").limit(limit)


async def check_unsubscribe(*, token: str, secret: str) -> tuple[User, str]:
    """The user and the bulk kind a signed unsubscribe link names; NotFound for a bad link."""
    try:
        data = _unsubscribe_tokens(secret).loads(token)
        user_id, kind = int(data["u"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(_("This link is not valid.")) from None
    user = await User.get_or_none(id=user_id)
    if kind not in rules.BULK or user is None:
        raise NotFound(_("This link is not valid."))
    return user, kind


async def unsubscribe(*, token: str, secret: str) -> tuple[User, str]:
    """Turn off the kind of bulk mail a signed unsubscribe link names, for its user; the same
    link works again (nothing more changes). (user, kind); NotFound for a bad link."""
    user, kind = await check_unsubscribe(token=token, secret=secret)
    await User.filter(id=user.id).update(**{rules.BULK[kind]: False})
    return user, kind


async def set_mail_choices(*, user: User, choices: dict[str, bool]) -> None:
    """What bulk mail a family gets: flag -> yes/no, for the flags of rules.BULK only."""
    known = {flag: bool(on) for flag, on in choices.items() if flag in rules.BULK.values()}
    if known:
        await User.filter(id=user.id).update(**known)


BULK_CHUNK = 500  # rows per insert when one letter goes to many (and keys read back)
_TOKEN_MARK = "UNSUBSCRIBE-TOKEN-MARK"  # URL-safe, so escaping leaves it as it is
USER_LINK = "https://user-link.invalid/USER-LINK-MARK"  # where queue_many puts each one's link


async def queue_many(
    *,
    user_ids: list[int],
    key: Callable[[int], str],
    render: Callable[[], Letter],
    now: datetime,
    conn: BaseDBAsyncClient,
    cooperative_id: int,
    unsubscribing: Unsubscribing | None,
    link: Callable[[int], str] | None = None,
) -> dict[int, int]:
    """queue_mail for one letter to many users (an announcement to thousands), within the
    caller's transaction: the letter is rendered once per language, not once per user (each
    copy differs only by its signed unsubscribe link), and the rows are inserted a thousand
    at a time. Users who chose not to get this kind of bulk mail get no row. The keys must
    be new (the caller's own record's id in them). Returns user id -> notification id.
    The existing sender (deliver_pending) then delivers them.

    Without `unsubscribing` the mail is not bulk mail (a change to the user's own boxes): no
    unsubscribe link, and everyone gets it. With `link`, the letter carries USER_LINK where
    each user's own link goes, and each copy gets link(user id) there."""
    rendered: dict[str, tuple[Composed, str]] = {}
    queued: dict[int, int] = {}
    flags = list(rules.BULK.values())
    for start in range(0, len(user_ids), BULK_CHUNK):
        chunk = user_ids[start : start + BULK_CHUNK]
        users = (
            await User.filter(id__in=chunk).using_db(conn).values("id", "email", "language", *flags)
        )
        rows = []
        for user in users:
            language = str(user["language"] or "zh_CN")
            if language not in rendered:
                with use_language(language):
                    letter = render()
                    placeholder = (
                        unsubscribing.links.to(f"/mail/unsubscribe/{_TOKEN_MARK}")
                        if unsubscribing is not None
                        else ""
                    )
                    rendered[language] = (compose(letter, unsubscribe=placeholder), letter.kind)
            mail, kind = rendered[language]
            if not rules.wants(kind, preferences={f: bool(user[f]) for f in flags}):
                continue
            token_link = unsubscribing.link(user["id"], kind) if unsubscribing is not None else ""
            token = token_link.rsplit("/", 1)[1] if token_link else ""
            own = link(user["id"]) if link is not None else USER_LINK

            def mark(text: str, token: str = token, own: str = own) -> str:
                return text.replace(_TOKEN_MARK, token).replace(USER_LINK, own)

            rows.append(
                dict(
                    user_id=user["id"], key=key(user["id"]), kind=kind, to=user["email"],
                    subject=mail.subject[:200], body=mark(mail.text), html=mark(mail.html),
                    images=mail.images or None, unsubscribe=token_link,
                    cooperative_id=cooperative_id, created_at=now, attempts=0, last_error="",
                )
            )  # fmt: skip
        if rows:
            await insert_rows(conn, Notification, rows)
            keys = [row["key"] for row in rows]
            for note_id, user_id in (
                await Notification.filter(key__in=keys).using_db(conn).values_list("id", "user_id")
            ):
                queued[user_id] = note_id
    return queued
