"""Helpers for the Stripe emulator's tests: the stripe library pointed at it, as the gateway does."""

from __future__ import annotations

from typing import Any

import httpx
import stripe

from farm.settings import DEV_PUBLISHABLE_KEY, DEV_SECRET_KEY

__all__ = ["DEV_PUBLISHABLE_KEY", "DEV_SECRET_KEY"]

API_VERSION = "2026-10-28.endive"
RETURN_URL = "http://127.0.0.1:9/checkout/1/return"


def base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def client(port: int, *, retries: int = 0) -> tuple[stripe.StripeClient, stripe.HTTPXClient]:
    http = stripe.HTTPXClient(allow_sync_methods=True)
    made = stripe.StripeClient(
        DEV_SECRET_KEY,
        base_addresses={"api": base(port)},
        http_client=http,
        max_network_retries=retries,
        stripe_version=API_VERSION,
    )
    return made, http


def payment_method(port: int, number: str = "4242424242424242") -> str:
    """What Stripe.js' createPaymentMethod does in the browser, with the publishable key."""
    r = httpx.post(
        f"{base(port)}/v1/payment_methods",
        data={
            "type": "card", "card[number]": number, "card[exp_month]": "12",
            "card[exp_year]": "2030", "card[cvc]": "123", "key": DEV_PUBLISHABLE_KEY,
        },
    )  # fmt: skip
    r.raise_for_status()
    return str(r.json()["id"])


def card_intent(c: stripe.StripeClient, amount: int = 58000, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "amount": amount, "currency": "cny", "allowed_payment_method_types": ["card"],
        "description": "Plot A-12, season 2027", "metadata": {"subscription_id": "7"},
        **extra,
    }  # fmt: skip
    return c.v1.payment_intents.create(params)  # type: ignore[arg-type]


def paid_intent(c: stripe.StripeClient, port: int, number: str = "4242424242424242") -> Any:
    intent = card_intent(c)
    return c.v1.payment_intents.confirm(
        intent.id, {"payment_method": payment_method(port, number), "return_url": RETURN_URL}
    )


def method_intent(c: stripe.StripeClient, method: str, **confirm: Any) -> Any:
    """An Alipay or WeChat Pay intent confirmed as the service does."""
    intent = c.v1.payment_intents.create(
        {"amount": 58000, "currency": "cny", "allowed_payment_method_types": [method]}
    )
    params: dict[str, Any] = {"payment_method_data": {"type": method}, "return_url": RETURN_URL}
    if method == "wechat_pay":
        params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    params.update(confirm)
    return c.v1.payment_intents.confirm(intent.id, params)  # type: ignore[arg-type]


def authorize(port: int, intent_id: str, outcome: str = "succeed") -> dict[str, Any]:
    r = httpx.post(
        f"{base(port)}/_emulator/payment_intents/{intent_id}/authorize", data={"outcome": outcome}
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def events_about(port: int, object_id: str) -> list[dict[str, Any]]:
    """Every event whose data.object is object_id, oldest first."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    auth = {"Authorization": f"Bearer {DEV_SECRET_KEY}"}
    while True:
        params = {"limit": "100", **({"starting_after": after} if after else {})}
        page = httpx.get(f"{base(port)}/v1/events", params=params, headers=auth).json()
        found += [e for e in page["data"] if e["data"]["object"].get("id") == object_id]
        if not page["has_more"] or not page["data"]:
            return found
        after = page["data"][-1]["id"]


def event_types(port: int, object_id: str) -> list[str]:
    return [e["type"] for e in events_about(port, object_id)]
