"""A subscription turns active when its payment arrives: the payment is marked paid, the
plot's claim kept, the plan's vouchers issued and the activation mails queued, all in one
transaction; or, when the plot cannot be kept, the money goes back in full."""

from __future__ import annotations

import logging
from datetime import date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from farm.bootstrap import Runtime
from farm.gifts import services as gifts
from farm.links import Links
from farm.payments import refunds, rules
from farm.payments import services as payments
from farm.payments.gateway import Event, Intent
from farm.payments.models import Payment, PaymentStatus, RefundReason
from farm.payments.services import PAID
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from farm.vouchers import services as vouchers

log = logging.getLogger("farm.payments")


async def record_success(intent: Intent, *, now: datetime, runtime: Runtime) -> None:
    """Mark the payment paid and the subscription active; idempotent."""
    async with in_transaction() as conn:
        lost = await mark_paid(
            intent, now=now, conn=conn, links=runtime.links, secret=runtime.secret,
            today=runtime.settings.local_date(now),
        )  # fmt: skip
    if lost is not None:
        await refunds.submit_refund(lost, now=now, gateway=runtime.gateway)


async def mark_paid(
    intent: Intent, *, now: datetime, conn: BaseDBAsyncClient, links: Links, secret: str = "",
    today: date | None = None,
) -> int | None:  # fmt: skip
    """Within the caller's transaction. When the money arrived but cannot be kept (another
    payment of the subscription was already paid, or the plot was released by the customer
    or lost after the reservation lapsed), a full refund attempt is stored in this same
    transaction, so it cannot be forgotten; its id is returned for the caller to send once
    the transaction is committed.

    `intent` must be Stripe's own answer (a confirm or a retrieve), never a webhook's payload:
    nothing is marked paid unless it succeeded for the payment's amount and currency."""
    found = await Payment.get_or_none(intent_id=intent.id).using_db(conn)
    if found is None:
        return None  # not one of ours
    if not rules.pays_for(
        status=intent.status, amount_fen=intent.amount_fen, currency=intent.currency,
        owed_fen=found.amount_fen, owed_currency=found.currency,
    ):  # fmt: skip
        log.error("intent %s (%s, %s %s) does not pay payment %s (%s %s): not activated",
                  intent.id, intent.status, intent.amount_fen, intent.currency, found.id,
                  found.amount_fen, found.currency)  # fmt: skip
        if intent.status != "succeeded":
            return None  # nothing was taken
        return await _refund_mismatch(found, intent, now=now, conn=conn)
    payment = await _unapplied(found, conn)
    if payment is None:
        return None  # already applied
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = now
    payment.card_last4 = intent.card_last4 or payment.card_last4
    payment.failure_message = ""
    if await _paid_before(payment, conn=conn):
        # An attempt closed here whose cancel never reached Stripe, then paid: the customer
        # paid twice. The subscription keeps the first payment; this one goes back whole.
        log.warning("a second payment %s of subscription %s is refunded",
                    payment.intent_id, payment.subscription_id)  # fmt: skip
        return await _give_back(payment, RefundReason.DUPLICATE, now=now, conn=conn)
    kept = await subscriptions.activate_paid(
        subscription_id=payment.subscription_id, now=now, conn=conn
    )
    if kept:  # its vouchers and mails commit with the activation
        # A gift: its claim code and card (`secret` makes the code); its vouchers are
        # mailed to its recipient when claimed, not to the giver.
        gift = None
        if secret:
            gift = await gifts.on_paid(
                subscription_id=payment.subscription_id, now=now, today=today or now.date(),
                conn=conn, secret=secret, links=links,
            )  # fmt: skip
        await vouchers.on_activated(
            subscription_id=payment.subscription_id, now=now, conn=conn, links=links,
            mail_vouchers=gift is None,
        )  # fmt: skip
        await payment.save(using_db=conn)
        return None
    sub = await Subscription.get(id=payment.subscription_id).using_db(conn)
    if sub.status == Status.PENDING_PAYMENT or sub.cancel_reason == "lapsed":
        sub.cancelled_at = now
        sub.cancel_reason = "plot_lost"
    # Cancelled, with the money to give back: the refund's progress is its own.
    sub.status = Status.REFUNDED
    sub.refunded_fen = payment.amount_fen
    await sub.save(using_db=conn)
    return await _give_back(payment, RefundReason.PLOT_LOST, now=now, conn=conn)


async def _unapplied(found: Payment, conn: BaseDBAsyncClient) -> Payment | None:
    """The payment locked for its outcome, or None when an outcome was applied already.
    Lock order everywhere: the subscription, then its payment (else releases deadlock)."""
    await Subscription.select_for_update().using_db(conn).get(id=found.subscription_id)
    payment = await Payment.select_for_update().using_db(conn).get(id=found.id)
    applied = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.REFUND_DUE)
    return None if payment.status in applied else payment


async def _refund_mismatch(
    found: Payment, intent: Intent, *, now: datetime, conn: BaseDBAsyncClient
) -> int | None:
    """Stripe took money for this payment, but not the amount or currency asked for (the
    intent was changed at Stripe before it was paid): the subscription is not activated, and
    what was taken goes back whole through the refund path, listed for the manager under its
    own reason. The payment row records what Stripe took. None when already applied."""
    payment = await _unapplied(found, conn)
    if payment is None:
        return None  # already applied
    payment.amount_fen = intent.amount_fen
    payment.currency = intent.currency.lower()
    payment.paid_at = now
    payment.card_last4 = intent.card_last4 or payment.card_last4
    return await _give_back(payment, RefundReason.MISMATCH, now=now, conn=conn)


async def _give_back(
    payment: Payment, reason: RefundReason, *, now: datetime, conn: BaseDBAsyncClient
) -> int:
    """The payment is owed back whole: marked so, and its refund attempt stored in the
    caller's transaction (sent once that commits). The attempt's id."""
    payment.status = PaymentStatus.REFUND_DUE
    await payment.save(using_db=conn)
    refund = await refunds.open_refund(
        payment_id=payment.id, amount_fen=payment.amount_fen, reason=reason, now=now, conn=conn
    )
    return refund.id


async def _paid_before(payment: Payment, *, conn: BaseDBAsyncClient) -> bool:
    """Whether another payment of the same subscription was paid (whatever its refunds)."""
    return await (
        Payment.filter(subscription_id=payment.subscription_id, status__in=PAID)
        .exclude(id=payment.id)
        .using_db(conn)
        .exists()
    )


async def apply_event(event: Event, *, now: datetime, runtime: Runtime) -> bool:
    """Apply a verified provider event exactly once (payments.apply_event); a succeeded
    payment activates its subscription in the same transaction. False if seen before."""

    async def on_paid(intent: Intent, *, now: datetime, conn: BaseDBAsyncClient) -> int | None:
        return await mark_paid(
            intent, now=now, conn=conn, links=runtime.links, secret=runtime.secret,
            today=runtime.settings.local_date(now),
        )  # fmt: skip

    return await payments.apply_event(event, now=now, gateway=runtime.gateway, on_paid=on_paid)
