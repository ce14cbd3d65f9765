"""Stripe's webhook: verify the signature, apply the event once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from farm.payments import services
from farm.payments.gateway import BadSignature
from farm.web import now

MAX_EVENT_BYTES = 512 * 1024  # Stripe's events are a few KB; a dispute's evidence at most


class TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused unread when its Content-Length is over `limit`, and refused while
    streaming as soon as it passes it (a body sent without a length, or with a false one)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise TooLarge
    return bytes(received)


async def stripe_webhook(request: Request) -> Response:
    try:
        payload = await _body(request, MAX_EVENT_BYTES)
    except TooLarge:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    gateway = request.app.state.gateway
    at = now()
    try:
        event = gateway.parse_event(payload, request.headers.get("stripe-signature"), now=at)
    except BadSignature:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    applied = await services.apply_event(
        event, now=at, gateway=gateway, base_url=request.app.state.settings.base_url
    )
    return JSONResponse({"received": True, "duplicate": not applied})


routes = [Route("/stripe/webhook", stripe_webhook, methods=["POST"], name="stripe_webhook")]
