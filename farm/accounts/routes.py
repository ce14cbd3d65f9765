"""Sign up, log in and out, reset a password, switch language."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import i18n
from farm.accounts import limits, password_change, rules, services, sessions
from farm.accounts.models import Role, User
from farm.errors import DomainError
from farm.web import (
    Shown,
    client_address,
    form_page,
    form_template,
    links,
    now,
    read_form,
    redirect,
    render,
    require_user,
    safe_next,
)


async def start_session(request: Request, user: User) -> None:
    """A new server-side session for `user`; the cookie holds its token and nothing else."""
    old = request.session.get(sessions.TOKEN_KEY)
    if isinstance(old, str):  # signing in over an open session ends that one
        await sessions.end_session(old, now=now())
    request.session.clear()  # a fresh session at login: no fixation
    request.session[sessions.TOKEN_KEY] = await sessions.open_session(
        user=user, user_agent=request.headers.get("user-agent", ""), now=now()
    )


def home_for(user: User) -> str:
    """Where each role starts after logging in."""
    return {
        "customer": "/account",
        "manager": "/manage",
        "partner_staff": "/partner",
        "admin": "/admin",
    }.get(user.role, "/")


async def signup(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), "/account")
    settings = request.app.state.settings

    async def save(values: dict[str, str]) -> str:
        user = await services.register_customer(
            email=values["email"],
            name=values["name"],
            password=values["password"],
            language=i18n.current_language(),
            address=client_address(request),
            now=now(),
            confirm=settings.confirms_email,
            secret=str(settings.secret_key),
            links=links(request),
            queue_mail=request.app.state.queue_mail,
        )
        if user is not None and not settings.confirms_email:
            await start_session(request, user)  # development and demos: in at once
            return safe_next(values["next"], "/account")
        # The same answer whether the address was free or taken: see your inbox; its "Log
        # in" leads back to where the person was going (a chosen plot's Reserve panel).
        back = safe_next(values["next"], "/account")
        return "/signup/sent" if back == "/account" else f"/signup/sent?next={quote(back)}"

    async def show(shown: Shown) -> Response:
        posted = shown.posted or {"next": next_url}
        form = {k: posted[k] for k in ("email", "name") if k in posted}  # not the password
        next_to = safe_next(posted["next"], "/account")
        context = {"form": form, "errors": shown.errors, "next": next_to}
        return render(request, "accounts/signup.html", context, shown.status_code)

    names = ("email", "name", "password", "next")
    return await form_page(request, show=show, save=save, names=names)


async def signup_sent(request: Request) -> Response:
    back = safe_next(request.query_params.get("next"), "")
    return render(request, "accounts/signup_sent.html", {"next": back})


async def confirm_email(request: Request) -> Response:
    """The link mailed at sign-up: the address is confirmed (GET, as mail clients open it;
    opening it twice changes nothing)."""
    user = await services.confirm_email(
        token=request.path_params["token"],
        secret=str(request.app.state.settings.secret_key),
        now=now(),
    )
    signed_in = request.state.user is not None and request.state.user.id == user.id
    return render(request, "accounts/confirmed.html", {"signed_in": signed_in})


async def send_confirmation(request: Request) -> Response:
    """The signed-in customer asks for the confirmation link again."""
    user = require_user(request, Role.CUSTOMER)
    await read_form(request)
    await services.send_confirmation(
        user=user,
        secret=str(request.app.state.settings.secret_key),
        links=links(request),
        now=now(),
        queue_mail=request.app.state.queue_mail,
    )
    return render(request, "accounts/confirm_needed.html", {"sent": True})


async def login(request: Request) -> Response:
    secret = str(request.app.state.settings.secret_key)
    device = request.cookies.get(limits.DEVICE_COOKIE, "")
    signed_in: list[User] = []

    async def save(values: dict[str, str]) -> str:
        user = await services.authenticate(
            email=values["email"],
            password=values["password"],
            now=now(),
            free_attempts=request.app.state.settings.login_attempts_before_delay,
            address=client_address(request),
            device_cookie=device,
            secret=secret,
        )
        await start_session(request, user)
        signed_in.append(user)
        return safe_next(values["next"], "") or home_for(user)

    async def show(shown: Shown) -> Response:
        posted = shown.posted or {"email": "", "next": request.query_params.get("next")}
        context = {
            "form": {"email": posted["email"]} if shown.posted else {},  # not the password
            "errors": shown.errors,
            "error": shown.notice,  # a wrong password (400) or too many tries (429)
            "next": safe_next(posted["next"], ""),
        }
        return render(request, "accounts/login.html", context, shown.status_code)

    names = ("email", "password", "next")
    response = await form_page(request, show=show, save=save, names=names, notices=(DomainError,))
    for user in signed_in:
        # This browser is now its owner's: others' guesses at the account do not lock it out.
        known = limits.device_of(device, secret=secret, user_id=user.id)
        response.set_cookie(
            limits.DEVICE_COOKIE,
            limits.device_cookie(secret=secret, user_id=user.id, token=known or None),
            max_age=limits.DEVICE_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.secure_cookies,
        )
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    token = request.session.get(sessions.TOKEN_KEY)
    if isinstance(token, str):
        await sessions.end_session(token, now=now())
    request.session.clear()
    return redirect("/")


async def forgot_password(request: Request) -> Response:
    async def save(values: dict[str, str]) -> str:
        await services.request_password_reset(
            email=values["email"],
            secret=str(request.app.state.settings.secret_key),
            links=links(request),
            now=now(),
            queue_mail=request.app.state.queue_mail,
            address=client_address(request),
        )
        return "/password/forgot?sent=1"  # said whether or not the account exists

    sent = request.query_params.get("sent") == "1"
    context = {"form": {}, "errors": {}, "sent": sent}
    return await form_template(
        request, "accounts/forgot.html", context, save=save, names=("email",)
    )


async def reset_password(request: Request) -> Response:
    token = request.path_params["token"]
    secret = str(request.app.state.settings.secret_key)
    if request.method == "GET":
        await services.user_for_reset_token(token=token, secret=secret)

    async def save(values: dict[str, str]) -> str:
        user = await services.reset_password(
            token=token, password=values["password"], secret=secret, now=now(),
            links=links(request), queue_mail=request.app.state.queue_mail,
        )  # fmt: skip
        await start_session(request, user)
        return home_for(user)

    # reset.html shows no typed value: the password is never sent back.
    names = ("password",)
    return await form_template(
        request, "accounts/reset.html", {"errors": {}}, save=save, names=names
    )


async def change_password(request: Request) -> Response:
    """Any signed-in user changes their password (the current one first); this browser stays
    signed in, every other ends."""
    user = require_user(request)

    async def save(values: dict[str, str]) -> str:
        await password_change.change_password(
            user=user, current=values["current"], new=values["password"],
            confirm=values["confirm"], now=now(), keep_session_id=request.state.session_id,
            links=links(request), queue_mail=request.app.state.queue_mail,
        )  # fmt: skip
        return "/account/password?changed=1"

    async def show(shown: Shown) -> Response:
        context = {
            "errors": shown.errors,
            "error": shown.notice,  # a wrong current password (400) or too many tries (429)
            "changed": shown.posted is None and request.query_params.get("changed") == "1",
        }
        return render(request, "accounts/password.html", context, shown.status_code)

    names = ("current", "password", "confirm")  # none is ever sent back to the page
    return await form_page(request, show=show, save=save, names=names, notices=(DomainError,))


async def switch_language(request: Request) -> Response:
    language = i18n.normalize(request.path_params["code"]) or i18n.DEFAULT_LANGUAGE
    response = redirect(safe_next(request.query_params.get("next"), "/"))
    response.set_cookie("lang", language, max_age=365 * 24 * 3600, samesite="lax")
    user = request.state.user
    if user is not None and user.language != language:
        await services.set_language(user=user, language=language)
    return response


async def session_list(request: Request) -> Response:
    """The signed-in user's open sessions (any role), and a button to end all but this one."""
    user = require_user(request)
    found = await sessions.active_sessions(user.id, now=now())
    rows = [
        {
            "current": s.id == request.state.session_id,
            "device": rules.device_label(s.user_agent),
            "agent": s.user_agent,
            "created_at": s.created_at,
            "last_seen_at": s.last_seen_at,
        }
        for s in found
    ]
    ended = request.query_params.get("ended")
    context = {"sessions": rows, "ended": int(ended) if ended and ended.isdigit() else None}
    return render(request, "accounts/sessions.html", context)


async def end_other_sessions(request: Request) -> Response:
    user = require_user(request)
    await read_form(request)
    ended = await sessions.end_sessions_of(user.id, now=now(), keep_id=request.state.session_id)
    return redirect(f"/account/sessions?ended={ended}")


routes = [
    Route("/signup", signup, methods=["GET", "POST"], name="signup"),
    Route("/signup/sent", signup_sent),
    Route("/email/confirm/{token}", confirm_email),
    Route("/email/confirm", send_confirmation, methods=["POST"]),
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot"),
    Route("/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset"),
    Route("/lang/{code}", switch_language, name="lang"),
    Route("/account/sessions", session_list, name="sessions"),
    Route("/account/password", change_password, methods=["GET", "POST"], name="password"),
    Route("/account/sessions/end-others", end_other_sessions, methods=["POST"]),
]
