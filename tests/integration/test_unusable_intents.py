"""A PaymentIntent that can never be paid (cancelled in Stripe's dashboard, or unknown to an
emulator that restarted) is not reused: the checkout closes it and opens a new one, so the
customer's next try goes through, and one payment is taken."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from farm.accounts.models import User
from farm.app import create_app
from farm.lifecycle.checkout import open_payment
from farm.payments import emulator
from farm.payments.models import Payment, PaymentStatus
from farm.subscriptions.models import Status
from tests.integration.test_checkout_methods import pay
from tests.integration.test_payments import reserved_with_address
from tests.support import NOW, card_id, free_port, wipe


async def open_card_intent(app, sub) -> Payment:
    customer = await User.get(email="wang@example.com")
    return await open_payment(
        customer=customer, subscription_id=sub.id, runtime=app.state.runtime, now=NOW
    )


async def test_an_intent_cancelled_at_stripe_is_replaced_and_the_payment_goes_through(
    client, app, stripe_port
):
    sub, token = await reserved_with_address(client)
    old = await open_card_intent(app, sub)
    # Cancelled in Stripe's dashboard; its webhook never arrived.
    await app.state.gateway.client.v1.payment_intents.cancel_async(old.intent_id)
    r = await pay(client, sub, token, "card", reference=await card_id(stripe_port))
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    await old.refresh_from_db()
    await sub.refresh_from_db()
    assert old.status == PaymentStatus.CANCELLED
    assert sub.status == Status.ACTIVE
    paid = await Payment.filter(subscription_id=sub.id, status=PaymentStatus.SUCCEEDED)
    assert len(paid) == 1 and paid[0].intent_id != old.intent_id


Restart = Callable[[], None]


@pytest.fixture
async def restarting(settings) -> AsyncIterator[tuple[object, int, Restart]]:
    """An app on its own emulator, and a way to restart that emulator (it forgets every
    intent: it keeps them in memory only)."""
    port = free_port()
    procs = [emulator.start_process(port)]

    def restart() -> None:
        procs[0].terminate()
        procs[0].wait(timeout=10)
        procs[0] = emulator.start_process(port)

    base = f"http://127.0.0.1:{port}"
    own = settings.with_(stripe_api_base=base, stripe_js_url=f"{base}/js.stripe.com/v3/")
    application = create_app(own)
    try:
        async with application.router.lifespan_context(application):
            try:
                yield application, port, restart
            finally:
                await wipe(own)
    finally:
        procs[0].terminate()
        procs[0].wait(timeout=10)


async def client_of(application) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_after_the_emulator_restarted_paying_by_card_opens_a_new_intent(restarting):
    application, port, restart = restarting
    async with await client_of(application) as c:
        sub, token = await reserved_with_address(c)
        old = await open_card_intent(application, sub)
        restart()
        r = await pay(c, sub, token, "card", reference=await card_id(port))
        assert r.status_code == 200 and r.json()["status"] == "succeeded"
        r = await pay(c, sub, token, "card", reference=await card_id(port))  # already paid
        assert r.status_code == 409
    await old.refresh_from_db()
    await sub.refresh_from_db()
    assert old.status == PaymentStatus.CANCELLED and sub.status == Status.ACTIVE
    assert await Payment.filter(subscription_id=sub.id, status="succeeded").count() == 1


async def test_after_the_emulator_restarted_switching_method_and_the_wait_page_recover(
    restarting,
):
    application, port, restart = restarting
    async with await client_of(application) as c:
        sub, token = await reserved_with_address(c)
        r = await pay(c, sub, token, "wechat_pay")
        assert r.json()["status"] == "requires_action"
        wechat = await Payment.get(subscription_id=sub.id, status="requires_payment")
        restart()
        # The waiting page no longer waits for a QR code nothing can pay: back to checkout.
        status = await c.get(f"/checkout/{sub.id}/status")
        assert status.json() == {"state": "open", "next": f"/checkout/{sub.id}"}
        await wechat.refresh_from_db()
        assert wechat.status == PaymentStatus.CANCELLED
        r = await pay(c, sub, token, "alipay")
        assert r.json()["status"] == "requires_action"
        alipay = await Payment.get(subscription_id=sub.id, status="requires_payment")
        restart()
        r = await pay(c, sub, token, "card", reference=await card_id(port))  # switching
        assert r.json()["status"] == "succeeded"
        await alipay.refresh_from_db()
        assert alipay.status == PaymentStatus.CANCELLED
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
