"""Stripe's webhook: verify the signature, apply the event once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from farm.payments import services
from farm.payments.gateway import BadSignature
from farm.web import now

MAX_EVENT_BYTES = 512 * 1024


async def stripe_webhook(request: Request) -> Response:
    payload = await request.body()
    if len(payload) > MAX_EVENT_BYTES:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    gateway = request.app.state.gateway
    try:
        event = gateway.parse_event(payload, request.headers.get("stripe-signature"))
    except BadSignature:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    applied = await services.apply_event(
        event, now=now(), gateway=gateway, base_url=request.app.state.settings.base_url
    )
    return JSONResponse({"received": True, "duplicate": not applied})


routes = [Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
