"""Mail pages: a family's choice of bulk mail (in its account, and by a bulk mail's signed
unsubscribe link, which works without logging in and takes RFC 8058's one-click POST), the
mail that could not be delivered (a cooperative's managers, the admin), and, in development
only, the outbox of what the service would have sent."""

from __future__ import annotations

import base64
from ipaddress import ip_address

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.accounts.models import Role
from farm.mail import Mail, OutboxMailer
from farm.notifications import rules, services
from farm.qr import qr_png
from farm.web import read_form, redirect, render, require_manager, require_user

# ---- a family's choices ----


async def mail_choices(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    form = await read_form(request)
    choices = {flag: form.get(flag) == "1" for flag in rules.BULK.values()}
    await services.set_mail_choices(user=customer, choices=choices)
    return redirect("/account?mail=saved#mail")


async def unsubscribe(request: Request) -> Response:
    """GET asks (mail scanners open links: a GET changes nothing); POST unsubscribes, from the
    page's button or from the mail client's one-click request (List-Unsubscribe=One-Click,
    no cookies, no CSRF token: the signed link is the authority, and it only turns mail off).
    The body is not read."""
    token = request.path_params["token"]
    secret = str(request.app.state.settings.secret_key)
    if request.method == "GET":
        _user, kind = await services.check_unsubscribe(token=token, secret=secret)
        return render(request, "notifications/unsubscribe.html", {"kind": kind, "done": False})
    _user, kind = await services.unsubscribe(token=token, secret=secret)
    return render(request, "notifications/unsubscribe.html", {"kind": kind, "done": True})


# ---- mail that could not be delivered ----


async def manager_failed_mail(request: Request) -> Response:
    manager = require_manager(request)
    rows = await services.failed_mail(cooperative_id=manager.cooperative_id)
    return render(
        request,
        "notifications/failed.html",
        {"rows": rows, "base": "manage/base.html", "section": "mail"},
    )


async def admin_failed_mail(request: Request) -> Response:
    require_user(request, Role.ADMIN)
    rows = await services.failed_mail(cooperative_id=None)
    return render(
        request,
        "notifications/failed.html",
        {"rows": rows, "base": "admin/base.html", "section": "mail"},
    )


# ---- development: the outbox ----
# It holds every sign-in and reset link: a development server reachable from a network shows
# it to nobody else.


def _from_this_machine(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _outbox(request: Request) -> OutboxMailer | None:
    if not _from_this_machine(request):
        raise HTTPException(404)
    mailer = request.app.state.mailer
    return mailer if isinstance(mailer, OutboxMailer) else None


async def outbox(request: Request) -> Response:
    mailer = _outbox(request)
    entries = mailer.entries()[:50] if mailer else []
    return render(request, "dev/outbox.html", {"entries": entries})


def as_shown(mail: Mail) -> str:
    """The HTML as a family's mail client shows it: the inline images as data: URIs (the
    outbox page shows it in a sandboxed iframe's srcdoc, under the page's own CSP)."""
    html = mail.html
    for cid, text in mail.images.items():
        png = base64.b64encode(qr_png(text)).decode()
        html = html.replace(f'"cid:{cid}"', f'"data:image/png;base64,{png}"')
    return html


async def outbox_message(request: Request) -> Response:
    mailer = _outbox(request)
    mail = mailer.message(request.path_params["name"]) if mailer else None
    if mail is None:
        raise HTTPException(404)
    return render(
        request,
        "dev/outbox_message.html",
        {"mail": mail, "shown": as_shown(mail) if mail.html else ""},
    )


routes = [
    Route("/account/mail", mail_choices, methods=["POST"], name="mail_choices"),
    Route("/mail/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"], name="unsubscribe"),
    Route("/manage/mail", manager_failed_mail, name="manager_failed_mail"),
    Route("/admin/mail", admin_failed_mail, name="admin_failed_mail"),
]
dev_routes = [
    Route("/dev/outbox", outbox, name="outbox"),
    Route("/dev/outbox/{name}", outbox_message, name="outbox_message"),
]
