"""Refunds tracked to the end: each refund is an attempt stored before Stripe is called, with
its own key and amount, sent once under a lease, retried on its key only when Stripe may
still take it (after looking among the intent's refunds for one a lost answer made), reconciled
with the intent's refunds when Stripe says the money already went back, and moved by Stripe's
events to succeeded or failed. The state diagram is in rules.py.

Lock order, as everywhere: the subscription, then its payment, then the payment's refunds."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from farm.errors import Conflict
from farm.i18n import _
from farm.payments import rules
from farm.payments.gateway import (
    DisputeData,
    Gateway,
    PaymentProviderError,
    RefundRefused,
    RefundResult,
)
from farm.payments.models import (
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)

log = logging.getLogger("farm.payments")

# Far longer than sending an attempt can take (a list and a refund call, each given up after
# twice FARM_STRIPE_TIMEOUT_SECONDS at most): nobody else sends it meanwhile.
LEASE = timedelta(minutes=10)
# Stripe's own reason for a refund the customer asked for; other reasons go in metadata.
STRIPE_REASON = {
    RefundReason.CUSTOMER_CANCEL: "requested_by_customer",
    RefundReason.DUPLICATE: "duplicate",
}
# The failure reason of a refusal Stripe gave no code for: its message is for the log only,
# never for the manager's page.
PROVIDER_ERROR = "provider_error"


def new_key() -> str:
    """A refund attempt's idempotency key: random, so unique across installations sharing one
    Stripe account and after a database restore."""
    return f"farm-refund-{uuid.uuid4()}"


# ---- storing an attempt, and keeping the payment consistent with its refunds ----


async def open_refund(
    *,
    payment_id: int,
    amount_fen: int,
    reason: RefundReason,
    now: datetime,
    conn: BaseDBAsyncClient,
    retry_of_id: int | None = None,
    status: RefundStatus | None = None,
) -> Refund:
    """Store a refund attempt in the caller's transaction, before Stripe hears of it. Outside
    the payment method's refund window it is `manual_due` at once: the cooperative pays it
    back by other means. Refused when it would give back more than was paid."""
    payment = await Payment.select_for_update().using_db(conn).get(id=payment_id)
    committed = sum(
        await Refund.filter(payment_id=payment.id, status__in=list(rules.COMMITTED))
        .using_db(conn)
        .values_list("amount_fen", flat=True)
    )
    if amount_fen <= 0 or committed + amount_fen > payment.amount_fen:
        raise Conflict(_("This payment has no more money to refund."))
    if status is None:
        at_stripe = rules.refundable_at_stripe(
            method=payment.method, paid_at=payment.paid_at, now=now
        )
        status = RefundStatus.REQUESTED if at_stripe else RefundStatus.MANUAL_DUE
    refund = await Refund.create(
        payment_id=payment.id, amount_fen=amount_fen, reason=reason, idempotency_key=new_key(),
        status=status, retry_of_id=retry_of_id, created_at=now, updated_at=now, using_db=conn,
    )  # fmt: skip
    await settle_payment(payment.id, now=now, conn=conn)
    return refund


async def settle_payment(payment_id: int, *, now: datetime, conn: BaseDBAsyncClient) -> None:
    """Recompute the payment from its refunds, under its row lock: `refunded_fen` is the money
    that reached the customer (succeeded or paid outside Stripe); the status is refund_due
    while money is still owed (requested, failed or canceled and not followed up,
    manual_due), refunded
    once every attempt is accepted or settled."""
    rows = await (
        Refund.filter(payment_id=payment_id)
        .using_db(conn)
        .order_by("id")
        .values("id", "status", "amount_fen", "provider_refund_id", "retry_of_id")
    )
    if not rows:
        return
    followed = {r["retry_of_id"] for r in rows if r["retry_of_id"]}
    owed = any(
        r["status"] in (RefundStatus.REQUESTED, RefundStatus.MANUAL_DUE)
        or (r["status"] in rules.TO_FOLLOW_UP and r["id"] not in followed)
        for r in rows
    )
    returned = sum(r["amount_fen"] for r in rows if r["status"] in rules.RETURNED)
    payment = await Payment.select_for_update().using_db(conn).get(id=payment_id)
    if payment.refunded_fen != returned:
        payment.refunded_at = now
    payment.refunded_fen = returned
    payment.status = PaymentStatus.REFUND_DUE if owed else PaymentStatus.REFUNDED
    provider_ids = [r["provider_refund_id"] for r in rows if r["provider_refund_id"]]
    payment.refund_id = provider_ids[-1] if provider_ids else ""
    await payment.save(
        using_db=conn, update_fields=["refunded_fen", "refunded_at", "status", "refund_id"]
    )


# ---- sending an attempt to Stripe ----


def _lease_free(now: datetime) -> Q:
    """Attempts nobody is sending at `now`: never leased, or the lease ran out."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


async def submit_refund(refund_id: int, *, now: datetime, gateway: Gateway) -> Refund | None:
    """Send one requested attempt to Stripe, once: the lease is taken by a conditional update,
    so of two submitters one sends it and the other returns None. A connection error, 5xx,
    409 or 429 leaves it requested for the next try on the same key; any other refusal marks
    it failed with Stripe's reason, except that a refund Stripe says was already made is
    looked up among the intent's refunds and taken as this attempt's.

    An attempt sent before may have been made at Stripe with its answer lost. Before it is
    sent again, or turned to manual_due because the window closed meanwhile, the intent's
    refunds are searched for one carrying its key, and that one is taken: Stripe forgets a
    key after 24 hours, so sending it again could make a second refund, and a manual_due
    attempt would have the cooperative pay back money Stripe already returned."""
    claimed = await Refund.filter(
        _lease_free(now), id=refund_id, status=RefundStatus.REQUESTED
    ).update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return None
    refund = await Refund.get(id=refund_id).select_related("payment")
    payment = refund.payment
    if refund.attempts > 1:  # claimed before, so maybe sent: see the docstring
        try:
            made = _carrying_key(await gateway.list_refunds(payment.intent_id), refund)
        except PaymentProviderError as exc:
            return await _release(refund.id, error=str(exc))
        if made is not None:
            return await _record(refund.id, now=now, result=made)
    if not rules.refundable_at_stripe(method=payment.method, paid_at=payment.paid_at, now=now):
        return await _record(refund.id, now=now, status=RefundStatus.MANUAL_DUE)
    try:
        result = await gateway.refund(
            intent_id=payment.intent_id,
            amount_fen=refund.amount_fen,
            idempotency_key=refund.idempotency_key,
            reason=STRIPE_REASON.get(RefundReason(refund.reason), ""),
            metadata={"refund_reason": str(refund.reason), "payment": str(payment.id)},
        )
    except RefundRefused as exc:
        landed = None
        if exc.code in ("charge_already_refunded", "amount_too_large"):
            try:
                landed = await _landed_earlier(refund, payment, gateway)
            except PaymentProviderError as lookup:
                return await _release(refund.id, error=str(lookup))
        if landed is None:
            log.warning("Stripe refused refund %s: %s %s", refund.id, exc.code, exc)
            return await _record(
                refund.id, now=now, status=RefundStatus.FAILED,
                failure_reason=exc.code or PROVIDER_ERROR,
            )  # fmt: skip
        result = landed
    except PaymentProviderError as exc:
        log.warning("refund %s not sent, will retry on its key: %s", refund.id, exc)
        return await _release(refund.id, error=str(exc))
    return await _record(refund.id, now=now, result=result)


async def _landed_earlier(
    refund: Refund, payment: Payment, gateway: Gateway
) -> RefundResult | None:
    """The intent's refund that is this attempt: the one carrying its key, else one of the
    same amount that none of our attempts knows (made before its key reached the metadata,
    or in Stripe's dashboard). None if there is no such refund."""
    found = await gateway.list_refunds(payment.intent_id)
    made = _carrying_key(found, refund)
    if made is not None:
        return made
    known = set(
        await Refund.filter(provider_refund_id__in=[r.id for r in found]).values_list(
            "provider_refund_id", flat=True
        )
    )
    strangers = [
        r for r in found
        if r.id not in known and r.amount_fen == refund.amount_fen and not r.key
        and r.status != RefundStatus.FAILED
    ]  # fmt: skip
    return strangers[0] if len(strangers) == 1 else None


def _carrying_key(found: list[RefundResult], refund: Refund) -> RefundResult | None:
    """The refund among `found` with this attempt's key in its metadata, if any."""
    return next((r for r in found if r.key == refund.idempotency_key), None)


async def _release(refund_id: int, *, error: str) -> Refund:
    await Refund.filter(id=refund_id).update(lease_until=None, last_error=error[:300])
    return await Refund.get(id=refund_id)


async def _record(
    refund_id: int,
    *,
    now: datetime,
    result: RefundResult | None = None,
    status: RefundStatus | None = None,
    failure_reason: str = "",
) -> Refund:
    """Store what Stripe answered (or what the rules decided) for a requested attempt."""
    async with in_transaction() as conn:
        found = await Refund.get(id=refund_id).using_db(conn)
        await Payment.select_for_update().using_db(conn).get(id=found.payment_id)
        refund = await Refund.select_for_update().using_db(conn).get(id=refund_id)
        refund.lease_until = None
        refund.last_error = ""
        if result is not None:
            await _apply_result(refund, result, now=now, conn=conn)
        elif status is not None and refund.status == RefundStatus.REQUESTED:
            refund.status = status
            refund.failure_reason = failure_reason[:300]
            refund.updated_at = now
            if status == RefundStatus.FAILED:
                refund.settled_at = now
        await refund.save(using_db=conn)
        await settle_payment(refund.payment_id, now=now, conn=conn)
    return refund


async def _apply_result(
    refund: Refund, result: RefundResult, *, now: datetime, conn: BaseDBAsyncClient
) -> bool:
    """Move a locked attempt to Stripe's status, only forward (see rules.moves_forward)."""
    if not refund.provider_refund_id:
        refund.provider_refund_id = result.id
    new = rules.provider_status(result.status)
    if not rules.moves_forward(refund.status, new):
        return False
    refund.status = RefundStatus(new)
    refund.updated_at = now
    if new in (RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.CANCELED):
        refund.settled_at = now
    if new in (RefundStatus.FAILED, RefundStatus.CANCELED):
        refund.failure_reason = (result.failure_reason or new)[:300]
    return True


async def submit_due_refunds(*, now: datetime, gateway: Gateway) -> int:
    """Send every requested attempt nobody is sending (a scheduler job; any number may run).
    Payments marked refund_due before refunds were stored get their attempt first. Returns
    how many Stripe accepted."""
    legacy = Payment.filter(status=PaymentStatus.REFUND_DUE).exclude(
        id__in=Subquery(Refund.all().values("payment_id"))
    )
    for payment in await legacy:
        async with in_transaction() as conn:
            try:
                await open_refund(
                    payment_id=payment.id, amount_fen=payment.amount_fen - payment.refunded_fen,
                    reason=RefundReason.PLOT_LOST, now=now, conn=conn,
                )  # fmt: skip
            except Conflict:
                continue
    due = await (
        Refund.filter(_lease_free(now), status=RefundStatus.REQUESTED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    accepted = 0
    for refund_id in due:
        refund = await submit_refund(refund_id, now=now, gateway=gateway)
        if refund is not None and refund.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED):
            accepted += 1
    return accepted


# ---- Stripe's events ----


async def apply_refund_event(
    result: RefundResult, *, now: datetime, conn: BaseDBAsyncClient
) -> None:
    """refund.created / refund.updated / refund.failed / charge.refund.updated: move our
    attempt to the refund's status, only forward, in the event's transaction. The attempt is
    found by Stripe's id, or by the key in the refund's metadata when the event arrives before
    Stripe's answer to our request was stored."""
    found = await Refund.get_or_none(provider_refund_id=result.id).using_db(conn)
    if found is None and result.key:
        found = await Refund.get_or_none(idempotency_key=result.key).using_db(conn)
    if found is None:
        log.info("refund %s is not one of ours; left alone", result.id)
        return
    await Payment.select_for_update().using_db(conn).get(id=found.payment_id)
    refund = await Refund.select_for_update().using_db(conn).get(id=found.id)
    if refund.provider_refund_id and refund.provider_refund_id != result.id:
        return  # the key's attempt is another refund at Stripe: not this one
    if await _apply_result(refund, result, now=now, conn=conn) or not found.provider_refund_id:
        await refund.save(using_db=conn)
        await settle_payment(refund.payment_id, now=now, conn=conn)


async def apply_dispute_event(
    data: DisputeData, *, created: int, now: datetime, conn: BaseDBAsyncClient
) -> None:
    """charge.dispute.created / updated / closed: keep the dispute as Stripe last described
    it. An event older than the one applied is skipped, and a closed dispute is not opened
    again by a late event."""
    when = datetime.fromtimestamp(created, UTC) if created else now
    due_by = datetime.fromtimestamp(data.due_by, UTC) if data.due_by else None
    payment = (
        await Payment.get_or_none(intent_id=data.intent_id).using_db(conn)
        if data.intent_id
        else None
    )
    values = {
        "payment_id": payment.id if payment else None, "intent_id": data.intent_id,
        "amount_fen": data.amount_fen, "reason": data.reason[:50], "status": data.status[:30],
        "due_by": due_by, "provider_updated_at": when, "updated_at": now,
    }  # fmt: skip
    dispute = (
        await Dispute.select_for_update().using_db(conn).get_or_none(provider_dispute_id=data.id)
    )
    if dispute is None:
        await Dispute.create(provider_dispute_id=data.id, created_at=now, **values, using_db=conn)
        return
    if when < dispute.provider_updated_at:
        return
    if not rules.dispute_is_open(dispute.status) and rules.dispute_is_open(data.status):
        return
    await Dispute.filter(id=dispute.id).using_db(conn).update(**values)
