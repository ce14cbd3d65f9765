"""Refunds against the Stripe emulator, as on Stripe: a card refund that fails after it
succeeded, an Alipay refund that settles later, a refund Stripe says was already made, and a
dispute opened by Stripe's dispute card. Stripe's own events (read back from the emulator)
are fed through the real signed webhook route."""

from __future__ import annotations

from datetime import date

import httpx

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.lifecycle import cancellation
from farm.lifecycle.checkout import pay
from farm.payments.models import Dispute, Payment, PaymentStatus, Refund
from farm.payments.services import refund_due_payments
from farm.subscriptions import services
from farm.subscriptions.models import Status
from tests import emulator_support as emu
from tests.support import (
    ADDRESS,
    NOW,
    card_id,
    later,
    log_in_client,
    make_customer,
    make_season,
    signed_event,
)

BEFORE_START = date(2027, 2, 1)


async def paid_by_card(app, stripe_port, number="4242424242424242"):
    plan = await make_season()
    customer = await make_customer()
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=None, today=NOW.date(), now=NOW, minutes=15
    )
    await services.update_address(
        customer=customer, subscription_id=sub.id, **ADDRESS, today=NOW.date()
    )
    outcome = await pay(
        customer=customer, subscription_id=sub.id, method="card",
        payment_method=await card_id(stripe_port, number), runtime=app.state.runtime, now=NOW,
    )  # fmt: skip
    assert outcome.status == "succeeded"
    await sub.refresh_from_db()
    return customer, sub, await Payment.get(subscription_id=sub.id, status="succeeded")


async def cancel(app, customer, sub):
    return await cancellation.cancel_subscription(
        customer=customer, subscription_id=sub.id, today=BEFORE_START, now=later(5),
        gateway=app.state.gateway,
    )  # fmt: skip


async def settle(stripe_port: int, refund_id: str, status: str) -> None:
    async with httpx.AsyncClient() as c:
        await c.post(
            f"{emu.base(stripe_port)}/_emulator/refunds/{refund_id}/settle",
            data={"status": status},
        )  # a refund that already settled by itself answers 400: its events are there anyway


async def all_events(stripe_port: int) -> list[dict]:
    """Every event the emulator made (this session's tests share it), page by page."""
    found: list[dict] = []
    after = ""
    auth = {"Authorization": f"Bearer {emu.DEV_SECRET_KEY}"}
    async with httpx.AsyncClient(base_url=emu.base(stripe_port), headers=auth) as c:
        while True:
            params = {"limit": "100", **({"starting_after": after} if after else {})}
            page = (await c.get("/v1/events", params=params)).json()
            found += page["data"]
            if not page["has_more"] or not page["data"]:
                return found
            after = page["data"][-1]["id"]


async def deliver(client, events) -> None:
    for event in events:
        body, signature = signed_event(event)
        r = await client.post(
            "/stripe/webhook", content=body, headers={"stripe-signature": signature}
        )
        assert r.status_code == 200


async def manager_page(client, sub) -> str:
    await sub.fetch_related("season")
    await sign_up(email="manager@coop.cn", name="经理", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=sub.season.cooperative_id)  # fmt: skip
    await log_in_client(client, "manager@coop.cn")
    return (await client.get("/manage/payments")).text


async def test_a_card_refund_that_fails_after_succeeding_is_owed_and_shown_to_the_manager(
    client, app, stripe_port
):
    customer, sub, payment = await paid_by_card(app, stripe_port, "4000000000005126")
    await cancel(app, customer, sub)
    refund = await Refund.get(payment_id=payment.id)
    assert refund.status == "succeeded" and refund.provider_refund_id.startswith("re_")
    await settle(stripe_port, refund.provider_refund_id, "failed")
    await deliver(client, emu.events_about(stripe_port, refund.provider_refund_id))
    await refund.refresh_from_db()
    await payment.refresh_from_db()
    await sub.refresh_from_db()
    assert refund.status == "failed" and refund.failure_reason == "expired_or_canceled_card"
    assert payment.status == PaymentStatus.REFUND_DUE and payment.refunded_fen == 0
    assert sub.status == Status.REFUNDED
    page = await manager_page(client, sub)
    assert f'id="refund-{refund.id}"' in page and "银行卡已过期或已注销" in page


async def test_an_alipay_refund_goes_pending_and_succeeds_by_stripes_events(
    client, app, stripe_port
):
    customer, sub, card_payment = await paid_by_card(app, stripe_port)
    # The same subscription paid with Alipay instead (checkout's part): an Alipay intent.
    sc, http = emu.client(stripe_port)
    try:
        intent = emu.method_intent(sc, "alipay")
        emu.authorize(stripe_port, intent.id)
    finally:
        http.close()
    await Payment.filter(id=card_payment.id).update(intent_id=intent.id)
    await cancel(app, customer, sub)
    refund = await Refund.get(payment_id=card_payment.id)
    assert refund.status == "pending"
    await sub.refresh_from_db()
    assert sub.status == Status.REFUNDED  # cancelled for the customer while the money travels
    await log_in_client(client, customer.email)
    await client.get("/lang/en")
    page = (await client.get(f"/account/subscriptions/{sub.id}")).text
    assert "the refund of ¥580 is on its way back the way you paid" in page
    await settle(stripe_port, refund.provider_refund_id, "succeeded")
    events = emu.events_about(stripe_port, refund.provider_refund_id)
    await deliver(client, list(reversed(events)))  # newest first: order does not matter
    await refund.refresh_from_db()
    payment = await Payment.get(id=card_payment.id)
    assert refund.status == "succeeded" and payment.refunded_fen == refund.amount_fen
    page = (await client.get(f"/account/subscriptions/{sub.id}")).text
    assert "¥580 was refunded the way you paid" in page


async def test_a_refund_stripe_already_made_is_found_instead_of_failing(client, app, stripe_port):
    customer, sub, payment = await paid_by_card(app, stripe_port)

    class Unreachable:  # the first call never got its answer back
        def __getattr__(self, name):
            return getattr(app.state.gateway, name)

        async def refund(self, **kw):
            from farm.payments.gateway import PaymentProviderError

            raise PaymentProviderError("read timeout")

    await cancellation.cancel_subscription(
        customer=customer, subscription_id=sub.id, today=BEFORE_START, now=later(5),
        gateway=Unreachable(),
    )  # fmt: skip
    attempt = await Refund.get(payment_id=payment.id)
    # ...but it had reached Stripe, and its key has since expired there: the retry's key is
    # new to Stripe, which refuses to refund the charge twice.
    sc, http = emu.client(stripe_port)
    try:
        landed = sc.v1.refunds.create(
            {"payment_intent": payment.intent_id, "amount": attempt.amount_fen,
             "metadata": {"farm_refund_key": attempt.idempotency_key}},
            {"idempotency_key": "an-earlier-key"},
        )  # fmt: skip
    finally:
        http.close()
    assert await refund_due_payments(now=later(60 * 25), gateway=app.state.gateway) == 1
    await attempt.refresh_from_db()
    assert attempt.status == "succeeded" and attempt.provider_refund_id == landed.id
    assert (await Payment.get(id=payment.id)).refunded_fen == 58000


async def test_the_dispute_cards_dispute_reaches_the_manager(client, app, stripe_port):
    customer, sub, payment = await paid_by_card(app, stripe_port, "4000000000000259")
    disputes = [
        e for e in await all_events(stripe_port)
        if e["type"] == "charge.dispute.created"
        and e["data"]["object"].get("payment_intent") == payment.intent_id
    ]  # fmt: skip
    assert len(disputes) == 1
    await deliver(client, disputes)
    dispute = await Dispute.get(payment_id=payment.id)
    assert dispute.status in ("needs_response", "warning_needs_response")
    page = await manager_page(client, sub)
    assert dispute.provider_dispute_id not in page  # the refunds list...
    disputes_page = (await client.get("/manage/payments?list=disputes")).text
    assert dispute.provider_dispute_id in disputes_page  # ...and the disputes list
