"""After a payment, the Stripe emulator refunds and disputes as Stripe does: refunds limited to
what is left, pending refunds that settle, and the events Stripe sends for each change."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests import emulator_support as emu


@pytest.fixture(scope="module")
def sc(stripe_port: int) -> Iterator[stripe.StripeClient]:
    made, http = emu.client(stripe_port)
    yield made
    http.close()


def settle(port: int, refund_id: str, status: str) -> httpx.Response:
    return httpx.post(
        f"{emu.base(port)}/_emulator/refunds/{refund_id}/settle", data={"status": status}
    )


def charge_of(sc: stripe.StripeClient, intent_id: str) -> stripe.Charge:
    return sc.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]}).latest_charge  # type: ignore[return-value]


def test_refunds_add_up_to_the_charge_and_no_further(sc, stripe_port):
    paid = emu.paid_intent(sc, stripe_port)  # ¥580.00
    first = sc.v1.refunds.create({
        "payment_intent": paid.id, "amount": 20000, "reason": "requested_by_customer",
        "metadata": {"subscription_id": "7"},
    })  # fmt: skip
    assert (first.status, first.reason, first.metadata["subscription_id"]) == (
        "succeeded", "requested_by_customer", "7",
    )  # fmt: skip
    charge = charge_of(sc, paid.id)
    assert (charge.amount_refunded, charge.refunded) == (20000, False)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        sc.v1.refunds.create({"payment_intent": paid.id, "amount": 38001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")
    rest = sc.v1.refunds.create({"payment_intent": paid.id})  # no amount: what is left
    assert rest.amount == 38000
    assert charge_of(sc, paid.id).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as again:
        sc.v1.refunds.create({"payment_intent": paid.id, "amount": 100})
    assert again.value.code == "charge_already_refunded"


def test_a_refund_reason_stripe_does_not_know_and_a_zero_amount_are_refused(sc, stripe_port):
    paid = emu.paid_intent(sc, stripe_port)
    for params, param in (({"reason": "changed_mind"}, "reason"), ({"amount": 0}, "amount")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sc.v1.refunds.create({"payment_intent": paid.id, **params})  # type: ignore[arg-type]
        assert caught.value.param == param


def test_an_intent_that_was_not_paid_cannot_be_refunded(sc):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sc.v1.refunds.create({"payment_intent": emu.card_intent(sc).id})
    assert caught.value.param == "payment_intent"


def test_a_card_refund_succeeds_at_once_with_refund_created_and_charge_refunded_events(
    sc, stripe_port
):
    paid = emu.paid_intent(sc, stripe_port)
    refund = sc.v1.refunds.create({"payment_intent": paid.id, "amount": 5000})
    assert refund.status == "succeeded" and refund.destination_details.type == "card"
    [created] = emu.events_about(stripe_port, refund.id)
    assert created["type"] == "refund.created"
    assert created["api_version"] == emu.API_VERSION and created["livemode"] is False
    assert created["created"] > 0 and created["data"]["object"]["amount"] == 5000
    charge_events = emu.events_about(stripe_port, paid.latest_charge)
    assert [e["type"] for e in charge_events] == ["charge.succeeded", "charge.refunded"]
    assert charge_events[-1]["data"]["object"]["amount_refunded"] == 5000


def test_the_refund_failure_card_refund_succeeds_then_fails_with_refund_failed(sc, stripe_port):
    paid = emu.paid_intent(sc, stripe_port, "4000000000005126")
    refund = sc.v1.refunds.create({"payment_intent": paid.id})
    assert refund.status == "succeeded"
    assert settle(stripe_port, refund.id, "failed").json()["status"] == "failed"
    after = sc.v1.refunds.retrieve(refund.id)
    assert (after.status, after.failure_reason) == ("failed", "expired_or_canceled_card")
    events = emu.events_about(stripe_port, refund.id)
    assert [e["type"] for e in events] == [
        "refund.created", "refund.updated", "charge.refund.updated", "refund.failed",
    ]  # fmt: skip
    assert events[1]["data"]["previous_attributes"]["status"] == "succeeded"
    assert charge_of(sc, paid.id).amount_refunded == 0  # a failed refund gives the amount back


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
def test_alipay_and_wechat_pay_refunds_start_pending_and_settle_when_told(sc, stripe_port, method):
    pending = emu.method_intent(sc, method)
    emu.authorize(stripe_port, pending.id)
    refund = sc.v1.refunds.create({"payment_intent": pending.id, "amount": 10000})
    assert refund.status == "pending" and refund.destination_details.type == method
    assert settle(stripe_port, refund.id, "succeeded").json()["status"] == "succeeded"
    events = emu.events_about(stripe_port, refund.id)
    assert [e["type"] for e in events] == [
        "refund.created", "refund.updated", "charge.refund.updated",
    ]  # fmt: skip
    assert events[1]["data"]["previous_attributes"] == {"status": "pending"}
    refused = settle(stripe_port, refund.id, "succeeded")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "status"


def test_a_pending_refund_that_fails_gives_its_amount_back(sc, stripe_port):
    pending = emu.method_intent(sc, "alipay")
    emu.authorize(stripe_port, pending.id)
    refund = sc.v1.refunds.create({"payment_intent": pending.id})
    assert charge_of(sc, pending.id).amount_refunded == 58000  # pending refunds count
    settle(stripe_port, refund.id, "failed")
    assert charge_of(sc, pending.id).amount_refunded == 0
    assert sc.v1.refunds.create({"payment_intent": pending.id}).amount == 58000
    assert "refund.failed" in emu.event_types(stripe_port, refund.id)


def test_a_pending_refund_settles_by_itself_after_the_configured_seconds(sc, stripe_port):
    pending = emu.method_intent(sc, "wechat_pay")
    emu.authorize(stripe_port, pending.id)
    refund = sc.v1.refunds.create({"payment_intent": pending.id})
    assert refund.status == "pending"
    deadline = time.monotonic() + 10  # FARM_EMULATOR_REFUND_SECONDS defaults to 3
    while sc.v1.refunds.retrieve(refund.id).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.25)
    assert sc.v1.refunds.retrieve(refund.id).status == "succeeded"


def test_refunds_are_listed_by_payment_intent_newest_first(sc, stripe_port):
    paid = emu.paid_intent(sc, stripe_port)
    ids = [sc.v1.refunds.create({"payment_intent": paid.id, "amount": 100}).id for _ in range(3)]
    emu.paid_intent(sc, stripe_port)  # another payment's refunds stay out
    listed = sc.v1.refunds.list({"payment_intent": paid.id})
    assert {r.id for r in listed.data} == set(ids)
    created = [r.created for r in listed.data]
    assert created == sorted(created, reverse=True)


def test_the_dispute_card_opens_a_fraudulent_dispute_and_closing_it_is_announced(sc, stripe_port):
    paid = emu.paid_intent(sc, stripe_port, "4000000000000259")
    assert paid.status == "succeeded"
    disputes = [
        e for e in httpx.get(
            f"{emu.base(stripe_port)}/v1/events",
            params={"type": "charge.dispute.created", "limit": "100"},
            headers={"Authorization": f"Bearer {emu.DEV_SECRET_KEY}"},
        ).json()["data"]
        if e["data"]["object"]["payment_intent"] == paid.id
    ]  # fmt: skip
    assert len(disputes) == 1
    assert sc.v1.charges.retrieve(paid.latest_charge).disputed is True
    dispute = disputes[0]["data"]["object"]
    assert dispute["id"].startswith("dp_") and dispute["charge"] == paid.latest_charge
    assert (dispute["amount"], dispute["currency"]) == (58000, "cny")
    assert (dispute["reason"], dispute["status"]) == ("fraudulent", "needs_response")
    assert dispute["evidence_details"]["due_by"] > time.time()
    closed = httpx.post(
        f"{emu.base(stripe_port)}/_emulator/disputes/{dispute['id']}/close", data={"status": "lost"}
    )
    assert closed.json()["status"] == "lost"
    assert sc.v1.disputes.retrieve(dispute["id"]).status == "lost"
    assert emu.event_types(stripe_port, dispute["id"]) == [
        "charge.dispute.created", "charge.dispute.closed",
    ]  # fmt: skip


def test_an_unknown_refund_or_dispute_is_a_404_resource_missing(sc):
    for call, id_ in ((sc.v1.refunds.retrieve, "re_nope"), (sc.v1.disputes.retrieve, "dp_nope")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call(id_)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
        assert id_ in str(caught.value.user_message)
