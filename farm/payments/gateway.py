"""The one place that talks to Stripe. Everything else sees plain results in fen."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

import stripe

from farm.settings import Settings

DEV_WEBHOOK_SECRET = "whsec_farm_development_only"  # noqa: S105 - emulator only
DEV_SECRET_KEY = "sk_test_farm_local"  # noqa: S105 - emulator only
DEV_PUBLISHABLE_KEY = "pk_test_farm_local"
EMULATOR_PORT = 8420


class BadSignature(Exception):
    """A webhook whose signature does not verify: refused, nothing applied."""


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request for a reason not the card's."""


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
class Event:
    id: str
    type: str
    intent: Intent | None


class Gateway(Protocol):
    publishable_key: str
    js_url: str

    async def create_intent(
        self, *, amount_fen: int, metadata: dict[str, str], idempotency_key: str
    ) -> Intent: ...
    async def pay_with_card(self, *, intent_id: str, card_id: str) -> Intent: ...
    async def retrieve(self, intent_id: str) -> Intent: ...
    async def cancel(self, intent_id: str) -> None: ...
    async def refund(self, *, intent_id: str, amount_fen: int, idempotency_key: str) -> str: ...
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

    async def refund(self, *, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
        try:
            obj = await self.client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount_fen},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return str(obj["id"])

    async def aclose(self) -> None:
        await self._http.close_async()

    def parse_event(self, payload: bytes, signature: str | None) -> Event:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadSignature(str(exc)) from exc
        data = event.to_dict()
        obj = (data.get("data") or {}).get("object") or {}
        intent = _intent(obj) if obj.get("object") == "payment_intent" else None
        return Event(id=str(data["id"]), type=str(data["type"]), intent=intent)
