"""The one place that talks to Stripe. Everything else sees plain results in fen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import stripe

from farm.payments.rules import retriable_error
from farm.settings import Settings

EMULATOR_PORT = 8420

# Pinned here, not left to the library's default: what Stripe accepts and the shape of what it
# answers change with the version. The webhook endpoint must be created at the same version.
STRIPE_API_VERSION = "2026-10-28.endive"

CARD, ALIPAY, WECHAT_PAY = "card", "alipay", "wechat_pay"
METHODS = (CARD, ALIPAY, WECHAT_PAY)


# A call that gets no answer within the timeout (Settings.stripe_timeout_seconds) is sent once
# more, on the same idempotency key, and then given up: a customer waits at most about two
# timeouts per call, never the library's default of 80 s three times.
NETWORK_RETRIES = 1

WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's default: how old a signature may be
WEBHOOK_CLOCK_SKEW_SECONDS = 60  # how far ahead of our clock Stripe's may be


def signed_at(signature: str) -> int:
    """The `t=` of a Stripe-Signature header (0 if none): when Stripe signed the body."""
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0


class BadSignature(Exception):
    """A webhook whose signature does not verify: refused, nothing applied."""


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request for a reason not the card's."""


class StripeUnavailable(PaymentProviderError):
    """Stripe did not answer in time, could not be reached, or failed on its side (5xx): it may
    answer the same request later. The customer is told payment is unavailable just now."""


class IntentGone(PaymentProviderError):
    """Stripe does not know the PaymentIntent (resource_missing): deleted with a test account,
    or made by an emulator that restarted since. It can never be paid."""


class RefundRefused(PaymentProviderError):
    """Stripe answered a refund for good (a 4xx other than 409 and 429): sending the same
    request again changes nothing. `code` is Stripe's, e.g. charge_already_refunded."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NextAction:
    """What the customer's browser must do before Stripe can finish the payment."""

    type: str  # redirect_to_url, alipay_handle_redirect, wechat_pay_display_qr_code, use_stripe_sdk
    url: str = ""  # the page to send the browser to (3-D Secure, Alipay)
    qr_data: str = ""  # what the WeChat Pay QR code holds
    qr_image_data_url: str = ""  # Stripe's own picture of that QR code


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str  # Stripe's: requires_payment_method, requires_action, processing, succeeded, ...
    amount_fen: int
    method: str = ""  # card, alipay or wechat_pay when the intent allows just one
    currency: str = ""  # Stripe's, lower case: cny
    card_last4: str = ""
    error_code: str = ""
    decline_code: str = ""
    error_message: str = ""
    next_action: NextAction | None = None


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
    base_url: str  # this site, for the return_url Stripe sends the customer back to
    accepts_test_card_ids: bool  # card_/tok_ references: the emulator only, never production

    async def create_intent(
        self,
        *,
        amount_fen: int,
        method: str,
        description: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent: ...
    async def confirm(
        self,
        *,
        intent_id: str,
        method: str,
        return_url: str,
        payment_method: str = "",
        idempotency_key: str,
    ) -> Intent: ...
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
    def parse_event(self, payload: bytes, signature: str | None, *, now: datetime) -> Event: ...
    async def aclose(self) -> None: ...


def new_idempotency_key() -> str:
    """A key for one attempt: random, so that no other installation sharing the Stripe
    account, and no copy of this database restored from a backup, can ever send it again.
    Made once per attempt; the library resends it with its own retries of that attempt."""
    return str(uuid.uuid4())


def create_params(
    *, amount_fen: int, method: str, description: str, metadata: dict[str, str]
) -> dict[str, Any]:
    """PaymentIntent create. Since 2026-09-30.endive Stripe refuses `payment_method_types`
    (payment_method_types_no_longer_supported); `allowed_payment_method_types` names the one
    method the customer chose, and excludes automatic payment methods."""
    return {
        "amount": amount_fen,
        "currency": "cny",
        "allowed_payment_method_types": [method],
        "description": description,
        "metadata": metadata,
    }


def confirm_params(*, method: str, return_url: str, payment_method: str = "") -> dict[str, Any]:
    """PaymentIntent confirm on the server, always with the page to come back to."""
    params: dict[str, Any] = {"return_url": return_url, "expand": ["latest_charge"]}
    if method == CARD:
        params["payment_method"] = payment_method
    elif method == ALIPAY:
        params["payment_method_data"] = {"type": ALIPAY}
    elif method == WECHAT_PAY:
        params["payment_method_data"] = {"type": WECHAT_PAY}
        params["payment_method_options"] = {WECHAT_PAY: {"client": "web"}}
    else:
        raise ValueError(f"unknown payment method {method!r}")
    return params


def _next_action(data: dict[str, Any]) -> NextAction | None:
    action = data.get("next_action") or {}
    kind = str(action.get("type") or "")
    if not kind:
        return None
    details = action.get(kind) or {}
    if kind == "wechat_pay_display_qr_code":
        return NextAction(
            kind,
            url=str(details.get("hosted_instructions_url") or ""),
            qr_data=str(details.get("data") or ""),
            qr_image_data_url=str(details.get("image_data_url") or ""),
        )
    return NextAction(kind, url=str(details.get("url") or ""))


def _last4(data: dict[str, Any]) -> str:
    charge = data.get("latest_charge")
    if isinstance(charge, dict):
        details = (charge.get("payment_method_details") or {}).get("card") or {}
        found = details.get("last4") or (charge.get("source") or {}).get("last4")
        if found:
            return str(found)
    method = data.get("payment_method")
    if isinstance(method, dict):
        return str((method.get("card") or {}).get("last4") or "")
    return ""


def _intent(obj: Any) -> Intent:
    data = obj if isinstance(obj, dict) else obj.to_dict()
    error = data.get("last_payment_error") or {}
    types = data.get("payment_method_types") or []
    return Intent(
        id=data["id"],
        client_secret=data.get("client_secret") or "",
        status=data.get("status") or "",
        amount_fen=int(data.get("amount") or 0),
        method=str(types[0]) if len(types) == 1 else "",
        currency=str(data.get("currency") or "").lower(),
        card_last4=_last4(data),
        error_code=error.get("code") or "",
        decline_code=error.get("decline_code") or "",
        error_message=error.get("message") or "",
        next_action=_next_action(data),
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


def _provider_error(exc: stripe.StripeError) -> PaymentProviderError:
    """Stripe's error as ours: unreachable or failing (retry later), an intent it does not
    know (never payable), or any other refusal."""
    if isinstance(exc, stripe.APIConnectionError) or (exc.http_status or 0) >= 500:
        return StripeUnavailable(str(exc))
    code = getattr(exc, "code", None) or (exc.error.code if exc.error else None)
    param = getattr(exc, "param", None) or (exc.error.param if exc.error else None)
    # The intent itself unknown; not a missing payment method named in the request (a card
    # Stripe does not know), which leaves the intent as usable as it was.
    if exc.http_status == 404 and code == "resource_missing" and param != "payment_method":
        return IntentGone(str(exc))
    return PaymentProviderError(str(exc))


def _refund_error(exc: stripe.StripeError) -> PaymentProviderError:
    """Retry only what may go through on the same key: connection errors, 5xx, 409, 429."""
    connection = isinstance(exc, stripe.APIConnectionError)
    if retriable_error(http_status=exc.http_status, connection_error=connection):
        return StripeUnavailable(str(exc)) if connection else PaymentProviderError(str(exc))
    code = getattr(exc, "code", None) or (exc.error.code if exc.error else None) or ""
    if isinstance(exc, stripe.IdempotencyError):
        code = "idempotency_error"
    return RefundRefused(exc.user_message or str(exc), code=str(code))


class StripeGateway:
    def __init__(self, settings: Settings):
        base = settings.stripe_api_base
        self._http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self.client = stripe.StripeClient(
            str(settings.stripe_secret_key),
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": base} if base else None,
            http_client=self._http,
            max_network_retries=NETWORK_RETRIES,
        )
        self.webhook_secret = str(settings.stripe_webhook_secret)
        self.publishable_key = settings.stripe_publishable_key
        self.js_url = settings.stripe_js_url
        self.base_url = settings.base_url
        self.accepts_test_card_ids = bool(base)

    async def create_intent(
        self,
        *,
        amount_fen: int,
        method: str,
        description: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Intent:
        params = create_params(
            amount_fen=amount_fen, method=method, description=description, metadata=metadata
        )
        try:
            obj = await self.client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _intent(obj)

    async def confirm(
        self,
        *,
        intent_id: str,
        method: str,
        return_url: str,
        payment_method: str = "",
        idempotency_key: str,
    ) -> Intent:
        """Confirm on the server. A declined card, or a payment method Stripe refuses for the
        customer's reasons, comes back as an Intent with its error, not as an exception."""
        params = confirm_params(method=method, return_url=return_url, payment_method=payment_method)
        try:
            obj = await self.client.v1.payment_intents.confirm_async(
                intent_id,
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            current = await self.retrieve(intent_id)
            error = exc.error
            return replace(
                current,
                error_code=exc.code or current.error_code or "card_declined",
                decline_code=(error.decline_code if error else None) or current.decline_code,
                error_message=exc.user_message or str(exc),
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        intent = _intent(obj)
        if method == CARD and not intent.card_last4 and intent.status == "succeeded":
            return await self.retrieve(intent_id)  # the receipt shows the card's last 4
        return intent

    async def retrieve(self, intent_id: str) -> Intent:
        try:
            obj = await self.client.v1.payment_intents.retrieve_async(
                intent_id, {"expand": ["latest_charge", "payment_method"]}
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _intent(obj)

    async def cancel(self, intent_id: str) -> None:
        try:
            await self.client.v1.payment_intents.cancel_async(intent_id)
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc

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
        same request may be sent again.

        Sent once, without the library's own retry: a refund whose answer was lost may have
        been made, and is sent again only by refunds.submit_refund, after it looked for the
        key among the intent's refunds (so a Stripe that forgot or ignored the key still
        makes one refund)."""
        params: dict[str, Any] = {
            "payment_intent": intent_id,
            "amount": amount_fen,
            "metadata": {**(metadata or {}), REFUND_KEY_METADATA: idempotency_key},
        }
        if reason:
            params["reason"] = reason
        try:
            obj = await self.client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key, "max_network_retries": 0}
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
            raise _provider_error(exc) from exc
        return found

    async def aclose(self) -> None:
        await self._http.close_async()

    def parse_event(self, payload: bytes, signature: str | None, *, now: datetime) -> Event:
        """A verified event. Stripe's library refuses a signature older than its tolerance
        (5 minutes) but not one from the future: a timestamp more than WEBHOOK_CLOCK_SKEW
        ahead of `now` is refused too, so a signed body cannot be kept for later."""
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise BadSignature(str(exc)) from exc
        if signed_at(signature or "") > now.timestamp() + WEBHOOK_CLOCK_SKEW_SECONDS:
            raise BadSignature("timestamp in the future")
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
