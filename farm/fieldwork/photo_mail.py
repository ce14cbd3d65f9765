"""Telling families that new photos of their plot are up: one mail a subscription a day at
most, queued in the transaction that writes the photos (the outbox's unique key holds the
daily limit whichever request or process queues it). Bulk mail: a family can turn it off."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from farm.fieldwork.models import WorkEntry
from farm.i18n import _
from farm.letters import Letter
from farm.notifications.services import Unsubscribing, queue_mail
from farm.subscriptions.models import Status, Subscription


def mail_key(*, subscription_id: int, today: date) -> str:
    return f"photos:{subscription_id}:{today.isoformat()}"


async def tell_families(
    conn: BaseDBAsyncClient, *, entry: WorkEntry, plot_ids: list[int], count: int,
    today: date, now: datetime, unsubscribing: Unsubscribing,
) -> int:  # fmt: skip
    """Queue the mail for each active subscription of the entry's plots (every plot of its
    field for whole-field work) whose season holds the day; how many were queued."""
    subs = Subscription.filter(
        status=Status.ACTIVE,
        plot__field_id=entry.field_id,
        season__starts_on__lte=entry.worked_on,
        season__ends_on__gt=entry.worked_on,
    )
    if not entry.whole_field:
        subs = subs.filter(plot_id__in=plot_ids)
    queued = 0
    for sub in await subs.using_db(conn).prefetch_related("customer", "plot"):
        queued += await queue_mail(
            user=sub.customer,
            key=mail_key(subscription_id=sub.id, today=today),
            render=lambda sub=sub: photos_letter(
                sub=sub, count=count, caption=entry.notes, unsubscribing=unsubscribing
            ),
            now=now,
            conn=conn,
            cooperative_id=entry.cooperative_id,
            unsubscribing=unsubscribing,
        )
    return queued


def photos_letter(
    *, sub: Subscription, count: int, caption: str, unsubscribing: Unsubscribing
) -> Letter:
    return Letter(
        "photos",
        _("New photos of your plot %(code)s") % {"code": sub.plot.code},
        {
            "sign_name": sub.sign_name,
            "code": sub.plot.code,
            "count": count,
            "caption": caption,
            "link": unsubscribing.links.subscription(sub.id, "plot"),
        },
    )
