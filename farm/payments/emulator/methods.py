"""PaymentMethods and charges as Stripe shows them.

localstripe knows only `card` and `sepa_debit` PaymentMethods and its charges have no
`payment_method_details`; here `alipay` and `wechat_pay` exist beside `card` (a `card_` id from
a token stays usable), and a charge says how it was paid and counts only the refunds that did
not fail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localstripe import resources
from localstripe.errors import UserError

from farm.payments.emulator import checks
from farm.payments.emulator.errors import StripeError, invalid, no_such
from farm.payments.emulator.refunds import Refund

if TYPE_CHECKING:
    from farm.payments.emulator.intents import PaymentIntent


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
        self._dispute: str | None = None

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
