"""The one place that talks to Stripe. Everything else sees plain results in fen."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

import stripe

from farm.payments.rules import retriable_error
from farm.settings import Settings

DEV_WEBHOOK_SECRET = "whsec_farm_development_only"  # noqa: S105 - emulator only
DEV_SECRET_KEY = "sk_test_farm_local"  # noqa: S105 - emulator only
DEV_PUBLISHABLE_KEY = "pk_test_farm_local"
EMULATOR_PORT = 8420


class BadSignature(Exception):
    """A webhook whose signature does not verify: refused, nothing applied."""


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request for a reason not the card's."""


class RefundRefused(PaymentProviderError):
    """Stripe answered a refund for good (a 4xx other than 409 and 429): sending the same
    request again changes nothing. `code` is Stripe's, e.g. charge_already_refunded."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str  # Stripe's: requires_payment_method, requires_action, succeeded, ...
    amount_fen: int
    card_last4: str = ""
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class RefundResult:
    """A Stripe refund, in fen. `key` is the attempt's key we put in its metadata."""

    id: str
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    amount_fen: int
    intent_id: str = ""
    failure_reason: str = ""
    key: str = ""


@dataclass(frozen=True)
class DisputeData:
    id: str
    intent_id: str
    amount_fen: int
    reason: str
    status: str
    due_by: int | None = None  # Unix time; None or 0 when no response is possible


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    intent: Intent | None
    created: int = 0  # Unix time Stripe made the event
    refund: RefundResult | None = None
    dispute: DisputeData | None = None


class Gateway(Protocol):
    publishable_key: str
    js_url: str

    async def create_intent(
        self, *, amount_fen: int, metadata: dict[str, str], idempotency_key: str
    ) -> Intent: ...
    async def pay_with_card(self, *, intent_id: str, card_id: str) -> Intent: ...
    async def retrieve(self, intent_id: str) -> Intent: ...
    async def cancel(self, intent_id: str) -> None: ...
    async def refund(
        self,
        *,
        intent_id: str,
        amount_fen: int,
        idempotency_key: str,
        reason: str = "",
        metadata: dict[str, str] | None = None,
    ) -> RefundResult: ...
    async def list_refunds(self, intent_id: str) -> list[RefundResult]: ...
    def parse_event(self, payload: bytes, signature: str | None) -> Event: ...
    async def aclose(self) -> None: ...


def _intent(obj: Any) -> Intent:
    data = obj if isinstance(obj, dict) else obj.to_dict()
    error = data.get("last_payment_error") or {}
    last4 = ""
    charge = data.get("latest_charge")
    if isinstance(charge, dict):
        details = charge.get("payment_method_details") or {}
        last4 = (details.get("card") or {}).get("last4", "") or (charge.get("source") or {}).get(
            "last4", ""
        )
    return Intent(
        id=data["id"],
        client_secret=data.get("client_secret") or "",
        status=data.get("status") or "",
        amount_fen=int(data.get("amount") or 0),
        card_last4=last4 or "",
        error_code=error.get("code") or "",
        error_message=error.get("message") or "",
    )


REFUND_KEY_METADATA = "farm_refund_key"


def _refund(obj: Any) -> RefundResult:
    data = obj if isinstance(obj, dict) else obj.to_dict()
    intent = data.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return RefundResult(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount_fen=int(data.get("amount") or 0),
        intent_id=str(intent or ""),
        failure_reason=str(data.get("failure_reason") or ""),
        key=str((data.get("metadata") or {}).get(REFUND_KEY_METADATA) or ""),
    )


def _dispute(obj: dict[str, Any]) -> DisputeData:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    due_by = (obj.get("evidence_details") or {}).get("due_by")
    return DisputeData(
        id=str(obj["id"]),
        intent_id=str(intent or ""),
        amount_fen=int(obj.get("amount") or 0),
        reason=str(obj.get("reason") or ""),
        status=str(obj.get("status") or ""),
        due_by=int(due_by) if due_by else None,
    )


def _refund_error(exc: stripe.StripeError) -> PaymentProviderError:
    """Retry only what may go through on the same key: connection errors, 5xx, 409, 429."""
    connection = isinstance(exc, stripe.APIConnectionError)
    if retriable_error(http_status=exc.http_status, connection_error=connection):
        return PaymentProviderError(str(exc))
    code = getattr(exc, "code", None) or (exc.error.code if exc.error else None) or ""
    if isinstance(exc, stripe.IdempotencyError):
        code = "idempotency_error"
    return RefundRefused(exc.user_message or str(exc), code=str(code))


class StripeGateway:
    def __init__(self, settings: Settings):
        base = settings.stripe_api_base
        self._http = stripe.HTTPXClient()
        self.client = stripe.StripeClient(
            str(settings.stripe_secret_key),
            base_addresses={"api": base} if base else None,
            http_client=self._http,
            max_network_retries=2,
        )
        self.webhook_secret = str(settings.stripe_webhook_secret)
        self.publishable_key = settings.stripe_publishable_key
        self.js_url = settings.stripe_js_url

    async def create_intent(
        self, *, amount_fen: int, metadata: dict[str, str], idempotency_key: str
    ) -> Intent:
        try:
            obj = await self.client.v1.payment_intents.create_async(
                {"amount": amount_fen, "currency": "cny", "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return _intent(obj)

    async def pay_with_card(self, *, intent_id: str, card_id: str) -> Intent:
        """Attach the card (from Stripe.js' token) and confirm on the server. A declined card
        comes back as an Intent with its error, not as an exception."""
        try:
            method = (await self.client.v1.payment_methods.retrieve_async(card_id)).to_dict()
            last4 = str((method.get("card") or method).get("last4") or "")
            await self.client.v1.payment_intents.update_async(
                intent_id, {"payment_method": card_id}
            )
            await self.client.v1.payment_intents.confirm_async(intent_id)
        except stripe.CardError as exc:
            current = await self.retrieve(intent_id)
            return replace(
                current,
                error_code=exc.code or "card_declined",
                error_message=exc.user_message or str(exc),
            )
        except stripe.InvalidRequestError as exc:
            raise PaymentProviderError(str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        current = await self.retrieve(intent_id)
        return replace(current, card_last4=current.card_last4 or last4)

    async def retrieve(self, intent_id: str) -> Intent:
        try:
            obj = await self.client.v1.payment_intents.retrieve_async(
                intent_id, {"expand": ["latest_charge"]}
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return _intent(obj)

    async def cancel(self, intent_id: str) -> None:
        try:
            await self.client.v1.payment_intents.cancel_async(intent_id)
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    async def refund(
        self,
        *,
        intent_id: str,
        amount_fen: int,
        idempotency_key: str,
        reason: str = "",
        metadata: dict[str, str] | None = None,
    ) -> RefundResult:
        """Create one refund. The key is also put in the refund's metadata, so that the
        refund can be recognised among the intent's refunds after the key expired at Stripe.
        Raises RefundRefused when Stripe said no for good, PaymentProviderError when the
        same request may be sent again."""
        params: dict[str, Any] = {
            "payment_intent": intent_id,
            "amount": amount_fen,
            "metadata": {**(metadata or {}), REFUND_KEY_METADATA: idempotency_key},
        }
        if reason:
            params["reason"] = reason
        try:
            obj = await self.client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _refund_error(exc) from exc
        return _refund(obj)

    async def list_refunds(self, intent_id: str) -> list[RefundResult]:
        """Every refund of the intent (Stripe pages them 100 at a time)."""
        try:
            page = await self.client.v1.refunds.list_async(
                {"payment_intent": intent_id, "limit": 100}
            )
            found = [_refund(r) async for r in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return found

    async def aclose(self) -> None:
        await self._http.close_async()

    def parse_event(self, payload: bytes, signature: str | None) -> Event:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadSignature(str(exc)) from exc
        data = event.to_dict()
        obj = (data.get("data") or {}).get("object") or {}
        kind = obj.get("object")
        return Event(
            id=str(data["id"]),
            type=str(data["type"]),
            intent=_intent(obj) if kind == "payment_intent" else None,
            created=int(data.get("created") or 0),
            refund=_refund(obj) if kind == "refund" else None,
            dispute=_dispute(obj) if kind == "dispute" else None,
        )
