"""create_app(settings) -> Starlette: routes, middleware, lifespan, error pages."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from farm import db, i18n
from farm.accounts import routes as accounts_routes
from farm.accounts import sessions
from farm.admin import routes as admin_routes
from farm.announcements import routes as announcement_routes
from farm.assets import FingerprintedStatic
from farm.bootstrap import bootstrap
from farm.cropplans import console_routes as crop_calendar_routes
from farm.cropplans import routes as crop_plan_routes
from farm.errors import DomainError, FieldErrors
from farm.fieldwork import catalogue_routes, ledger_routes, report_routes
from farm.fieldwork import correction_routes as entry_correction_routes
from farm.fieldwork import photo_routes as field_photo_routes
from farm.fieldwork import routes as fieldwork_routes
from farm.fieldwork.services import field_resize_problem
from farm.gifts import routes as gift_routes
from farm.land import console_routes
from farm.land import routes as land_routes
from farm.lifecycle import care_routes
from farm.lifecycle import routes as lifecycle_routes
from farm.mail import Mailer
from farm.notifications import routes as notification_routes
from farm.notifications.services import queue_mail
from farm.partners import booking_routes, gate_routes, settlement_routes
from farm.partners import console_routes as partner_console_routes
from farm.payments import console_routes as payment_console_routes
from farm.payments.gateway import Gateway
from farm.payments.polling import StripeReadGate
from farm.renewals import routes as renewal_routes
from farm.seasons import console_routes as season_console_routes
from farm.settings import Settings
from farm.shipments import box_routes, courier_routes, harvest_routes, packing_routes
from farm.shipments import console_routes as shipment_console_routes
from farm.shipments import correction_routes as lot_correction_routes
from farm.shipments import routes as shipment_routes
from farm.story import routes as story_routes
from farm.subscriptions import console_routes as subscriber_console_routes
from farm.vouchers import routes as voucher_routes
from farm.web import (
    STATIC,
    STATIC_DIR,
    LoginRequired,
    make_templates,
    read_session_user,
    reads_its_own_user,
    redirect,
    render,
    wants_json,
)

log = logging.getLogger("farm")


class RequestContext:
    """Per request: the signed-in user and the language, before any route runs (except the
    routes that read their user themselves, see farm.web.reads_its_own_user)."""

    def __init__(self, app: ASGIApp, default_language: str, own_user_routes: list[Route]):
        self.app = app
        self.default_language = default_language
        self.own_user_routes = own_user_routes
        self.own_user_methods = {m for route in own_user_routes for m in route.methods or ()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in self.own_user_methods or not any(
            route.matches(scope)[0] is Match.FULL for route in self.own_user_routes
        ):
            await read_session_user(Request(scope), self.default_language)
        await self.app(scope, receive, send)


# A year, subdomains included: production is served over https only (README, production).
HSTS = b"max-age=31536000; includeSubDomains"


def security_headers(csp: str, *, hsts: bool) -> list[tuple[bytes, bytes]]:
    """What every answer carries, error pages included."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", csp.encode()),
    ]
    return [*headers, (b"strict-transport-security", HSTS)] if hsts else headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]):
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def content_security_policy(settings: Settings) -> str:
    stripe_js = _origin(settings.stripe_js_url)
    stripe_api = _origin(settings.stripe_api_base) or "https://api.stripe.com"
    form_targets = ("'self'", "https://hooks.stripe.com", _origin(settings.stripe_api_base))
    return (
        "default-src 'self'; "
        f"script-src 'self' {stripe_js}; "
        f"connect-src 'self' {stripe_js} {stripe_api}; "
        f"frame-src {stripe_js} https://hooks.stripe.com; "
        "img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        # A form may lead to Stripe: no-JS Alipay is a POST answered by a redirect to Stripe.
        f"form-action {' '.join(filter(None, form_targets))}; "
        "frame-ancestors 'none'; base-uri 'self'"
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if wants_json(request):
        body: dict[str, object] = {"error": exc.message}
        if isinstance(exc, FieldErrors):
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status_code)
    context = {"message": exc.message, "link": exc.link}
    return render(request, "errors/error.html", context, exc.status_code)


async def login_required(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:  # after logging in, come back to the page the form was on, not to the POST
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc in ("", request.url.netloc)
        target = referer.path + (f"?{referer.query}" if referer.query else "") if same_site else "/"
        target = target or "/"
    if wants_json(request):
        return JSONResponse({"error": i18n._("Please log in.")}, status_code=401)
    return redirect(f"/login?next={quote(target)}")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {
        404: i18n._("Page not found."),
        405: i18n._("This address does not accept that request."),
    }.get(exc.status_code, i18n._("Something went wrong."))
    if not hasattr(request.state, "user"):
        request.state.user = None
    return render(request, "errors/error.html", {"message": message}, exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    """Starlette runs this outside every middleware (its ServerErrorMiddleware is outermost),
    so the page carries the security headers itself."""
    if not hasattr(request.state, "user"):
        request.state.user = None
    if db.is_unreachable(exc):  # down, or out of connections: unavailable, try again soon
        log.error("database unreachable on %s %s: %r", request.method, request.url.path, exc)
        status = 503
        message = i18n._(
            "The service is very busy or briefly unavailable. Please try again in a moment."
        )
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status = 500
        message = i18n._("Something went wrong on our side. Please try again in a moment.")
    try:
        if wants_json(request):
            response: Response = JSONResponse({"error": message}, status_code=status)
        else:
            response = render(request, "errors/error.html", {"message": message}, status)
    except Exception:  # the error page itself failed: say it plainly
        response = Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    if status == 503:
        response.headers["Retry-After"] = "5"
    for name, value in request.app.state.security_headers:
        response.headers[name.decode()] = value.decode()
    return response


@reads_its_own_user  # none: with the database down, a session cookie must not make it a 500
async def healthz(request: Request) -> Response:
    if await db.is_healthy():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)


async def favicon(request: Request) -> Response:
    """Browsers and crawlers ask for /favicon.ico whatever the pages link to: the same icon."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


# Pages, styles and scripts are compressed for browsers that accept gzip; downloads are not
# (CSV exports and PDFs stream as they are made, with their own length; PDFs and photos are
# compressed already), nor JSON answers such as the Stripe webhook's.
GZIP_MINIMUM_BYTES = 1024
GZIP_SKIPPED_TYPES = (
    "application/*", "audio/*", "font/*", "image/*", "video/*", "text/csv", "text/event-stream",
)  # fmt: skip


def create_app(
    settings: Settings, *, gateway: Gateway | None = None, mailer: Mailer | None = None
) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.connect(settings)
        try:
            yield
        finally:
            await app.state.runtime.aclose()
            await db.close()

    headers = security_headers(content_security_policy(settings), hsts=not settings.is_development)
    routes = [
        # The flash sale's reservation first: thousands of buyers a second would otherwise
        # each be matched against the 46 routes before it (30 µs of a worker a request); no
        # other route matches its path.
        lifecycle_routes.RESERVE_ROUTE,
        Route("/healthz", healthz),
        Route("/favicon.ico", favicon),
        *land_routes.routes,
        *console_routes.routes,
        *season_console_routes.routes,
        *renewal_routes.routes,
        *accounts_routes.routes,
        *admin_routes.routes,
        *(r for r in lifecycle_routes.routes if r is not lifecycle_routes.RESERVE_ROUTE),
        *subscriber_console_routes.routes,
        *announcement_routes.routes,
        *care_routes.routes,
        *fieldwork_routes.routes,
        *field_photo_routes.routes,
        *story_routes.routes,
        *gift_routes.routes,
        *catalogue_routes.routes,
        *crop_calendar_routes.routes,
        *crop_plan_routes.routes,
        *harvest_routes.routes,
        *report_routes.routes,
        *ledger_routes.routes,
        *entry_correction_routes.routes,
        *payment_console_routes.routes,
        *shipment_routes.routes,
        *box_routes.routes,
        *shipment_console_routes.routes,
        *courier_routes.routes,
        *packing_routes.routes,
        *lot_correction_routes.routes,
        *voucher_routes.routes,
        *partner_console_routes.routes,
        *settlement_routes.routes,
        *gate_routes.routes,
        *booking_routes.routes,
        *notification_routes.routes,
        *(notification_routes.dev_routes if settings.is_development else []),
        Mount("/static", FingerprintedStatic(STATIC), name="static"),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders, headers=headers),
            Middleware(
                SessionMiddleware,
                secret_key=str(settings.secret_key),
                session_cookie="farm_session",
                same_site="lax",
                https_only=settings.secure_cookies,
                max_age=sessions.SESSION_DAYS * 24 * 3600,  # the server's row ends sooner
            ),
            Middleware(
                RequestContext,
                default_language=settings.default_language,
                own_user_routes=[
                    route
                    for route in routes
                    if isinstance(route, Route)
                    and getattr(route.endpoint, "reads_its_own_user", False)
                ],
            ),
            Middleware(
                GZipMiddleware,
                minimum_size=GZIP_MINIMUM_BYTES,
                compresslevel=6,
                exclude_content_types=GZIP_SKIPPED_TYPES,
            ),
        ],
        exception_handlers={
            DomainError: domain_error,
            LoginRequired: login_required,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    runtime = bootstrap(settings, gateway=gateway, mailer=mailer)
    app.state.runtime = runtime
    # What routes read most, named as before: the runtime's own.
    app.state.settings = runtime.settings
    app.state.gateway = runtime.gateway
    app.state.mailer = runtime.mailer
    app.state.templates = make_templates(settings.timezone)
    app.state.stripe_reads = StripeReadGate(timedelta(seconds=settings.stripe_poll_seconds))
    app.state.security_headers = headers
    app.state.queue_mail = queue_mail  # accounts queue reset mail with it (they stand below)
    # A field's form asks it whether households' land still fits a new size (land stands below).
    app.state.field_resize_check = field_resize_problem
    return app
