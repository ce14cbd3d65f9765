"""The manager's console for partners: scenic spots and guesthouses, a guesthouse's rooms, each
partner's staff accounts, and the vouchers redeemed at them. Each route reads the form, calls
one service, and renders or redirects; bad input is shown beside its field (422)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import i18n
from farm.accounts.models import User
from farm.csvfiles import csv_response
from farm.errors import FieldErrors
from farm.paging import parse_page
from farm.partners import console, console_redemptions
from farm.partners.models import Partner, PartnerKind
from farm.web import (
    Shown,
    form_on_page,
    form_page,
    form_template,
    int_param,
    links,
    now,
    read_form,
    redirect,
    render,
    require_manager,
    timezone_of,
    today,
)

PARTNER_NAMES = ("kind", "name", "address", "opening_hours", "phone")
ROOM_NAMES = ("name", "capacity")
STAFF_NAMES = ("email", "name")
KINDS = (PartnerKind.SCENIC_SPOT, PartnerKind.GUESTHOUSE)


def _partner_form(partner: Partner) -> dict[str, str]:
    return {name: str(getattr(partner, name)) for name in PARTNER_NAMES}


# ---- the list, and a new partner ----


async def partners_page(request: Request) -> Response:
    manager = require_manager(request)
    rows = await console.list_partners(
        manager=manager, today=today(request), timezone=timezone_of(request)
    )
    return render(request, "partners/manage_partners.html", {"section": "partners", "rows": rows})


async def partner_new(request: Request) -> Response:
    manager = require_manager(request)

    async def save(values: dict[str, str]) -> str:
        partner = await console.create_partner(manager=manager, data=console.PartnerInput(**values))
        return f"/manage/partners/{partner.id}?saved=1"

    fresh = {"kind": PartnerKind.SCENIC_SPOT.value}
    context = {"section": "partners", "form": fresh, "errors": {}, "kinds": KINDS}
    return await form_template(
        request, "partners/manage_partner_new.html", context, save=save, names=PARTNER_NAMES
    )


# ---- one partner: details, rooms, staff ----


async def _partner_page(
    request: Request, manager: User, partner_id: int, status_code: int = 200, **forms: Any
) -> Response:
    view = await console.partner_view(manager=manager, partner_id=partner_id)
    context = {
        "section": "partners",
        "view": view,
        "kinds": KINDS,
        "edit_form": _partner_form(view.partner),
        "edit_errors": {},
        "room_form": {},
        "room_errors": {},
        "edit_room": None,  # the room whose form was refused
        "edit_room_form": {},
        "edit_room_errors": {},
        "staff_form": {},
        "staff_errors": {},
        "done": request.query_params.get("done", ""),
        **forms,
    }
    return render(request, "partners/manage_partner.html", context, status_code=status_code)


async def _update_partner(
    request: Request, manager: User, partner_id: int, values: dict[str, str]
) -> str:
    data = console.PartnerInput(**values)
    await console.update_partner(manager=manager, partner_id=partner_id, data=data)
    return f"/manage/partners/{partner_id}?done=saved"


async def _add_room(
    request: Request, manager: User, partner_id: int, values: dict[str, str]
) -> str:
    await console.add_room(manager=manager, partner_id=partner_id, data=console.RoomInput(**values))
    return f"/manage/partners/{partner_id}?done=room#rooms"


async def _add_staff(
    request: Request, manager: User, partner_id: int, values: dict[str, str]
) -> str:
    settings = request.app.state.settings
    await console.add_staff(
        manager=manager, partner_id=partner_id, data=console.StaffInput(**values),
        language=i18n.DEFAULT_LANGUAGE, secret=str(settings.secret_key),
        links=links(request), now=now(), queue_mail=request.app.state.queue_mail,
    )  # fmt: skip
    return f"/manage/partners/{partner_id}?done=staff#staff"


_partner_form_route = partial(
    form_on_page, guard=require_manager, param="partner_id", page=_partner_page
)
partner_page = _partner_form_route(prefix="edit", names=PARTNER_NAMES, save=_update_partner)
add_room = _partner_form_route(prefix="room", names=ROOM_NAMES, save=_add_room)
add_staff = _partner_form_route(prefix="staff", names=STAFF_NAMES, save=_add_staff)


async def room_page(request: Request) -> Response:
    manager = require_manager(request)
    room = await console.own_room(manager=manager, room_id=int_param(request, "room_id"))

    async def show(shown: Shown) -> Response:
        refused = {"edit_room": room.id, **shown.context("edit_room")} if shown.posted else {}
        return await _partner_page(request, manager, room.partner_id, shown.status_code, **refused)

    async def save(values: dict[str, str]) -> str:
        data = console.RoomInput(**values)
        await console.update_room(manager=manager, room_id=room.id, data=data)
        return f"/manage/partners/{room.partner_id}?done=room#rooms"

    return await form_page(request, show=show, save=save, names=ROOM_NAMES)


async def room_active(request: Request) -> Response:
    manager = require_manager(request)
    room_id = int_param(request, "room_id")
    form = await read_form(request)
    room = await console.set_room_active(
        manager=manager, room_id=room_id, active=form.get("active") == "1"
    )
    return redirect(f"/manage/partners/{room.partner_id}?done=room#rooms")


async def room_delete(request: Request) -> Response:
    manager = require_manager(request)
    room_id = int_param(request, "room_id")
    await read_form(request)
    partner_id = await console.delete_room(manager=manager, room_id=room_id)
    return redirect(f"/manage/partners/{partner_id}?done=room_deleted#rooms")


# ---- redemptions ----


async def period_page(request: Request, *, template: str, load) -> Response:
    """A partner's page over a period typed as its first and last day (the redemptions, the
    settlement statement): a period refused is a 422 beside its fields; `load` reads the
    partner's report (manager, partner_id, period, timezone, page) for its template."""
    manager = require_manager(request)
    partner_id = int_param(request, "partner_id")
    raw = {name: request.query_params.get(name, "") for name in ("from", "to")}
    try:
        period = console_redemptions.read_period(raw["from"], raw["to"], today=today(request))
    except FieldErrors as exc:
        partner = await console.own_partner(manager=manager, partner_id=partner_id)
        context = {"section": "partners", "partner": partner, "report": None, "form": raw,
                   "errors": exc.errors}  # fmt: skip
        return render(request, template, context, status_code=422)
    report = await load(
        manager=manager, partner_id=partner_id, period=period, timezone=timezone_of(request),
        page=parse_page(request.query_params.get("page")),
    )  # fmt: skip
    last = period.ends_on - timedelta(days=1)  # typed and shown as the last day, included
    form = {"from": period.starts_on.isoformat(), "to": last.isoformat()}
    context = {"section": "partners", "partner": report.partner, "report": report, "form": form,
               "errors": {}}  # fmt: skip
    return render(request, template, context)


async def redemptions_page(request: Request) -> Response:
    return await period_page(request, template="partners/manage_redemptions.html",
                             load=console_redemptions.partner_redemptions)  # fmt: skip


async def redemptions_csv(request: Request) -> Response:
    manager = require_manager(request)
    period = console_redemptions.read_period(
        request.query_params.get("from", ""),
        request.query_params.get("to", ""),
        today=today(request),
    )
    stream = await console_redemptions.redemptions_csv(
        manager=manager, period=period, timezone=timezone_of(request)
    )
    return csv_response(stream)


GET_POST = ["GET", "POST"]
routes = [
    Route("/manage/partners", partners_page, name="manage_partners"),
    Route("/manage/partners/new", partner_new, methods=GET_POST, name="manage_partner_new"),
    Route(
        "/manage/partners/redemptions.csv", redemptions_csv, name="manage_partner_redemptions_csv"
    ),
    Route("/manage/partners/{partner_id}", partner_page, methods=GET_POST, name="manage_partner"),
    Route(
        "/manage/partners/{partner_id}/rooms", add_room, methods=GET_POST, name="manage_add_room"
    ),
    Route(
        "/manage/partners/{partner_id}/staff", add_staff, methods=GET_POST, name="manage_add_staff"
    ),
    Route(
        "/manage/partners/{partner_id}/redemptions",
        redemptions_page,
        name="manage_partner_redemptions",
    ),
    Route("/manage/rooms/{room_id}", room_page, methods=GET_POST, name="manage_room"),
    Route(
        "/manage/rooms/{room_id}/active", room_active, methods=["POST"], name="manage_room_active"
    ),
    Route(
        "/manage/rooms/{room_id}/delete", room_delete, methods=["POST"], name="manage_room_delete"
    ),
]
