"""Money in the manager's console: the refunds that need the manager (failed and not followed
up, to be paid outside Stripe, stuck on the way), every refund, and the disputes, a page at a
time. Only payments for the manager's cooperative's seasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q, Subquery

from farm.accounts.models import User
from farm.i18n import _
from farm.paging import Page, ids_then, paginate
from farm.payments import rules
from farm.payments.models import Dispute, Refund, RefundStatus

PER_PAGE = 50
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
CLOSED_DISPUTES = ("won", "lost", "warning_closed", "prevented")


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


def _needing_attention(manager: User, now: datetime):
    """rules.needs_attention, as a query."""
    followed = Refund.filter(retry_of_id__isnull=False).values("retry_of_id")
    return _refunds(manager).filter(
        Q(status=RefundStatus.FAILED, id__not_in=Subquery(followed))
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
    attention_query = _needing_attention(manager, now)
    open_query = _disputes(manager).filter(status__not_in=CLOSED_DISPUTES)
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
    }.get(reason, reason)
