"""The cooperative's side of the families' reports on their boxes: the reports of a batch (on
its page), and resolving one, once: a reply, a credit in the family's next box (shown to the
family and to the packers of that ship day), or a partial refund through the same refund
attempts as every other refund (farm.payments.refunds). The family is told by mail and on the
box's page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.i18n import _
from farm.land.models import Plot, Season
from farm.letters import Letter
from farm.links import Links
from farm.notifications.services import queue_mail
from farm.paging import Page, paginate
from farm.payments import refunds
from farm.payments import rules as payment_rules
from farm.payments.gateway import Gateway
from farm.payments.models import Payment, PaymentStatus, Refund, RefundReason
from farm.shipments import box_rules
from farm.shipments.batches import season_ship_days
from farm.shipments.console import own_batch
from farm.shipments.models import Batch, BoxReport, BoxResolution, FieldRun, Shipment
from farm.sql import one_or_not_found
from farm.subscriptions.models import Subscription
from farm.units import format_yuan

REPORTS_PER_PAGE = 50
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.REFUND_DUE)


@dataclass
class BatchReports:
    reports: Page[BoxReport]  # with shipment and subscription__plot
    open_problems: int
    credits: dict[int, list[str]]  # shipment id -> extras promised for this ship day's box


async def batch_reports(*, manager: User, batch_id: int, page: int) -> BatchReports:
    """A page of what the families said of this batch's boxes (problems still open first),
    and the credits this ship day's boxes are to carry, by box."""
    batch = await own_batch(manager=manager, batch_id=batch_id)
    query = BoxReport.filter(shipment__batch_id=batch.id)
    listed = await paginate(
        query,
        page=page,
        size=REPORTS_PER_PAGE,
        order_by=("resolved_at", "-reported_at", "-id"),
        fetch=lambda q: q.select_related("shipment", "subscription__plot"),
    )
    open_problems = await query.filter(reported_at__not_isnull=True, resolved_at=None).count()
    return BatchReports(listed, open_problems, await batch_credits(batch))


async def batch_credits(batch: Batch) -> dict[int, list[str]]:
    """Shipment id -> the credits its box carries (promised for this ship day)."""
    rows = await BoxReport.filter(
        resolution=BoxResolution.CREDIT,
        credit_ship_on=batch.ship_on,
        subscription__season__cooperative_id=batch.cooperative_id,
    ).values_list("subscription_id", "credit")
    if not rows:
        return {}
    boxes = dict(
        await Shipment.filter(
            batch_id=batch.id, subscription_id__in=[sub_id for sub_id, _credit in rows]
        ).values_list("subscription_id", "id")
    )
    credits: dict[int, list[str]] = defaultdict(list)
    for sub_id, credit in rows:
        if sub_id in boxes:
            credits[boxes[sub_id]].append(credit)
    return dict(credits)


@dataclass(frozen=True)
class Resolution:
    kind: BoxResolution
    reply: str
    credit: str = ""
    refund_fen: int = 0


def read_resolution(values: dict[str, str], *, refundable_fen: int) -> Resolution:
    """The manager's resolution form: a kind, the words to the family, and the credit's
    words or the refund's amount. Raises FieldErrors."""
    form = forms.Form()
    kind = form.read(
        "kind", forms.choice, values.get("kind", ""), [k.value for k in BoxResolution],
        message=_("Choose how to resolve it: a reply, a credit or a refund."),
    )  # fmt: skip
    reply = form.read("reply", forms.text, values.get("reply", ""),
                      limit=box_rules.REPLY_CHARS, required=True, one_line=False)  # fmt: skip
    credit, amount = "", 0
    if kind == BoxResolution.CREDIT:
        credit = form.read("credit", forms.text, values.get("credit", ""),
                           limit=box_rules.CREDIT_CHARS, required=True) or ""  # fmt: skip
    elif kind == BoxResolution.REFUND:
        amount = form.read("refund", box_rules.refund_amount, values.get("refund", ""),
                           refundable_fen=refundable_fen) or 0  # fmt: skip
    form.check()
    assert kind is not None and reply is not None
    return Resolution(BoxResolution(kind), reply, credit, amount)


async def _report_of_batch(manager: User, batch_id: int, report_id: int) -> BoxReport:
    batch = await own_batch(manager=manager, batch_id=batch_id)
    return await one_or_not_found(
        BoxReport.filter(id=report_id, shipment__batch_id=batch.id).select_related("shipment"),
        _("This report does not exist."),
    )


async def refundable_fen(subscription_id: int, *, conn=None) -> tuple[Payment | None, int]:
    """The subscription's paid payment and what it can still give back."""
    payment = (
        await Payment.filter(subscription_id=subscription_id, status__in=PAID)
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    if payment is None:
        return None, 0
    committed = sum(
        await Refund.filter(payment_id=payment.id, status__in=list(payment_rules.COMMITTED))
        .using_db(conn)
        .values_list("amount_fen", flat=True)
    )
    return payment, box_rules.refundable(paid_fen=payment.amount_fen, committed_fen=committed)


async def resolve_report(
    *, manager: User, batch_id: int, report_id: int, values: dict[str, str], today: date,
    now: datetime, gateway: Gateway, links: Links,
) -> BoxReport:  # fmt: skip
    """Resolve a family's problem report, once: of two managers resolving it at the same
    moment, one does and the other is told it was resolved. A credit goes in the family's
    next box not yet made; a refund is an attempt stored with the resolution and sent to
    Stripe after it commits. The family is mailed, in the same transaction."""
    found = await _report_of_batch(manager, batch_id, report_id)
    if found.reported_at is None:
        raise Conflict(_("No problem was reported with this box."))
    _payment, left = await refundable_fen(found.subscription_id)
    resolution = read_resolution(values, refundable_fen=left)
    refund_id = None
    async with in_transaction() as conn:
        # Lock order as everywhere: the subscription, then its payment, then its refunds.
        sub = await Subscription.select_for_update().using_db(conn).get(id=found.subscription_id)
        report = await BoxReport.select_for_update().using_db(conn).get(id=found.id)
        if report.resolved_at is not None:
            raise Conflict(_("This report was already resolved."))
        changes: dict = dict(
            resolution=resolution.kind, reply=resolution.reply, resolved_by_id=manager.id,
            resolved_at=now,
        )  # fmt: skip
        if resolution.kind == BoxResolution.CREDIT:
            season = await Season.get(id=sub.season_id).using_db(conn)
            field_id = (
                await Plot.get(id=sub.plot_id).using_db(conn).values_list("field_id", flat=True)
            )
            days = season_ship_days(season)
            made = (
                await FieldRun.filter(field_id=field_id, ship_on__in=days)
                .using_db(conn)
                .values_list("ship_on", flat=True)
            )
            ship_on = box_rules.credit_ship_day(days, today=today, made=made)
            if ship_on is None:
                raise Conflict(
                    _("No box is left this season to carry a credit: reply, or refund instead.")
                )
            changes.update(credit=resolution.credit, credit_ship_on=ship_on)
        elif resolution.kind == BoxResolution.REFUND:
            payment, left = await refundable_fen(sub.id, conn=conn)
            if payment is None or resolution.refund_fen > left:
                raise Conflict(_("This payment has no more money to refund."))
            refund = await refunds.open_refund(
                payment_id=payment.id, amount_fen=resolution.refund_fen,
                reason=RefundReason.BOX_PROBLEM, now=now, conn=conn,
            )  # fmt: skip
            refund_id = refund.id
            changes.update(refund_fen=resolution.refund_fen, refund_id=refund.id)
        updated = (
            await BoxReport.filter(id=report.id, resolved_at=None).using_db(conn).update(**changes)
        )
        if not updated:  # cannot happen under the row lock; kept as the last word
            raise Conflict(_("This report was already resolved."))
        report = await BoxReport.get(id=report.id).using_db(conn)
        link = links.to(f"/account/subscriptions/{sub.id}/boxes/{report.shipment_id}")
        ship_on = found.shipment.ship_on
        await queue_mail(
            user=await User.get(id=sub.customer_id).using_db(conn),
            key=f"box-resolved:{report.id}",
            render=lambda: _resolved_mail(report=report, ship_on=ship_on, link=link),
            now=now,
            conn=conn,
            cooperative_id=manager.cooperative_id,
        )
    if refund_id is not None:
        await refunds.submit_refund(refund_id, now=now, gateway=gateway)
    return report


def _resolved_mail(*, report: BoxReport, ship_on: date, link: str) -> Letter:
    subject = _("About your box of %(day)s") % {"day": ship_on}
    amount = format_yuan(report.refund_fen)
    context = {"report": report, "ship_on": ship_on, "link": link, "amount": amount}
    return Letter("box_resolved", subject, context)


async def manager_report_photo(*, manager: User, batch_id: int, report_id: int) -> str:
    report = await _report_of_batch(manager, batch_id, report_id)
    if not report.photo:
        raise NotFound(_("Page not found."))
    return report.photo
