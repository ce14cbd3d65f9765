"""Paying by card (pm_, 3-D Secure), Alipay and WeChat Pay through the checkout's routes,
against the emulator; the customer's step at the bank / Alipay / WeChat is its authorize API."""

import re
from dataclasses import replace

import httpx
import pytest

from farm.land.models import PlotClaim
from farm.lifecycle.checkout import PaymentUnavailable
from farm.payments.gateway import PaymentProviderError, StripeGateway
from farm.payments.models import Payment
from farm.qr import qr_svg
from farm.subscriptions.models import Status
from tests import emulator_support as emu
from tests.integration.test_payments import reserved_with_address
from tests.support import log_in_client, make_customer

JSON = {"accept": "application/json"}
THREE_D_SECURE = "4000002500003155"


async def pay(client, sub, token, method, *, reference="", json=True):
    data = {"method": method, "csrf_token": token}
    if reference:
        data["payment_method"] = reference
    return await client.post(f"/checkout/{sub.id}/pay", data=data, headers=JSON if json else {})


async def authorize(stripe_port, intent_id, outcome="succeed"):
    """What the customer does on the 3-D Secure, Alipay or WeChat Pay page."""
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"http://127.0.0.1:{stripe_port}/_emulator/payment_intents/{intent_id}/authorize",
            data={"outcome": outcome},
        )
    return r


async def stripe_status(app, intent_id):
    return (await app.state.gateway.retrieve(intent_id)).status


async def open_payment_of(sub):
    return await Payment.get(subscription_id=sub.id, status="requires_payment")


# ---- card ----


async def test_a_card_from_create_payment_method_pays_and_the_receipt_shows_its_last_4(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port))
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    await sub.refresh_from_db()
    payment = await Payment.get(subscription_id=sub.id)
    assert sub.status == Status.ACTIVE
    assert (payment.method, payment.status, payment.card_last4) == ("card", "succeeded", "4242")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert "•••• 4242" in page.text


async def test_a_3d_secure_card_asks_for_the_next_action_then_the_return_page_activates(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port, THREE_D_SECURE))  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["status"] == "requires_action", body
    payment = await open_payment_of(sub)
    # Confirmed with our return_url: Stripe's redirect, which handleNextAction follows.
    assert body["client_secret"] == payment.client_secret
    assert body["next_action"]["type"] == "redirect_to_url"
    assert body["next_action"]["url"].startswith(f"http://127.0.0.1:{stripe_port}/")
    assert body["next"] == f"/checkout/{sub.id}/return"
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT  # nothing until the bank says yes
    assert (await authorize(stripe_port, payment.intent_id)).status_code == 200
    back = await client.get(
        f"/checkout/{sub.id}/return?payment_intent={payment.intent_id}&redirect_status=succeeded"
    )
    assert back.status_code == 303 and back.headers["location"].endswith("?welcome=1")
    await payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.card_last4 == "3155"


async def test_a_failed_3d_secure_goes_back_to_checkout_with_the_reason_and_the_plot_held(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port, THREE_D_SECURE))  # fmt: skip
    payment = await open_payment_of(sub)
    await authorize(stripe_port, payment.intent_id, "fail")
    back = await client.get(
        f"/checkout/{sub.id}/return?payment_intent={payment.intent_id}&redirect_status=failed"
    )
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{sub.id}"
    page = await client.get(back.headers["location"])
    assert "您的银行未能验证这笔付款" in page.text
    await payment.refresh_from_db()
    await sub.refresh_from_db()
    assert payment.status == "failed" and sub.status == Status.PENDING_PAYMENT
    assert await PlotClaim.exists(subscription_id=sub.id)
    # and another card then pays, on a fresh intent
    again = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port))
    assert again.json()["status"] == "succeeded"
    assert await Payment.filter(subscription_id=sub.id).count() == 2


@pytest.mark.parametrize(
    ("number", "code", "zh", "en"),
    [
        ("4000000000009995", "insufficient_funds", "余额不足",
         "Your card has insufficient funds. Try another card."),
        ("4000000000000002", "generic_decline", "您的银行卡被拒绝",
         "Your card was declined. Try another card."),
    ],
)  # fmt: skip
async def test_a_decline_says_why_in_both_languages_from_the_decline_code(
    client, app, stripe_port, number, code, zh, en
):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port, number))  # fmt: skip
    assert r.status_code == 402 and zh in r.json()["error"]
    failed = await Payment.get(subscription_id=sub.id)
    assert failed.status == "failed" and failed.failure_code == code
    assert await stripe_status(app, failed.intent_id) == "canceled"  # the attempt is closed
    await client.get("/lang/en")
    r = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port, number))  # fmt: skip
    assert r.json()["error"] == en
    page = await client.get(f"/checkout/{sub.id}")  # the last attempt's reason stays shown
    assert en in page.text


async def test_a_card_reference_that_is_not_a_payment_method_is_refused_before_stripe(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    for bad in ("", "4242424242424242", "src_123", "pm_" + "x" * 200):
        r = await pay(client, sub, token, "card", reference=bad)
        assert r.status_code == 422, bad
    r = await pay(client, sub, token, "paypal")
    assert r.status_code == 422
    assert not await Payment.exists()


class ProductionGateway:
    """StripeGateway as production builds it (no emulator base); Stripe is never reached:
    creating an intent fails as if Stripe were down, anything else fails the test."""

    def __init__(self, real: StripeGateway):
        self.real = real
        self.publishable_key, self.js_url = real.publishable_key, real.js_url
        self.base_url, self.accepts_test_card_ids = real.base_url, real.accepts_test_card_ids
        self.created = 0

    async def create_intent(self, **kwargs):
        self.created += 1
        raise PaymentProviderError("offline test")

    async def aclose(self):
        await self.real.aclose()


async def test_in_production_only_pm_payment_methods_are_accepted_never_card_or_token_ids(
    settings,
):
    from farm.app import create_app

    production = settings.with_(stripe_api_base="")
    gateway = ProductionGateway(StripeGateway(production))
    assert gateway.accepts_test_card_ids is False
    application = create_app(production, gateway=gateway)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            try:
                sub, token = await reserved_with_address(c)
                for test_only in ("card_1NfakeCard", "tok_visa"):
                    r = await pay(c, sub, token, "card", reference=test_only)
                    assert r.status_code == 422 and "银行卡" in r.json()["error"]
                assert gateway.created == 0  # refused before any call to Stripe
                r = await pay(c, sub, token, "card", reference="pm_1NrealPaymentMethod")
                assert r.status_code == 503 and gateway.created == 1  # pm_ goes on to Stripe
            finally:
                from tests.support import wipe

                await wipe(production)


class ConfirmTimesOut:
    """The real gateway, except that confirm answers with a timeout: after Stripe took the
    payment (`reached`), or before it heard of it; and retrieve may be down as well."""

    def __init__(self, real, *, reached: bool, retrieve_down: bool = False):
        self.real, self.reached, self.retrieve_down = real, reached, retrieve_down

    def __getattr__(self, name):
        return getattr(self.real, name)

    async def confirm(self, **kwargs):
        if self.reached:
            await self.real.confirm(**kwargs)
        raise PaymentProviderError("read timeout")

    async def retrieve(self, intent_id):
        if self.retrieve_down:
            raise PaymentProviderError("connection refused")
        return await self.real.retrieve(intent_id)


async def pay_through(app, gateway, stripe_port, *, email="wang@example.com"):
    """The pay service for a fresh reservation with an address, by card, through `gateway`."""
    from farm.lifecycle.checkout import pay as pay_service
    from farm.subscriptions import services
    from tests.support import ADDRESS, NOW, make_season

    plan = await make_season()
    customer = await make_customer(email)
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=None, today=NOW.date(), now=NOW, minutes=15
    )
    await services.update_address(
        customer=customer, subscription_id=sub.id, **ADDRESS, today=NOW.date()
    )
    outcome = await pay_service(
        customer=customer, subscription_id=sub.id, method="card",
        runtime=replace(app.state.runtime, gateway=gateway), now=NOW,
        payment_method=emu.payment_method(stripe_port),
    )  # fmt: skip
    return sub, outcome


async def test_a_confirm_that_times_out_after_stripe_took_the_money_records_the_payment(
    app, stripe_port
):
    sub, outcome = await pay_through(
        app, ConfirmTimesOut(app.state.gateway, reached=True), stripe_port
    )
    assert outcome.status == "succeeded"
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    assert (await Payment.get(subscription_id=sub.id)).status == "succeeded"


async def test_a_confirm_timeout_we_cannot_check_never_says_nothing_was_taken(app, stripe_port):
    gateway = ConfirmTimesOut(app.state.gateway, reached=True, retrieve_down=True)
    with pytest.raises(PaymentUnavailable) as refused:
        await pay_through(app, gateway, stripe_port)
    assert "未扣任何款项" not in refused.value.message  # "Nothing was taken"
    assert "暂时无法确认您的付款" in refused.value.message
    assert (await Payment.get()).status == "requires_payment"  # left for the webhook


async def test_a_confirm_that_never_reached_stripe_says_nothing_was_taken(app, stripe_port):
    with pytest.raises(PaymentUnavailable) as refused:
        await pay_through(app, ConfirmTimesOut(app.state.gateway, reached=False), stripe_port)
    assert "未扣任何款项" in refused.value.message  # "Nothing was taken": true here


# ---- Alipay ----


async def test_alipay_without_javascript_redirects_to_alipay_and_the_return_activates(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "alipay", json=False)  # the plain form
    payment = await open_payment_of(sub)
    assert payment.method == "alipay"
    assert r.status_code == 303
    assert r.headers["location"].startswith(
        f"http://127.0.0.1:{stripe_port}/_emulator/authorize/{payment.intent_id}"
    )
    assert (await authorize(stripe_port, payment.intent_id)).json()[
        "redirect_status"
    ] == "succeeded"
    back = await client.get(
        f"/checkout/{sub.id}/return?payment_intent={payment.intent_id}&redirect_status=succeeded"
    )
    assert back.status_code == 303 and back.headers["location"].endswith("?welcome=1")
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    receipt = await client.get(f"/account/subscriptions/{sub.id}")
    assert "支付宝" in receipt.text and "••••" not in receipt.text


async def test_alipay_by_script_gets_the_redirect_to_follow(client, app, stripe_port):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "alipay")
    body = r.json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["type"] == "alipay_handle_redirect"
    assert "/_emulator/authorize/" in body["next_action"]["url"]


@pytest.mark.parametrize("redirect_status", ["failed", "canceled"])
async def test_alipay_failed_or_cancelled_returns_to_checkout_with_a_message_and_the_plot_held(
    client, app, stripe_port, redirect_status
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    payment = await open_payment_of(sub)
    if redirect_status == "failed":
        await authorize(stripe_port, payment.intent_id, "fail")
    back = await client.get(
        f"/checkout/{sub.id}/return?payment_intent={payment.intent_id}"
        f"&redirect_status={redirect_status}"
    )
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{sub.id}"
    page = await client.get(f"/checkout/{sub.id}")
    expected = "支付宝付款已取消" if redirect_status == "canceled" else "支付宝未能完成付款"
    assert expected in page.text
    assert "该地块为您预留至" in page.text and await PlotClaim.exists(subscription_id=sub.id)
    # The abandoned redirect can no longer be paid: Stripe cancelled or failed it.
    assert await stripe_status(app, payment.intent_id) in ("canceled", "requires_payment_method")
    assert (await authorize(stripe_port, payment.intent_id)).status_code == 400


async def test_a_cancelled_return_naming_a_replaced_alipay_intent_leaves_the_open_wechat_qr(
    client, app, stripe_port
):
    """Alipay in tab A, WeChat Pay chosen in tab B, then Alipay cancelled in tab A."""
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    alipay = await open_payment_of(sub)
    await pay(client, sub, token, "wechat_pay")
    wechat = await open_payment_of(sub)
    back = await client.get(
        f"/checkout/{sub.id}/return?payment_intent={alipay.intent_id}&redirect_status=canceled"
    )
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{sub.id}/wait"
    await wechat.refresh_from_db()
    assert wechat.status == "requires_payment"
    assert await stripe_status(app, wechat.intent_id) == "requires_action"
    await authorize(stripe_port, wechat.intent_id)  # the QR code still pays
    assert (await client.get(f"/checkout/{sub.id}/status")).json()["state"] == "done"


@pytest.mark.parametrize("named", ["", "pi_someone_elses"])
async def test_a_cancelled_return_without_the_open_intents_id_closes_nothing(
    client, app, stripe_port, named
):
    """A cross-site image can GET the return page with the sequential subscription id, but
    it cannot know the open intent's id."""
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    payment = await open_payment_of(sub)
    query = f"payment_intent={named}&" if named else ""
    back = await client.get(f"/checkout/{sub.id}/return?{query}redirect_status=canceled")
    assert back.headers["location"] == f"/checkout/{sub.id}/wait"
    await payment.refresh_from_db()
    assert payment.status == "requires_payment"
    assert await stripe_status(app, payment.intent_id) == "requires_action"


async def test_the_return_page_while_alipay_still_processes_says_it_is_waiting(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    back = await client.get(f"/checkout/{sub.id}/return?redirect_status=processing")
    assert back.status_code == 303 and back.headers["location"] == f"/checkout/{sub.id}/wait"
    page = await client.get(back.headers["location"])
    assert "正在等待支付宝确认您的付款" in page.text
    assert (await client.get(f"/checkout/{sub.id}/status")).json() == {
        "state": "waiting", "next": ""
    }  # fmt: skip


async def test_a_forged_succeeded_redirect_activates_nothing(client, app, stripe_port):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    back = await client.get(f"/checkout/{sub.id}/return?redirect_status=succeeded")
    assert back.headers["location"] == f"/checkout/{sub.id}/wait"  # Stripe says not yet
    await sub.refresh_from_db()
    assert sub.status == Status.PENDING_PAYMENT


# ---- WeChat Pay ----


async def test_wechat_pay_shows_our_qr_code_and_the_status_poll_activates_when_paid(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "wechat_pay", json=False)
    assert r.status_code == 303 and r.headers["location"] == f"/checkout/{sub.id}/wait"
    payment = await open_payment_of(sub)
    intent = await app.state.gateway.retrieve(payment.intent_id)
    assert intent.next_action.type == "wechat_pay_display_qr_code" and intent.next_action.qr_data
    page = await client.get(f"/checkout/{sub.id}/wait")
    assert "请用微信扫码" in page.text
    # Drawn here from Stripe's data, by farm/qr.py (works offline, looks like the site).
    assert str(qr_svg(intent.next_action.qr_data, size_px=240, label="微信支付二维码")) in page.text
    status = await client.get(f"/checkout/{sub.id}/status")
    assert status.json() == {"state": "waiting", "next": ""}
    await authorize(stripe_port, payment.intent_id)  # scanned and paid on the phone
    status = await client.get(f"/checkout/{sub.id}/status")
    assert status.json() == {"state": "done", "next": f"/account/subscriptions/{sub.id}?welcome=1"}
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    assert (await client.get(f"/account/subscriptions/{sub.id}")).text.count("微信支付") >= 1


async def test_a_wechat_payment_that_fails_sends_the_poll_back_to_checkout(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "wechat_pay")
    payment = await open_payment_of(sub)
    await authorize(stripe_port, payment.intent_id, "fail")
    status = (await client.get(f"/checkout/{sub.id}/status")).json()
    assert status == {"state": "failed", "next": f"/checkout/{sub.id}"}
    assert "微信支付未能完成付款" in (await client.get(status["next"])).text


async def test_the_status_and_waiting_pages_are_the_owners_only(client, app, stripe_port):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "wechat_pay")
    await make_customer("li@example.com", "李")
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with other:
        await log_in_client(other, "li@example.com")
        for path in ("status", "wait", "return?redirect_status=canceled"):
            r = await other.get(f"/checkout/{sub.id}/{path}", headers=JSON)
            assert r.status_code == 404, path
    assert (await open_payment_of(sub)).method == "wechat_pay"  # the stranger closed nothing
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with anonymous:
        r = await anonymous.get(f"/checkout/{sub.id}/status")
        assert r.status_code in (303, 401) and "qr" not in r.text


# ---- switching method ----


async def test_switching_method_cancels_the_open_intent_so_only_one_can_be_paid(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    alipay = await open_payment_of(sub)
    await pay(client, sub, token, "wechat_pay")
    wechat = await open_payment_of(sub)
    assert wechat.id != alipay.id and wechat.method == "wechat_pay"
    await alipay.refresh_from_db()
    assert alipay.status == "cancelled"
    assert await stripe_status(app, alipay.intent_id) == "canceled"
    assert (await authorize(stripe_port, alipay.intent_id)).status_code == 400  # dead redirect
    assert await Payment.filter(subscription_id=sub.id, status="requires_payment").count() == 1
    # Choosing the same method again reuses its intent
    await pay(client, sub, token, "wechat_pay")
    assert (await open_payment_of(sub)).id == wechat.id


async def test_switching_after_the_open_intent_was_paid_records_that_payment_not_a_second(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "alipay")
    alipay = await open_payment_of(sub)
    await authorize(stripe_port, alipay.intent_id)  # paid; the customer never came back
    r = await pay(client, sub, token, "card", reference=emu.payment_method(stripe_port))
    assert r.json()["status"] == "succeeded"
    assert [p.method for p in await Payment.filter(subscription_id=sub.id)] == ["alipay"]
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


async def test_a_webhook_without_the_card_details_still_gives_the_receipt_its_last_4(
    client, app, stripe_port
):
    from tests.integration.test_payments import intent_event, pay_at_stripe_only
    from tests.support import signed_event

    sub, _ = await reserved_with_address(client)
    payment = await pay_at_stripe_only(app, sub, stripe_port)
    event = await intent_event(app, payment, "evt_last4")
    assert isinstance(event["data"]["object"]["latest_charge"], str)  # as Stripe sends it
    body, signature = signed_event(event)
    r = await client.post("/stripe/webhook", content=body, headers={"stripe-signature": signature})
    assert r.status_code == 200
    await payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.card_last4 == "4242"


async def test_the_checkout_offers_the_three_methods_in_yuan_and_says_what_needs_script(client):
    sub, _token = await reserved_with_address(client)
    page = (await client.get(f"/checkout/{sub.id}")).text
    for label in ("银行卡", "支付宝", "微信支付"):
        assert re.search(rf'<label for="method-[a-z_]+" class="method-tile">.*{label}', page)
    assert "人民币" in page and "¥580" in page
    assert "<noscript>" in page and "JavaScript" in page
    assert 'name="method" value="alipay"' in page  # a plain form: works without script


async def test_the_card_form_gives_stripe_js_the_pages_language_not_the_browsers(client):
    sub, _token = await reserved_with_address(client)
    assert 'data-locale="zh"' in (await client.get(f"/checkout/{sub.id}")).text
    await client.get("/lang/en")
    assert 'data-locale="en"' in (await client.get(f"/checkout/{sub.id}")).text


async def test_a_double_click_opens_one_payment_and_cancels_the_other_intent(
    client, app, stripe_port
):
    import asyncio

    sub, token = await reserved_with_address(client)
    first, second = await asyncio.gather(
        pay(client, sub, token, "alipay"), pay(client, sub, token, "alipay")
    )
    assert first.status_code == second.status_code == 200
    open_ = await Payment.filter(subscription_id=sub.id, status="requires_payment")
    assert len(open_) == 1  # the database's partial unique index keeps it so
    urls = {first.json()["next_action"]["url"], second.json()["next_action"]["url"]}
    assert urls == {u for u in urls if open_[0].intent_id in u}  # both go to the same intent


async def test_a_method_the_account_has_not_enabled_is_refused_and_its_intent_cancelled(
    client, app, stripe_port
):
    """Stripe silently drops a method the account cannot take from the allowed types."""
    from dataclasses import replace

    real = app.state.gateway.create_intent
    made = []

    async def without_the_method(**kwargs):
        intent = await real(**kwargs)
        made.append(intent.id)
        return replace(intent, method="")

    app.state.gateway.create_intent = without_the_method
    sub, token = await reserved_with_address(client)
    r = await pay(client, sub, token, "wechat_pay")
    assert r.status_code == 409 and r.json()["error"] == "微信支付暂时不可用，请选择其他付款方式。"
    assert not await Payment.exists()
    assert await stripe_status(app, made[0]) == "canceled"


async def test_the_waiting_pages_poll_asks_stripe_about_a_payment_at_most_once_per_interval(
    client, app, stripe_port, monkeypatch
):
    from datetime import UTC, datetime, timedelta

    from farm.lifecycle import routes
    from farm.payments.polling import StripeReadGate

    sub, token = await reserved_with_address(client)
    await pay(client, sub, token, "wechat_pay")
    payment = await open_payment_of(sub)
    gateway = app.state.gateway
    asked: list[str] = []
    real_retrieve = gateway.retrieve

    async def counted_retrieve(intent_id):
        asked.append(intent_id)
        return await real_retrieve(intent_id)

    monkeypatch.setattr(gateway, "retrieve", counted_retrieve)
    monkeypatch.setattr(app.state, "stripe_reads", StripeReadGate(timedelta(seconds=20)))
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    async def poll_at(seconds: int) -> dict:
        monkeypatch.setattr(routes, "now", lambda: start + timedelta(seconds=seconds))
        return (await client.get(f"/checkout/{sub.id}/status")).json()

    assert (await poll_at(0))["state"] == "waiting" and len(asked) == 1
    await authorize(stripe_port, payment.intent_id)  # paid; the webhook is late
    assert (await poll_at(2))["state"] == "waiting"  # our own row, not Stripe
    assert (await poll_at(19))["state"] == "waiting" and len(asked) == 1
    assert (await poll_at(20))["state"] == "done" and len(asked) == 2
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
