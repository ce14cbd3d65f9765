"""What every route shares: templates, the current user, CSRF, form reading, the clock."""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from farm import i18n
from farm.accounts import sessions
from farm.accounts.models import Role, User
from farm.assets import Fingerprints
from farm.errors import DomainError, FieldErrors, Forbidden, NotFound
from farm.links import Links
from farm.paging import parse_page, search_text
from farm.parsing import parse_id
from farm.units import (
    amount_text,
    format_yuan,
    grams_to_jin,
    grams_to_kg,
    m2_to_fen,
    m2_to_mu,
    plain_number,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
STATIC = Fingerprints(STATIC_DIR)
CSRF_FIELD = "csrf_token"
MAX_FORM_FIELDS = 400  # a work entry may tick every plot of a large field
MAX_UPLOAD_BYTES = 62 * 1024 * 1024


def make_templates(timezone: str = "Asia/Shanghai") -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = format_yuan
    env.filters["mu"] = lambda m2: plain_number(m2_to_mu(m2))
    env.filters["fen_area"] = lambda m2: plain_number(m2_to_fen(m2))
    env.filters["plain"] = plain_number
    env.filters["days_of_month"] = days_of_month
    env.filters["kg"] = lambda grams: plain_number(grams_to_kg(grams))
    env.filters["jin"] = lambda grams: plain_number(grams_to_jin(grams))
    env.globals["static_url"] = STATIC.url  # a fingerprinted name, cached for a year
    env.globals["inline_style"] = inline_style
    env.globals["amount"] = amount_text  # grams or pieces, by the crop's unit
    zone = ZoneInfo(timezone)
    # Stored in UTC, shown in the service's time zone.
    env.filters["local"] = lambda dt, fmt="%Y-%m-%d %H:%M": dt.astimezone(zone).strftime(fmt)
    # Periods are half-open; people read the last day included.
    env.filters["last_day"] = lambda d: d - timedelta(days=1)
    return env


def inline_style(name: str) -> Markup:
    """A stylesheet's text to put in the page's <style>: the page paints at once instead of
    waiting for a second request (Lighthouse's render-blocking resource; site.css is ~7 KB
    compressed). The text must not be able to close the element."""
    css = STATIC.text(name)
    if "</" in css:
        raise ValueError(f"{name} cannot be put inline: it contains '</'")
    return Markup(css)  # noqa: S704 - our own file, checked above


def days_of_month(text: str) -> str:
    """'1,16' -> '1st and 16th' in English, '1、16' in Chinese."""
    days = [int(d) for d in text.split(",") if d.strip()]
    if i18n.current_language() != "en":
        return "、".join(str(d) for d in days)

    def ordinal(n: int) -> str:
        suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    words = [ordinal(d) for d in days]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def now() -> datetime:
    return datetime.now(UTC)


def links(request: Request) -> Links:
    """The site's absolute links (the runtime's, built once from the public base URL); in
    development without FARM_BASE_URL, from the address this request came to, so that mail
    and QR codes point at the server actually running (another port, a LAN address)."""
    if request.app.state.settings.base_url_from_request:
        return Links(str(request.base_url).rstrip("/"))
    return request.app.state.runtime.links


def today(request: Request) -> date:
    """Today where the service is (seasons, sale windows and cutoffs are local dates)."""
    return request.app.state.settings.local_date(now())


def timezone_of(request: Request) -> str:
    """The service's time zone (the name of a zone: how local days and times are told)."""
    return str(request.app.state.settings.timezone)


def csrf_token(request: Request) -> str:
    """The session's CSRF token: a signed-in session's is derived from its token (its cookie
    holds nothing else); a visitor's is random and kept in the cookie alone."""
    signed_in = request.session.get(sessions.TOKEN_KEY)
    if isinstance(signed_in, str):
        return sessions.csrf_secret(signed_in, secret=str(request.app.state.settings.secret_key))
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def masked_csrf_token(request: Request) -> str:
    """The session's CSRF token as a page shows it: XORed with a fresh random pad, so that a
    compressed page never repeats the same secret (the BREACH attack guesses a secret that
    stays the same from page to page through the compressed size)."""
    raw = csrf_token(request).encode()
    pad = secrets.token_bytes(len(raw))
    masked = bytes(a ^ b for a, b in zip(raw, pad, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode()


def _unmasked(sent: str) -> str:
    """A token as sent back: unmasked if it was masked, else as it is."""
    try:
        data = base64.urlsafe_b64decode(sent.encode())
    except (ValueError, UnicodeEncodeError):
        return sent
    half = len(data) // 2
    if not data or len(data) % 2:
        return sent
    pad, masked = data[:half], data[half:]
    return bytes(a ^ b for a, b in zip(masked, pad, strict=True)).decode("latin-1")


# The standard library reads a plain form whole: only a small one, whose length is declared.
# A larger one is streamed by Starlette's parser, which refuses a field over 1 MB.
PLAIN_FORM_BYTES = 64 * 1024


async def _posted_form(request: Request, *, max_files: int) -> FormData:
    """The form as posted. A small form without files (URL-encoded, at most PLAIN_FORM_BYTES
    by its Content-Length) is read by the standard library's parser, a few times cheaper than
    Starlette's streaming one (every reservation of a flash sale is such a form), into the
    same fields decoded the same way (Latin-1, then the escapes as UTF-8) and refused the same
    way past MAX_FORM_FIELDS."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip(" \t").lower()
    length = request.headers.get("content-length", "")
    if (
        max_files
        or kind != "application/x-www-form-urlencoded"
        or not length.isdigit()
        or int(length) > PLAIN_FORM_BYTES
    ):
        return await request.form(max_fields=MAX_FORM_FIELDS, max_files=max_files)
    body = await request.body()
    fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    if len(fields) > MAX_FORM_FIELDS:  # empty pieces ("a=1&&b=2") are not fields
        detail = f"Too many fields. Maximum number of fields is {MAX_FORM_FIELDS}."
        raise HTTPException(status_code=400, detail=detail)
    return FormData(fields)


async def read_form(request: Request, *, max_files: int = 0) -> FormData:
    """The posted form, once its CSRF token matched the session's; else 403. Forms with files
    are refused whole above MAX_UPLOAD_BYTES, before anything is spooled."""
    if max_files:
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES:
            raise DomainError(
                i18n._("The upload is too large: at most 6 photos of 10 MB each."),
                status_code=413,
            )
    form = await _posted_form(request, max_files=max_files)
    sent = str(form.get(CSRF_FIELD) or request.headers.get("x-csrf-token") or "")
    expected = csrf_token(request) if request.session else ""
    if not expected or not any(
        hmac.compare_digest(candidate.encode("utf-8", "replace"), expected.encode())
        for candidate in (sent, _unmasked(sent))
    ):
        await form.close()  # uploaded files are spooled to disk: let them go
        raise Forbidden(
            i18n._("Your form has expired. Please go back, reload the page and try again.")
        )
    if any(isinstance(value, str) and "\x00" in value for _key, value in form.multi_items()):
        await form.close()
        # No text we keep may hold a NUL byte (PostgreSQL refuses them).
        raise DomainError(i18n._("The form contains characters that are not allowed."))
    return form


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    ctx = {
        "request": request,
        "user": request.state.user,
        "csrf_token": masked_csrf_token(request),
        "language": i18n.current_language(),
        "languages": i18n.LANGUAGES,
        "settings": request.app.state.settings,
        **(context or {}),
    }
    html = env.get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status_code)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A PDF drawn for the one who asked (a gift card, a certificate), shown in the browser
    under `filename` (ASCII) and kept by no cache."""
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never redirect to another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


async def read_session_user(request: Request, default_language: str) -> None:
    """The session's user into `request.state.user` (None for a visitor), and the language of
    the request. A session that ended (logged out, password changed, account deactivated) or
    expired is forgotten here: the browser is a visitor again."""
    user = None
    request.state.session_id = None
    token = request.session.get(sessions.TOKEN_KEY)
    if isinstance(token, str):
        found = await sessions.session_user(token, now=now())
        if found is None:
            request.session.clear()
        else:
            user, opened = found
            request.state.session_id = opened.id
            await sessions.seen(opened, now=now())
    elif "user_id" in request.session:  # a cookie of the signed-cookie days: log in again
        request.session.clear()
    request.state.user = user
    i18n.set_language(
        i18n.normalize(request.cookies.get("lang"))
        or (user.language if user else None)
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or default_language
    )


async def read_user_now(request: Request) -> None:
    """For a route that `reads_its_own_user`, when its fast path did not answer."""
    if not hasattr(request.state, "user"):
        await read_session_user(request, request.app.state.settings.default_language)


def client_address(request: Request) -> str:
    """The client's IP address, as uvicorn found it (behind the proxy: its X-Forwarded-For,
    from the addresses FORWARDED_ALLOW_IPS trusts)."""
    return request.client.host if request.client else ""


def reads_its_own_user(endpoint: Any) -> Any:
    """Marks a route whose fast path checks the session's user in its own statement (one
    database round trip instead of two): the user is not read before it runs. Anything off
    its fast path calls `read_user_now` first."""
    endpoint.reads_its_own_user = True
    return endpoint


def session_token(request: Request) -> str | None:
    """The session token the cookie holds, unchecked; None for a visitor. A statement that
    trusts it checks it itself: the session is open and its user active (as
    farm/subscriptions/claims.py's buyer does)."""
    token = request.session.get(sessions.TOKEN_KEY)
    return token if isinstance(token, str) else None


def require_user(request: Request, *roles: Role) -> User:
    """The signed-in user with one of these roles. Visitors are sent to log in; a user of the
    wrong role gets 404, so a page's existence is not revealed."""
    user: User | None = request.state.user
    if user is None:
        raise LoginRequired()
    if roles and user.role not in roles:
        raise NotFound(i18n._("Page not found."))
    return user


def require_manager(request: Request) -> User:
    """A signed-in manager of a cooperative. Everything a manager reads or changes must be
    scoped by `user.cooperative_id`; others get 404."""
    user = require_user(request, Role.MANAGER)
    if user.cooperative_id is None:
        raise NotFound(i18n._("Page not found."))
    return user


def manager_list(
    template: str, *, section: str, name: str, lister: Callable[..., Awaitable[Any]],
    dated: bool = False,
) -> Callable[[Request], Awaitable[Response]]:  # fmt: skip
    """The route of a manager's list with its search box and pager: `lister(manager=, text=,
    page=)` (and `today=` when `dated`) gives the page of rows, shown as `name` beside the
    search text `q`."""

    async def route(request: Request) -> Response:
        manager = require_manager(request)
        text = search_text(request.query_params.get("q"))
        page = parse_page(request.query_params.get("page"))
        day = {"today": today(request)} if dated else {}
        rows = await lister(manager=manager, text=text, page=page, **day)
        return render(request, template, {"section": section, name: rows, "q": text})

    return route


class LoginRequired(Exception):
    pass


def int_param(request: Request, name: str) -> int:
    """A path parameter that must be an id; anything else is a 404."""
    value = parse_id(request.path_params.get(name))
    if value is None:
        raise NotFound(i18n._("Page not found."))
    return value


def season_param(request: Request) -> int | None:
    """?season=ID, or None without one (the latest season); anything but an id is a 404."""
    raw = request.query_params.get("season", "")
    if not raw:
        return None
    season_id = parse_id(raw)
    if season_id is None:
        raise NotFound(i18n._("This season does not exist."))
    return season_id


U = TypeVar("U")


# ---- a form page's cycle: GET, POST, 422, redirect (its fields are read by farm/forms.py) ----


@dataclass(frozen=True)
class Shown:
    """How a form page is shown: fresh (`posted` None), or refused with what was typed and
    each field's problem (`refused`: the refusal itself, for a page that shows more of it, as
    an uploaded file's bad lines), or with a `notice` about the whole form (its own status
    code)."""

    posted: Mapping[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notice: str = ""
    notice_status: int = 0
    refused: FieldErrors | None = None

    @property
    def status_code(self) -> int:
        return self.notice_status or (422 if self.errors else 200)

    def context(self, prefix: str = "") -> dict[str, Any]:
        """{'form': ..., 'errors': ...} (or '<prefix>_form', '<prefix>_errors') when the form
        was refused; nothing when it is fresh, so the page's own defaults stand."""
        if self.posted is None:
            return {}
        names = (f"{prefix}_form", f"{prefix}_errors") if prefix else ("form", "errors")
        return {names[0]: self.posted, names[1]: self.errors}

    def form(self, fresh: Mapping[str, Any]) -> Mapping[str, Any]:
        return fresh if self.posted is None else self.posted


def values(posted: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    """The named fields as text ("" for those not sent)."""
    return {name: str(posted.get(name) or "") for name in names}


def posted_by_id(form: FormData, prefix: str) -> list[tuple[int, str]]:
    """The fields named `<prefix><id>`, one for each row of a table (a household's hours, a
    field's land), as (id, text) in the order sent; a name whose tail is no id is passed over."""
    return [
        (record_id, str(value))
        for name, value in form.multi_items()
        if name.startswith(prefix) and (record_id := parse_id(name[len(prefix) :])) is not None
    ]


async def form_page(
    request: Request,
    *,
    show: Callable[[Shown], Awaitable[Response]],
    save: Callable[[Any], Awaitable[str]],
    names: Sequence[str] | None = None,
    max_files: int = 0,
    notices: tuple[type[DomainError], ...] = (),
) -> Response:
    """The one cycle of a form page. GET: show it fresh. POST: read the form (its CSRF
    token checked) and save it: `save` gets the named fields as text (or the whole form when
    `names` is None) and returns where to go next, a 303 redirect; when it refuses the form
    (FieldErrors), the page is shown again, 422, with what was typed and each problem. The
    errors in `notices` (a Conflict: the plot was taken meanwhile) are shown the same way, as
    a notice about the whole form with their own status code; "not found" never is."""
    if request.method != "POST":
        return await show(Shown())
    form = await read_form(request, max_files=max_files)
    posted: Any = values(form, names) if names is not None else form
    try:
        target = await save(posted)
    except FieldErrors as exc:
        return await show(Shown(posted, exc.errors, refused=exc))
    except notices as exc:
        if isinstance(exc, NotFound):
            raise
        return await show(Shown(posted, notice=exc.message, notice_status=exc.status_code))
    return redirect(target)


async def form_template(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    save: Callable[[Any], Awaitable[str]],
    names: Sequence[str] | None = None,
) -> Response:
    """form_page for a page that is its form: `template` rendered with `context`, and with
    'form' and 'errors' when the form was refused."""

    async def show(shown: Shown) -> Response:
        return render(request, template, {**context, **shown.context()}, shown.status_code)

    return await form_page(request, show=show, save=save, names=names)


def form_on_page(
    *,
    guard: Callable[[Request], U],
    param: str,
    prefix: str,
    names: Sequence[str],
    page: Callable[..., Awaitable[Response]],
    save: Callable[[Request, U, int, dict[str, str]], Awaitable[str]],
) -> Callable[[Request], Awaitable[Response]]:
    """The route of one of several forms on a record's page (a field's, a partner's): the
    record's id is the path parameter `param`, `guard` says who may use it (before the form
    is read), and `page(request, user, id, status_code, **forms)` shows the record's page with
    this form's values and problems as '<prefix>_form' and '<prefix>_errors'. A GET shows the
    page: this address after a refused form, reloaded or re-languaged."""

    async def route(request: Request) -> Response:
        user = guard(request)
        record_id = int_param(request, param)

        async def show(shown: Shown) -> Response:
            return await page(request, user, record_id, shown.status_code, **shown.context(prefix))

        async def save_posted(values: dict[str, str]) -> str:
            return await save(request, user, record_id, values)

        return await form_page(request, show=show, save=save_posted, names=names)

    return route
