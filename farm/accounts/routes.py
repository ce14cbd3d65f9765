"""Sign up, log in and out, reset a password, switch language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import i18n
from farm.accounts import limits, services
from farm.accounts.models import User
from farm.accounts.rules import password_stamp
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
    safe_next,
)


def start_session(request: Request, user: User) -> None:
    request.session.clear()  # a fresh session at login: no fixation
    request.session["user_id"] = user.id
    request.session["pw"] = password_stamp(user.password_hash)


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

    async def save(values: dict[str, str]) -> str:
        user = await services.sign_up(
            email=values["email"],
            name=values["name"],
            password=values["password"],
            language=i18n.current_language(),
            address=client_address(request),
            now=now(),
        )
        start_session(request, user)
        return safe_next(values["next"], "/account")

    async def show(shown: Shown) -> Response:
        posted = shown.posted or {"next": next_url}
        form = {k: posted[k] for k in ("email", "name") if k in posted}  # not the password
        next_to = safe_next(posted["next"], "/account")
        context = {"form": form, "errors": shown.errors, "next": next_to}
        return render(request, "accounts/signup.html", context, shown.status_code)

    names = ("email", "name", "password", "next")
    return await form_page(request, show=show, save=save, names=names)


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
        start_session(request, user)
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
            token=token, password=values["password"], secret=secret
        )
        start_session(request, user)
        return home_for(user)

    # reset.html shows no typed value: the password is never sent back.
    names = ("password",)
    return await form_template(
        request, "accounts/reset.html", {"errors": {}}, save=save, names=names
    )


async def switch_language(request: Request) -> Response:
    language = i18n.normalize(request.path_params["code"]) or i18n.DEFAULT_LANGUAGE
    response = redirect(safe_next(request.query_params.get("next"), "/"))
    response.set_cookie("lang", language, max_age=365 * 24 * 3600, samesite="lax")
    user = request.state.user
    if user is not None and user.language != language:
        await services.set_language(user=user, language=language)
    return response


routes = [
    Route("/signup", signup, methods=["GET", "POST"], name="signup"),
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot"),
    Route("/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset"),
    Route("/lang/{code}", switch_language, name="lang"),
]
