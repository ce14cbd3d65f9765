"""Farm stays: the customer's stays page (book, cancel) and the guesthouse staff's coming
bookings (check in)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from farm import forms
from farm.accounts.models import Role
from farm.errors import Conflict
from farm.partners import bookings, checkin, rules
from farm.partners.redemption import staff_partner
from farm.web import (
    Shown,
    form_page,
    int_param,
    links,
    now,
    parse_id,
    read_form,
    redirect,
    render,
    require_user,
    timezone_of,
    today,
)

FORM_FIELDS = ("partner_id", "first_night", "nights", "guests")


def _date(raw: object) -> date | None:
    """The first night as the date box sends it; None (the service says what is wrong) for
    anything else, years far past or far ahead included."""
    try:
        return forms.day(str(raw or "")[:10])
    except forms.Problem:
        return None


def _count(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None


async def _stays_page(request: Request, sub_id: int, status: int = 200, **extra) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    options = await bookings.stay_options(
        customer=customer, subscription_id=sub_id, today=today(request)
    )
    form = extra.pop("form", None) or {
        "partner_id": request.query_params.get("partner", ""),
        "first_night": request.query_params.get("night", ""),
        "nights": "1",
        "guests": "2",
    }
    if not form["partner_id"] and options.guesthouses:
        form["partner_id"] = str(options.guesthouses[0].partner.id)
    context = {
        "options": options,
        "sub": options.subscription,
        "form": form,
        "errors": {},
        "cancel_days": rules.CANCEL_DAYS,
        "booked": request.query_params.get("booked") == "1",
        "cancelled": request.query_params.get("cancelled") == "1",
        **extra,
    }
    return render(request, "partners/stays.html", context, status)


async def stays(request: Request) -> Response:
    return await _stays_page(request, int_param(request, "sub_id"))


async def book(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    sub_id = int_param(request, "sub_id")

    async def show(shown: Shown) -> Response:  # refused: this route takes POSTs
        form = {name: value[:20] for name, value in (shown.posted or {}).items()}
        refused = {"form": form, "errors": shown.errors}
        if shown.notice:
            refused["notice"] = shown.notice
        return await _stays_page(request, sub_id, shown.status_code, **refused)

    async def save(values: dict[str, str]) -> str:
        await bookings.book_stay(
            customer=customer,
            subscription_id=sub_id,
            partner_id=parse_id(values["partner_id"]),
            first_night=_date(values["first_night"]),
            nights=_count(values["nights"]),
            guests=_count(values["guests"]),
            today=today(request),
            now=now(),
            links=links(request),
        )
        return f"/account/subscriptions/{sub_id}/stays?booked=1#my-stays"

    return await form_page(request, show=show, save=save, names=FORM_FIELDS, notices=(Conflict,))


async def cancel(request: Request) -> Response:
    customer = require_user(request, Role.CUSTOMER)
    booking_id = int_param(request, "booking_id")
    await read_form(request)
    booking = await bookings.cancel_booking(
        customer=customer, booking_id=booking_id, today=today(request), now=now(),
        links=links(request),
    )  # fmt: skip
    return redirect(f"/account/subscriptions/{booking.subscription_id}/stays?cancelled=1#my-stays")


async def _staff_page(request: Request, status: int = 200, **extra) -> Response:
    staff = require_user(request, Role.PARTNER_STAFF)
    day = today(request)
    nights = await checkin.coming_bookings(staff=staff, today=day)
    context = {
        "partner": await staff_partner(staff),
        "nights": nights,
        "today": day,
        "days": rules.COMING_NIGHTS,
        "can_check_in": lambda booking: checkin.can_check_in(booking, day),
        "arrived": request.query_params.get("arrived") == "1",
        **extra,
    }
    return render(request, "partners/staff_bookings.html", context, status)


async def staff_bookings(request: Request) -> Response:
    return await _staff_page(request)


async def check_in(request: Request) -> Response:
    staff = require_user(request, Role.PARTNER_STAFF)
    booking_id = int_param(request, "booking_id")
    await read_form(request)
    try:
        await checkin.check_in(
            staff=staff,
            booking_id=booking_id,
            today=today(request),
            now=now(),
            timezone=timezone_of(request),
        )
    except Conflict as exc:
        return await _staff_page(request, exc.status_code, notice=exc.message)
    return redirect("/partner/bookings?arrived=1")


routes = [
    Route("/account/subscriptions/{sub_id}/stays", stays, name="stays"),
    Route("/account/subscriptions/{sub_id}/stays", book, methods=["POST"], name="book_stay"),
    Route("/account/bookings/{booking_id}/cancel", cancel, methods=["POST"], name="cancel_stay"),
    Route("/partner/bookings", staff_bookings, name="partner_bookings"),
    Route(
        "/partner/bookings/{booking_id}/check-in",
        check_in,
        methods=["POST"],
        name="partner_check_in",
    ),
]
