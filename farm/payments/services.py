"""Payment use cases: open a PaymentIntent, pay with a card, apply Stripe's events once."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict
from farm.i18n import _
from farm.payments import refunds
from farm.payments.gateway import Event, Gateway, Intent, PaymentProviderError
from farm.payments.models import Payment, PaymentStatus, ProcessedEvent, RefundReason
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import PlotClaim, Status, Subscription
from farm.subscriptions.rules import is_lapsed
from farm.vouchers import services as vouchers

log = logging.getLogger("farm.payments")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")


@dataclass(frozen=True)
class PayOutcome:
    status: str  # "succeeded", "requires_action", "declined"
    client_secret: str = ""
    message: str = ""


async def _payable(*, customer: User, subscription_id: int, now: datetime) -> Subscription:
    sub = await subscriptions.own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status != Status.PENDING_PAYMENT:
        raise Conflict(_("This subscription is not waiting for payment."))
    claim = await PlotClaim.get_or_none(subscription_id=sub.id)
    if claim is None or is_lapsed(expires_at=claim.expires_at, now=now):
        raise Conflict(
            _("Your reservation has lapsed and the plot was released. Please pick a plot again.")
        )
    if not subscriptions.has_address(sub):
        raise Conflict(_("Enter the delivery address first."))
    return sub


async def open_payment(
    *, customer: User, subscription_id: int, gateway: Gateway, now: datetime
) -> Payment:
    """The PaymentIntent to pay this reservation with, created once and then reused."""
    sub = await _payable(customer=customer, subscription_id=subscription_id, now=now)
    existing = await Payment.filter(
        subscription_id=sub.id, status=PaymentStatus.REQUIRES_PAYMENT
    ).first()
    if existing is not None:
        return existing
    attempt = await Payment.filter(subscription_id=sub.id).count() + 1
    try:
        intent = await gateway.create_intent(
            amount_fen=sub.price_fen,
            metadata={"subscription_id": str(sub.id)},
            idempotency_key=f"subscription-{sub.id}-intent-{attempt}",
        )
    except PaymentProviderError as exc:
        log.warning("could not open a PaymentIntent for subscription %s: %s", sub.id, exc)
        raise Conflict(
            _("Payment is unavailable just now. Please try again in a minute.")
        ) from None
    try:
        return await Payment.create(
            subscription_id=sub.id,
            intent_id=intent.id,
            client_secret=intent.client_secret,
            amount_fen=sub.price_fen,
            created_at=now,
        )
    except IntegrityError:  # a parallel request stored the same intent
        return await Payment.get(intent_id=intent.id)


async def pay_with_card(
    *,
    customer: User,
    subscription_id: int,
    card_id: str,
    gateway: Gateway,
    now: datetime,
    base_url: str = "",
) -> PayOutcome:
    """Charge the card Stripe.js tokenised. A declined card leaves the plot reserved."""
    payment = await open_payment(
        customer=customer, subscription_id=subscription_id, gateway=gateway, now=now
    )
    try:
        intent = await gateway.pay_with_card(intent_id=payment.intent_id, card_id=card_id)
    except PaymentProviderError:
        raise Conflict(
            _("The card could not be charged just now. Nothing was taken; please try again.")
        ) from None
    if intent.status in ("succeeded", "processing"):
        if intent.status == "succeeded":
            await record_success(intent, now=now, gateway=gateway, base_url=base_url)
        return PayOutcome("succeeded")
    if intent.status == "requires_action":
        return PayOutcome("requires_action", client_secret=intent.client_secret)
    # A declined attempt is closed; the next try gets a fresh PaymentIntent.
    await Payment.filter(id=payment.id, status=PaymentStatus.REQUIRES_PAYMENT).update(
        status=PaymentStatus.FAILED, failure_message=intent.error_message[:300]
    )
    with contextlib.suppress(PaymentProviderError):
        await gateway.cancel(payment.intent_id)
    return PayOutcome("declined", message=decline_message(intent.error_code))


def decline_message(code: str) -> str:
    messages = {
        "card_declined": _("Your card was declined. Try another card."),
        "insufficient_funds": _("Your card has insufficient funds. Try another card."),
        "expired_card": _("Your card has expired. Try another card."),
        "incorrect_cvc": _("The card's security code is wrong."),
    }
    return messages.get(code, _("The payment did not go through. Try another card."))


async def check_return(
    *, customer: User, subscription_id: int, gateway: Gateway, now: datetime, base_url: str = ""
) -> Subscription:
    """On the return page, ask Stripe directly so a late webhook does not keep anyone waiting."""
    sub = await subscriptions.own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status != Status.PENDING_PAYMENT:
        return sub
    payment = await Payment.filter(subscription_id=sub.id).order_by("-created_at").first()
    if payment is not None and payment.status == PaymentStatus.REQUIRES_PAYMENT:
        try:
            intent = await gateway.retrieve(payment.intent_id)
        except PaymentProviderError:
            return sub
        if intent.status == "succeeded":
            await record_success(intent, now=now, gateway=gateway, base_url=base_url)
            await sub.refresh_from_db()
    return sub


async def record_success(
    intent: Intent, *, now: datetime, gateway: Gateway, base_url: str = ""
) -> None:
    """Mark the payment paid and the subscription active; idempotent."""
    async with in_transaction() as conn:
        lost = await _mark_paid(intent, now=now, conn=conn, base_url=base_url)
    if lost is not None:
        await refunds.submit_refund(lost, now=now, gateway=gateway)


async def _mark_paid(
    intent: Intent, *, now: datetime, conn: BaseDBAsyncClient, base_url: str = ""
) -> int | None:
    """Within the caller's transaction. When the money arrived but the plot cannot be kept
    (released by the customer, or lost after the reservation lapsed), a full refund attempt
    is stored in this same transaction, so it cannot be forgotten; its id is returned for
    the caller to send once the transaction is committed."""
    found = await Payment.get_or_none(intent_id=intent.id).using_db(conn)
    if found is None:
        return None  # not one of ours
    # Lock order everywhere: the subscription, then its payment (else releases deadlock).
    await Subscription.select_for_update().using_db(conn).get(id=found.subscription_id)
    payment = await Payment.select_for_update().using_db(conn).get(id=found.id)
    if payment.status in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.REFUND_DUE,
    ):
        return None  # already applied
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = now
    payment.card_last4 = intent.card_last4 or payment.card_last4
    payment.failure_message = ""
    kept = await subscriptions.activate_paid(
        subscription_id=payment.subscription_id, now=now, conn=conn
    )
    if kept:  # its vouchers and mails commit with the activation
        await vouchers.on_activated(
            subscription_id=payment.subscription_id, now=now, conn=conn, base_url=base_url
        )
        await payment.save(using_db=conn)
        return None
    payment.status = PaymentStatus.REFUND_DUE
    await payment.save(using_db=conn)
    sub = await Subscription.get(id=payment.subscription_id).using_db(conn)
    if sub.status == Status.PENDING_PAYMENT or sub.cancel_reason == "lapsed":
        sub.cancelled_at = now
        sub.cancel_reason = "plot_lost"
    # Cancelled, with the money to give back: the refund's progress is its own.
    sub.status = Status.REFUNDED
    sub.refunded_fen = payment.amount_fen
    await sub.save(using_db=conn)
    refund = await refunds.open_refund(
        payment_id=payment.id, amount_fen=payment.amount_fen, reason=RefundReason.PLOT_LOST,
        now=now, conn=conn,
    )  # fmt: skip
    return refund.id


async def refund_due_payments(*, now: datetime, gateway: Gateway) -> int:
    """Send every refund attempt still requested (a scheduler job): the same key each time,
    so Stripe makes each refund once. Returns how many Stripe accepted."""
    return await refunds.submit_due_refunds(now=now, gateway=gateway)


async def apply_event(event: Event, *, now: datetime, gateway: Gateway, base_url: str = "") -> bool:
    """Apply a verified provider event exactly once. False if it was seen before."""
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
                lost = await _mark_paid(event.intent, now=now, conn=conn, base_url=base_url)
            elif event.type == "payment_intent.payment_failed":
                await (
                    Payment.filter(intent_id=event.intent.id, status=PaymentStatus.REQUIRES_PAYMENT)
                    .using_db(conn)
                    .update(failure_message=event.intent.error_message[:300])
                )
            elif event.type == "payment_intent.canceled":
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
