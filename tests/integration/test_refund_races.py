"""Concurrent cancels of one subscription make exactly one refund at Stripe, even when Stripe
ignores idempotency keys: the cancellation locks the subscription's row and stores its refund
attempt before Stripe is called, and the attempt is sent by whoever takes its lease, once.
Run on PostgreSQL (SQLite serialises writers, so it proves less there), against the emulator
told to ignore Idempotency-Key."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from farm.errors import Conflict
from farm.lifecycle import cancellation
from farm.payments.models import Payment, Refund
from farm.payments.services import refund_due_payments
from tests import emulator_support as emu
from tests.integration.test_refunds_emulator import paid_by_card
from tests.support import later

pytestmark = pytest.mark.postgres

CANCELS = 8
# Late in the season: the quote refunds the last ship days only, so eight refunds of it
# would fit in the charge, and Stripe's own cap on refunds could not hide a duplicate.
LATE = date(2028, 1, 20)


@pytest.fixture
async def careless_stripe(stripe_port) -> AsyncIterator[None]:
    """The emulator runs every request again whatever its Idempotency-Key."""
    async with httpx.AsyncClient(base_url=emu.base(stripe_port)) as c:
        r = await c.post("/_emulator/idempotency", data={"honour": "false"})
        assert r.json() == {"honour": False}
        try:
            yield
        finally:
            await c.post("/_emulator/idempotency", data={"honour": "true"})


async def refunds_at_stripe(app, intent_id: str) -> list:
    return await app.state.gateway.list_refunds(intent_id)


async def test_a_stripe_ignoring_idempotency_keys_makes_a_second_refund_for_a_resent_key(
    app, stripe_port, careless_stripe
):
    """The emulator's switch works: the same key twice is two refunds (what we guard against)."""
    customer, sub, payment = await paid_by_card(app, stripe_port)
    for _ in range(2):
        await app.state.gateway.refund(
            intent_id=payment.intent_id, amount_fen=100, idempotency_key="farm-refund-same"
        )
    assert len(await refunds_at_stripe(app, payment.intent_id)) == 2


async def test_eight_concurrent_cancels_make_one_refund_at_a_stripe_ignoring_keys(
    app, stripe_port, careless_stripe
):
    customer, sub, payment = await paid_by_card(app, stripe_port)

    async def cancel(i: int):
        try:
            return await cancellation.cancel_subscription(
                customer=customer, subscription_id=sub.id, today=LATE, now=later(5 + i),
                gateway=app.state.gateway,
            )  # fmt: skip
        except Conflict:
            return None

    async def retry_job(i: int):  # the scheduler's retry_refunds, at the same moment
        return await refund_due_payments(now=later(5 + i), gateway=app.state.gateway)

    results = await asyncio.gather(
        *(cancel(i) for i in range(CANCELS)), *(retry_job(i) for i in range(4))
    )
    assert sum(r is not None for r in results[:CANCELS]) == 1  # one cancel won
    refund = await Refund.get(payment_id=payment.id)  # one attempt stored
    assert 0 < refund.amount_fen * CANCELS <= payment.amount_fen
    made = await refunds_at_stripe(app, payment.intent_id)
    assert [r.amount_fen for r in made] == [refund.amount_fen]  # and one refund at Stripe
    assert made[0].key == refund.idempotency_key and refund.status == "succeeded"
    # Later runs of the retry job send nothing more.
    assert await refund_due_payments(now=later(30), gateway=app.state.gateway) == 0
    assert len(await refunds_at_stripe(app, payment.intent_id)) == 1
    assert (await Payment.get(id=payment.id)).refunded_fen == refund.amount_fen
