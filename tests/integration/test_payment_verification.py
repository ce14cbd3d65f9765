"""A subscription turns active only when Stripe itself says its PaymentIntent succeeded for the
plan's price in yuan: a correctly signed webhook (the secret leaked, or a replay of another
event) whose payload says otherwise activates nothing, nor does an intent that Stripe took for
another amount or currency."""

import pytest

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.lifecycle.checkout import open_payment
from farm.payments import console
from farm.payments.models import (
    Payment,
    PaymentStatus,
    ProcessedEvent,
    Refund,
    RefundReason,
    RefundStatus,
)
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_payments import intent_event, pay_at_stripe_only, reserved_with_address
from tests.support import NOW, confirm_card_at_stripe, signed_event


async def post_event(client, event):
    body, signature = signed_event(event)
    return await client.post(
        "/stripe/webhook", content=body, headers={"stripe-signature": signature}
    )


async def unpaid_intent(client, app):
    """A reserved plot with its PaymentIntent open at Stripe, nothing paid."""
    sub, token = await reserved_with_address(client)
    customer = await User.get(email="wang@example.com")
    payment = await open_payment(
        customer=customer, subscription_id=sub.id, runtime=app.state.runtime, now=NOW
    )
    return sub, payment


@pytest.mark.parametrize(
    "forged",
    [
        {"amount": 1},
        {"currency": "usd"},
        {"status": "requires_payment_method"},
        {},  # the payload as a succeeded payment would say it: Stripe says otherwise
    ],
    ids=["amount 1", "currency usd", "status requires_payment_method", "status succeeded"],
)
async def test_a_signed_succeeded_event_for_an_unpaid_intent_activates_nothing(
    client, app, stripe_port, forged
):
    sub, payment = await unpaid_intent(client, app)
    event = await intent_event(app, payment, "evt_forged_paid")
    event["data"]["object"].update({"status": "succeeded", **forged})
    r = await post_event(client, event)
    assert r.status_code == 200
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT


@pytest.mark.parametrize(
    "forged", [{"amount": 1}, {"currency": "usd"}, {"status": "requires_payment_method"}]
)
async def test_a_paid_intent_activates_by_what_stripe_says_not_by_the_payload(
    client, app, stripe_port, forged
):
    """The payload is not read: a real payment activates even when its event's body lies."""
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    event = await intent_event(app, payment, "evt_paid")
    event["data"]["object"].update(forged)
    r = await post_event(client, event)
    assert r.status_code == 200
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


@pytest.mark.parametrize("change", [{"amount": 500}, {"currency": "usd"}])
async def test_an_intent_stripe_took_for_another_amount_or_currency_is_refunded_once_not_activated(
    client, app, stripe_port, change
):
    """Someone with the secret key changed the intent before paying it: the webhook, the
    return page and the status poll all refuse to activate it, and what Stripe took goes back
    through the refund path, once, listed for the manager under its own reason."""
    sub, payment = await unpaid_intent(client, app)
    await app.state.gateway.client.v1.payment_intents.update_async(payment.intent_id, change)
    intent = await confirm_card_at_stripe(app.state.gateway, payment.intent_id, stripe_port)
    assert intent.status == "succeeded"
    r = await post_event(client, await intent_event(app, payment, "evt_other_amount"))
    assert r.status_code == 200
    await client.get(f"/checkout/{sub.id}/return")
    await client.get(f"/checkout/{sub.id}/status")
    r = await post_event(client, await intent_event(app, payment, "evt_other_amount_again"))
    assert r.status_code == 200
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT
    taken = change.get("amount", 58000)
    refund = await Refund.get(payment_id=payment.id)  # one attempt, whatever came three times
    assert refund.reason == RefundReason.MISMATCH and refund.amount_fen == taken
    assert refund.status == RefundStatus.SUCCEEDED
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == taken
    at_stripe = await app.state.gateway.list_refunds(payment.intent_id)
    assert [r.amount_fen for r in at_stripe] == [taken]
    # The cooperative's manager sees it among the refunds, under its own reason.
    coop_id = (await Subscription.get(id=sub.id).prefetch_related("season")).season.cooperative_id
    manager = await sign_up(email="li@coop.example", name="李", password="correct horse",
                            language="zh_CN", role=Role.MANAGER, cooperative_id=coop_id)  # fmt: skip
    page = await console.payments_page(manager=manager, shown="refunds", page=1, now=NOW)
    [row] = page.listed.items
    assert row["id"] == refund.id and row["reason"] == RefundReason.MISMATCH
    assert console.refund_reason_name(row["reason"]) != console.refund_reason_name("other")


async def test_a_cancelled_event_for_an_intent_still_open_at_stripe_closes_nothing(
    client, app, stripe_port
):
    sub, payment = await unpaid_intent(client, app)
    event = await intent_event(app, payment, "evt_forged_cancel", "payment_intent.canceled")
    event["data"]["object"]["status"] = "canceled"
    assert (await post_event(client, event)).status_code == 200
    await payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT


async def test_a_succeeded_event_is_refused_for_redelivery_when_stripe_cannot_be_asked(
    client, app, stripe_port, monkeypatch
):
    from farm.payments.gateway import StripeUnavailable

    sub, payment = await pay_at_stripe_only_with_sub(client, app, stripe_port)

    async def down(intent_id):
        raise StripeUnavailable("read timeout")

    monkeypatch.setattr(app.state.gateway, "retrieve", down)
    r = await post_event(client, await intent_event(app, payment, "evt_later"))
    assert r.status_code == 503
    assert not await ProcessedEvent.exists(event_id="evt_later")  # Stripe delivers it again
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT


async def pay_at_stripe_only_with_sub(client, app, stripe_port):
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    return sub, await Payment.get(id=payment.id)
