"""Decline messages follow Stripe's decline_code before its code, in both languages."""

import pytest

from farm.i18n import use_language
from farm.payments.declines import decline_message

CASES = [  # (code, decline_code, English, Chinese fragment)
    ("card_declined", "insufficient_funds", "Your card has insufficient funds. Try another card.", "余额不足"),
    ("card_declined", "lost_card", "Your card was declined. Try another card.", "被拒绝"),
    ("card_declined", "stolen_card", "Your card was declined. Try another card.", "被拒绝"),
    ("card_declined", "generic_decline", "Your card was declined. Try another card.", "被拒绝"),
    ("expired_card", "", "Your card has expired. Try another card.", "过期"),
    ("incorrect_cvc", "", "The card's security code is wrong.", "安全码"),
    ("processing_error", "", "Your card could not be processed just now. Nothing was taken; please try again.", "暂时无法处理"),
    ("card_declined", "authentication_required", "Your bank asks you to confirm this payment. Please try again and follow your bank's steps.", "要求验证"),
    ("payment_intent_authentication_failure", "", "Your bank could not confirm the payment (3-D Secure). Nothing was taken; try again or use another card.", "3-D Secure"),
    ("card_declined", "something_new", "Your card was declined. Try another card.", "被拒绝"),
    ("", "", "The payment did not go through. Try another card.", "支付未成功"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "decline_code", "english", "chinese"), CASES)
def test_each_decline_reads_right_in_english_and_chinese(code, decline_code, english, chinese):
    with use_language("en"):
        assert decline_message(code, decline_code) == english
    with use_language("zh_CN"):
        text = decline_message(code, decline_code)
    assert chinese in text and text != english


def test_the_decline_code_wins_over_the_generic_code():
    """Insufficient funds arrives as code=card_declined: only its decline_code says why."""
    with use_language("en"):
        assert decline_message("card_declined", "insufficient_funds") != decline_message(
            "card_declined"
        )


@pytest.mark.parametrize(("method", "name"), [("alipay", "支付宝"), ("wechat_pay", "微信支付")])
def test_alipay_and_wechat_failures_name_the_wallet_not_a_card(method, name):
    with use_language("zh_CN"):
        failed = decline_message("payment_intent_authentication_failure", method=method)
        cancelled = decline_message("canceled", method=method)
    assert failed.startswith(name) and "银行卡" not in failed
    assert name in cancelled and "取消" in cancelled
