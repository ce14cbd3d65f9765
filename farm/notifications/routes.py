"""Development only: read the mail the service would have sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm.mail import OutboxMailer
from farm.web import render


async def outbox(request: Request) -> Response:
    mailer = request.app.state.mailer
    messages = mailer.messages() if isinstance(mailer, OutboxMailer) else []
    return render(request, "dev/outbox.html", {"messages": messages[:50]})


routes = [Route("/dev/outbox", outbox, name="outbox")]
