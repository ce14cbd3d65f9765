"""The emulator never accepts a parameter Stripe does not know, and its pure checks hold
Stripe's limits."""

from __future__ import annotations

import pytest
import stripe.params

from farm.payments.emulator import checks, intents, refunds
from farm.payments.emulator.errors import StripeError

# Keys every TypedDict of the library inherits from RequestOptions: not request parameters.
_OPTIONS = frozenset(stripe.RequestOptions.__annotations__)


def stripe_knows(name: str) -> frozenset[str]:
    return frozenset(getattr(stripe.params, name).__annotations__) - _OPTIONS


@pytest.mark.parametrize(
    ("accepted", "typed_dict"),
    [
        (intents.INTENT_CREATE_PARAMS, "PaymentIntentCreateParams"),
        (intents.INTENT_CONFIRM_PARAMS, "PaymentIntentConfirmParams"),
        (intents.INTENT_UPDATE_PARAMS, "PaymentIntentUpdateParams"),
        (refunds.REFUND_CREATE_PARAMS, "RefundCreateParams"),
    ],
)
def test_every_parameter_the_emulator_accepts_is_one_stripe_knows(accepted, typed_dict):
    assert accepted <= stripe_knows(typed_dict), accepted - stripe_knows(typed_dict)


def test_payment_method_types_is_not_a_parameter_of_the_pinned_api_version():
    """The emulator takes it only from requests on an older API version, as Stripe does."""
    assert {"payment_method_types"} == intents.LEGACY_INTENT_PARAMS
    for typed_dict in ("PaymentIntentCreateParams", "PaymentIntentUpdateParams"):
        assert "payment_method_types" not in stripe_knows(typed_dict)
        assert "allowed_payment_method_types" in stripe_knows(typed_dict)


def test_the_payment_method_options_the_emulator_accepts_are_stripes():
    confirm = stripe.params.PaymentIntentConfirmParams.__annotations__
    assert "payment_method_options" in confirm
    from stripe.params import _payment_intent_confirm_params as module

    wechat = module.PaymentIntentConfirmParamsPaymentMethodOptionsWechatPay.__annotations__
    assert {"client", "app_id"} <= set(wechat)
    card = module.PaymentIntentConfirmParamsPaymentMethodOptionsCard.__annotations__
    assert "request_three_d_secure" in card


def test_the_next_actions_the_emulator_gives_are_stripes():
    from stripe._payment_intent import PaymentIntent

    fields = PaymentIntent.NextAction.__annotations__
    for action in (
        "redirect_to_url", "use_stripe_sdk", "alipay_handle_redirect",
        "wechat_pay_display_qr_code", "wechat_pay_redirect_to_ios_app",
        "wechat_pay_redirect_to_android_app",
    ):  # fmt: skip
        assert action in fields
    qr = PaymentIntent.NextAction.WechatPayDisplayQrCode.__annotations__
    assert set(qr) == {
        "data", "hosted_instructions_url", "image_data_url", "image_url_png", "image_url_svg",
    }  # fmt: skip
    alipay = PaymentIntent.NextAction.AlipayHandleRedirect.__annotations__
    assert set(alipay) == {"native_data", "native_url", "return_url", "url"}


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [(399, "cny", "amount_too_small"), (49, "usd", "amount_too_small"),
     (49, "jpy", "amount_too_small"), (100_000_000, "cny", "amount_too_large")],
)  # fmt: skip
def test_amounts_outside_stripes_limits_are_refused(amount, currency, code):
    with pytest.raises(StripeError) as caught:
        checks.amount(amount, currency)
    assert caught.value.body["error"]["code"] == code


def test_amounts_at_stripes_limits_are_accepted():
    assert checks.amount("400", "cny") == 400
    assert checks.amount(99_999_999, "cny") == 99_999_999
    assert checks.amount(50, "jpy") == 50


def test_money_is_written_as_stripe_writes_it():
    assert checks.money(400, "cny") == "¥4.00"
    assert checks.money(50, "jpy") == "¥50"
    assert checks.money(99_999_999, "usd") == "$999,999.99"
