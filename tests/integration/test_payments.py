import asyncio
import time

import httpx
import pytest

from farm.land.models import Plot, PlotClaim
from farm.payments.models import Payment, ProcessedEvent
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    ADDRESS,
    LiveServer,
    card_id,
    confirm_card_at_stripe,
    log_in_client,
    make_customer,
    make_season,
    signed_event,
)

JSON = {"accept": "application/json"}


async def reserved_with_address(client, *, email="wang@example.com"):
    """A logged-in customer with a reserved plot and a delivery address; returns (sub, token)."""
    plan = await make_season()
    await make_customer(email)
    token = await log_in_client(client, email)
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": plot.id, "csrf_token": token}
    )
    assert r.status_code == 303
    sub = await Subscription.get(plot_id=plot.id)
    assert r.headers["location"] == f"/checkout/{sub.id}"
    r = await client.post(f"/checkout/{sub.id}/address", data={**ADDRESS, "csrf_token": token})
    assert r.status_code == 303
    return sub, token


async def test_checkout_asks_for_the_address_before_showing_the_card_form(client):
    plan = await make_season()
    await make_customer()
    token = await log_in_client(client, "wang@example.com")
    r = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and 'id="card-form"' not in page.text
    assert "取消规则" in page.text or "退款" in page.text  # the cancellation rules, before paying


async def test_a_bad_address_is_shown_beside_its_fields_with_422_and_not_saved(client):
    sub, token = await reserved_with_address(client)
    r = await client.post(
        f"/checkout/{sub.id}/address",
        data={**ADDRESS, "phone": "123", "province": "Narnia", "csrf_token": token},
    )
    assert r.status_code == 422
    assert "11 位" in r.text or "11" in r.text
    await sub.refresh_from_db()
    assert sub.phone == "13800138000" and sub.province == "上海"


async def test_paying_with_the_test_card_turns_the_subscription_active_with_a_receipt(
    client, stripe_port
):
    sub, token = await reserved_with_address(client)
    page = await client.get(f"/checkout/{sub.id}")
    assert 'id="card-form"' in page.text, page.text[page.text.find('class="message"') :][:300]
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port), "csrf_token": token},
        headers=JSON,
    )
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    payment = await Payment.get(subscription_id=sub.id)
    assert (
        payment.status == "succeeded"
        and payment.amount_fen == 58000
        and payment.card_last4 == "4242"
    )
    assert (await PlotClaim.get(subscription_id=sub.id)).expires_at is None
    await client.get("/lang/en")
    account = await client.get(f"/account/subscriptions/{sub.id}")
    assert (
        "Payment receipt" in account.text and "•••• 4242" in account.text and "¥580" in account.text
    )
    assert "2027-03-16" in account.text  # the season's ship days


async def test_a_declined_card_keeps_the_plot_reserved_and_says_why(client, stripe_port):
    sub, token = await reserved_with_address(client)
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port, "4000000000000341"), "csrf_token": token},
        headers=JSON,
    )
    assert r.status_code == 402
    assert "拒绝" in r.json()["error"]
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT
    assert await PlotClaim.exists(subscription_id=sub.id)
    # and another card works
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port), "csrf_token": token},
        headers=JSON,
    )
    assert r.json()["status"] == "succeeded"


async def test_paying_after_the_reservation_lapsed_is_refused_and_charges_nothing(
    client, stripe_port
):
    sub, token = await reserved_with_address(client)
    await PlotClaim.filter(subscription_id=sub.id).update(expires_at=sub.reserved_at)
    r = await client.post(
        f"/checkout/{sub.id}/pay",
        data={"card_id": await card_id(stripe_port), "csrf_token": token},
        headers=JSON,
    )
    assert r.status_code == 409
    assert not await Payment.filter(status="succeeded").exists()


async def pay_at_stripe_only(app, sub, stripe_port, customer_email="wang@example.com"):
    """Pay the way a browser would if our server never heard back: straight at Stripe."""
    from farm.accounts.models import User
    from farm.lifecycle.checkout import open_payment
    from tests.support import NOW

    customer = await User.get(email=customer_email)
    payment = await open_payment(
        customer=customer,
        subscription_id=sub.id,
        runtime=app.state.runtime,
        now=NOW.now(NOW.tzinfo),
    )
    intent = await confirm_card_at_stripe(app.state.gateway, payment.intent_id, stripe_port)
    assert intent.status == "succeeded"
    return payment


async def test_the_return_page_asks_stripe_so_a_late_webhook_keeps_nobody_waiting(
    client, app, stripe_port
):
    sub, _ = await reserved_with_address(client)
    await pay_at_stripe_only(app, sub, stripe_port)
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT  # no webhook yet
    r = await client.get(f"/checkout/{sub.id}/return")
    assert r.status_code == 303 and r.headers["location"].endswith("?welcome=1")
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


async def intent_event(app, payment, event_id="evt_test_1", type_="payment_intent.succeeded"):
    obj = (
        await app.state.gateway.client.v1.payment_intents.retrieve_async(payment.intent_id)
    ).to_dict()
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": obj}}


async def test_a_signed_webhook_activates_the_subscription_and_a_replay_changes_nothing(
    client, app, stripe_port
):
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    body, signature = signed_event(await intent_event(app, payment))
    first = await client.post(
        "/stripe/webhook", content=body, headers={"stripe-signature": signature}
    )
    assert first.status_code == 200 and first.json()["duplicate"] is False
    await sub.refresh_from_db()
    activated_at = sub.activated_at
    assert sub.status == Status.ACTIVE
    replay = await client.post(
        "/stripe/webhook", content=body, headers={"stripe-signature": signature}
    )
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    await sub.refresh_from_db()
    assert sub.activated_at == activated_at
    assert await ProcessedEvent.filter(event_id="evt_test_1").count() == 1


async def test_two_deliveries_of_one_event_at_the_same_moment_apply_it_once(
    client, app, stripe_port
):
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    body, signature = signed_event(await intent_event(app, payment, "evt_twice"))
    results = await asyncio.gather(
        *[
            client.post("/stripe/webhook", content=body, headers={"stripe-signature": signature})
            for _ in range(4)
        ]
    )
    assert all(r.status_code == 200 for r in results)
    assert sorted(r.json()["duplicate"] for r in results) == [False, True, True, True]


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "no signature", "tampered body", "stale timestamp", "future timestamp"],
)
async def test_a_forged_webhook_is_refused_and_applies_nothing(client, app, stripe_port, how):
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    event = await intent_event(app, payment, "evt_forged")
    body, signature = signed_event(
        event,
        secret="whsec_attacker" if how == "wrong secret" else "whsec_farm_development_only",
        timestamp={"stale timestamp": 1_000_000, "future timestamp": int(time.time()) + 600}.get(
            how
        ),
    )
    if how == "tampered body":
        body = body.replace(b'"amount": 58000', b'"amount": 1')
    headers = {} if how == "no signature" else {"stripe-signature": signature}
    r = await client.post("/stripe/webhook", content=body, headers=headers)
    assert r.status_code == 400
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT
    assert not await ProcessedEvent.exists()


async def test_a_signature_a_little_ahead_of_our_clock_is_accepted(client, app, stripe_port):
    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    body, signature = signed_event(
        await intent_event(app, payment, "evt_skewed"), timestamp=int(time.time()) + 30
    )
    r = await client.post("/stripe/webhook", content=body, headers={"stripe-signature": signature})
    assert r.status_code == 200
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


@pytest.mark.parametrize("declared", [True, False])
async def test_a_webhook_body_over_the_limit_is_refused_before_it_is_read(client, declared):
    sent: list[int] = []

    async def ten_megabytes():
        for _ in range(160):
            sent.append(1)
            yield b"x" * 65536

    headers = {"stripe-signature": "t=1,v1=0"}
    if declared:  # an honest Content-Length: refused without reading a byte
        headers["content-length"] = str(160 * 65536)
    r = await client.post("/stripe/webhook", content=ten_megabytes(), headers=headers)
    assert r.status_code == 413
    # Without a length, reading stops at the first chunk past 512 KB.
    assert len(sent) <= (0 if declared else 9)
    assert not await ProcessedEvent.exists()


async def test_the_emulator_delivers_its_signed_webhook_to_a_running_server(
    settings, stripe_port, app
):
    """End to end through the network: localstripe signs and posts the event to `farm web`."""
    from farm.payments.emulator import register_webhook

    server = LiveServer(settings)
    try:
        register_webhook(
            port=stripe_port,
            url=f"{server.url}/stripe/webhook",
            secret=str(settings.stripe_webhook_secret),
            name="live",
        )
        async with httpx.AsyncClient(base_url=server.url) as live:
            sub, _ = await reserved_with_address(live)
            await pay_at_stripe_only(app, sub, stripe_port)
            for _ in range(100):  # the emulator waits 1 s before it delivers
                await sub.refresh_from_db()
                if sub.status == Status.ACTIVE:
                    break
                await asyncio.sleep(0.1)
        # Nothing but the delivered webhook could have activated it: we paid at Stripe only.
        assert sub.status == Status.ACTIVE
    finally:
        register_webhook(port=stripe_port, url="http://127.0.0.1:9/", secret="x", name="live")
        server.stop()


async def test_a_payment_that_arrives_after_the_plot_went_to_someone_else_is_refunded(
    client, app, stripe_port
):
    from farm.lifecycle.activation import record_success
    from tests.support import NOW, later

    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    # the reservation lapses, another buyer takes the plot, then the late payment is recorded
    from farm.subscriptions import services

    await PlotClaim.filter(subscription_id=sub.id).update(expires_at=NOW)
    other = await make_customer("li@example.com", "李")
    plan_id = sub.plan_id
    await services.reserve_plot(
        customer=other,
        plan_id=plan_id,
        plot_id=sub.plot_id,
        today=NOW.date(),
        now=later(1),
        minutes=15,
    )
    intent = await app.state.gateway.retrieve(payment.intent_id)
    await record_success(intent, now=later(2), runtime=app.state.runtime)
    await sub.refresh_from_db()
    await payment.refresh_from_db()
    assert sub.status == Status.REFUNDED and sub.cancel_reason == "plot_lost"
    assert payment.status == "refunded" and payment.refunded_fen == 58000
    assert (await PlotClaim.get(plot_id=sub.plot_id)).subscription_id != sub.id
    # Said without naming a card: the same words serve Alipay and WeChat Pay.
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert "全部款项将按原支付方式退回" in page.text and "退回您的银行卡" not in page.text
    await client.get("/lang/en")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert "the whole amount is refunded the way you paid" in page.text
    assert "refunded to your card" not in page.text
