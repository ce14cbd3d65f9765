"""The emulator's HTTP side: Stripe's authentication and idempotency, the API routes whose
behaviour `intents.py` and `refunds.py` correct, the test helpers under /_emulator/, and our
Stripe.js stand-in. Routes not listed here fall through to localstripe's own."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

from farm.payments.emulator import pages
from farm.payments.emulator.checks import only
from farm.payments.emulator.errors import StripeError, invalid, no_such, unknown
from farm.payments.emulator.events import API_VERSION, emit
from farm.payments.emulator.intents import (
    INTENT_CONFIRM_PARAMS,
    INTENT_CREATE_PARAMS,
    INTENT_UPDATE_PARAMS,
    LEGACY_INTENT_PARAMS,
    PaymentIntent,
)
from farm.payments.emulator.methods import PaymentMethod
from farm.payments.emulator.refunds import REFUND_CREATE_PARAMS, Dispute, Refund

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")
JS_PATH = Path(__file__).with_name("stripe-v3.js")
IDEMPOTENCY_HOURS = 24

# Where Stripe takes the publishable key (what Stripe.js uses) instead of the secret one.
_PUBLISHABLE_POSTS = (
    "/v1/tokens", "/v1/payment_methods", "/v1/sources",
)  # fmt: skip


def _json(body: Any, status: int = 200) -> web.Response:
    return server.json_response(body, status=status)


def _secret_key(request: web.Request) -> str | None:
    return server.get_api_key(request)  # type: ignore[no-any-return]


async def _params(request: web.Request) -> dict[str, Any]:
    """The request's parameters (form or JSON body, and the query), without Stripe.js' `key`."""
    data = dict(await server.get_post_data(request) or {})
    data.update(server.unflatten_data(request.query) or {})
    return data


async def _params_and_expand(request: web.Request) -> tuple[dict[str, Any], Any]:
    """The request's parameters, and apart from them the `expand` asked for."""
    params = await _params(request)
    return params, params.pop("expand", None)


def _publishable_key(data: dict[str, Any]) -> bool:
    return isinstance(data.get("key"), str) and data["key"].startswith("pk_")


# ---- middlewares ----


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as Stripe's JSON error: localstripe's bare 404 "Not Found" becomes
    `resource_missing` naming the id, and an emulator fault a 500 `api_error`."""
    try:
        return await handler(request)
    except StripeError as exc:
        return exc.to_response()
    except UserError as exc:
        id_ = request.match_info.get("id")
        if exc.code == 404 and id_:
            kind = request.path.split("/")[2].rstrip("s")
            return no_such(kind, id_, "id").to_response()
        return exc.to_response()
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("the Stripe emulator failed on %s %s", request.method, request.path)
        return _json(
            {"error": {"type": "api_error", "message": "The Stripe emulator failed; see its log."}},
            status=500,
        )


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A secret key on the API; Stripe.js' publishable key only where Stripe takes one (token
    and PaymentMethod creation, and reading an intent with its client_secret)."""
    path = request.path
    if not path.startswith("/v1/") or _secret_key(request):
        return await handler(request)
    if request.method == "POST":
        data = await server.get_post_data(request, remove_auth=False) or {}
    else:
        data = server.unflatten_data(request.query)
    if _publishable_key(data) and (
        (request.method == "POST" and path in _PUBLISHABLE_POSTS)
        or path.endswith("/_authenticate")
        or (request.method == "GET" and path.startswith("/v1/payment_intents/")
            and "client_secret" in data)
    ):  # fmt: skip
        return await handler(request)
    raise StripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization "
        "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    )


@dataclass
class _Stored:
    fingerprint: str
    created: float
    status: int = 0  # 0 while the first request is still running
    body: bytes = b""
    content_type: str = "application/json"


@dataclass
class Idempotency:
    """Stripe's idempotency keys, per API key: the same key with the same method, path and
    parameters replays the stored answer (`Idempotent-Replayed: true`); with other parameters
    it is an `idempotency_error`; while the first request runs, 409. Answers are stored once
    the endpoint started work (successes and card declines), not validation errors or 5xx."""

    entries: dict[tuple[str, str], _Stored] = field(default_factory=dict)
    # Test helper (POST /_emulator/idempotency honour=false): a Stripe that ignores the keys,
    # so that tests prove what we do not leave to them.
    honoured: bool = True

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        if not self.honoured:
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        account = _secret_key(request) or str(data.get("key", ""))
        fingerprint = json.dumps(
            [request.method, request.path, data, dict(request.query)], sort_keys=True, default=str
        )
        self._expire()
        slot = (account, key)
        stored = self.entries.get(slot)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type="idempotency_error",
                )
            if not stored.status:
                raise StripeError(
                    409,
                    "There is currently another in-progress request using this Idempotent Key "
                    "(that probably means you submitted twice, and the other request is still "
                    f"going through): {key}. Please try again later.",
                    type="idempotency_error",
                    code="idempotency_key_in_use",
                )
            return web.Response(
                status=stored.status,
                body=stored.body,
                content_type=stored.content_type,
                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
            )
        entry = self.entries[slot] = _Stored(fingerprint, time.time())
        try:
            response = await handler(request)
        except StripeError as exc:
            if not exc.stored:
                del self.entries[slot]
                raise
            response = exc.to_response()
        except BaseException:
            del self.entries[slot]
            raise
        if (
            not isinstance(response, web.Response)
            or response.status >= 500
            or (400 <= response.status < 500 and response.status != 402)
        ):
            del self.entries[slot]
            return response
        entry.status = response.status
        entry.body = response.body if isinstance(response.body, bytes) else b""
        entry.content_type = response.content_type
        response.headers["Idempotency-Key"] = key
        return response

    def _expire(self) -> None:
        cutoff = time.time() - IDEMPOTENCY_HOURS * 3600
        for slot in [s for s, e in self.entries.items() if e.created < cutoff and e.status]:
            del self.entries[slot]


@dataclass
class Latency:
    """Test helper: make every API answer wait (to hold a request in flight, or time out). The
    work is done at once and the answer comes late, as when Stripe made a refund but its
    answer was lost on the way."""

    seconds: float = 0.0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if self.seconds and request.path.startswith("/v1/"):
            await asyncio.sleep(self.seconds)
        return response


# ---- API routes ----


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _stored(request: web.Request, cls: type[T], kind: str, param: str) -> T:
    """The object of `kind` the path's {id} names, else Stripe's 404 resource_missing."""
    id_ = request.match_info["id"]
    obj = resources.store.get(f"{kind}:{id_}")
    if not isinstance(obj, cls):
        raise no_such(kind, id_, param)
    return obj


def _intent(request: web.Request) -> PaymentIntent:
    return _stored(request, PaymentIntent, "payment_intent", "intent")


def _paying_intent(request: web.Request) -> PaymentIntent:
    """The intent of a payment page, opened with its client_secret (else 404)."""
    intent = _intent(request)
    if request.query.get("client_secret") != intent.client_secret:
        raise web.HTTPNotFound(text="Unknown payment")
    return intent


async def create_intent(request: web.Request) -> web.Response:
    params, expand = await _params_and_expand(request)
    only(
        params,
        INTENT_CREATE_PARAMS | LEGACY_INTENT_PARAMS,
        _stripe_params("PaymentIntentCreateParams"),
    )
    _versioned(request, params)
    confirm = str(params.get("confirm", "false")).lower() == "true"
    if not confirm:
        for name in ("return_url", "off_session", "payment_method_data", "use_stripe_sdk"):
            if name in params:
                raise invalid(
                    f"You passed `{name}`, which can only be used when `confirm` is true.",
                    param=name,
                )
    intent = PaymentIntent(params, _base_url(request))
    emit("payment_intent.created", intent)
    if confirm:
        intent._confirm({k: v for k, v in params.items() if k in INTENT_CONFIRM_PARAMS})
    return _json(intent._export(expand=expand))


def _versioned(request: web.Request, params: dict[str, Any]) -> None:
    """Parameters that depend on the request's API version (Stripe-Version, else the pinned one):
    `allowed_payment_method_types` came in 2026-07-29 (dahlia), and writing
    `payment_method_types` was removed in 2026-09-30 (endive)."""
    version = request.headers.get("Stripe-Version", API_VERSION)[:10]
    if "payment_method_types" in params and version >= "2026-09-30":
        raise invalid(
            "The `payment_method_types` parameter is no longer supported on this API version. "
            "Use dynamic payment methods, `excluded_payment_method_types`, or "
            "`allowed_payment_method_types` to choose the payment methods.",
            param="payment_method_types",
            code="payment_method_types_no_longer_supported",
        )
    for name in ("allowed_payment_method_types", "excluded_payment_method_types"):
        if name in params and version < "2026-07-29":
            raise unknown(name)


async def retrieve_intent(request: web.Request) -> web.Response:
    intent = _intent(request)
    params = server.unflatten_data(request.query)
    if not _secret_key(request) and params.get("client_secret") != intent.client_secret:
        raise invalid("The client_secret provided does not match the client_secret associated "
                      "with the PaymentIntent.", param="client_secret")  # fmt: skip
    return _json(intent._export(expand=params.get("expand")))


async def update_intent(request: web.Request) -> web.Response:
    intent = _intent(request)
    params, expand = await _params_and_expand(request)
    only(
        params,
        INTENT_UPDATE_PARAMS | LEGACY_INTENT_PARAMS,
        _stripe_params("PaymentIntentUpdateParams"),
    )
    _versioned(request, params)
    intent._change(params)
    return _json(intent._export(expand=expand))


async def confirm_intent(request: web.Request) -> web.Response:
    intent = _intent(request)
    params, expand = await _params_and_expand(request)
    only(params, INTENT_CONFIRM_PARAMS, _stripe_params("PaymentIntentConfirmParams"))
    intent._base_url = _base_url(request)
    intent._confirm(params)
    return _json(intent._export(expand=expand))


async def cancel_intent(request: web.Request) -> web.Response:
    intent = _intent(request)
    params, expand = await _params_and_expand(request)
    only(params, ("cancellation_reason",), ())
    intent._cancel(params.get("cancellation_reason"))
    return _json(intent._export(expand=expand))


async def authenticate_intent(request: web.Request) -> web.Response:
    """What localstripe's Stripe.js dialog calls after a use_stripe_sdk 3-D Secure step."""
    intent = _intent(request)
    params = await _params(request)
    if params.get("client_secret") != intent.client_secret:
        raise StripeError(401, "The client_secret provided does not match.")
    intent._authorize("succeed" if str(params.get("success")).lower() == "true" else "fail")
    return _json(intent._export())


async def create_payment_method(request: web.Request) -> web.Response:
    params, expand = await _params_and_expand(request)
    return _json(PaymentMethod(**params)._export(expand=expand))


async def create_refund(request: web.Request) -> web.Response:
    params, expand = await _params_and_expand(request)
    only(params, REFUND_CREATE_PARAMS, _stripe_params("RefundCreateParams"))
    return _json(Refund(params)._export(expand=expand))


async def list_refunds(request: web.Request) -> web.Response:
    params = server.unflatten_data(request.query)
    only(params, ("charge", "payment_intent", "limit", "starting_after", "expand"), ())
    refunds = Refund._all()
    for name in ("charge", "payment_intent"):
        if params.get(name):
            refunds = [r for r in refunds if getattr(r, name) == params[name]]
    page = resources.List("/v1/refunds", limit=params.get("limit"),
                          starting_after=params.get("starting_after"))  # fmt: skip
    page._list = sorted(refunds, key=lambda r: r.created, reverse=True)
    return _json(page._export(expand=params.get("expand")))


async def retrieve_dispute(request: web.Request) -> web.Response:
    return _json(_dispute(request)._export())


def _dispute(request: web.Request) -> Dispute:
    return _stored(request, Dispute, "dispute", "dispute")


# ---- test helpers under /_emulator/ ----


async def index(request: web.Request) -> web.Response:
    return web.Response(text=pages.index_page(), content_type="text/html")


async def authorize_page(request: web.Request) -> web.Response:
    intent = _paying_intent(request)
    method = intent.next_action["type"] if intent.next_action else ""
    kind = "alipay" if "alipay" in method else "wechat_pay" if "wechat" in method else "card"
    if intent.status != "requires_action":
        done = "succeeded" if intent.status == "succeeded" else "failed"
        return web.Response(text=pages.done_page(done), content_type="text/html")
    html = pages.authorize_page(
        intent_id=intent.id, client_secret=intent.client_secret, amount=intent.amount,
        currency=intent.currency, method=kind, description=intent.description,
    )  # fmt: skip
    return web.Response(text=html, content_type="text/html")


async def authorize_choice(request: web.Request) -> web.Response:
    """The page's buttons: complete or fail the intent, then back to the return_url."""
    intent = _intent(request)
    form = await request.post()
    if form.get("client_secret") != intent.client_secret:
        raise web.HTTPNotFound(text="Unknown payment")
    action = (intent.next_action or {}).get("type")
    status = intent._authorize(_outcome(form.get("outcome")))
    target = intent._return_to(status)
    # A WeChat QR code is scanned by a phone: the computer's page learns the result itself.
    if target and action != "wechat_pay_display_qr_code":
        raise web.HTTPSeeOther(target)
    return web.Response(text=pages.done_page(status), content_type="text/html")


async def authorize_api(request: web.Request) -> web.Response:
    """The same choice without a browser: form outcome=succeed|fail; JSON back."""
    intent = _intent(request)
    form = await request.post()
    status = intent._authorize(_outcome(form.get("outcome")))
    return _json({"payment_intent": intent._export(), "redirect_status": status,
                  "return_url": intent._return_to(status)})  # fmt: skip


def _outcome(value: Any) -> str:
    if value not in ("succeed", "fail"):
        raise invalid("outcome must be succeed or fail", param="outcome")
    return str(value)


async def settle_refund(request: web.Request) -> web.Response:
    refund = _stored(request, Refund, "refund", "refund")
    form = await request.post()
    refund._settle(str(form.get("status", "")))
    return _json(refund._export())


async def age_charge(request: web.Request) -> web.Response:
    """Test helper: move a charge `days` into the past (to pass a refund window)."""
    id_ = request.match_info["id"]
    charge = resources.store.get(f"charge:{id_}")
    if charge is None:
        raise no_such("charge", id_, "charge")
    form = await request.post()
    charge.created -= int(str(form.get("days", "0"))) * 86400
    return _json(charge._export())


async def close_dispute(request: web.Request) -> web.Response:
    dispute = _dispute(request)
    form = await request.post()
    dispute._close(str(form.get("status", "")))
    return _json(dispute._export())


async def wechat_instructions(request: web.Request) -> web.Response:
    intent = _paying_intent(request)
    html = pages.wechat_instructions_page(
        data=intent._authorize_url(), amount=intent.amount, currency=intent.currency
    )
    return web.Response(text=html, content_type="text/html")


async def qr_image(request: web.Request) -> web.Response:
    intent = _paying_intent(request)
    data = intent._authorize_url()
    if request.match_info["ext"] == "png":
        return web.Response(body=pages.qr_png(data), content_type="image/png")
    return web.Response(text=pages.qr_svg_document(data), content_type="image/svg+xml")


def stripe_js(request: web.Request) -> web.Response:
    return web.Response(text=JS_PATH.read_text(), content_type="application/javascript")


def _stripe_params(name: str) -> frozenset[str]:
    """The parameter names the stripe library knows for a call (its TypedDict's keys)."""
    import stripe.params

    return frozenset(getattr(stripe.params, name).__annotations__)


# ---- the application ----


def build_app() -> web.Application:
    latency = Latency()
    idempotency = Idempotency()
    app = web.Application(
        middlewares=[errors, authentication, idempotency.middleware, latency.middleware]
    )
    app.on_response_prepare.append(server.add_cors_headers)
    app["latency"] = latency
    app["idempotency"] = idempotency
    r = app.router
    r.add_post("/v1/payment_intents", create_intent)
    r.add_get("/v1/payment_intents/{id}", retrieve_intent)
    r.add_post("/v1/payment_intents/{id}", update_intent)
    r.add_post("/v1/payment_intents/{id}/confirm", confirm_intent)
    r.add_post("/v1/payment_intents/{id}/cancel", cancel_intent)
    r.add_post("/v1/payment_intents/{id}/_authenticate", authenticate_intent)
    r.add_post("/v1/payment_methods", create_payment_method)
    r.add_post("/v1/refunds", create_refund)
    r.add_get("/v1/refunds", list_refunds)
    r.add_get("/v1/disputes/{id}", retrieve_dispute)
    r.add_get("/_emulator/", index)
    r.add_get("/_emulator/authorize/{id}", authorize_page)
    r.add_post("/_emulator/authorize/{id}", authorize_choice)
    r.add_post("/_emulator/payment_intents/{id}/authorize", authorize_api)
    r.add_post("/_emulator/refunds/{id}/settle", settle_refund)
    r.add_post("/_emulator/disputes/{id}/close", close_dispute)
    r.add_post("/_emulator/charges/{id}/age", age_charge)
    r.add_get("/_emulator/wechat/{id}", wechat_instructions)
    r.add_get("/_emulator/qr/{id}.{ext:png|svg}", qr_image)
    r.add_post("/_emulator/latency", set_latency)
    r.add_post("/_emulator/idempotency", set_idempotency)
    r.add_get("/js.stripe.com/v3/", stripe_js)
    for route in server.app.router.routes():  # localstripe's, for everything else
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and route.method != "HEAD" and path != "/js.stripe.com/v3/":
            r.add_route(route.method, path, route.handler)
    return app


async def set_latency(request: web.Request) -> web.Response:
    form = await request.post()
    request.app["latency"].seconds = float(str(form.get("seconds", "0")))
    return _json({"seconds": request.app["latency"].seconds})


async def set_idempotency(request: web.Request) -> web.Response:
    """honour=false: every request runs again whatever its Idempotency-Key (true: as Stripe)."""
    form = await request.post()
    honour = str(form.get("honour", "true")).lower()
    if honour not in ("true", "false"):
        raise invalid("honour must be true or false", param="honour")
    request.app["idempotency"].honoured = honour == "true"
    return _json({"honour": request.app["idempotency"].honoured})
