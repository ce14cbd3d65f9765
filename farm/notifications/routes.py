"""Development only: read the mail the service would have sent, on the developer's own
machine (it holds every sign-in and reset link: a development server reachable from a
network shows it to nobody else)."""

from __future__ import annotations

from ipaddress import ip_address

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.mail import OutboxMailer
from farm.web import render


def _from_this_machine(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


async def outbox(request: Request) -> Response:
    if not _from_this_machine(request):
        raise HTTPException(404)
    mailer = request.app.state.mailer
    messages = mailer.messages() if isinstance(mailer, OutboxMailer) else []
    return render(request, "dev/outbox.html", {"messages": messages[:50]})


routes = [Route("/dev/outbox", outbox, name="outbox")]
