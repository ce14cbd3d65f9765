"""Why a payment did not go through, in words fit to show the customer."""

from __future__ import annotations

from farm.i18n import _
from farm.payments.gateway import ALIPAY, CARD, WECHAT_PAY


def method_name(method: str) -> str:
    """A payment method as customers know it."""
    names = {CARD: _("Card"), ALIPAY: _("Alipay"), WECHAT_PAY: _("WeChat Pay")}
    return names.get(method, method)


def decline_message(code: str, decline_code: str = "", *, method: str = CARD) -> str:
    """Why a payment did not go through, fit to show: Stripe's decline_code says more than
    its code (an insufficient balance arrives as card_declined + insufficient_funds). A lost
    or stolen card reads as a plain decline, as Stripe advises."""
    if method in (ALIPAY, WECHAT_PAY):
        name = method_name(method)
        if code == "canceled":
            return _(
                "The payment with %(method)s was cancelled. Nothing was taken; try again or "
                "choose another way to pay."
            ) % {"method": name}
        return _(
            "%(method)s did not complete the payment. Nothing was taken; try again or choose "
            "another way to pay."
        ) % {"method": name}
    declined = _("Your card was declined. Try another card.")
    messages = {
        "insufficient_funds": _("Your card has insufficient funds. Try another card."),
        "expired_card": _("Your card has expired. Try another card."),
        "incorrect_cvc": _("The card's security code is wrong."),
        "invalid_cvc": _("The card's security code is wrong."),
        "incorrect_number": _("The card number is wrong. Check it and try again."),
        "invalid_number": _("The card number is wrong. Check it and try again."),
        "invalid_expiry_month": _("The card's expiry date is wrong."),
        "invalid_expiry_year": _("The card's expiry date is wrong."),
        "processing_error": _(
            "Your card could not be processed just now. Nothing was taken; please try again."
        ),
        "try_again_later": _(
            "Your card could not be processed just now. Nothing was taken; please try again."
        ),
        "authentication_required": _(
            "Your bank asks you to confirm this payment. Please try again and follow your "
            "bank's steps."
        ),
        "payment_intent_authentication_failure": _(
            "Your bank could not confirm the payment (3-D Secure). Nothing was taken; try "
            "again or use another card."
        ),
        "card_velocity_exceeded": _("Your card's limit has been reached. Try another card."),
        "withdrawal_count_limit_exceeded": _(
            "Your card's limit has been reached. Try another card."
        ),
        "card_not_supported": _("Your card does not support this payment. Try another card."),
        "currency_not_supported": _(
            "Your card cannot pay in Chinese yuan. Try another card, Alipay or WeChat Pay."
        ),
        "canceled": _("The payment was cancelled. Nothing was taken."),
        "lost_card": declined,
        "stolen_card": declined,
        "pickup_card": declined,
        "fraudulent": declined,
        "generic_decline": declined,
        "do_not_honor": declined,
        "card_declined": declined,
    }
    found = messages.get(decline_code) or messages.get(code)
    return found or _("The payment did not go through. Try another card.")
