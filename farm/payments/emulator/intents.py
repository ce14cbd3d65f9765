"""PaymentMethods, PaymentIntents and charges, behaving as Stripe documents them.

They live in localstripe's store (so its generic GET routes and `expand` find them) but replace
its PaymentIntent and Charge, which differ from Stripe: no automatic payment methods and no
`return_url`, only `card` and `sepa_debit` payment methods, a 500 for
`confirm(payment_method=…)`, declines without `decline_code`, and `latest_charge` embedded where
Stripe gives an id. Pure parameter checks are in `checks.py`; HTTP is in `app.py`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from localstripe import resources
from localstripe.errors import UserError

from farm.payments.emulator import checks
from farm.payments.emulator.errors import StripeError, invalid, no_such
from farm.payments.emulator.events import emit
from farm.payments.emulator.pages import qr_png_data_url
from farm.payments.emulator.refunds import Dispute, Refund

# Stripe's test cards (docs.stripe.com/testing): code, decline_code, message.
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined", "insufficient_funds", "Your card has insufficient funds.",
    ),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": (
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.",
    ),
    "4000000000000119": (
        "processing_error", "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
}  # fmt: skip
THREE_D_SECURE = frozenset({"4000002500003155", "4000002760003184", "4000003800000446"})
DISPUTED = "4000000000000259"

APM_NEEDS_RETURN_URL = (
    "A `return_url` must be specified because this Payment Intent is configured to "
    "automatically accept the payment methods enabled in the Dashboard, some of which may "
    "require a full page redirect to succeed. If you do not want to accept redirect-based "
    "payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
    "and Payment Intents."
)
AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def implicit_automatic_payment_methods() -> bool:
    """Stripe's default since API version 2023-08-16: an intent created without naming its
    payment methods gets automatic payment methods (and so needs a return_url to confirm).
    FARM_EMULATOR_AUTOMATIC_PAYMENT_METHODS=off gives the older card-only default, for code not
    yet updated; never what Stripe does today."""
    return os.environ.get("FARM_EMULATOR_AUTOMATIC_PAYMENT_METHODS", "on") != "off"


# ---- payment methods ----


def card_number(method: Any) -> str:
    return str(getattr(method, "_card_number", "") or "")


def brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("51", "52", "53", "54", "55") or number.startswith("2"):
        return "mastercard"
    if number[:2] in ("34", "37"):
        return "amex"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


class PaymentMethod(resources.PaymentMethod):
    """`card`, `alipay` and `wechat_pay` PaymentMethods (localstripe knows card and sepa_debit).
    A `card_` id from a token stays usable wherever Stripe takes a PaymentMethod."""

    def __init__(
        self,
        type: str | None = None,  # noqa: A002
        billing_details: Any = None,
        card: Any = None,
        alipay: Any = None,
        wechat_pay: Any = None,
        metadata: Any = None,
        **kwargs: Any,
    ):
        checks.only(kwargs, (), ("allow_redisplay", "customer", "payment_method", "radar_options"))
        meta = checks.metadata(metadata)
        if type == "card":
            if not isinstance(card, dict):
                raise invalid("Missing required param: card.", param="card")
            try:
                super().__init__(type="card", billing_details=billing_details, card=dict(card))
            except UserError as exc:
                raise StripeError(
                    402, "Your card number is incorrect.", type="card_error",
                    code="incorrect_number", param="card[number]",
                ) from exc  # fmt: skip
            self.card["brand"] = brand(self._card_number)
            self.card["display_brand"] = self.card["brand"]
        elif type in ("alipay", "wechat_pay"):
            resources.StripeObject.__init__(self)
            self.type = type
            setattr(self, type, {})
            self.billing_details = billing_details or {}
            self.customer = None
        else:
            raise invalid(
                "Invalid payment_method_data[type]: must be one of card, alipay, wechat_pay",
                param="type",
            )
        self.metadata = meta

    @classmethod
    def _api_retrieve(cls, id: str) -> Any:  # noqa: A002
        try:
            return resources.PaymentMethod._api_retrieve(id)
        except UserError as exc:
            if isinstance(exc, StripeError):
                raise
            raise no_such("PaymentMethod", id, "payment_method") from exc


def method_type(method: Any) -> str:
    return str(getattr(method, "type", "card"))


def method_details(method: Any, *, three_d_secure: bool = False) -> dict[str, Any]:
    """A charge's `payment_method_details`: `type` and the method's own block."""
    kind = method_type(method)
    if kind == "card":
        number = card_number(method)
        return {
            "type": "card",
            "card": {
                "brand": brand(number),
                "last4": number[-4:],
                "exp_month": getattr(method, "exp_month", None)
                or (getattr(method, "card", None) or {}).get("exp_month"),
                "exp_year": getattr(method, "exp_year", None)
                or (getattr(method, "card", None) or {}).get("exp_year"),
                "country": "US",
                "funding": "credit",
                "network": brand(number),
                "checks": {"cvc_check": "pass", "address_line1_check": None,
                           "address_postal_code_check": None},
                "three_d_secure": {"result": "authenticated", "version": "2.2.0"}
                if three_d_secure
                else None,
            },
        }  # fmt: skip
    return {"type": kind, kind: {"fingerprint": resources.fingerprint(method.id),
                                 "transaction_id": resources.random_id(24)}}  # fmt: skip


# ---- charges ----


class Charge(resources.StripeObject):
    """A charge as Stripe shows it: `payment_method_details`, and `amount_refunded` /
    `refunded` that count pending and succeeded refunds but not failed ones."""

    object = "charge"
    _id_prefix = "ch_"

    def __init__(self, intent: PaymentIntent, method: Any, *, three_d_secure: bool = False):
        super().__init__()
        self.amount = intent.amount
        self.amount_captured = 0
        self.balance_transaction = None
        self.captured = False
        self.currency = intent.currency
        self.customer = intent.customer
        self.description = intent.description
        self.disputed = False
        self.failure_code: str | None = None
        self.failure_message: str | None = None
        self.metadata = dict(intent.metadata)
        self.outcome: dict[str, Any] | None = None
        self.paid = False
        self.payment_intent = intent.id
        self.payment_method = method.id
        self.payment_method_details = method_details(method, three_d_secure=three_d_secure)
        self.receipt_email = intent.receipt_email
        self.status = "pending"
        self.calculated_statement_descriptor = "FARM" + (
            f"* {intent.statement_descriptor_suffix}" if intent.statement_descriptor_suffix else ""
        )
        self._card_number = card_number(method)

    def _succeed(self) -> None:
        self.status = "succeeded"
        self.paid = self.captured = True
        self.amount_captured = self.amount
        self.outcome = {"type": "authorized", "network_status": "approved_by_network",
                        "seller_message": "Payment complete.", "risk_level": "normal"}  # fmt: skip

    def _fail(self, code: str, decline_code: str, message: str) -> None:
        self.status = "failed"
        self.failure_code, self.failure_message = code, message
        self.outcome = {"type": "issuer_declined", "network_status": "declined_by_network",
                        "reason": decline_code, "seller_message": message,
                        "risk_level": "normal"}  # fmt: skip

    def _refunds(self) -> list[Refund]:
        return [r for r in Refund._all() if r.charge == self.id]

    @property
    def amount_refunded(self) -> int:
        return sum(r.amount for r in self._refunds() if r.status in ("pending", "succeeded"))

    @property
    def refunded(self) -> bool:
        return self.amount_refunded >= self.amount


# ---- payment intents ----

# The parameters this emulator models for the pinned API version; each is a key of the stripe
# library's TypedDict for the call (a contract test checks), so it never accepts what Stripe
# would refuse.
INTENT_CREATE_PARAMS = frozenset({
    "allowed_payment_method_types", "amount", "automatic_payment_methods", "confirm",
    "currency", "customer", "description", "excluded_payment_method_types", "expand",
    "metadata", "off_session", "payment_method", "payment_method_data",
    "payment_method_options", "receipt_email", "return_url", "statement_descriptor_suffix",
    "use_stripe_sdk",
})  # fmt: skip
# Writable on create and update only before API version 2026-09-30 (endive).
LEGACY_INTENT_PARAMS = frozenset({"payment_method_types"})
INTENT_CONFIRM_PARAMS = frozenset({
    "off_session", "payment_method", "payment_method_data", "payment_method_options",
    "receipt_email", "return_url", "use_stripe_sdk", "expand",
})  # fmt: skip
INTENT_UPDATE_PARAMS = frozenset({
    "allowed_payment_method_types", "amount", "currency", "description", "expand", "metadata",
    "payment_method", "payment_method_options", "receipt_email", "statement_descriptor_suffix",
})  # fmt: skip


def _retrieve(kind: str, cls_object: str, id_: str) -> Any:
    obj = resources.store.get(f"{cls_object}:{id_}")
    if obj is None:
        raise no_such(kind, id_)
    return obj


class PaymentIntent(resources.StripeObject):
    """A PaymentIntent as created and confirmed on Stripe's current API versions.

    Unless its methods are named (`allowed_payment_method_types`; `payment_method_types` before
    API version 2026-09-30) it has automatic payment methods, Stripe's default since 2023-08-16,
    so a confirmation without `return_url` is refused unless redirects are off.
    Cards may need 3-D Secure (`redirect_to_url` with a return_url, else `use_stripe_sdk`),
    Alipay redirects (`alipay_handle_redirect`), WeChat Pay shows a QR code on the web."""

    object = "payment_intent"
    _id_prefix = "pi_"

    def __init__(self, params: Mapping[str, Any], base_url: str):
        currency = checks.currency(params.get("currency"))
        amount = checks.amount(params.get("amount"), currency)
        metadata = checks.metadata(params.get("metadata"))
        description = checks.string(params.get("description"), "description", max_length=1000)
        suffix = checks.string(
            params.get("statement_descriptor_suffix"), "statement_descriptor_suffix",
            max_length=22,
        )  # fmt: skip
        offer = _offer(params, currency)
        customer = params.get("customer")
        if customer is not None:
            _retrieve("customer", "customer", customer)
        options = _method_options(params.get("payment_method_options"), {})
        if params.get("payment_method") is not None:
            PaymentMethod._api_retrieve(params["payment_method"])
        super().__init__()
        self.amount = amount
        self.amount_capturable = 0
        self.allowed_payment_method_types = offer.allowed
        self.automatic_payment_methods = offer.automatic
        self.canceled_at: int | None = None
        self.cancellation_reason: str | None = None
        self.capture_method = "automatic_async"
        self.client_secret = f"{self.id}_secret_{resources.random_id(25)}"
        self.confirmation_method = "automatic"
        self.currency = currency
        self.customer = customer
        self.description = description
        self.excluded_payment_method_types = offer.excluded
        self.last_payment_error: dict[str, Any] | None = None
        self.latest_charge: str | None = None
        self.metadata = metadata
        self.next_action: dict[str, Any] | None = None
        self.payment_method: str | None = params.get("payment_method")
        self.payment_method_options = options
        self.payment_method_types = offer.types
        self.receipt_email = params.get("receipt_email")
        self.statement_descriptor = None
        self.statement_descriptor_suffix = suffix
        self.status = "requires_confirmation" if self.payment_method else "requires_payment_method"
        self._base_url = base_url
        self._return_url: str | None = None

    @property
    def amount_received(self) -> int:
        return self.amount if self.status == "succeeded" else 0

    # -- confirm --

    def _confirm(self, params: Mapping[str, Any]) -> None:
        if self.status not in (
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        ):
            raise _unexpected_state(self, "confirm")
        off_session = checks.boolean(params.get("off_session", False), "off_session")
        use_sdk = checks.boolean(params.get("use_stripe_sdk", False), "use_stripe_sdk")
        return_url = params.get("return_url")
        if return_url is not None:
            return_url = checks.url(return_url, "return_url")
        method = self._method_from(params)
        options = _method_options(params.get("payment_method_options"), self.payment_method_options)
        kind = method_type(method)
        if kind not in self.payment_method_types:
            raise StripeError(
                400,
                f"The PaymentMethod provided ({kind}) is not allowed for this PaymentIntent. "
                "Please attach a PaymentMethod of one of the following types: "
                f"{', '.join(self.payment_method_types)}. Alternatively, update the allowed "
                f'payment_method_types for this PaymentIntent to include "{kind}".',
                param="payment_method", code="payment_intent_incompatible_payment_method",
            )  # fmt: skip
        if (
            kind not in checks.METHOD_CURRENCIES
            or self.currency not in checks.METHOD_CURRENCIES[kind]
        ):
            raise invalid(
                f"The currency provided ({self.currency}) is not supported by {kind}.",
                param="currency", code="payment_intent_invalid_parameter",
            )  # fmt: skip
        automatic = self.automatic_payment_methods or {}
        if (
            automatic.get("enabled")
            and automatic.get("allow_redirects") != "never"
            and not return_url
            and not off_session
        ):
            raise invalid(APM_NEEDS_RETURN_URL)
        if kind == "alipay" and not return_url:
            raise invalid(
                "A `return_url` must be specified because this PaymentIntent uses alipay, "
                "which requires a full page redirect to succeed.",
                param="return_url",
            )
        client = (options.get("wechat_pay") or {}).get("client")
        if kind == "wechat_pay" and not client:
            raise invalid(
                "payment_method_options[wechat_pay][client] is required for wechat_pay "
                "PaymentIntents.",
                param="payment_method_options[wechat_pay][client]",
            )
        self.payment_method = method.id
        self.payment_method_options = options
        self.last_payment_error = None
        self.next_action = None
        self._return_url = return_url
        if params.get("receipt_email") is not None:
            self.receipt_email = params["receipt_email"]
        if kind == "card":
            self._confirm_card(method, return_url=return_url, use_sdk=use_sdk)
        elif kind == "alipay":
            self._require_action({
                "type": "alipay_handle_redirect",
                "alipay_handle_redirect": {
                    "url": self._authorize_url(), "return_url": return_url,
                    "native_url": f"alipays://platformapi/startapp?appId=20000067&url={self.id}",
                    "native_data": f"_input_charset=utf-8&out_trade_no={self.id}"
                                   f"&total_fee={self.amount}",
                },
            })  # fmt: skip
        else:
            self._require_action(self._wechat_action(options["wechat_pay"]))

    def _method_from(self, params: Mapping[str, Any]) -> Any:
        given, data = params.get("payment_method"), params.get("payment_method_data")
        if given is not None and data is not None:
            raise invalid(
                "You may only specify one of these parameters: payment_method, "
                "payment_method_data.",
                param="payment_method_data",
            )
        if data is not None:
            if not isinstance(data, dict):
                raise invalid("Invalid object", param="payment_method_data")
            return PaymentMethod(**data)
        pm_id = given or self.payment_method
        if not pm_id:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm the PaymentIntent with cus_xxx, specify a payment method attached to "
                "this customer along with the customer ID.",
                code="payment_intent_unexpected_state",
            )
        if not isinstance(pm_id, str):
            raise invalid("Invalid string", param="payment_method")
        return PaymentMethod._api_retrieve(pm_id)

    def _confirm_card(self, method: Any, *, return_url: str | None, use_sdk: bool) -> None:
        number = card_number(method)
        if number in DECLINES:
            self._decline(method, *DECLINES[number])
        if number in THREE_D_SECURE:
            if return_url and not use_sdk:
                self._require_action({
                    "type": "redirect_to_url",
                    "redirect_to_url": {"url": self._authorize_url(), "return_url": return_url},
                })  # fmt: skip
            else:
                self._require_action({
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect",
                                       "stripe_js": self._authorize_url(), "source": method.id},
                })  # fmt: skip
            return
        self._succeed(method)

    def _wechat_action(self, wechat: Mapping[str, Any]) -> dict[str, Any]:
        client = wechat["client"]
        if client == "web":
            base, secret = self._base_url, self.client_secret
            data = self._authorize_url()
            images = f"{base}/_emulator/qr/{self.id}"
            return {
                "type": "wechat_pay_display_qr_code",
                "wechat_pay_display_qr_code": {
                    "data": data,
                    "hosted_instructions_url": (
                        f"{base}/_emulator/wechat/{self.id}?client_secret={secret}"
                    ),
                    "image_data_url": qr_png_data_url(data),
                    "image_url_png": f"{images}.png?client_secret={secret}",
                    "image_url_svg": f"{images}.svg?client_secret={secret}",
                },
            }  # fmt: skip
        if client == "ios":
            return {
                "type": "wechat_pay_redirect_to_ios_app",
                "wechat_pay_redirect_to_ios_app": {
                    "native_url": f"weixin://app/{wechat['app_id']}/pay/?prepayid={self.id}"
                },
            }
        return {
            "type": "wechat_pay_redirect_to_android_app",
            "wechat_pay_redirect_to_android_app": {
                "app_id": wechat["app_id"], "nonce_str": resources.random_id(16),
                "package": "Sign=WXPay", "partner_id": "1900000109", "prepay_id": self.id,
                "sign": resources.fingerprint(self.id), "timestamp": str(int(time.time())),
            },
        }  # fmt: skip

    def _authorize_url(self) -> str:
        query = urlencode({"client_secret": self.client_secret})
        return f"{self._base_url}/_emulator/authorize/{self.id}?{query}"

    def _require_action(self, action: dict[str, Any]) -> None:
        self.next_action = action
        self.status = "requires_action"
        emit("payment_intent.requires_action", self)

    def _succeed(self, method: Any, *, three_d_secure: bool = False) -> None:
        charge = Charge(self, method, three_d_secure=three_d_secure)
        charge._succeed()
        self.latest_charge = charge.id
        self.next_action = None
        self.status = "succeeded"
        emit("charge.succeeded", charge)
        emit("payment_intent.succeeded", self)
        if charge._card_number == DISPUTED:
            Dispute._open(charge)

    def _decline(self, method: Any, code: str, decline_code: str, message: str) -> None:
        """The card is declined: a failed charge, `last_payment_error`, events, and a 402
        card_error carrying the intent, as Stripe answers a confirmation."""
        charge = Charge(self, method)
        charge._fail(code, decline_code, message)
        self.latest_charge = charge.id
        self.payment_method = None
        self.status = "requires_payment_method"
        self.last_payment_error = {
            "type": "card_error", "code": code, "decline_code": decline_code,
            "message": message, "charge": charge.id, "payment_method": method._export(),
            "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
        }  # fmt: skip
        emit("charge.failed", charge)
        emit("payment_intent.payment_failed", self)
        raise StripeError(
            402, message, type="card_error", code=code, decline_code=decline_code,
            charge=charge.id, payment_intent=self._export(), payment_method=method._export(),
            stored=True,
        )  # fmt: skip

    # -- the customer's answer to a next action --

    def _authorize(self, outcome: str) -> str:
        """The customer authorizes or fails the 3-D Secure / Alipay / WeChat Pay step; returns
        the `redirect_status` Stripe appends to the return_url."""
        if self.status != "requires_action":
            raise _unexpected_state(self, "authorize")
        method = PaymentMethod._api_retrieve(self.payment_method or "")
        self.next_action = None
        if outcome == "succeed":
            self._succeed(method, three_d_secure=method_type(method) == "card")
            return "succeeded"
        self.payment_method = None
        self.status = "requires_payment_method"
        self.last_payment_error = {
            "type": "invalid_request_error", "code": "payment_intent_authentication_failure",
            "message": AUTHENTICATION_FAILED, "payment_method": method._export(),
            "doc_url": "https://docs.stripe.com/error-codes/payment-intent-authentication-failure",
        }  # fmt: skip
        emit("payment_intent.payment_failed", self)
        return "failed"

    def _return_to(self, redirect_status: str) -> str | None:
        if not self._return_url:
            return None
        query = urlencode({
            "payment_intent": self.id, "payment_intent_client_secret": self.client_secret,
            "redirect_status": redirect_status,
        })  # fmt: skip
        sep = "&" if "?" in self._return_url else "?"
        return f"{self._return_url}{sep}{query}"

    # -- update and cancel --

    def _change(self, params: Mapping[str, Any]) -> None:
        if self.status in ("succeeded", "canceled", "processing"):
            raise _unexpected_state(self, "update")
        currency = checks.currency(params.get("currency", self.currency))
        amount = checks.amount(params.get("amount", self.amount), currency)
        metadata = checks.metadata(params.get("metadata"))
        types = self.payment_method_types
        if "payment_method_types" in params or "allowed_payment_method_types" in params:
            offer = _offer(params, currency)
            types, self.automatic_payment_methods = offer.types, None
            self.allowed_payment_method_types = offer.allowed
        options = _method_options(params.get("payment_method_options"), self.payment_method_options)
        if params.get("payment_method"):
            PaymentMethod._api_retrieve(params["payment_method"])
            self.payment_method = params["payment_method"]
            if self.status == "requires_payment_method":
                self.status = "requires_confirmation"
        for key, value in metadata.items():
            if value == "":
                self.metadata.pop(key, None)
            else:
                self.metadata[key] = value
        self.amount, self.currency, self.payment_method_types = amount, currency, types
        self.payment_method_options = options
        if "description" in params:
            self.description = checks.string(params["description"], "description", max_length=1000)
        if "statement_descriptor_suffix" in params:
            self.statement_descriptor_suffix = checks.string(
                params["statement_descriptor_suffix"], "statement_descriptor_suffix", max_length=22
            )
        if "receipt_email" in params:
            self.receipt_email = params["receipt_email"]

    def _cancel(self, reason: str | None) -> None:
        if self.status not in (
            "requires_payment_method", "requires_capture", "requires_confirmation",
            "requires_action",
        ):  # fmt: skip
            raise _unexpected_state(self, "cancel")
        if reason is not None:
            checks.choice(
                reason, "cancellation_reason",
                ("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
            )  # fmt: skip
        self.status = "canceled"
        self.canceled_at = int(time.time())
        self.cancellation_reason = reason
        self.next_action = None
        emit("payment_intent.canceled", self)


def _unexpected_state(intent: PaymentIntent, verb: str) -> StripeError:
    return invalid(
        f"You cannot {verb} this PaymentIntent because it has a status of {intent.status}.",
        code="payment_intent_unexpected_state",
    )


@dataclass(frozen=True)
class Offer:
    """Which payment methods an intent offers, as its create parameters settle it."""

    automatic: dict[str, Any] | None  # automatic_payment_methods, None when types are explicit
    allowed: list[str] | None  # allowed_payment_method_types as given
    excluded: list[str] | None  # excluded_payment_method_types as given
    types: list[str]  # payment_method_types: what the intent can be confirmed with


def _offer(params: Mapping[str, Any], currency: str) -> Offer:
    """Stripe's rules: `payment_method_types` (before 2026-09-30) lists the types and refuses an
    incompatible one; `allowed_payment_method_types` (2026-07-29 on) silently drops the types
    that do not fit the currency and excludes every other way; otherwise dynamic ("automatic")
    payment methods, the default, less any `excluded_payment_method_types`."""
    automatic = params.get("automatic_payment_methods")
    automatic_on = isinstance(automatic, dict) and str(automatic.get("enabled")).lower() == "true"
    chosen = [
        name
        for name in ("payment_method_types", "allowed_payment_method_types",
                     "excluded_payment_method_types")
        if params.get(name) is not None
    ] + (["automatic_payment_methods"] if automatic_on else [])  # fmt: skip
    for name in ("allowed_payment_method_types", "payment_method_types"):
        if name in chosen and len(chosen) > 1:
            raise invalid(
                f"You may only specify one of these parameters: {', '.join(sorted(chosen))}.",
                param=name,
            )
    if params.get("payment_method_types") is not None:
        types = checks.payment_method_types(params["payment_method_types"], currency)
        return Offer(None, None, None, types)
    if params.get("allowed_payment_method_types") is not None:
        allowed = checks.method_list(
            params["allowed_payment_method_types"], "allowed_payment_method_types"
        )
        fitting = [m for m in allowed if currency in checks.METHOD_CURRENCIES[m]]
        if not fitting:
            raise invalid(
                f"None of the allowed_payment_method_types can be used with {currency}.",
                param="allowed_payment_method_types",
            )
        return Offer(None, allowed, None, fitting)
    excluded = None
    if params.get("excluded_payment_method_types") is not None:
        excluded = checks.method_list(
            params["excluded_payment_method_types"], "excluded_payment_method_types"
        )
    if automatic is None:
        if not implicit_automatic_payment_methods():
            return Offer(None, None, None, ["card"])
        automatic = {"enabled": True}
    if not isinstance(automatic, dict):
        raise invalid("Invalid object", param="automatic_payment_methods")
    checks.only(automatic, ("enabled", "allow_redirects"), ())
    if "enabled" not in automatic:
        raise invalid(
            "Missing required param: automatic_payment_methods[enabled].",
            param="automatic_payment_methods[enabled]", code="parameter_missing",
        )  # fmt: skip
    enabled = checks.boolean(automatic["enabled"], "automatic_payment_methods[enabled]")
    redirects = checks.choice(
        automatic.get("allow_redirects", "always"), "automatic_payment_methods[allow_redirects]",
        ("always", "never"),
    )  # fmt: skip
    if not enabled:
        return Offer(None, None, excluded, ["card"])
    offered = [m for m, cur in checks.METHOD_CURRENCIES.items() if currency in cur]
    if redirects == "never":
        offered = [m for m in offered if m == "card"]
    offered = [m for m in offered if m not in (excluded or ())]
    return Offer({"enabled": True, "allow_redirects": redirects}, None, excluded, offered)


def _method_options(given: Any, current: Mapping[str, Any]) -> dict[str, Any]:
    """`payment_method_options` for card, alipay and wechat_pay, merged over the current ones."""
    if given is None or given == "":
        return dict(current)
    if not isinstance(given, dict):
        raise invalid("Invalid object", param="payment_method_options")
    checks.only(given, ("card", "alipay", "wechat_pay"), ())
    merged = {k: dict(v) for k, v in current.items()}
    for kind, options in given.items():
        param = f"payment_method_options[{kind}]"
        if not isinstance(options, dict):
            raise invalid("Invalid object", param=param)
        if kind == "card":
            checks.only(options, ("request_three_d_secure",), ())
            if "request_three_d_secure" in options:
                checks.choice(options["request_three_d_secure"], f"{param}[request_three_d_secure]",
                              ("any", "automatic", "challenge"))  # fmt: skip
        elif kind == "alipay":
            checks.only(options, (), ("setup_future_usage",))
        else:
            checks.only(options, ("client", "app_id"), ("setup_future_usage",))
            if "client" in options:
                client = checks.choice(
                    options["client"], f"{param}[client]", ("android", "ios", "web")
                )
                if client != "web" and not options.get("app_id"):
                    raise invalid(
                        f"{param}[app_id] is required when {param}[client] is {client}.",
                        param=f"{param}[app_id]",
                    )
        merged.setdefault(kind, {}).update(options)
    return merged
