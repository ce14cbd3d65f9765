"""Refunds tracked to the end: stored attempts with their own keys, sent once, retried on their
key only when Stripe may still take them, reconciled when Stripe says the money already went
back, moved by Stripe's (signed) events, and shown to the cooperative's manager when they
need a person. Stripe here is a scripted stand-in for the gateway's two refund calls; the
events go through the real webhook route with fixtures shaped like Stripe's."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Plot, PlotClaim
from farm.lifecycle import cancellation
from farm.payments import console, refunds
from farm.payments.gateway import PaymentProviderError, RefundRefused, RefundResult
from farm.payments.models import Dispute, Payment, PaymentStatus, ProcessedEvent, Refund
from farm.payments.services import refund_due_payments
from farm.subscriptions.models import Status
from tests.support import (
    NOW,
    TODAY,
    log_in_client,
    make_active_subscription,
    make_season,
    signed_event,
)

REFUND_IDS = itertools.count(1)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe_events"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class ScriptedStripe:
    """Stripe's refund calls: `answers` are given in turn (an exception is raised), then every
    call succeeds; the same key gives back the same refund, as Stripe's idempotency does."""

    def __init__(self, *answers, status: str = "succeeded", delay: float = 0.0):
        self.answers = list(answers)
        self.status = status
        self.delay = delay
        self.calls: list[str] = []
        self.made: dict[str, RefundResult] = {}
        self.elsewhere: list[RefundResult] = []  # refunds made some other time

    async def refund(self, *, intent_id, amount_fen, idempotency_key, reason="", metadata=None):
        self.calls.append(idempotency_key)
        await asyncio.sleep(self.delay)
        if self.answers:
            raise self.answers.pop(0)
        if idempotency_key not in self.made:
            self.made[idempotency_key] = RefundResult(
                id=f"re_test_{next(REFUND_IDS)}", status=self.status, amount_fen=amount_fen,
                intent_id=intent_id, key=idempotency_key,
            )  # fmt: skip
        return self.made[idempotency_key]

    async def aclose(self):
        pass

    async def list_refunds(self, intent_id):
        return [r for r in [*self.made.values(), *self.elsewhere] if r.intent_id == intent_id]


async def paid_subscription(plan=None, *, intent_id="pi_test_1", paid_at=NOW, method="card"):
    """An active subscription paid (by card unless told), with its voucher, as the checkout
    leaves it."""
    plan = plan or await make_season()
    plot = await Plot.filter(field_id=plan.field_id).order_by("id").first()
    sub = await make_active_subscription(plan, plot)
    payment = await Payment.create(
        subscription_id=sub.id, intent_id=intent_id, client_secret="s", amount_fen=sub.price_fen,
        status=PaymentStatus.SUCCEEDED, created_at=paid_at, paid_at=paid_at, method=method,
    )  # fmt: skip
    await sub.fetch_related("customer")
    return sub, payment


async def cancel(sub, gateway, *, now=NOW):
    return await cancellation.cancel_subscription(
        customer=sub.customer, subscription_id=sub.id, today=TODAY, now=now, gateway=gateway
    )


async def test_a_refund_retried_after_a_connection_error_reuses_its_key_and_makes_one_refund(conn):
    sub, payment = await paid_subscription()
    stripe = ScriptedStripe(PaymentProviderError("connection reset"), PaymentProviderError("503"))
    await cancel(sub, stripe)
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "requested" and len(stripe.calls) == 1
    # The customer's cancellation stands whatever Stripe answered: the plot is free already.
    await sub.refresh_from_db()
    assert sub.status == Status.REFUNDED and not await PlotClaim.exists(subscription_id=sub.id)
    assert await refund_due_payments(now=NOW + timedelta(minutes=5), gateway=stripe) == 0
    assert await refund_due_payments(now=NOW + timedelta(minutes=10), gateway=stripe) == 1
    assert await refund_due_payments(now=NOW + timedelta(minutes=15), gateway=stripe) == 0
    assert stripe.calls == [refund.idempotency_key] * 3
    assert refund.idempotency_key.startswith("farm-refund-") and len(stripe.made) == 1
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "succeeded" and refund.attempts == 3
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == sub.price_fen


async def test_each_refund_attempt_gets_its_own_key(conn):
    keys = set()
    for n in range(3):
        sub, _ = await paid_subscription(intent_id=f"pi_keys_{n}")
        await cancel(sub, ScriptedStripe())
        keys.add((await Refund.get(payment__subscription_id=sub.id)).idempotency_key)
    assert len(keys) == 3


async def test_two_submissions_at_the_same_moment_send_the_refund_to_stripe_once(conn):
    """The lease (a conditional update) lets one submitter through: on PostgreSQL the second
    UPDATE waits for the first to commit and then finds the lease taken."""
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(PaymentProviderError("timeout")))
    refund = await Refund.get(payment_id=payment.id)
    stripe = ScriptedStripe(delay=0.2)
    later = NOW + timedelta(minutes=1)
    results = await asyncio.gather(
        *[refunds.submit_refund(refund.id, now=later, gateway=stripe) for _ in range(4)],
        refund_due_payments(now=later, gateway=stripe),
    )
    assert len(stripe.calls) == 1
    assert sum(r is not None for r in results[:4]) <= 1
    await refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.lease_until is None


@pytest.mark.postgres
async def test_on_postgresql_two_schedulers_make_each_refund_once(conn):
    attempts = []
    for n in range(5):
        sub, _ = await paid_subscription(intent_id=f"pi_pg_{n}")
        await cancel(sub, ScriptedStripe(PaymentProviderError("stripe down")))
        attempts.append(await Refund.get(payment__subscription_id=sub.id))
    stripe = ScriptedStripe(delay=0.05)
    later = NOW + timedelta(minutes=1)
    made = await asyncio.gather(*[refund_due_payments(now=later, gateway=stripe) for _ in range(3)])
    assert sum(made) == 5
    assert sorted(stripe.calls) == sorted(r.idempotency_key for r in attempts)


async def test_a_refusal_marks_the_refund_failed_without_retry_and_the_manager_sees_it(client, app):
    sub, payment = await paid_subscription()
    stripe = ScriptedStripe(RefundRefused("This charge is disputed.", code="charge_disputed"))
    await cancel(sub, stripe)
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "failed" and refund.failure_reason == "charge_disputed"
    assert await refund_due_payments(now=NOW + timedelta(hours=1), gateway=stripe) == 0
    assert len(stripe.calls) == 1
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert sub.status == Status.REFUNDED and sub.cancel_reason == "customer"  # stays cancelled
    assert payment.status == PaymentStatus.REFUND_DUE and payment.refunded_fen == 0
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert page.status_code == 200
    assert f'id="refund-{refund.id}"' in page.text and "该付款存在争议" in page.text
    assert "charge_disputed" not in page.text


async def test_a_refusal_without_a_code_is_stored_as_provider_error_never_stripes_text(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(RefundRefused("Internal detail: acct_1Secret blocked")))
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "failed" and refund.failure_reason == "provider_error"
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert f'id="refund-{refund.id}"' in page.text and "acct_1Secret" not in page.text


async def test_charge_already_refunded_is_reconciled_with_the_intents_refunds(conn):
    """The attempt's first call reached Stripe but its answer was lost, and by the retry the
    key had expired at Stripe: Stripe refuses a second refund, and the first is found by the
    key in its metadata instead of the attempt failing."""
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(PaymentProviderError("read timeout")))
    refund = await Refund.get(payment_id=payment.id)
    stripe = ScriptedStripe(RefundRefused("already refunded", code="charge_already_refunded"))
    stripe.elsewhere.append(
        RefundResult(
            id="re_landed",
            status="succeeded",
            amount_fen=refund.amount_fen,
            intent_id=payment.intent_id,
            key=refund.idempotency_key,
        )  # fmt: skip
    )
    assert await refund_due_payments(now=NOW + timedelta(days=2), gateway=stripe) == 1
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_refund_id == "re_landed"
    assert payment.refunded_fen == refund.amount_fen and payment.refund_id == "re_landed"


def landed_at_stripe(stripe, refund, payment, *, status="succeeded"):
    """The refund Stripe made for an attempt whose answer was lost on the way back."""
    stripe.elsewhere.append(
        RefundResult(
            id="re_lost_answer",
            status=status,
            amount_fen=refund.amount_fen,
            intent_id=payment.intent_id,
            key=refund.idempotency_key,
        )  # fmt: skip
    )


async def test_a_retry_after_stripe_forgot_the_key_takes_the_refund_made_not_a_second(conn):
    """Sent once, made at Stripe, answer lost; two days later Stripe no longer knows the key
    (it keeps them 24 hours) and would make a second refund: the intent's refunds are looked
    up first and the one carrying the key is taken, nothing is sent."""
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(PaymentProviderError("read timeout")))
    refund = await Refund.get(payment_id=payment.id)
    stripe = ScriptedStripe()  # a new one: it has forgotten the key
    landed_at_stripe(stripe, refund, payment)
    assert await refund_due_payments(now=NOW + timedelta(days=2), gateway=stripe) == 1
    assert stripe.calls == []
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_refund_id == "re_lost_answer"
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == refund.amount_fen


async def test_a_refund_sent_inside_the_window_and_retried_after_it_is_not_paid_twice(conn):
    """Sent on day 88 of Alipay's window, made at Stripe, answer lost; the retry on day 91 is
    past the window. The refund Stripe made is taken rather than the attempt becoming
    manual_due, which the cooperative would pay a second time."""
    sub, payment = await paid_subscription(paid_at=NOW - timedelta(days=88), method="alipay")
    await cancel(sub, ScriptedStripe(PaymentProviderError("read timeout")))
    refund = await Refund.get(payment_id=payment.id)
    stripe = ScriptedStripe()
    landed_at_stripe(stripe, refund, payment, status="pending")
    assert await refund_due_payments(now=NOW + timedelta(days=3), gateway=stripe) == 1
    assert stripe.calls == []
    await refund.refresh_from_db()
    assert refund.status == "pending" and refund.provider_refund_id == "re_lost_answer"
    assert await Refund.filter(payment_id=payment.id).count() == 1


async def test_a_once_sent_refund_stripe_never_made_becomes_manual_due_after_the_window(conn):
    sub, payment = await paid_subscription(paid_at=NOW - timedelta(days=88), method="alipay")
    await cancel(sub, ScriptedStripe(PaymentProviderError("connection reset")))
    refund = await Refund.get(payment_id=payment.id)
    stripe = ScriptedStripe()
    assert await refund_due_payments(now=NOW + timedelta(days=3), gateway=stripe) == 0
    await refund.refresh_from_db()
    assert refund.status == "manual_due" and stripe.calls == []


async def test_a_once_sent_refund_is_not_sent_again_while_stripes_refunds_cannot_be_read(conn):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(PaymentProviderError("read timeout")))
    refund = await Refund.get(payment_id=payment.id)

    class Unreadable(ScriptedStripe):
        async def list_refunds(self, intent_id):
            raise PaymentProviderError("stripe down")

    stripe = Unreadable()
    assert await refund_due_payments(now=NOW + timedelta(days=2), gateway=stripe) == 0
    await refund.refresh_from_db()
    assert refund.status == "requested" and refund.lease_until is None and stripe.calls == []


async def test_amount_too_large_with_no_refund_of_ours_at_stripe_fails_the_attempt(conn):
    sub, payment = await paid_subscription()
    stripe = ScriptedStripe(RefundRefused("too large", code="amount_too_large"))
    stripe.elsewhere.append(
        RefundResult(
            id="re_other",
            status="succeeded",
            amount_fen=100,
            intent_id=payment.intent_id,
            key="farm-refund-someone-else",
        )  # fmt: skip
    )
    await cancel(sub, stripe)
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "failed" and refund.failure_reason == "amount_too_large"


# ---- Stripe's events, through the signed webhook route ----


async def post_event(client, event: dict):
    body, signature = signed_event(event)
    r = await client.post("/stripe/webhook", content=body, headers={"stripe-signature": signature})
    assert r.status_code == 200, r.text
    return r.json()


def refund_event(name: str, refund: Refund, payment: Payment, *, event_id: str | None = None):
    event = copy.deepcopy(fixture(name))
    obj = event["data"]["object"]
    obj.update(id=refund.provider_refund_id or "re_unknown", amount=refund.amount_fen,
               payment_intent=payment.intent_id)  # fmt: skip
    obj["metadata"]["farm_refund_key"] = refund.idempotency_key
    if event_id:
        event["id"] = event_id
    return event


async def pending_refund(app):
    """A cancellation refunded by Alipay-style pending refund: accepted, money not yet back."""
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(status="pending"))
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "pending" and refund.provider_refund_id.startswith("re_test_")
    return sub, payment, refund


async def test_a_pending_refund_moves_to_succeeded_by_its_event(client, app):
    sub, payment, refund = await pending_refund(app)
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == 0
    await post_event(client, refund_event("refund.updated.succeeded", refund, payment))
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "succeeded" and payment.refunded_fen == refund.amount_fen


async def test_charge_refund_updated_moves_a_refund_like_refund_updated(client, app):
    sub, payment, refund = await pending_refund(app)
    await post_event(client, refund_event("charge.refund.updated.succeeded", refund, payment))
    await refund.refresh_from_db()
    assert refund.status == "succeeded"


async def test_a_pending_refund_that_fails_by_event_is_owed_and_appears_for_the_manager(
    client, app
):
    sub, payment, refund = await pending_refund(app)
    await post_event(client, refund_event("refund.failed", refund, payment))
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    await sub.refresh_from_db()
    assert refund.status == "failed" and refund.failure_reason == "expired_or_canceled_card"
    assert payment.status == PaymentStatus.REFUND_DUE and payment.refunded_fen == 0
    assert sub.status == Status.REFUNDED  # the subscription stays cancelled; the money is owed
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert f'id="refund-{refund.id}"' in page.text and "银行卡已过期或已注销" in page.text


async def canceled_by_stripe(client, app):
    """A pending refund Stripe then cancels (refund.updated with status canceled)."""
    sub, payment, refund = await pending_refund(app)
    event = refund_event("refund.updated.succeeded", refund, payment, event_id="evt_canceled")
    event["data"]["object"]["status"] = "canceled"
    await post_event(client, event)
    await refund.refresh_from_db()
    assert refund.status == "canceled"
    return sub, payment, refund


async def test_a_refund_stripe_cancels_is_still_owed_and_the_manager_can_retry_it(client, app):
    sub, payment, refund = await canceled_by_stripe(client, app)
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUND_DUE and payment.refunded_fen == 0
    manager = await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert f'id="refund-{refund.id}"' in page.text
    assert f"/manage/payments/refunds/{refund.id}/retry" in page.text
    assert f"/manage/payments/refunds/{refund.id}/manual" in page.text
    stripe = ScriptedStripe()
    retry = await console.retry_refund(manager=manager, refund_id=refund.id, now=NOW,
                                       gateway=stripe)  # fmt: skip
    assert retry.status == "succeeded" and retry.retry_of_id == refund.id
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == refund.amount_fen
    assert f'id="refund-{refund.id}"' not in (await client.get("/manage/payments")).text


async def test_a_refund_stripe_cancels_can_be_recorded_as_paid_by_other_means(client, app):
    sub, payment, refund = await canceled_by_stripe(client, app)
    manager = await manager_of(sub)
    done = await console.record_manual_refund(
        manager=manager, refund_id=refund.id, amount="580", method="cash", note="", now=NOW
    )
    assert done.status == "manual_done" and done.retry_of_id == refund.id
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == 58000


async def test_an_event_arriving_before_stripes_answer_finds_the_attempt_by_its_key(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(PaymentProviderError("timeout")))
    refund = await Refund.get(payment_id=payment.id)  # requested, Stripe's id not yet known
    refund.provider_refund_id = "re_from_event"
    await post_event(client, refund_event("refund.created.pending", refund, payment))
    await refund.refresh_from_db()
    assert refund.status == "pending" and refund.provider_refund_id == "re_from_event"


async def test_out_of_order_events_never_move_a_final_refund_backwards(client, app):
    sub, payment, refund = await pending_refund(app)
    await post_event(client, refund_event("refund.failed", refund, payment))
    # Stripe's earlier events, delivered late
    await post_event(client, refund_event("refund.updated.succeeded", refund, payment))
    await post_event(client, refund_event("refund.created.pending", refund, payment))
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "failed" and payment.refunded_fen == 0


async def test_a_succeeded_event_after_a_pending_one_and_a_late_pending_one_keep_succeeded(
    client, app
):
    sub, payment, refund = await pending_refund(app)
    await post_event(client, refund_event("refund.updated.succeeded", refund, payment))
    await post_event(client, refund_event("refund.created.pending", refund, payment))
    await refund.refresh_from_db()
    assert refund.status == "succeeded"


async def test_a_duplicated_refund_event_is_applied_once(client, app):
    sub, payment, refund = await pending_refund(app)
    event = refund_event("refund.updated.succeeded", refund, payment)
    first = await post_event(client, event)
    second = await post_event(client, event)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert await ProcessedEvent.filter(event_id=event["id"]).count() == 1
    await payment.refresh_from_db()
    assert payment.refunded_fen == refund.amount_fen  # counted once


async def test_an_event_for_a_refund_that_is_not_ours_changes_nothing(client, app):
    sub, payment, refund = await pending_refund(app)
    stranger = Refund(provider_refund_id="re_dashboard", amount_fen=1, idempotency_key="x")
    await post_event(client, refund_event("refund.failed", stranger, payment))
    await refund.refresh_from_db()
    assert refund.status == "pending"


async def test_payment_intent_canceled_marks_an_unpaid_payment_cancelled(client, app):
    plan = await make_season()
    plot = await Plot.filter(field_id=plan.field_id).first()
    sub = await make_active_subscription(plan, plot)
    unpaid = await Payment.create(subscription_id=sub.id, intent_id="pi_3QfarmIntent0002",
                                  client_secret="s", amount_fen=100, created_at=NOW)  # fmt: skip
    await post_event(client, fixture("payment_intent.canceled"))
    await unpaid.refresh_from_db()
    assert unpaid.status == PaymentStatus.CANCELLED


# ---- disputes ----


def dispute_event(name: str, payment: Payment) -> dict:
    event = copy.deepcopy(fixture(name))
    event["data"]["object"]["payment_intent"] = payment.intent_id
    return event


async def test_disputes_are_stored_from_their_events_and_appear_for_the_manager(client, app):
    sub, payment = await paid_subscription()
    await post_event(client, dispute_event("charge.dispute.created", payment))
    dispute = await Dispute.get(provider_dispute_id="du_3QfarmDispute0001")
    assert dispute.payment_id == payment.id and dispute.status == "needs_response"
    assert dispute.amount_fen == 58000 and dispute.reason == "product_not_received"
    assert dispute.due_by is not None
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments?list=disputes")
    assert "du_3QfarmDispute0001" in page.text and "需要回复" in page.text


async def test_the_chinese_payments_page_names_stripes_codes_in_chinese_never_raw(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(RefundRefused("no", code="charge_already_refunded")))
    dispute = dispute_event("charge.dispute.created", payment)
    dispute["data"]["object"]["reason"] = "fraudulent"
    await post_event(client, dispute)
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")  # the manager reads Chinese
    refunds_page = (await client.get("/manage/payments?list=refunds")).text
    assert "该付款已全额退款" in refunds_page and "charge_already_refunded" not in refunds_page
    await Refund.filter(payment_id=payment.id).update(failure_reason="a_code_stripe_adds_later")
    refunds_page = (await client.get("/manage/payments?list=refunds")).text
    assert "Stripe 未给出可识别的原因" in refunds_page
    assert "a_code_stripe_adds_later" not in refunds_page
    disputes_page = (await client.get("/manage/payments?list=disputes")).text
    assert "持卡人称未进行此付款" in disputes_page and "需要回复" in disputes_page
    assert "fraudulent" not in disputes_page and "needs_response" not in disputes_page


async def test_a_closed_dispute_is_not_reopened_by_a_late_event(client, app):
    sub, payment = await paid_subscription()
    await post_event(client, dispute_event("charge.dispute.created", payment))
    await post_event(client, dispute_event("charge.dispute.closed", payment))
    await post_event(client, dispute_event("charge.dispute.updated", payment))  # older, late
    dispute = await Dispute.get(provider_dispute_id="du_3QfarmDispute0001")
    assert dispute.status == "lost" and await Dispute.all().count() == 1


# ---- the manager: refunds outside the window, retries, manual refunds ----


async def manager_of(sub, email="manager@coop.cn"):
    await sub.fetch_related("season")
    return await sign_up(email=email, name="经理", password="correct horse", language="zh_CN",
                         role=Role.MANAGER, cooperative_id=sub.season.cooperative_id)  # fmt: skip


async def test_an_alipay_refund_outside_its_window_is_paid_by_the_cooperative_not_stripe(
    client, app
):
    sub, payment = await paid_subscription(paid_at=NOW - timedelta(days=91), method="alipay")
    stripe = ScriptedStripe()
    await cancel(sub, stripe)
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "manual_due" and stripe.calls == []
    assert await refund_due_payments(now=NOW + timedelta(hours=1), gateway=stripe) == 0
    await manager_of(sub)
    token = await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert f'id="refund-{refund.id}"' in page.text
    r = await client.post(
        f"/manage/payments/refunds/{refund.id}/manual",
        data={
            "csrf_token": token,
            "amount": "580",
            "method": "bank_transfer",
            "note": "工商银行 转账 20261123",
        },  # fmt: skip
    )
    assert r.status_code == 303
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    assert refund.status == "manual_done" and refund.manual_method == "bank_transfer"
    assert payment.refunded_fen == 58000 and payment.status == PaymentStatus.REFUNDED
    assert f'id="refund-{refund.id}"' not in (await client.get("/manage/payments")).text


async def test_a_refund_inside_the_alipay_window_less_its_last_day_goes_to_stripe(conn):
    sub, payment = await paid_subscription(paid_at=NOW - timedelta(days=88), method="alipay")
    stripe = ScriptedStripe(status="pending")
    await cancel(sub, stripe)
    assert (await Refund.get(payment_id=payment.id)).status == "pending"


async def test_a_manual_refund_with_bad_input_is_refused_with_422_and_changes_nothing(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(RefundRefused("no", code="charge_disputed")))
    refund = await Refund.get(payment_id=payment.id)
    await manager_of(sub)
    token = await log_in_client(client, "manager@coop.cn")
    await client.get("/lang/en")
    for data, message in [
        ({"amount": "abc", "method": "cash"}, "Enter the amount in yuan"),
        ({"amount": "581", "method": "cash"}, "At most the ¥580 owed."),
        ({"amount": "100", "method": "gold"}, "Choose how the money was paid back."),
        ({"amount": "100", "method": "other", "note": ""}, "Say how the money was paid back."),
    ]:
        r = await client.post(f"/manage/payments/refunds/{refund.id}/manual",
                              data={"csrf_token": token, **data})  # fmt: skip
        assert r.status_code == 422 and message in r.text, (data, r.status_code)
    r = await client.post(f"/manage/payments/refunds/{refund.id}/manual",
                          data={"amount": "580", "method": "cash"})  # fmt: skip
    assert r.status_code == 403
    assert await Refund.all().count() == 1
    await refund.refresh_from_db()
    assert refund.status == "failed"


async def test_paying_back_part_of_a_failed_refund_leaves_the_rest_owed(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(RefundRefused("no", code="charge_disputed")))
    failed = await Refund.get(payment_id=payment.id)
    manager = await manager_of(sub)
    await console.record_manual_refund(
        manager=manager, refund_id=failed.id, amount="300", method="cash", note="", now=NOW
    )
    rows = await Refund.filter(payment_id=payment.id).order_by("id")
    assert [(r.status, r.amount_fen) for r in rows] == [
        ("failed", 58000),
        ("manual_done", 30000),
        ("manual_due", 28000),
    ]
    await payment.refresh_from_db()
    assert payment.refunded_fen == 30000 and payment.status == PaymentStatus.REFUND_DUE


async def test_retrying_a_failed_refund_is_a_new_attempt_with_a_new_key_and_only_once(client, app):
    sub, payment = await paid_subscription()
    await cancel(sub, ScriptedStripe(RefundRefused("issuer unavailable", code="declined")))
    failed = await Refund.get(payment_id=payment.id)
    manager = await manager_of(sub)
    stripe = ScriptedStripe()
    real, app.state.gateway = app.state.gateway, stripe
    try:
        token = await log_in_client(client, "manager@coop.cn")
        r = await client.post(
            f"/manage/payments/refunds/{failed.id}/retry", data={"csrf_token": token}
        )
        again = await client.post(
            f"/manage/payments/refunds/{failed.id}/retry", data={"csrf_token": token}
        )
    finally:
        app.state.gateway = real
    assert r.status_code == 303
    retry = await Refund.get(retry_of_id=failed.id)
    assert retry.status == "succeeded" and retry.idempotency_key != failed.idempotency_key
    assert stripe.calls == [retry.idempotency_key]
    assert again.status_code == 409 and await Refund.all().count() == 2
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == 58000
    # two managers clicking at the same moment: one new attempt
    sub2, payment2 = await paid_subscription(await make_season(), intent_id="pi_twice")
    await cancel(sub2, ScriptedStripe(RefundRefused("no", code="declined")))
    failed2 = await Refund.get(payment_id=payment2.id)
    other = await manager_of(sub2, "m2@coop.cn")
    outcomes = await asyncio.gather(
        *[console.retry_refund(manager=other, refund_id=failed2.id, now=NOW, gateway=stripe)
          for _ in range(2)],
        return_exceptions=True,
    )  # fmt: skip
    assert sum(isinstance(o, Refund) for o in outcomes) == 1
    assert await Refund.filter(retry_of_id=failed2.id).count() == 1
    assert manager is not None


async def test_the_manager_page_shows_nothing_of_another_cooperative(client, app):
    ours, our_payment = await paid_subscription(intent_id="pi_ours")
    theirs, their_payment = await paid_subscription(await make_season(), intent_id="pi_theirs")
    await theirs.fetch_related("customer")
    await cancel(ours, ScriptedStripe(RefundRefused("no", code="declined")))
    await cancel(theirs, ScriptedStripe(RefundRefused("no", code="their_secret_reason")))
    await post_event(client, dispute_event("charge.dispute.created", their_payment))
    their_refund = await Refund.get(payment_id=their_payment.id)
    await manager_of(ours)
    token = await log_in_client(client, "manager@coop.cn")
    for shown in ("attention", "refunds", "disputes"):
        page = await client.get(f"/manage/payments?list={shown}")
        assert page.status_code == 200
        assert "their_secret_reason" not in page.text and "du_3QfarmDispute0001" not in page.text
        assert theirs.customer.email not in page.text
    for action, data in (("retry", {}), ("manual", {"amount": "1", "method": "cash"})):
        r = await client.post(f"/manage/payments/refunds/{their_refund.id}/{action}",
                              data={"csrf_token": token, **data})  # fmt: skip
        assert r.status_code == 404
    await their_refund.refresh_from_db()
    assert their_refund.status == "failed" and await Refund.all().count() == 2


async def test_a_refund_stuck_on_its_way_for_days_appears_for_the_manager(client, app):
    sub, payment, refund = await pending_refund(app)
    await Refund.filter(id=refund.id).update(updated_at=NOW - timedelta(days=4))
    await manager_of(sub)
    await log_in_client(client, "manager@coop.cn")
    page = await client.get("/manage/payments")
    assert f'id="refund-{refund.id}"' in page.text
