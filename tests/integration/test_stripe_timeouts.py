"""Stripe that does not answer: no call waits more than its timeout, sent at most twice; the
customer is told plainly, in their language, that payment is unavailable (503, not 500), and
nothing is charged twice. Stripe here is a local socket that accepts and never answers."""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from farm.accounts.models import User
from farm.app import create_app
from farm.lifecycle import cancellation
from farm.payments.models import Payment, PaymentStatus, Refund
from farm.payments.services import refund_due_payments
from tests import emulator_support as emu
from tests.integration.test_payments import reserved_with_address
from tests.integration.test_refund_races import LATE, careless_stripe  # noqa: F401
from tests.integration.test_refunds_emulator import paid_by_card
from tests.support import NOW, later, wipe

TIMEOUT = 1.0
JSON = {"accept": "application/json"}
# One call: two tries of TIMEOUT and the library's pause of 0.5 s between them; a request makes
# at most two calls. Two seconds more for a loaded test machine.
ONE_CALL = 2 * TIMEOUT + 0.5 + 2


class SilentStripe:
    """Accepts connections and never answers; counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentStripe]:
    server = SilentStripe()
    yield server
    server.close()


@pytest.fixture
async def silent_client(settings, silent) -> AsyncIterator[httpx.AsyncClient]:
    base = f"http://127.0.0.1:{silent.port}"
    own = settings.with_(stripe_api_base=base, stripe_timeout_seconds=TIMEOUT)
    application = create_app(own)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c
        finally:
            await wipe(own)


async def timed(request):
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def test_paying_while_stripe_never_answers_says_so_within_two_timeouts(silent_client, silent):
    sub, token = await reserved_with_address(silent_client)
    pay = silent_client.post(
        f"/checkout/{sub.id}/pay",
        data={"method": "card", "payment_method": "card_1Silent", "csrf_token": token},
        headers=JSON,
    )
    r, took = await timed(pay)
    assert r.status_code == 503
    assert r.json()["error"] == "支付暂时不可用，未扣任何款项。您的地块仍为您保留，请稍后再试。"
    assert took < ONE_CALL
    assert silent.accepted == 2  # the call and its one retry
    assert not await Payment.exists()
    # The plain form gets the checkout page again, with the message, as a 503.
    r, took = await timed(
        silent_client.post(
            f"/checkout/{sub.id}/pay", data={"method": "alipay", "csrf_token": token}
        )
    )
    assert r.status_code == 503 and "支付暂时不可用" in r.text and took < ONE_CALL
    page, took = await timed(silent_client.get(f"/checkout/{sub.id}"))
    assert page.status_code == 200 and took < 1  # the checkout page never calls Stripe


async def test_the_message_is_in_the_customers_language(silent_client):
    sub, token = await reserved_with_address(silent_client, email="amy@example.com")
    await User.filter(email="amy@example.com").update(language="en")
    r = await silent_client.post(
        f"/checkout/{sub.id}/pay", data={"method": "wechat_pay", "csrf_token": token},
        headers=JSON,
    )  # fmt: skip
    assert r.status_code == 503
    assert r.json()["error"].startswith("Payment is unavailable right now and nothing was charged")


async def test_an_open_intent_stripe_stops_answering_about_is_left_open_not_paid_again(
    silent_client, silent
):
    """The confirm times out, and so does asking what became of it: the customer is told it
    may still go through, and the payment stays open for Stripe's webhook (no second one)."""
    sub, token = await reserved_with_address(silent_client)
    await Payment.create(subscription_id=sub.id, intent_id="pi_silent", client_secret="s",
                         amount_fen=sub.price_fen, created_at=NOW)  # fmt: skip
    r, took = await timed(
        silent_client.post(
            f"/checkout/{sub.id}/pay",
            data={"method": "card", "payment_method": "card_1Silent", "csrf_token": token},
            headers=JSON,
        )
    )
    assert r.status_code == 503 and "暂时无法确认您的付款" in r.json()["error"]
    assert took < 2 * ONE_CALL and silent.accepted == 4  # confirm and retrieve, twice each
    assert await Payment.all().values_list("status", flat=True) == ["requires_payment"]
    r, took = await timed(silent_client.get(f"/checkout/{sub.id}/status"))
    assert r.json()["state"] == "waiting" and took < ONE_CALL


async def test_a_refund_whose_answer_is_lost_is_not_resent_blindly_to_a_stripe_ignoring_keys(
    settings,
    stripe_port,
    careless_stripe,  # noqa: F811
):
    """The refund call times out after Stripe made the refund. The library does not send it
    again by itself; the retry job first finds the refund carrying the attempt's key: one
    refund, even though Stripe would have made a second on the same key."""
    application = create_app(settings.with_(stripe_timeout_seconds=TIMEOUT))
    async with application.router.lifespan_context(application):
        try:
            customer, sub, payment = await paid_by_card(application, stripe_port)
            gateway = application.state.gateway
            async with httpx.AsyncClient(base_url=emu.base(stripe_port)) as c:
                await c.post("/_emulator/latency", data={"seconds": str(TIMEOUT + 0.5)})
                try:
                    await cancellation.cancel_subscription(
                        customer=customer, subscription_id=sub.id, today=LATE, now=later(5),
                        gateway=gateway,
                    )  # fmt: skip
                    refund = await Refund.get(payment_id=payment.id)
                    assert refund.status == "requested" and refund.attempts == 1
                    await asyncio.sleep(1)  # the emulator finishes the request we gave up on
                finally:
                    await c.post("/_emulator/latency", data={"seconds": "0"})
            assert len(await gateway.list_refunds(payment.intent_id)) == 1
            assert await refund_due_payments(now=later(30), gateway=gateway) == 1
            made = await gateway.list_refunds(payment.intent_id)
            await refund.refresh_from_db()
            assert len(made) == 1 and made[0].id == refund.provider_refund_id
            assert (await Payment.get(id=payment.id)).status == PaymentStatus.REFUNDED
        finally:
            await wipe(settings)
