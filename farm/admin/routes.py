"""Platform administration (/admin), a manager's own cooperative and staff (/manage/cooperative,
/manage/staff), and the page where an invited manager joins (/invitation/...)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import i18n
from farm.accounts import invitations
from farm.accounts.models import Role, User
from farm.accounts.routes import home_for, start_session
from farm.admin import services
from farm.errors import FieldErrors
from farm.fieldwork.photos import MAX_BYTES
from farm.fieldwork.routes import photo_response, photo_store
from farm.paging import parse_page, search_text
from farm.web import (
    Shown,
    form_page,
    form_template,
    int_param,
    links,
    now,
    read_form,
    redirect,
    render,
    require_manager,
    require_user,
)

GET_POST = ["GET", "POST"]
INVITE_NAMES = ("email", "name")


def require_admin(request: Request) -> User:
    return require_user(request, Role.ADMIN)


def _base(user: User) -> str:
    """Which console a page belongs to: the admin's or the manager's."""
    return "admin/base.html" if user.role == Role.ADMIN else "manage/base.html"


def _profile_input(values: dict[str, str]) -> services.ProfileInput:
    return services.ProfileInput(**{n: values.get(n, "") for n in services.PROFILE_NAMES})


# ---- the admin's cooperatives ----


async def cooperatives(request: Request) -> Response:
    admin = require_admin(request)
    text = search_text(request.query_params.get("q"))
    page = parse_page(request.query_params.get("page"))
    rows = await services.list_cooperatives(admin=admin, text=text, page=page)
    context = {"section": "cooperatives", "cooperatives": rows, "q": text}
    return render(request, "admin/cooperatives.html", context)


async def new_cooperative(request: Request) -> Response:
    admin = require_admin(request)

    async def save(values: dict[str, str]) -> str:
        coop = await services.create_cooperative(admin=admin, data=_profile_input(values))
        return f"/admin/cooperatives/{coop.id}?done=created"

    context = {"section": "cooperatives", "form": {}, "errors": {}}
    return await form_template(
        request, "admin/cooperative_new.html", context, save=save, names=services.PROFILE_NAMES
    )


async def _cooperative_page(
    request: Request, user: User, cooperative_id: int, shown: Shown, prefix: str
) -> Response:
    coop = await services.own_cooperative(user=user, cooperative_id=cooperative_id)
    managers = await services.managers_of(user=user, cooperative_id=coop.id)
    here = f"/admin/cooperatives/{coop.id}" if user.role == Role.ADMIN else "/manage/cooperative"
    context: dict[str, Any] = {
        "base": _base(user),
        "section": "cooperatives" if user.role == Role.ADMIN else "cooperative",
        "coop": coop,
        "managers": managers,
        "here": here,
        "done": request.query_params.get("done", ""),
        "profile_form": {n: getattr(coop, n) for n in services.PROFILE_NAMES},
        "profile_errors": {},
        "invite_form": {},
        "invite_errors": {},
        "picture_errors": {},
        **shown.context(prefix),
    }
    return render(request, "admin/cooperative.html", context, shown.status_code)


async def _profile(request: Request, user: User, cooperative_id: int, here: str) -> Response:
    async def show(shown: Shown) -> Response:
        return await _cooperative_page(request, user, cooperative_id, shown, "profile")

    async def save(values: dict[str, str]) -> str:
        await services.update_profile(
            user=user, cooperative_id=cooperative_id, data=_profile_input(values)
        )
        return f"{here}?done=saved"

    return await form_page(request, show=show, save=save, names=services.PROFILE_NAMES)


async def _invite(request: Request, user: User, cooperative_id: int, here: str) -> Response:
    async def show(shown: Shown) -> Response:
        return await _cooperative_page(request, user, cooperative_id, shown, "invite")

    async def save(values: dict[str, str]) -> str:
        await services.invite_manager(
            user=user, cooperative_id=cooperative_id,
            data=services.InvitationInput(**values), language=i18n.current_language(),
            secret=str(request.app.state.settings.secret_key), links=links(request),
            now=now(), queue_mail=request.app.state.queue_mail,
        )  # fmt: skip
        return f"{here}?done=invited#managers"

    return await form_page(request, show=show, save=save, names=INVITE_NAMES)


async def admin_cooperative(request: Request) -> Response:
    admin = require_admin(request)
    coop_id = int_param(request, "cooperative_id")
    return await _profile(request, admin, coop_id, f"/admin/cooperatives/{coop_id}")


async def admin_invite(request: Request) -> Response:
    admin = require_admin(request)
    coop_id = int_param(request, "cooperative_id")
    return await _invite(request, admin, coop_id, f"/admin/cooperatives/{coop_id}")


async def _picture(request: Request, user: User, cooperative_id: int, here: str) -> Response:
    """The picture's upload form, posted on the cooperative's page."""
    form = await read_form(request, max_files=1)
    try:
        upload = form.get("picture")
        data = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()
    try:
        await services.set_picture(
            user=user, cooperative_id=cooperative_id, data=data, store=photo_store(request)
        )
    except FieldErrors as exc:
        shown = Shown(posted={}, errors=exc.errors)
        return await _cooperative_page(request, user, cooperative_id, shown, "picture")
    return redirect(f"{here}?done=picture#picture")


async def admin_picture(request: Request) -> Response:
    admin = require_admin(request)
    coop_id = int_param(request, "cooperative_id")
    return await _picture(request, admin, coop_id, f"/admin/cooperatives/{coop_id}")


async def picture(request: Request) -> Response:
    """A cooperative's picture, public: customers see it beside its plans."""
    name = await services.cooperative_picture(cooperative_id=int_param(request, "cooperative_id"))
    return await photo_response(request, name, public=True)


# ---- a manager's own cooperative ----


def _own_cooperative_id(manager: User) -> int:
    assert manager.cooperative_id is not None  # require_manager saw to it
    return int(manager.cooperative_id)


async def manager_cooperative(request: Request) -> Response:
    manager = require_manager(request)
    return await _profile(request, manager, _own_cooperative_id(manager), "/manage/cooperative")


async def manager_picture(request: Request) -> Response:
    manager = require_manager(request)
    return await _picture(request, manager, _own_cooperative_id(manager), "/manage/cooperative")


async def manager_invite(request: Request) -> Response:
    manager = require_manager(request)
    return await _invite(request, manager, _own_cooperative_id(manager), "/manage/cooperative")


# ---- staff accounts (the admin's: all; a manager's: their cooperative's) ----


async def _staff_page(request: Request, user: User, here: str) -> Response:
    text = search_text(request.query_params.get("q"))
    page = parse_page(request.query_params.get("page"))
    rows = await services.list_staff(user=user, text=text, page=page)
    context = {
        "base": _base(user),
        "section": "staff",
        "staff": rows,
        "q": text,
        "here": here,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "admin/staff.html", context)


async def _set_active(request: Request, user: User, here: str) -> Response:
    staff_id = int_param(request, "user_id")
    form = await read_form(request)
    active = str(form.get("active", "")) == "1"
    await services.set_active(user=user, staff_id=staff_id, active=active, now=now())
    return redirect(f"{here}?done={'reactivated' if active else 'deactivated'}")


async def admin_staff(request: Request) -> Response:
    return await _staff_page(request, require_admin(request), "/admin/staff")


async def admin_staff_active(request: Request) -> Response:
    return await _set_active(request, require_admin(request), "/admin/staff")


async def manager_staff(request: Request) -> Response:
    return await _staff_page(request, require_manager(request), "/manage/staff")


async def manager_staff_active(request: Request) -> Response:
    return await _set_active(request, require_manager(request), "/manage/staff")


# ---- the invited manager joins ----


async def invitation(request: Request) -> Response:
    token = request.path_params["token"]
    secret = str(request.app.state.settings.secret_key)
    invited = await invitations.invited_user(token=token, secret=secret)

    async def save(values: dict[str, str]) -> str:
        user = await invitations.accept_invitation(
            token=token, secret=secret, name=values["name"], password=values["password"]
        )
        await start_session(request, user)
        return home_for(user)

    context = {"form": {"name": invited.name}, "errors": {}, "invited": invited}
    # The password typed is never shown again.
    return await form_template(
        request, "admin/invitation.html", context, save=save, names=("name", "password")
    )


routes = [
    Route("/admin", cooperatives, name="admin"),
    Route("/admin/cooperatives/new", new_cooperative, methods=GET_POST),
    Route("/admin/cooperatives/{cooperative_id}", admin_cooperative, methods=GET_POST),
    Route("/admin/cooperatives/{cooperative_id}/invite", admin_invite, methods=GET_POST),
    Route("/admin/staff", admin_staff),
    Route("/admin/staff/{user_id}/active", admin_staff_active, methods=["POST"]),
    Route("/manage/cooperative", manager_cooperative, methods=GET_POST),
    Route("/manage/cooperative/invite", manager_invite, methods=GET_POST),
    Route("/manage/cooperative/picture", manager_picture, methods=["POST"]),
    Route("/admin/cooperatives/{cooperative_id}/picture", admin_picture, methods=["POST"]),
    Route("/cooperatives/{cooperative_id}/picture", picture, name="cooperative_picture"),
    Route("/cooperatives/{cooperative_id}/picture/thumb", picture),
    Route("/manage/staff", manager_staff),
    Route("/manage/staff/{user_id}/active", manager_staff_active, methods=["POST"]),
    Route("/invitation/{token}", invitation, methods=GET_POST, name="invitation"),
]
