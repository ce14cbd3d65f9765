"""Cancelling a subscription by the rules shown before payment: a reservation is released;
an active subscription is refunded by the quote of the day, its plot freed, its coming farm
stays cancelled and its unused vouchers voided, in one transaction."""

from __future__ import annotations

import contextlib
from datetime import date, datetime

from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.audit import records
from farm.audit.models import CorrectionAction, RecordKind
from farm.errors import Conflict
from farm.i18n import _
from farm.land.models import PlotClaim
from farm.partners.bookings import cancel_stays_of
from farm.payments import refunds
from farm.payments.gateway import Gateway, PaymentProviderError
from farm.payments.models import Payment, PaymentStatus, RefundReason
from farm.subscriptions import claims
from farm.subscriptions.models import Status, Subscription
from farm.subscriptions.services import own_subscription, release_reservation, subscription_view
from farm.vouchers.services import void_vouchers


async def cancel_subscription(
    *,
    customer: User,
    subscription_id: int,
    today: date,
    now: datetime,
    gateway: Gateway,
    by: User | None = None,
    reason: str = "",
) -> Subscription:
    """Cancel by the rules shown before payment: a reservation is simply released; an active
    subscription is refunded in full before the season starts, and for the ship days whose
    cutoff has not passed after it starts. The plot is freed. `by`: the manager who cancels
    for the customer (farm.lifecycle.care), whose `reason` is kept in the audit trail with
    the cancellation."""
    sub = await own_subscription(customer=customer, subscription_id=subscription_id)
    if sub.status == Status.PENDING_PAYMENT:
        open_intents = await Payment.filter(
            subscription_id=sub.id, status=PaymentStatus.REQUIRES_PAYMENT
        ).values_list("intent_id", flat=True)
        if await release_reservation(subscription_id=sub.id, now=now):
            for intent_id in open_intents:
                # An unpaid intent left open costs nothing; a late payment on it is refunded.
                with contextlib.suppress(PaymentProviderError):
                    await gateway.cancel(intent_id)
            await sub.refresh_from_db()
            return sub
        raise Conflict(
            _("This plot was paid for a moment ago. To cancel it, use its page in your account.")
        )
    view = await subscription_view(customer=customer, subscription_id=subscription_id, today=today)
    sub = view.subscription
    if sub.status != Status.ACTIVE or view.refund is None or view.payment is None:
        raise Conflict(_("This subscription can no longer be cancelled."))
    quote = view.refund
    payment = view.payment
    # The cancellation and its refund attempt commit together, before Stripe is called: the
    # customer's plot is freed and the subscription stays cancelled whatever Stripe answers;
    # the refund is then sent, retried on its key, and followed to its end (the manager sees
    # one that fails). The quote is the one of the day the customer cancelled.
    refund_id = None
    async with in_transaction() as conn:
        locked = await Subscription.select_for_update().using_db(conn).get(id=sub.id)
        if locked.status != Status.ACTIVE:
            raise Conflict(_("This subscription can no longer be cancelled."))
        locked.status = Status.REFUNDED
        locked.cancelled_at = now
        locked.cancel_reason = "manager" if by is not None else "customer"
        locked.refunded_fen = quote.refund_fen
        await locked.save(using_db=conn)
        if by is not None:
            await records.keep(
                conn, manager=by, kind=RecordKind.SUBSCRIPTION, record_id=sub.id,
                label=sub.plot.code, action=CorrectionAction.CANCELLED,
                before={"status": str(Status.ACTIVE)},
                after={"status": str(Status.REFUNDED), "refunded_fen": str(quote.refund_fen)},
                reason=reason, day=today, now=now,
            )  # fmt: skip
        if quote.refund_fen > 0:
            refund = await refunds.open_refund(
                payment_id=payment.id, amount_fen=quote.refund_fen,
                reason=RefundReason.CUSTOMER_CANCEL, now=now, conn=conn,
            )  # fmt: skip
            refund_id = refund.id
        await claims.lock_plan(conn, locked.plan_id)
        if await PlotClaim.filter(subscription_id=sub.id).using_db(conn).delete():
            await claims.give_back_place(conn, locked.plan_id)
        await cancel_stays_of(subscription_id=sub.id, now=now, conn=conn)
        await void_vouchers(subscription_id=sub.id, now=now, conn=conn)
    if refund_id is not None:
        await refunds.submit_refund(refund_id, now=now, gateway=gateway)
    await sub.refresh_from_db()
    return sub
