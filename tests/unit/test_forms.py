"""farm/forms.py: the typed readers, their messages in both languages, and the form cycle."""

from datetime import date
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from farm import forms, units, web
from farm.errors import Conflict, FieldErrors, Forbidden, NotFound
from farm.forms import Problem
from farm.i18n import use_language

D = Decimal


def problem_of(reader, *args, **options) -> Problem:
    with pytest.raises(Problem) as refused:
        reader(*args, **options)
    return refused.value


# ---- yuan -> fen ----


@pytest.mark.parametrize(
    ("text", "fen"),
    [("580", 58000), ("580.5", 58050), ("580.50", 58050), ("0.01", 1), (" 2400 ", 240000),
     ("2,400", 240000), ("¥4,800.00", 480000), ("￥580", 58000), ("1000000", 100_000_000)],
)  # fmt: skip
def test_an_amount_typed_in_yuan_becomes_exact_fen(text, fen):
    assert forms.yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "required"), ("  ", "required"), ("580.505", "too_precise"), ("0.001", "too_precise"),
     ("-580", "negative"), ("0", "zero"), ("0.00", "zero"), ("1000000.01", "too_large"),
     ("99999999999999999999", "too_large"), ("abc", "invalid"), ("1e3", "invalid"),
     ("NaN", "invalid"), ("Infinity", "invalid"), ("5 80", "invalid"), ("58,0", "invalid"),
     ("５８０", "invalid"), ("١٢", "invalid"), ("580.", "invalid")],
)  # fmt: skip
def test_an_amount_that_is_not_plain_yuan_with_at_most_two_decimals_is_refused(text, code):
    assert problem_of(forms.yuan, text).code == code


@given(st.integers(min_value=1, max_value=forms.MAX_YUAN_FEN))
def test_every_fen_amount_shown_for_editing_reads_back_to_itself(fen):
    assert forms.yuan(units.yuan_text(fen)) == fen


def test_a_yuan_amount_may_be_zero_only_where_the_form_allows_it_and_says_its_own_maximum():
    assert forms.yuan("0", allow_zero=True) == 0
    with use_language("en"):
        assert problem_of(forms.yuan, "-1", allow_zero=True).message == "Enter 0 or more."
        assert problem_of(forms.yuan, "-1").message == "Enter an amount above zero."
        too_large = problem_of(forms.yuan, "100001", maximum_fen=10_000_000)
        assert too_large.message == "This amount is too large: at most ¥100,000."


# ---- decimals, whole numbers, dates ----


def test_decimals_beyond_their_places_are_refused_unless_they_are_zeros():
    assert forms.decimal("66.670", maximum=D(100)) == D("66.67")
    assert forms.decimal("1,200.5", maximum=D(5000)) == D("1200.50")
    assert problem_of(forms.decimal, "6.667", maximum=D(100)).code == "too_precise"


def test_zero_is_refused_for_sizes_but_allowed_for_positions_and_a_minus_is_worded_to_match():
    with use_language("en"):
        assert problem_of(forms.decimal, "0", maximum=D(100)).code == "zero"
        assert problem_of(forms.decimal, "-1", maximum=D(100)).message == (
            "Enter a number above zero."
        )
        assert problem_of(forms.decimal, "-1", maximum=D(100), allow_zero=True).message == (
            "Enter 0 or more."
        )
    assert forms.decimal("0", maximum=D(100), allow_zero=True) == 0


def test_a_number_too_long_for_decimal_arithmetic_is_too_large_not_an_error():
    for text in ("9" * 30, "1" * 16, "0." + "1" * 60):
        assert problem_of(forms.decimal, text, maximum=D(1000)).code in ("too_large", "too_precise")


@pytest.mark.parametrize(("text", "code"), [("", "required"), ("x", "invalid"), ("1.5", "invalid"),
                                            ("-1", "too_small"), ("15", "too_large")])  # fmt: skip
def test_whole_numbers_outside_their_range_are_refused(text, code):
    assert problem_of(forms.whole, text, low=0, high=14).code == code


def test_a_whole_number_is_refused_in_the_words_the_field_gives_with_its_range():
    with use_language("en"):
        assert problem_of(forms.whole, "99", low=1, high=14).message == (
            "Enter a whole number from 1 to 14."
        )
        said = problem_of(forms.whole, "0", low=1, high=20, message="Guests: %(low)d to %(high)d.")
        assert said.message == "Guests: 1 to 20."


@pytest.mark.parametrize("text", ["2027-02-30", "27-03-01", "2027/03/01", "1900-01-01", "x",
                                  "20270301", "2027-W09-1"])  # fmt: skip
def test_dates_that_are_not_real_iso_days_of_a_plausible_year_are_refused(text):
    assert problem_of(forms.day, text).code == "invalid"


def test_a_date_box_value_is_a_date():
    assert forms.day(" 2027-03-01 ") == date(2027, 3, 1)
    assert problem_of(forms.day, "").code == "required"


# ---- kg and hours ----


def test_kilograms_typed_become_whole_grams():
    assert forms.kg("12.5") == 12500
    assert forms.kg(" 0.001 ") == 1
    assert forms.kg("1,200") == 1_200_000


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "required"), ("abc", "invalid"), ("NaN", "invalid"), ("inf", "invalid"),
     ("0", "zero"), ("-2", "negative"), ("0.0005", "too_precise"), ("100001", "too_large"),
     ("1e9", "invalid"), ("1e-999999999", "invalid"), ("1_0", "invalid"), ("1,5", "invalid"),
     ("９", "invalid"), ("9" * 30, "too_large")],
)  # fmt: skip
def test_absurd_weights_are_refused_with_a_reason(text, code):
    assert problem_of(forms.kg, text).code == code


def test_hours_are_counted_in_quarters_up_to_a_day():
    assert forms.hours("3.5") == D("3.5")
    assert forms.hours("0.25") == D("0.25")
    assert problem_of(forms.hours, "0.1").code == "too_precise"
    assert problem_of(forms.hours, "25").code == "too_large"
    assert problem_of(forms.hours, "0").code == "zero"
    assert problem_of(forms.hours, "1e-999999999").code == "invalid"


# ---- text, phones, choices ----


def test_text_is_trimmed_and_refused_when_missing_too_long_or_not_one_line():
    assert forms.text("  Li  ", limit=5) == "Li"
    assert forms.text("", limit=5) == ""
    assert problem_of(forms.text, " ", limit=5, required=True).code == "required"
    assert problem_of(forms.text, "abcdef", limit=5).code == "too_long"
    assert problem_of(forms.text, "a\nb", limit=5).code == "invalid"
    assert forms.text("a\nb", limit=5, one_line=False) == "a\nb"


def test_phones_are_read_by_the_one_phone_module():
    assert forms.mobile("+86 138-0013-8000") == "13800138000"
    assert problem_of(forms.mobile, "12345").code == "invalid"
    assert problem_of(forms.mobile, "").code == "required"
    assert forms.phone(" 0551  1234567 ") == "0551 1234567"
    assert forms.phone("") == ""
    assert problem_of(forms.phone, "call me").code == "invalid"


def test_a_choice_must_be_one_offered():
    assert forms.choice("managed", {"managed", "self"}, message="Choose.") == "managed"
    assert problem_of(forms.choice, "other", {"managed"}, message="Choose.").message == "Choose."
    assert problem_of(forms.choice, "", {"managed"}, message="Choose.").code == "required"


def test_messages_are_in_the_readers_language():
    with use_language("en"):
        assert problem_of(forms.decimal, "x", maximum=D(1)).message == "Enter a number."
        assert problem_of(forms.text, "abc", limit=2).message == "Use at most 2 characters."
    with use_language("zh_CN"):
        assert problem_of(forms.decimal, "x", maximum=D(1)).message != "Enter a number."
        assert problem_of(forms.day, "x").message != (
            "Enter a date as YYYY-MM-DD, like 2027-03-01."
        )
        assert problem_of(forms.hours, "0.1").message != (
            "Count hours in quarters, like 1.25, 1.5 or 1.75."
        )
        assert problem_of(forms.yuan, "1", maximum_fen=1).message != (
            "This amount is too large: at most ¥0.01."
        )


# ---- a whole form ----


def test_a_form_keeps_the_first_problem_of_each_field_and_refuses_whole():
    form = forms.Form()
    assert form.read("price", forms.yuan, "580") == 58000
    assert form.read("count", forms.whole, "x", low=1, high=3) is None
    form.refuse("count", "a later problem")
    assert not form.errors.get("price")
    assert "count" in form
    with pytest.raises(FieldErrors) as refused:
        form.check()
    assert list(refused.value.errors) == ["count"]
    assert refused.value.status_code == 422
    forms.Form().check()  # nothing wrong: nothing raised


# ---- the cycle: GET, POST, 422, redirect ----


def _app() -> Starlette:
    async def show(shown: web.Shown) -> Response:
        form = shown.form({"name": "fresh"})
        body = f"{form['name']}|{shown.errors.get('name', '')}{shown.notice}"
        return PlainTextResponse(body, status_code=shown.status_code)

    async def save(values: dict[str, str]) -> str:
        if values["name"] == "taken":
            raise Conflict("Taken just now.")
        if values["name"] == "gone":
            raise NotFound("No such thing.")
        form = forms.Form()
        name = form.read("name", forms.text, values["name"], limit=5, required=True)
        form.check()
        return f"/done?name={name}"

    async def page(request: Request) -> Response:
        return await web.form_page(
            request, show=show, save=save, names=("name",), notices=(Conflict,)
        )

    async def token(request: Request) -> Response:
        request.session["csrf_token"] = "t0ken"
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route("/form", page, methods=["GET", "POST"]), Route("/token", token)],
        middleware=[Middleware(SessionMiddleware, secret_key="test")],
    )
    return app


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_the_form_cycle_shows_fresh_saves_and_redirects_or_shows_again_with_422():
    async with _client(_app()) as client:
        await client.get("/token")
        fresh = await client.get("/form")
        assert (fresh.status_code, fresh.text) == (200, "fresh|")
        saved = await client.post("/form", data={"name": " Li ", "csrf_token": "t0ken"})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/done?name=Li"
        refused = await client.post("/form", data={"name": "toolong", "csrf_token": "t0ken"})
        assert refused.status_code == 422
        assert refused.text.startswith("toolong|")  # what was typed is kept
        assert refused.text != "toolong|"


async def test_the_form_cycle_checks_the_csrf_token_before_saving():
    app = _app()
    seen = []

    async def forbidden(request: Request, exc: Exception) -> Response:
        seen.append(type(exc).__name__)
        return PlainTextResponse("no", 403)

    app.add_exception_handler(Forbidden, forbidden)
    async with _client(app) as client:
        await client.get("/token")
        forged = await client.post("/form", data={"name": "Li", "csrf_token": "other"})
        assert forged.status_code == 403
        assert seen == ["Forbidden"]


async def test_the_form_cycle_shows_a_conflict_as_a_notice_with_its_status_but_never_a_404():
    app = _app()

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("404 page", 404)

    app.add_exception_handler(NotFound, not_found)
    async with _client(app) as client:
        await client.get("/token")
        taken = await client.post("/form", data={"name": "taken", "csrf_token": "t0ken"})
        assert (taken.status_code, taken.text) == (409, "taken|Taken just now.")
        gone = await client.post("/form", data={"name": "gone", "csrf_token": "t0ken"})
        assert (gone.status_code, gone.text) == (404, "404 page")
