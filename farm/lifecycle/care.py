"""Subscriber care in the manager's console: one subscriber's page with the history of their
subscription (reserved, paid, where the boxes went and how they fared, holds, farm stays,
vouchers, refunds, what managers did and why, announcements received), and cancelling with
a refund on the customer's behalf, with a reason, through the customer's own cancellation
(farm.lifecycle.cancellation: the same rules, refund path and mail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from farm import forms
from farm.accounts.models import User
from farm.announcements import services as announcements
from farm.audit.models import Correction, RecordKind
from farm.errors import Conflict, FieldErrors
from farm.i18n import _
from farm.lifecycle import cancellation
from farm.links import Links
from farm.partners.models import Booking
from farm.payments.console import refund_status_name
from farm.payments.gateway import Gateway
from farm.payments.models import Payment, Refund
from farm.shipments.models import ShipDayHold, Shipment
from farm.sql import one_or_not_found
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher

MAX_REASON = 500


@dataclass(frozen=True)
class Event:
    """One line of a subscription's history: when, what (a code the page words), and what
    it names (amounts, days, codes, a reason...)."""

    at: datetime
    what: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Subscriber:
    view: subscriptions.SubscriptionView  # with the refund the customer would get today
    customer: User
    events: list[Event]
    boxes: list[Shipment]

    @property
    def subscription(self) -> Subscription:
        return self.view.subscription


async def managed_subscription(*, manager: User, subscription_id: int) -> Subscription:
    """A subscription to one of the manager's cooperative's seasons; any other is not
    found."""
    return await one_or_not_found(
        Subscription.filter(
            id=subscription_id, season__cooperative_id=manager.cooperative_id
        ).select_related("customer"),
        _("This subscription does not exist."),
    )


async def subscriber(*, manager: User, subscription_id: int, today: date) -> Subscriber:
    """A subscriber of the manager's cooperative with their subscription's history, oldest
    first. Each kind of record is read in one query."""
    sub = await managed_subscription(manager=manager, subscription_id=subscription_id)
    customer: User = sub.customer
    view = await subscriptions.subscription_view(
        customer=customer, subscription_id=sub.id, today=today
    )
    events = [Event(sub.reserved_at, "reserved")]
    payments = list(await Payment.filter(subscription_id=sub.id).order_by("created_at", "id"))
    for p in payments:
        if p.paid_at is not None:
            events.append(Event(p.paid_at, "paid", {"fen": p.amount_fen, "method": p.method}))
        elif p.status == "failed":
            events.append(Event(p.created_at, "payment_failed", {"method": p.method}))
    refunds = await Refund.filter(payment_id__in=[p.id for p in payments]).order_by("created_at")
    for r in refunds:
        state = refund_status_name(r.status)
        events.append(Event(r.created_at, "refund", {"fen": r.amount_fen, "status": state}))
    boxes = list(await Shipment.filter(subscription_id=sub.id).order_by("ship_on", "id"))
    address = None
    for box in boxes:
        where = (box.recipient, box.phone, box.province, box.city, box.address)
        if address is not None and where != address:
            events.append(Event(box.created_at, "address", {"to": " ".join(where[:1] + where[2:])}))
        address = where
        events.append(Event(box.shipped_at or box.packed_at or box.created_at, "box",
                            {"day": box.ship_on, "status": box.status,
                             "courier": box.courier, "tracking": box.tracking_no}))  # fmt: skip
    for hold in await ShipDayHold.filter(subscription_id=sub.id):
        events.append(Event(hold.created_at, "hold", {"day": hold.ship_on}))
    for stay in await Booking.filter(subscription_id=sub.id).prefetch_related("partner"):
        events.append(Event(stay.created_at, "stay", {"partner": stay.partner.name,
                            "first": stay.first_night, "nights": stay.nights,
                            "status": stay.status}))  # fmt: skip
    vouchers = list(await Voucher.filter(subscription_id=sub.id).order_by("id"))
    if vouchers:
        events.append(Event(vouchers[0].issued_at, "vouchers", {"count": len(vouchers)}))
    for v in vouchers:
        if v.redeemed_at is not None:
            events.append(Event(v.redeemed_at, "redeemed", {"code": v.code}))
        elif v.ended_at is not None:
            events.append(Event(v.ended_at, "voucher_ended", {"code": v.code, "status": v.status}))
    for c in await Correction.filter(
        kind=RecordKind.SUBSCRIPTION, record_id=sub.id, cooperative_id=manager.cooperative_id
    ).prefetch_related("made_by"):
        events.append(Event(c.made_at, "by_manager", {"who": c.made_by.name, "action": c.action,
                            "reason": c.reason, **c.after}))  # fmt: skip
    if sub.cancelled_at is not None:
        events.append(Event(sub.cancelled_at, "cancelled", {"by": sub.cancel_reason}))
    assert manager.cooperative_id is not None
    for a in await announcements.received_by(
        user_id=customer.id, cooperative_id=manager.cooperative_id
    ):
        if a.season_id == sub.season_id:
            events.append(Event(a.created_at, "announcement", {"id": a.id, "subject": a.subject}))
    events.sort(key=lambda e: e.at)
    return Subscriber(view=view, customer=customer, events=events, boxes=boxes)


def read_reason(value: str) -> str:
    """Why a manager cancels for the customer: required, at most 500 characters."""
    if not value.strip():
        raise forms.Problem("required", _("Say why this subscription is cancelled."))
    return forms.text(value, limit=MAX_REASON, one_line=False)


async def cancel_for_customer(
    *,
    manager: User,
    subscription_id: int,
    reason: str,
    refund_fen: str,
    today: date,
    now: datetime,
    gateway: Gateway,
    links: Links | None = None,
) -> Subscription:
    """Cancel an active subscription of the manager's cooperative for its customer (who
    phoned in, say) by the customer's own rules: the same refund of the day, through the
    same Stripe path, the plot freed, stays cancelled, vouchers voided; the manager and the
    reason are kept in the audit trail. `refund_fen` is the refund the manager confirmed:
    refused when today's is another (the day turned). Nothing changes when refused."""
    sub = await managed_subscription(manager=manager, subscription_id=subscription_id)
    form = forms.Form()
    why = form.read("reason", read_reason, reason)
    form.check()
    assert why is not None
    if sub.status != Status.ACTIVE:
        raise Conflict(_("This subscription can no longer be cancelled."))
    view = await subscriptions.subscription_view(
        customer=sub.customer, subscription_id=sub.id, today=today
    )
    if view.refund is None:
        raise Conflict(_("This subscription can no longer be cancelled."))
    if str(view.refund.refund_fen) != refund_fen.strip():
        raise FieldErrors(
            {"reason": _("The refund has changed since you looked: check it again below.")}
        )
    return await cancellation.cancel_subscription(
        customer=sub.customer, subscription_id=sub.id, today=today, now=now, gateway=gateway,
        by=manager, reason=why, links=links,
    )  # fmt: skip
