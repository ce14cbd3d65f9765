"""Money in the manager's console: the refunds that need the manager (failed and not followed
up, to be paid outside Stripe, stuck on the way), every refund, and the disputes, a page at a
time; and the manager's follow-ups of a refund (another attempt at Stripe, or money paid back
by other means). Only payments for the manager's cooperative's seasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from farm import forms
from farm.accounts.models import User
from farm.errors import Conflict, NotFound
from farm.i18n import _
from farm.paging import Page, ids_then, paginate
from farm.payments import rules
from farm.payments.gateway import Gateway
from farm.payments.models import (
    Dispute,
    ManualMethod,
    Payment,
    Refund,
    RefundReason,
    RefundStatus,
)
from farm.payments.refunds import open_refund, settle_payment, submit_refund
from farm.units import format_yuan

PER_PAGE = 50
MANUAL_NOTE_MAX = 300
LISTS = ("attention", "refunds", "disputes")
REFUND_COLUMNS = (
    "id", "amount_fen", "status", "reason", "failure_reason", "created_at", "updated_at",
    "manual_method", "manual_note", "retry_of_id", "payment__intent_id", "payment__amount_fen",
    "payment__paid_at", "payment__subscription_id",
    "payment__subscription__customer__name", "payment__subscription__customer__email",
    "payment__subscription__plot__code",
)  # fmt: skip
DISPUTE_COLUMNS = (
    "id", "provider_dispute_id", "amount_fen", "reason", "status", "due_by", "created_at",
    "payment__intent_id", "payment__subscription_id", "payment__subscription__customer__name",
    "payment__subscription__plot__code",
)  # fmt: skip


@dataclass(frozen=True)
class PaymentsPage:
    shown: str  # one of LISTS
    listed: Page[dict]
    attention: int  # refunds needing the manager
    open_disputes: int


def _refunds(manager: User):
    return Refund.filter(payment__subscription__season__cooperative_id=manager.cooperative_id)


def _disputes(manager: User):
    return Dispute.filter(payment__subscription__season__cooperative_id=manager.cooperative_id)


def needing_attention(manager: User, now: datetime):
    """rules.needs_attention, as a query."""
    followed = Refund.filter(retry_of_id__isnull=False).values("retry_of_id")
    return _refunds(manager).filter(
        Q(status__in=list(rules.TO_FOLLOW_UP), id__not_in=Subquery(followed))
        | Q(status=RefundStatus.MANUAL_DUE)
        | Q(
            status__in=[RefundStatus.REQUESTED, RefundStatus.PENDING],
            updated_at__lt=now - rules.STUCK_AFTER,
        )
    )


async def payments_page(*, manager: User, shown: str, page: int, now: datetime) -> PaymentsPage:
    """One page of the list asked for (refunds needing attention by default, oldest first so
    the longest-owed comes first; every refund newest first; disputes newest first)."""
    shown = shown if shown in LISTS else "attention"
    attention_query = needing_attention(manager, now)
    open_query = _disputes(manager).filter(status__not_in=list(rules.CLOSED_DISPUTES))
    attention = await attention_query.count()
    open_disputes = await open_query.count()
    if shown == "disputes":
        listed = await paginate(
            _disputes(manager), page=page, size=PER_PAGE, order_by=("-id",),
            fetch=ids_then(Dispute, DISPUTE_COLUMNS),
        )  # fmt: skip
    else:
        query = attention_query if shown == "attention" else _refunds(manager)
        listed = await paginate(
            query, page=page, size=PER_PAGE, order_by=("id",) if shown == "attention" else ("-id",),
            fetch=ids_then(Refund, REFUND_COLUMNS),
            total=attention if shown == "attention" else None,
        )  # fmt: skip
        followed = set(
            await Refund.filter(retry_of_id__in=[r["id"] for r in listed.items]).values_list(
                "retry_of_id", flat=True
            )
        )
        for row in listed.items:
            row["followed_up"] = row["id"] in followed
            row["to_follow_up"] = row["status"] in rules.TO_FOLLOW_UP and not row["followed_up"]
            row["attention"] = rules.needs_attention(
                status=row["status"], updated_at=row["updated_at"],
                followed_up=row["followed_up"], now=now,
            )  # fmt: skip
    return PaymentsPage(shown, listed, attention, open_disputes)


def refund_status_name(status: str) -> str:
    return {
        RefundStatus.REQUESTED: _("Not yet accepted by Stripe"),
        RefundStatus.PENDING: _("On its way"),
        RefundStatus.SUCCEEDED: _("Refunded"),
        RefundStatus.FAILED: _("Failed"),
        RefundStatus.CANCELED: _("Cancelled"),
        RefundStatus.MANUAL_DUE: _("To pay back by other means"),
        RefundStatus.MANUAL_DONE: _("Paid back by other means"),
    }.get(status, status)


def refund_reason_name(reason: str) -> str:
    return {
        "customer_cancel": _("The customer cancelled"),
        "plot_lost": _("Paid after the plot was lost"),
        "duplicate_payment": _("Paid twice: the second payment"),
        "amount_mismatch": _("Stripe took another amount or currency than asked: given back"),
        "box_problem": _("A box came wrong: part given back"),
    }.get(reason, _("Other"))


# Stripe's codes shown to the manager by name, in the page's language; an unknown code by a
# generic name, never as Stripe wrote it.


def refund_failure_name(code: str) -> str:
    """Why a refund failed: Stripe's refund failure_reason or refusal code, or ours
    (provider_error when Stripe gave none, canceled when Stripe cancelled it)."""
    return {
        "declined": _("Refused by the bank or wallet"),
        "expired_or_canceled_card": _("The card expired or was cancelled"),
        "lost_or_stolen_card": _("The card was reported lost or stolen"),
        "insufficient_funds": _("Not enough money in the Stripe balance"),
        "charge_for_pending_refund_disputed": _("The payment was disputed during the refund"),
        "merchant_request": _("Cancelled at the cooperative's request"),
        "charge_already_refunded": _("The payment was already refunded in full"),
        "charge_disputed": _("The payment is disputed"),
        "amount_too_large": _("More than is left to refund"),
        "idempotency_error": _("Stripe refused a repeated request"),
        RefundStatus.CANCELED: _("Cancelled by Stripe"),
    }.get(code, _("Stripe gave no reason we know: see its dashboard"))


def dispute_reason_name(reason: str) -> str:
    return {
        "fraudulent": _("The card holder did not make this payment"),
        "unrecognized": _("The customer does not recognise the payment"),
        "duplicate": _("Charged twice"),
        "product_not_received": _("Not received"),
        "product_unacceptable": _("Not as described"),
        "credit_not_processed": _("A refund was not received"),
        "subscription_canceled": _("Charged after cancelling"),
        "customer_initiated": _("Started by the customer"),
        "bank_cannot_process": _("The bank could not process it"),
        "debit_not_authorized": _("Debit not authorised"),
    }.get(reason, _("Another reason: see Stripe's dashboard"))


def dispute_status_name(status: str) -> str:
    return {
        "warning_needs_response": _("Inquiry: answer needed"),
        "warning_under_review": _("Inquiry under review"),
        "warning_closed": _("Inquiry closed"),
        "needs_response": _("Answer needed"),
        "under_review": _("Under review by the bank"),
        "won": _("Won"),
        "lost": _("Lost"),
        "prevented": _("Prevented"),
    }.get(status, _("See Stripe's dashboard"))


# ---- the manager's follow-ups ----


async def retry_refund(*, manager: User, refund_id: int, now: datetime, gateway: Gateway) -> Refund:
    """A failed or canceled refund tried again at Stripe as a new attempt with a new key.
    Only once per attempt: a second click, or a second manager at the same moment, is
    refused."""
    failed = await _refunds(manager).get_or_none(id=refund_id)
    if failed is None:
        raise NotFound(_("This refund does not exist."))
    if failed.status not in rules.TO_FOLLOW_UP:
        raise Conflict(_("Only a failed or cancelled refund can be tried again."))
    try:
        async with in_transaction() as conn:
            retry = await open_refund(
                payment_id=failed.payment_id, amount_fen=failed.amount_fen,
                reason=RefundReason(failed.reason), now=now, conn=conn, retry_of_id=failed.id,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("This refund has already been followed up.")) from None
    await submit_refund(retry.id, now=now, gateway=gateway)
    return await Refund.get(id=retry.id)


def manual_method_name(method: str) -> str:
    return {
        ManualMethod.BANK_TRANSFER: _("Bank transfer"),
        ManualMethod.ALIPAY_TRANSFER: _("Alipay transfer"),
        ManualMethod.WECHAT_TRANSFER: _("WeChat transfer"),
        ManualMethod.CASH: _("Cash"),
        ManualMethod.OTHER: _("Other"),
    }.get(method, method)


def _read_manual(*, owed_fen: int, amount: str, method: str, note: str) -> tuple[int, str, str]:
    form = forms.Form()
    paid = form.read("amount", forms.yuan, amount)
    if paid is not None and paid > owed_fen:
        form.refuse(
            "amount", _("At most the %(amount)s owed.") % {"amount": "¥" + format_yuan(owed_fen)}
        )
    form.read(
        "method",
        forms.choice,
        method,
        set(ManualMethod),
        message=_("Choose how the money was paid back."),
    )
    text = form.read("note", forms.text, note, limit=MANUAL_NOTE_MAX, one_line=False)
    if method == ManualMethod.OTHER and text == "":
        form.refuse("note", _("Say how the money was paid back."))
    form.check()
    assert paid is not None and text is not None
    return paid, method, text


async def record_manual_refund(
    *, manager: User, refund_id: int, amount: str, method: str, note: str, now: datetime
) -> Refund:
    """The manager records money paid back outside Stripe (bank transfer, cash ...) for a
    refund due outside the method's window or a failed or canceled one. Less than owed
    leaves the rest owed, as a new manual_due refund. Bad input changes nothing (422)."""
    owed = await _refunds(manager).get_or_none(id=refund_id)
    if owed is None:
        raise NotFound(_("This refund does not exist."))
    if owed.status not in (*rules.TO_FOLLOW_UP, RefundStatus.MANUAL_DUE):
        raise Conflict(_("This refund is not waiting for a refund by other means."))
    paid, how, text = _read_manual(
        owed_fen=owed.amount_fen, amount=amount, method=method, note=note
    )
    manual = {
        "manual_method": how, "manual_note": text, "recorded_by_id": manager.id,
        "settled_at": now, "updated_at": now,
    }  # fmt: skip
    try:
        async with in_transaction() as conn:
            await Payment.select_for_update().using_db(conn).get(id=owed.payment_id)
            if owed.status == RefundStatus.MANUAL_DUE:
                done_id = owed.id
                if (
                    not await Refund.filter(id=owed.id, status=RefundStatus.MANUAL_DUE)
                    .using_db(conn)
                    .update(status=RefundStatus.MANUAL_DONE, amount_fen=paid, **manual)
                ):
                    raise Conflict(_("This refund has already been followed up."))
            else:
                done = await open_refund(
                    payment_id=owed.payment_id, amount_fen=paid, reason=RefundReason(owed.reason),
                    now=now, conn=conn, retry_of_id=owed.id, status=RefundStatus.MANUAL_DONE,
                )  # fmt: skip
                await Refund.filter(id=done.id).using_db(conn).update(**manual)
                done_id = done.id
            rest = rules.owed_after(owed_fen=owed.amount_fen, paid_fen=paid)
            if rest:
                await open_refund(
                    payment_id=owed.payment_id, amount_fen=rest, reason=RefundReason(owed.reason),
                    now=now, conn=conn, retry_of_id=done_id, status=RefundStatus.MANUAL_DUE,
                )  # fmt: skip
            await settle_payment(owed.payment_id, now=now, conn=conn)
    except IntegrityError:
        raise Conflict(_("This refund has already been followed up.")) from None
    return await Refund.get(id=done_id)
