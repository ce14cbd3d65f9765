"""Cancelling a subscription by the rules shown before payment: a reservation is released;
an active subscription is refunded by the quote of the day, its plot freed, its coming farm
stays cancelled and its unused vouchers voided, in one transaction, with the mail that says
so queued in it. `cancellation_preview` is what the confirmation page states first."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.audit import records
from farm.audit.models import CorrectionAction, RecordKind
from farm.errors import Conflict
from farm.i18n import _, localized
from farm.land import places
from farm.land.models import PlotClaim
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.partners.bookings import cancel_stays_of
from farm.partners.models import Booking, BookingStatus
from farm.payments import refunds
from farm.payments.gateway import Gateway, PaymentProviderError
from farm.payments.models import Payment, PaymentStatus, RefundReason
from farm.subscriptions.models import Status, Subscription
from farm.subscriptions.rules import RefundQuote
from farm.subscriptions.services import (
    SubscriptionView,
    own_subscription,
    release_reservation,
    subscription_view,
)
from farm.units import format_yuan
from farm.vouchers.models import Voucher, VoucherStatus
from farm.vouchers.services import kind_label, void_vouchers


def refund_rule(quote: RefundQuote) -> str:
    """The rule that gives this refund, in words."""
    if quote.before_start:
        return _("The season has not started yet, so the whole price is refunded.")
    return _(
        "The season has started: %(n)d of its %(total)d shipments are not yet being packed, "
        "so that share of the price is refunded."
    ) % {"n": quote.undelivered, "total": quote.total}


@dataclass(frozen=True)
class EndingStay:
    partner: str
    first_night: date
    last_night: date


@dataclass(frozen=True)
class CancellationPreview:
    """What cancelling today would do, stated before the customer confirms."""

    view: SubscriptionView
    quote: RefundQuote
    rule: str
    stays: list[EndingStay]  # booked farm stays that would be cancelled
    vouchers: list[tuple[str, int]]  # the unused vouchers that would be voided: kind, how many


async def _ending(subscription_id: int, conn=None) -> tuple[list[EndingStay], list[str]]:
    """The coming stays, and the kinds of the unused vouchers (one each), that end with it."""
    booked = await (
        Booking.filter(subscription_id=subscription_id, status=BookingStatus.BOOKED)
        .using_db(conn)
        .order_by("first_night")
        .prefetch_related("partner")
    )
    stays = [
        EndingStay(b.partner.name, b.first_night, b.first_night + timedelta(days=b.nights - 1))
        for b in booked
    ]
    kinds = await (
        Voucher.filter(subscription_id=subscription_id, status=VoucherStatus.ISSUED)
        .using_db(conn)
        .order_by("kind", "id")
        .values_list("kind", flat=True)
    )
    return stays, list(kinds)


def voucher_counts(kinds: list[str]) -> list[tuple[str, int]]:
    """(label, how many) by kind, in the current language."""
    counted: dict[str, int] = {}
    for kind in kinds:
        counted[kind] = counted.get(kind, 0) + 1
    return [(kind_label(kind), n) for kind, n in counted.items()]


def _refused() -> Conflict:
    return Conflict(
        _(
            "This subscription cannot be cancelled: nothing paid for it can be refunded "
            "any more (every box is packed or sent, or it was never paid for)."
        )
    )


async def cancellation_preview(
    *, customer: User, subscription_id: int, today: date
) -> CancellationPreview:
    """The refund a cancellation today gives, the rule that gives it, and what else ends
    (booked farm stays, unused vouchers). Conflict when there is nothing to cancel."""
    view = await subscription_view(customer=customer, subscription_id=subscription_id, today=today)
    if not view.cancellable or view.refund is None:
        raise _refused()
    stays, vouchers = await _ending(view.subscription.id)
    return CancellationPreview(
        view, view.refund, refund_rule(view.refund), stays, voucher_counts(vouchers)
    )


async def cancel_subscription(
    *,
    customer: User,
    subscription_id: int,
    today: date,
    now: datetime,
    gateway: Gateway,
    links: Links | None = None,
    by: User | None = None,
    reason: str = "",
) -> Subscription:
    """Cancel by the rules shown before payment: a reservation is simply released; an active
    subscription is refunded in full before the season starts, and for the ship days whose
    cutoff has not passed after it starts. The plot is freed, coming stays are cancelled,
    unused vouchers voided, and the customer is mailed once what ended and what comes back
    (with a link to the subscription when `links` is given). `by`: the manager who cancels
    for the customer (farm.lifecycle.care), whose `reason` is kept in the audit trail with
    the cancellation and told to the customer."""
    by_manager = by is not None
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
    if sub.status != Status.ACTIVE:
        raise Conflict(_("This subscription can no longer be cancelled."))
    if not view.cancellable or view.refund is None or view.payment is None:
        raise _refused()
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
        locked.cancel_reason = "manager" if by_manager else "customer"
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
        await places.give_back(
            conn, locked.plan_id, PlotClaim.filter(subscription_id=sub.id).using_db(conn).delete
        )
        stays, vouchers = await _ending(sub.id, conn)
        await cancel_stays_of(subscription_id=sub.id, now=now, conn=conn)
        await void_vouchers(subscription_id=sub.id, now=now, conn=conn)
        await _queue_cancelled_mail(
            view, customer=customer, quote=quote, stays=stays, vouchers=vouchers,
            reason=reason, by_manager=by_manager, links=links, now=now, conn=conn,
        )  # fmt: skip
    if refund_id is not None:
        await refunds.submit_refund(refund_id, now=now, gateway=gateway)
    await sub.refresh_from_db()
    return sub


async def _queue_cancelled_mail(
    view: SubscriptionView,
    *,
    customer: User,
    quote: RefundQuote,
    stays: list[EndingStay],
    vouchers: list[str],
    reason: str | None,
    by_manager: bool,
    links: Links | None,
    now: datetime,
    conn,
) -> None:
    sub = view.subscription
    code = sub.plot.code
    season = sub.season

    def render() -> Letter:
        subject = _("Plot %(code)s is cancelled; %(amount)s is refunded") % {
            "code": code, "amount": "¥" + format_yuan(quote.refund_fen),
        }  # fmt: skip
        return Letter("cancelled", subject, {
            "name": customer.name, "code": code,
            "season": localized(season.name, season.name_en),
            "amount": "¥" + format_yuan(quote.refund_fen), "rule": refund_rule(quote),
            "stays": stays, "vouchers": voucher_counts(vouchers), "reason": reason or "",
            "by_manager": by_manager,
            "link": links.subscription(sub.id) if links else "",
        })  # fmt: skip

    await queue_mail(
        user=customer, key=f"cancelled:{sub.id}", render=render, now=now, conn=conn,
        cooperative_id=season.cooperative_id,
    )  # fmt: skip
