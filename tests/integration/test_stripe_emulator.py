"""The Stripe emulator accepts what Stripe accepts and refuses what Stripe refuses, for the
payment calls the service makes, driven through the real `stripe` library."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from farm.payments import emulator
from farm.settings import DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY
from tests import emulator_support as emu
from tests import support
from tests.emulator_support import RETURN_URL


@pytest.fixture(scope="module")
def stripe_port() -> Iterator[int]:
    """An emulator of its own, with Stripe's default of automatic payment methods."""
    port = support.free_port()
    proc = emulator.start_process(port, env={"FARM_EMULATOR_AUTOMATIC_PAYMENT_METHODS": "on"})
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sc(stripe_port: int) -> Iterator[stripe.StripeClient]:
    made, http = emu.client(stripe_port)
    yield made
    http.close()


def refused(call: Any, *args: Any) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as caught:
        call(*args)
    return caught.value


# ---- automatic payment methods and return_url ----


def test_an_intent_without_payment_method_types_has_automatic_payment_methods_and_needs_a_return_url(
    sc, stripe_port
):
    intent = sc.v1.payment_intents.create({"amount": 58000, "currency": "cny"})
    assert intent.automatic_payment_methods.enabled is True
    assert intent.payment_method_types == ["card", "alipay", "wechat_pay"]
    err = refused(
        sc.v1.payment_intents.confirm,
        intent.id,
        {"payment_method": emu.payment_method(stripe_port)},
    )
    assert isinstance(err, stripe.InvalidRequestError) and err.http_status == 400
    assert "A `return_url` must be specified because this Payment Intent is configured to " + (
        "automatically accept the payment methods enabled in the Dashboard"
    ) in str(err.user_message)
    done = sc.v1.payment_intents.confirm(
        intent.id, {"payment_method": emu.payment_method(stripe_port), "return_url": RETURN_URL}
    )
    assert done.status == "succeeded"


def test_automatic_payment_methods_without_redirects_confirm_a_card_without_return_url(
    sc, stripe_port
):
    intent = sc.v1.payment_intents.create({
        "amount": 58000, "currency": "cny",
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
    })  # fmt: skip
    assert intent.payment_method_types == ["card"]
    done = sc.v1.payment_intents.confirm(
        intent.id, {"payment_method": emu.payment_method(stripe_port)}
    )
    assert done.status == "succeeded"


def test_allowed_payment_method_types_excludes_automatic_payment_methods(sc):
    err = refused(
        sc.v1.payment_intents.create,
        {
            "amount": 58000, "currency": "cny", "allowed_payment_method_types": ["card"],
            "automatic_payment_methods": {"enabled": True},
        },
    )  # fmt: skip
    assert err.param == "allowed_payment_method_types"  # type: ignore[attr-defined]


def test_payment_method_types_is_refused_on_the_pinned_api_version_as_stripe_does(sc):
    err = refused(
        sc.v1.payment_intents.create,
        {"amount": 58000, "currency": "cny", "payment_method_types": ["card"]},
    )
    assert (err.code, err.param) == (  # type: ignore[attr-defined]
        "payment_method_types_no_longer_supported", "payment_method_types",
    )  # fmt: skip


def test_payment_method_types_still_works_on_an_api_version_before_endive(stripe_port):
    headers = {"Authorization": f"Bearer {DEV_SECRET_KEY}", "Stripe-Version": "2025-03-31.basil"}
    url = f"{emu.base(stripe_port)}/v1/payment_intents"
    made = httpx.post(
        url,
        data={"amount": "58000", "currency": "cny", "payment_method_types[0]": "card"},
        headers=headers,
    )
    assert made.status_code == 200 and made.json()["payment_method_types"] == ["card"]
    too_new = httpx.post(
        url,
        data={"amount": "58000", "currency": "cny", "allowed_payment_method_types[0]": "card"},
        headers=headers,
    )
    assert too_new.json()["error"]["code"] == "parameter_unknown"


def test_allowed_payment_method_types_drops_the_types_that_do_not_take_the_currency(sc):
    intent = sc.v1.payment_intents.create({
        "amount": 5000, "currency": "brl", "allowed_payment_method_types": ["card", "wechat_pay"],
    })  # fmt: skip
    assert intent.allowed_payment_method_types == ["card", "wechat_pay"]
    assert intent.payment_method_types == ["card"] and intent.automatic_payment_methods is None


def test_excluded_payment_method_types_narrow_automatic_payment_methods(sc):
    intent = sc.v1.payment_intents.create({
        "amount": 58000, "currency": "cny", "excluded_payment_method_types": ["alipay"],
    })  # fmt: skip
    assert intent.payment_method_types == ["card", "wechat_pay"]
    assert intent.automatic_payment_methods.enabled is True


def test_return_url_on_create_needs_confirm_true_and_then_confirms_at_once(sc, stripe_port):
    pm = emu.payment_method(stripe_port)
    err = refused(lambda: emu.card_intent(sc, return_url=RETURN_URL, payment_method=pm))
    assert err.param == "return_url"  # type: ignore[attr-defined]
    done = emu.card_intent(sc, payment_method=pm, return_url=RETURN_URL, confirm=True)
    assert done.status == "succeeded"


# ---- cards ----


def test_a_card_only_intent_takes_description_suffix_and_a_pm_id_without_return_url(
    sc, stripe_port
):
    intent = emu.card_intent(sc, statement_descriptor_suffix="PLOT A-12")
    assert intent.status == "requires_payment_method" and intent.automatic_payment_methods is None
    assert intent.description == "Plot A-12, season 2027"
    done = sc.v1.payment_intents.confirm(
        intent.id, {"payment_method": emu.payment_method(stripe_port)}
    )
    assert done.status == "succeeded" and done.amount_received == 58000
    assert isinstance(done.latest_charge, str)  # an id unless expanded, as on Stripe
    got = sc.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    details = got.latest_charge.payment_method_details
    assert details.type == "card"
    assert (details.card.last4, details.card.brand) == ("4242", "visa")
    assert got.latest_charge.metadata["subscription_id"] == "7"


def test_a_card_id_from_a_token_is_attached_by_update_and_confirmed(sc, stripe_port):
    token = httpx.post(
        f"{emu.base(stripe_port)}/v1/tokens",
        data={"card[number]": "4242424242424242", "card[exp_month]": "12",
              "card[exp_year]": "2030", "card[cvc]": "123", "key": DEV_PUBLISHABLE_KEY},
    ).json()  # fmt: skip
    intent = emu.card_intent(sc)
    sc.v1.payment_intents.update(intent.id, {"payment_method": token["card"]["id"]})
    done = sc.v1.payment_intents.confirm(intent.id)
    assert done.status == "succeeded"


def test_insufficient_funds_is_card_declined_with_its_decline_code(sc, stripe_port):
    intent = emu.card_intent(sc)
    err = refused(
        sc.v1.payment_intents.confirm,
        intent.id,
        {"payment_method": emu.payment_method(stripe_port, "4000000000009995"),
         "return_url": RETURN_URL},
    )  # fmt: skip
    assert isinstance(err, stripe.CardError) and err.http_status == 402
    assert (err.code, err.error.decline_code) == ("card_declined", "insufficient_funds")  # type: ignore[union-attr]
    after = sc.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method" and after.payment_method is None
    assert after.last_payment_error.decline_code == "insufficient_funds"
    assert emu.event_types(stripe_port, intent.id)[-1] == "payment_intent.payment_failed"


@pytest.mark.parametrize(
    ("number", "code", "decline_code"),
    [
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4000000000000341", "card_declined", "generic_decline"),
        ("4000000000000069", "expired_card", "expired_card"),
    ],
)
def test_stripes_decline_cards_are_declined_as_stripe_declines_them(
    sc, stripe_port, number, code, decline_code
):
    intent = emu.card_intent(sc)
    err = refused(
        sc.v1.payment_intents.confirm,
        intent.id,
        {"payment_method": emu.payment_method(stripe_port, number)},
    )
    assert isinstance(err, stripe.CardError)
    assert (err.code, err.error.decline_code) == (code, decline_code)  # type: ignore[union-attr]


def test_an_unknown_payment_method_is_a_404_resource_missing(sc):
    err = refused(
        sc.v1.payment_intents.confirm, emu.card_intent(sc).id, {"payment_method": "pm_nope"}
    )
    assert isinstance(err, stripe.InvalidRequestError) and err.http_status == 404
    assert err.code == "resource_missing"


# ---- 3-D Secure ----


def test_a_3d_secure_card_redirects_to_the_authorize_page_which_returns_to_return_url(
    sc, stripe_port
):
    intent = emu.card_intent(sc)
    pending = sc.v1.payment_intents.confirm(
        intent.id,
        {"payment_method": emu.payment_method(stripe_port, "4000002500003155"),
         "return_url": RETURN_URL},
    )  # fmt: skip
    assert pending.status == "requires_action"
    assert pending.next_action.type == "redirect_to_url"
    redirect = pending.next_action.redirect_to_url
    assert redirect.return_url == RETURN_URL
    assert redirect.url.startswith(f"{emu.base(stripe_port)}/_emulator/authorize/{intent.id}?")
    page = httpx.get(redirect.url)
    assert page.status_code == 200
    assert "Authorize test payment" in page.text and "Fail test payment" in page.text
    chosen = httpx.post(
        f"{emu.base(stripe_port)}/_emulator/authorize/{intent.id}",
        data={"client_secret": intent.client_secret, "outcome": "succeed"},
    )
    assert chosen.status_code == 303
    target = urlsplit(chosen.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN_URL
    assert parse_qs(target.query) == {
        "payment_intent": [intent.id],
        "payment_intent_client_secret": [intent.client_secret],
        "redirect_status": ["succeeded"],
    }
    done = sc.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert done.status == "succeeded"
    assert done.latest_charge.payment_method_details.card.three_d_secure.result == "authenticated"
    assert "payment_intent.requires_action" in emu.event_types(stripe_port, intent.id)


def test_a_failed_3d_secure_leaves_the_intent_needing_a_payment_method(sc, stripe_port):
    intent = emu.card_intent(sc)
    sc.v1.payment_intents.confirm(
        intent.id,
        {"payment_method": emu.payment_method(stripe_port, "4000002500003155"),
         "return_url": RETURN_URL},
    )  # fmt: skip
    answer = emu.authorize(stripe_port, intent.id, "fail")
    assert answer["redirect_status"] == "failed"
    assert "redirect_status=failed" in answer["return_url"]
    after = sc.v1.payment_intents.retrieve(intent.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"
    page = httpx.get(f"{emu.base(stripe_port)}/_emulator/authorize/{intent.id}?client_secret=x")
    assert page.status_code == 404  # the page wants the intent's client_secret


def test_a_3d_secure_card_without_return_url_asks_for_stripe_js(sc, stripe_port):
    intent = emu.card_intent(sc)
    pending = sc.v1.payment_intents.confirm(
        intent.id, {"payment_method": emu.payment_method(stripe_port, "4000002500003155")}
    )
    assert pending.next_action.type == "use_stripe_sdk"
    # localstripe's Stripe.js dialog answers with the publishable key and the client secret.
    r = httpx.post(
        f"{emu.base(stripe_port)}/v1/payment_intents/{intent.id}/_authenticate",
        json={"key": DEV_PUBLISHABLE_KEY, "client_secret": intent.client_secret, "success": "true"},
    )
    assert r.json()["status"] == "succeeded"


# ---- Alipay and WeChat Pay ----


def test_alipay_redirects_through_the_authorize_page_and_records_an_alipay_charge(sc, stripe_port):
    pending = emu.method_intent(sc, "alipay")
    assert pending.status == "requires_action"
    action = pending.next_action.alipay_handle_redirect
    assert pending.next_action.type == "alipay_handle_redirect"
    assert action.return_url == RETURN_URL and action.native_url and action.native_data
    assert httpx.get(action.url).status_code == 200
    assert emu.authorize(stripe_port, pending.id)["redirect_status"] == "succeeded"
    done = sc.v1.payment_intents.retrieve(pending.id, {"expand": ["latest_charge"]})
    assert done.status == "succeeded"
    assert done.latest_charge.payment_method_details.type == "alipay"
    assert "alipay" in done.latest_charge.payment_method_details


def test_alipay_without_return_url_is_refused(sc):
    intent = sc.v1.payment_intents.create(
        {"amount": 58000, "currency": "cny", "allowed_payment_method_types": ["alipay"]}
    )
    err = refused(
        sc.v1.payment_intents.confirm, intent.id, {"payment_method_data": {"type": "alipay"}}
    )
    assert err.param == "return_url"  # type: ignore[attr-defined]


def test_wechat_pay_on_the_web_shows_a_qr_code_for_the_authorize_page(sc, stripe_port):
    pending = emu.method_intent(sc, "wechat_pay")
    assert pending.next_action.type == "wechat_pay_display_qr_code"
    qr = pending.next_action.wechat_pay_display_qr_code
    assert qr.data.startswith(f"{emu.base(stripe_port)}/_emulator/authorize/{pending.id}?")
    prefix = "data:image/png;base64,"
    assert qr.image_data_url.startswith(prefix)
    png = base64.b64decode(qr.image_data_url[len(prefix) :])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert httpx.get(qr.image_url_png).content == png
    svg = httpx.get(qr.image_url_svg)
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    assert "Scan with WeChat" in httpx.get(qr.hosted_instructions_url).text
    # The phone that scanned the code sees a page; the computer's page learns the result itself.
    chosen = httpx.post(
        f"{emu.base(stripe_port)}/_emulator/authorize/{pending.id}",
        data={"client_secret": pending.client_secret, "outcome": "succeed"},
    )
    assert chosen.status_code == 200 and "Payment authorized" in chosen.text
    done = sc.v1.payment_intents.retrieve(pending.id, {"expand": ["latest_charge"]})
    assert done.status == "succeeded"
    assert done.latest_charge.payment_method_details.type == "wechat_pay"


def test_wechat_pay_needs_a_client_and_apps_need_an_app_id(sc):
    intent = sc.v1.payment_intents.create(
        {"amount": 58000, "currency": "cny", "allowed_payment_method_types": ["wechat_pay"]}
    )
    no_client = refused(
        sc.v1.payment_intents.confirm,
        intent.id,
        {"payment_method_data": {"type": "wechat_pay"}, "return_url": RETURN_URL},
    )
    assert no_client.param == "payment_method_options[wechat_pay][client]"  # type: ignore[attr-defined]
    for bad, param in (({"client": "mobile"}, "client"), ({"client": "ios"}, "app_id")):
        err = refused(
            sc.v1.payment_intents.confirm,
            intent.id,
            {"payment_method_data": {"type": "wechat_pay"},
             "payment_method_options": {"wechat_pay": bad}},
        )  # fmt: skip
        assert err.param == f"payment_method_options[wechat_pay][{param}]"  # type: ignore[attr-defined]
    ios = sc.v1.payment_intents.confirm(
        intent.id,
        {"payment_method_data": {"type": "wechat_pay"},
         "payment_method_options": {"wechat_pay": {"client": "ios", "app_id": "wx123"}}},
    )  # fmt: skip
    assert ios.next_action.type == "wechat_pay_redirect_to_ios_app"
    assert ios.next_action.wechat_pay_redirect_to_ios_app.native_url.startswith("weixin://")


def test_an_intent_whose_allowed_methods_all_refuse_the_currency_is_refused(sc):
    err = refused(
        sc.v1.payment_intents.create,
        {"amount": 5000, "currency": "brl", "allowed_payment_method_types": ["wechat_pay"]},
    )
    assert err.param == "allowed_payment_method_types"  # type: ignore[attr-defined]


def test_a_payment_method_type_the_intent_does_not_offer_is_refused(sc):
    intent = emu.card_intent(sc)
    err = refused(
        sc.v1.payment_intents.confirm,
        intent.id,
        {"payment_method_data": {"type": "alipay"}, "return_url": RETURN_URL},
    )
    assert err.code == "payment_intent_incompatible_payment_method"  # type: ignore[attr-defined]


# ---- validation ----


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"amount": 399}, "amount", "amount_too_small"),
        ({"amount": 100_000_000}, "amount", "amount_too_large"),
        ({"amount": "12.5"}, "amount", "parameter_invalid_integer"),
        ({"currency": "xyz"}, "currency", None),
        ({"currency": "CNY"}, "currency", None),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", None),
        ({"metadata": {"k" * 41: "v"}}, "metadata[" + "k" * 41 + "]", None),
        ({"metadata": {"k": "v" * 501}}, "metadata[k]", None),
        ({"statement_descriptor_suffix": "S" * 23}, "statement_descriptor_suffix", None),
        ({"allowed_payment_method_types": ["bitcoin"]}, "allowed_payment_method_types[0]", None),
        ({"colour": "green"}, "colour", "parameter_unknown"),
    ],
)
def test_create_refuses_what_stripe_refuses_with_its_param_and_code(sc, change, param, code):
    params = {
        "amount": 58000,
        "currency": "cny",
        "allowed_payment_method_types": ["card"],
        **change,
    }
    err = refused(sc.v1.payment_intents.create, params)
    assert isinstance(err, stripe.InvalidRequestError) and err.http_status == 400
    assert err.error.type == "invalid_request_error"  # type: ignore[union-attr]
    assert (err.param, err.code) == (param, code)


def test_the_smallest_and_largest_amounts_stripe_allows_are_accepted(sc):
    for amount in (400, 99_999_999):
        assert emu.card_intent(sc, amount).amount == amount


def test_confirm_and_refund_refuse_parameters_stripe_does_not_know(sc, stripe_port):
    err = refused(sc.v1.payment_intents.confirm, emu.card_intent(sc).id, {"colour": "green"})
    assert err.code == "parameter_unknown"  # type: ignore[attr-defined]
    paid = emu.paid_intent(sc, stripe_port)
    err = refused(sc.v1.refunds.create, {"payment_intent": paid.id, "colour": "green"})
    assert err.code == "parameter_unknown"  # type: ignore[attr-defined]


def test_the_api_wants_a_secret_key_and_stripe_js_a_publishable_one(stripe_port):
    r = httpx.post(f"{emu.base(stripe_port)}/v1/payment_intents", data={"amount": "58000"})
    assert r.status_code == 401
    r = httpx.post(
        f"{emu.base(stripe_port)}/v1/payment_intents",
        data={"amount": "58000", "currency": "cny", "key": DEV_PUBLISHABLE_KEY},
    )
    assert r.status_code == 401
    assert emu.payment_method(stripe_port).startswith("pm_")


# ---- cancel ----


def test_cancel_sends_payment_intent_canceled_and_a_paid_intent_cannot_be_canceled(sc, stripe_port):
    intent = emu.card_intent(sc)
    canceled = sc.v1.payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    assert "payment_intent.canceled" in emu.event_types(stripe_port, intent.id)
    paid = emu.paid_intent(sc, stripe_port)
    err = refused(sc.v1.payment_intents.cancel, paid.id)
    assert err.code == "payment_intent_unexpected_state"  # type: ignore[attr-defined]


# ---- idempotency ----


def _post(port: int, path: str, data: dict[str, str], key: str) -> httpx.Response:
    return httpx.post(
        f"{emu.base(port)}{path}",
        data=data,
        headers={"Authorization": f"Bearer {DEV_SECRET_KEY}", "Idempotency-Key": key},
    )


INTENT = {"amount": "58000", "currency": "cny", "allowed_payment_method_types[0]": "card"}


def test_the_same_key_and_parameters_replay_the_stored_response(stripe_port):
    first = _post(stripe_port, "/v1/payment_intents", INTENT, "replay-1")
    again = _post(stripe_port, "/v1/payment_intents", INTENT, "replay-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_the_same_key_with_other_parameters_is_an_idempotency_error(sc, stripe_port):
    _post(stripe_port, "/v1/payment_intents", INTENT, "other-1")
    with pytest.raises(stripe.IdempotencyError) as caught:
        sc.v1.payment_intents.create(
            {"amount": 59000, "currency": "cny", "allowed_payment_method_types": ["card"]},
            {"idempotency_key": "other-1"},
        )
    assert "Keys for idempotent requests can only be used with the same parameters" in str(
        caught.value.user_message
    )


def test_idempotency_keys_belong_to_one_account(stripe_port):
    first = _post(stripe_port, "/v1/payment_intents", INTENT, "per-account-1")
    other = httpx.post(
        f"{emu.base(stripe_port)}/v1/payment_intents",
        data={**INTENT, "amount": "60000"},
        headers={"Authorization": "Bearer sk_test_another_account",
                 "Idempotency-Key": "per-account-1"},
    )  # fmt: skip
    assert other.status_code == 200 and other.json()["id"] != first.json()["id"]


def test_a_validation_error_is_not_stored_but_a_card_decline_is(sc, stripe_port):
    bad = _post(stripe_port, "/v1/payment_intents", {**INTENT, "amount": "1"}, "fix-1")
    assert bad.status_code == 400
    fixed = _post(stripe_port, "/v1/payment_intents", INTENT, "fix-1")
    assert fixed.status_code == 200  # the failed validation kept nothing under the key
    pm = emu.payment_method(stripe_port, "4000000000000002")
    path = f"/v1/payment_intents/{fixed.json()['id']}/confirm"
    declined = _post(stripe_port, path, {"payment_method": pm}, "decline-1")
    replayed = _post(stripe_port, path, {"payment_method": pm}, "decline-1")
    assert declined.status_code == replayed.status_code == 402
    assert replayed.json() == declined.json() and replayed.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_while_the_first_request_runs_is_a_409(stripe_port):
    async def both() -> list[int]:
        async with httpx.AsyncClient() as c:
            await c.post(f"{emu.base(stripe_port)}/_emulator/latency", data={"seconds": "0.5"})
            try:
                headers = {"Authorization": f"Bearer {DEV_SECRET_KEY}", "Idempotency-Key": "busy-1"}
                url = f"{emu.base(stripe_port)}/v1/payment_intents"
                first = asyncio.create_task(c.post(url, data=INTENT, headers=headers))
                await asyncio.sleep(0.2)
                second = await c.post(url, data=INTENT, headers=headers)
                return [
                    (await first).status_code,
                    second.status_code,
                    second.json()["error"]["type"],
                ]
            finally:
                await c.post(f"{emu.base(stripe_port)}/_emulator/latency", data={"seconds": "0"})

    assert asyncio.run(both()) == [200, 409, "idempotency_error"]


def test_the_stripe_js_stand_in_makes_payment_methods_and_follows_next_actions(stripe_port):
    js = httpx.get(f"{emu.base(stripe_port)}/js.stripe.com/v3/")
    assert js.headers["content-type"].startswith("application/javascript")
    for name in ("createPaymentMethod", "handleNextAction", "createToken", "/v1/payment_methods"):
        assert name in js.text
