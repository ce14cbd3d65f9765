"""Payment use cases that know no subscription's rules: the last attempt and why it failed,
refunds that are due, and Stripe's events applied once. What a succeeded payment means for
its subscription is the caller's `on_paid` (farm.lifecycle.activation): payments stands
below subscriptions and never imports them."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm.payments import refunds
from farm.payments.declines import decline_message
from farm.payments.gateway import Event, Gateway, Intent, IntentGone
from farm.payments.models import Payment, PaymentStatus, ProcessedEvent

REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.REFUND_DUE)


class OnPaid(Protocol):
    """Applies a succeeded intent within the event's transaction; returns the id of a refund
    opened there (the money could not be kept), for sending once committed, or None."""

    def __call__(
        self, intent: Intent, *, now: datetime, conn: BaseDBAsyncClient
    ) -> Awaitable[int | None]: ...


async def last_attempt(*, subscription_id: int) -> Payment | None:
    """The subscription's most recent payment attempt, whatever became of it."""
    return (
        await Payment.filter(subscription_id=subscription_id).order_by("-created_at", "-id").first()
    )


def failure_message(payment: Payment) -> str:
    """A closed attempt's reason, in the reader's language."""
    return decline_message(payment.failure_code, payment.failure_code, method=payment.method)


async def refund_due_payments(*, now: datetime, gateway: Gateway) -> int:
    """Send every refund attempt still requested (a scheduler job): the same key each time,
    so Stripe makes each refund once. Returns how many Stripe accepted."""
    return await refunds.submit_due_refunds(now=now, gateway=gateway)


# Events whose intent is read again from Stripe before anything is applied.
VERIFIED_EVENTS = ("payment_intent.succeeded", "payment_intent.canceled")


async def as_stripe_holds_it(event: Event, *, gateway: Gateway) -> Event:
    """The event with its intent as Stripe holds it now, for the events that change a payment
    of ours: a signed body is only as safe as the webhook secret, so what it says of the
    amount, currency and status is never applied; the id is all it is trusted with. The
    intent comes back expanded, so a card payment's receipt shows the card's last 4. An intent
    Stripe does not know can never be paid: it is taken as cancelled. Raises
    PaymentProviderError when Stripe cannot answer: the webhook then fails, and Stripe
    delivers the event again later."""
    intent = event.intent
    if event.type not in VERIFIED_EVENTS or intent is None:
        return event
    ours = Payment.filter(intent_id=intent.id)
    if event.type == "payment_intent.succeeded":
        ours = ours.exclude(status__in=PAID)  # a paid one is not paid again: Stripe not asked
    else:
        ours = ours.filter(status=PaymentStatus.REQUIRES_PAYMENT)
    if not await ours.exists():
        return event
    try:
        fetched = await gateway.retrieve(intent.id)
    except IntentGone:
        fetched = Intent(id=intent.id, client_secret="", status="canceled", amount_fen=0)
    return replace(event, intent=fetched)


async def apply_event(event: Event, *, now: datetime, gateway: Gateway, on_paid: OnPaid) -> bool:
    """Apply a verified provider event exactly once. False if it was seen before. A succeeded
    intent, as retrieved from Stripe (see as_stripe_holds_it), is handed to `on_paid` inside
    the transaction that stores the event id; `on_paid` checks its status, amount and
    currency."""
    event = await as_stripe_holds_it(event, gateway=gateway)
    lost = None
    try:
        # The event id and its effects commit together: applied once, or not at all.
        async with in_transaction() as conn:
            await ProcessedEvent.create(
                event_id=event.id, type=event.type, received_at=now, using_db=conn
            )
            if event.refund is not None and event.type in REFUND_EVENTS:
                await refunds.apply_refund_event(event.refund, now=now, conn=conn)
            elif event.dispute is not None and event.type in DISPUTE_EVENTS:
                await refunds.apply_dispute_event(
                    event.dispute, created=event.created, now=now, conn=conn
                )
            elif event.intent is None:
                pass
            elif event.type == "payment_intent.succeeded":
                lost = await on_paid(event.intent, now=now, conn=conn)
            elif event.type == "payment_intent.payment_failed":
                await (
                    Payment.filter(intent_id=event.intent.id, status=PaymentStatus.REQUIRES_PAYMENT)
                    .using_db(conn)
                    .update(failure_message=event.intent.error_message[:300])
                )
            elif event.type == "payment_intent.canceled" and event.intent.status == "canceled":
                await (
                    Payment.filter(intent_id=event.intent.id, status=PaymentStatus.REQUIRES_PAYMENT)
                    .using_db(conn)
                    .update(status=PaymentStatus.CANCELLED)
                )
    except IntegrityError:
        if await ProcessedEvent.exists(event_id=event.id):
            return False  # a concurrent delivery of the same event won
        raise  # something else collided: fail so that Stripe delivers the event again
    if lost is not None:
        await refunds.submit_refund(lost, now=now, gateway=gateway)
    return True
