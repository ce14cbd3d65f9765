"""The manager's console for fields, plots, seasons and plans: services and routes, on a real
database. Only the manager's own cooperative is ever seen or changed."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.services import field_resize_problem
from farm.land import console, console_routes, places
from farm.land.console import FieldInput, GridInput, PlotInput
from farm.land.models import Cooperative, Field, Plan, PlanPerk, Plot, PlotClaim, Season
from farm.partners.models import Partner, PartnerKind
from farm.seasons import console as console_seasons
from farm.seasons import console_routes as season_routes
from farm.seasons.console import PerkInput, PlanInput, SeasonInput
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Subscription
from tests.support import (
    NOW,
    TODAY,
    csrf_of,
    log_in_client,
    make_customer,
    make_season,
    places_held,
)

FAR = 60 * 24 * 365 * 10  # minutes: a reservation that is still live whatever the clock says


@pytest.fixture(autouse=True)
def in_english(request):
    """These tests read the messages in English: services see it directly, pages by cookie."""
    from farm import i18n

    i18n.set_language("en")
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.set("lang", "en")
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


async def manager_of(coop_id: int, email: str = "li@coop.example"):
    """A manager who reads the console in English (what the messages below are in)."""
    return await sign_up(
        email=email,
        name="李经理",
        password="correct horse",
        language="en",
        role=Role.MANAGER,
        cooperative_id=coop_id,
    )


async def owned_plan():
    """make_season's cooperative (a 40 m × 10 m field, plots T01–T04 of 66.67 m², a season on
    sale at NOW, a plan at ¥580) and its manager."""
    plan = await make_season()
    season = await Season.get(id=plan.season_id)
    return plan, await manager_of(season.cooperative_id)


async def sell(plan, plot_code: str, *, email: str, paid: bool = True, minutes: int = FAR):
    customer = await make_customer(email, "买家")
    plot = await Plot.get(field_id=plan.field_id, code=plot_code)
    sub = await subscriptions.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=plot.id, today=TODAY, now=NOW, minutes=minutes
    )
    if paid:
        async with in_transaction() as conn:
            assert await subscriptions.activate_paid(subscription_id=sub.id, now=NOW, conn=conn)
    return sub


def plan_input(plan, **changes) -> PlanInput:
    values = {
        "name": "一分地",
        "name_en": "One fen",
        "field_id": str(plan.field_id),
        "plot_area_m2": "66.67",
        "care_mode": "managed",
        "crop_plan": "青菜",
        "crop_plan_en": "Greens",
        "price": "580",
        "max_plots": str(plan.max_plots),
        "perks": (),
        **changes,
    }
    return PlanInput(**values)


def season_input(season, **changes) -> SeasonInput:
    """The season's form as shown: its end dates are the last days, included."""
    values = {name: str(getattr(season, name)) for name in season_routes.SEASON_NAMES}
    for name in ("ends_on", "sale_ends_on"):
        values[name] = str(getattr(season, name) - timedelta(days=1))
    return SeasonInput(**{**values, **changes})


def form_of(data) -> dict[str, str]:
    return {name: getattr(data, name) for name in data.__dataclass_fields__ if name != "perks"}


async def snapshot(coop_id: int | None = None):
    """Everything the console can write (of one cooperative, if given), to show that a refused
    request wrote nothing."""
    scope = {} if coop_id is None else {"cooperative_id": coop_id}
    fields = await Field.filter(**scope).order_by("id").values_list("id", "name", "width_m",
                                                                    "height_m")  # fmt: skip
    seasons = await Season.filter(**scope).order_by("id").values()
    plans = await Plan.filter(season_id__in=[s["id"] for s in seasons]).order_by("id").values()
    return (
        fields,
        seasons,
        plans,
        await Plot.filter(field_id__in=[f[0] for f in fields])
        .order_by("id")
        .values_list("code", "x_m", "y_m", "w_m", "h_m", "area_m2"),
        await PlanPerk.filter(plan_id__in=[p["id"] for p in plans])
        .order_by("id")
        .values_list("plan_id", "kind", "partner_id", "count"),
    )


# ---- fields and plots ----


async def test_a_manager_adds_a_field_cuts_a_grid_and_sees_every_plot_free_on_its_map(client):
    coop = await Cooperative.create(name="青山村合作社")
    await manager_of(coop.id)
    token = await log_in_client(client, "li@coop.example")
    r = await client.post(
        "/manage/fields/new",
        data={"name": "东坡田", "width_m": "50", "height_m": "39", "csrf_token": token},
    )
    assert r.status_code == 303
    field = await Field.get(cooperative_id=coop.id)
    assert r.headers["location"] == f"/manage/fields/{field.id}"
    r = await client.post(
        f"/manage/fields/{field.id}/grid",
        data={"prefix": "A", "plot_w": "10", "plot_h": "6.5", "cols": "5", "rows": "6",
              "x": "0", "y": "0", "first_number": "1", "area_m2": "", "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("?cut=30")
    codes = (
        await Plot.filter(field_id=field.id).order_by("y_m", "x_m").values_list("code", flat=True)
    )
    assert codes == [f"A{n:02d}" for n in range(1, 31)]
    assert {p.area_m2 for p in await Plot.filter(field_id=field.id)} == {Decimal("65.00")}
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and "30 plots cut." in page.text
    assert page.text.count('class="plot free"') == 30 and "<svg" in page.text


async def test_a_grid_may_state_its_plots_area_like_jutudis_one_fen(conn):
    plan, manager = await owned_plan()
    field = await Field.create(cooperative_id=manager.cooperative_id, name="B", width_m=30,
                               height_m="13.34")  # fmt: skip
    plots = await console.cut_grid(
        manager=manager,
        field_id=field.id,
        data=GridInput(prefix="B", plot_w="10", plot_h="6.67", cols="3", rows="2", area_m2="66.67"),
    )
    assert [p.code for p in plots] == ["B01", "B02", "B03", "B04", "B05", "B06"]
    assert all(p.area_m2 == Decimal("66.67") for p in plots)


async def test_a_grid_too_large_for_the_field_is_refused_with_422_and_writes_nothing(client):
    plan, manager = await owned_plan()
    field = await Field.create(cooperative_id=manager.cooperative_id, name="东坡田", width_m=50,
                               height_m=40)  # fmt: skip
    token = await log_in_client(client, "li@coop.example")
    before = await snapshot()
    r = await client.post(
        f"/manage/fields/{field.id}/grid",
        data={"prefix": "A", "plot_w": "10", "plot_h": "6.67", "cols": "5", "rows": "6",
              "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 422
    assert (
        '<small class="error" id="err-rows">6 rows of 6.67 m from y = 0 need 40.02 m, but the '
        "field is 40 m from top to bottom.</small>"
    ) in r.text
    assert "err-cols" not in r.text  # five columns of 10 m fit the 50 m exactly
    assert await snapshot() == before


async def test_reloading_the_address_of_a_refused_cut_shows_the_field_not_an_error(client):
    plan, _ = await owned_plan()
    await log_in_client(client, "li@coop.example")
    for path in ("grid", "plots"):
        r = await client.get(f"/manage/fields/{plan.field_id}/{path}")
        assert r.status_code == 200 and r.text.count('class="plot free"') == 4


async def test_a_grid_overlapping_plots_already_cut_is_refused_and_names_the_plot(conn):
    plan, manager = await owned_plan()  # T01..T04 along the top: 10 m × 6.67 m each
    before = await snapshot()
    with pytest.raises(FieldErrors) as refused:
        await console.cut_grid(
            manager=manager,
            field_id=plan.field_id,
            data=GridInput(prefix="S", plot_w="5", plot_h="3", cols="2", rows="1", x="15", y="5"),
        )
    assert refused.value.errors == {"x": "Plot S01 would overlap plot T02."}
    assert await snapshot() == before


async def test_a_grid_repeating_a_code_of_the_field_is_refused(conn):
    plan, manager = await owned_plan()
    with pytest.raises(FieldErrors) as refused:
        await console.cut_grid(
            manager=manager,
            field_id=plan.field_id,
            data=GridInput(prefix="T", plot_w="1", plot_h="1", cols="2", rows="1", y="8"),
        )
    assert refused.value.errors == {"prefix": "The code T01 is already used in this field."}
    assert await Plot.filter(field_id=plan.field_id).count() == 4


async def test_a_grid_continues_below_existing_plots_when_started_below_them(conn):
    plan, manager = await owned_plan()
    plots = await console.cut_grid(
        manager=manager,
        field_id=plan.field_id,
        data=GridInput(prefix="T", first_number="5", plot_w="10", plot_h="3", cols="4", rows="1",
                       y="6.67"),
    )  # fmt: skip
    assert [p.code for p in plots] == ["T05", "T06", "T07", "T08"]
    assert await Plot.filter(field_id=plan.field_id).count() == 8


async def test_one_plot_is_cut_inside_the_field_with_its_area_w_times_h_unless_given(conn):
    plan, manager = await owned_plan()
    plot = await console.add_plot(
        manager=manager, field_id=plan.field_id,
        data=PlotInput(code="X1", x="0", y="7", w="2.5", h="3"),
    )  # fmt: skip
    assert (plot.code, plot.area_m2) == ("X1", Decimal("7.50"))
    plot = await console.add_plot(
        manager=manager, field_id=plan.field_id,
        data=PlotInput(code="X2", x="3", y="7", w="2.5", h="3", area_m2="7.3"),
    )  # fmt: skip
    assert (await Plot.get(id=plot.id)).area_m2 == Decimal("7.30")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (dict(code="X", x="35", y="7", w="10", h="2"), "x",
         "Plot X would not lie inside the field (40 × 10 m)."),
        (dict(code="X", x="5", y="5", w="2", h="2"), "x", "Plot X would overlap plot T01."),
        (dict(code="T03", x="0", y="7", w="2", h="2"), "code",
         "The code T03 is already used in this field."),
        (dict(code="A 1", x="0", y="7", w="2", h="2"), "code", "A code may not contain spaces."),
        (dict(code="X", x="-1", y="7", w="2", h="2"), "x", "Enter 0 or more."),
        (dict(code="X", x="0", y="7", w="0", h="2"), "w", "Enter a number above zero."),
        (dict(code="X", x="0", y="7", w="2.125", h="2"), "w", "Use at most 2 decimal places."),
        (dict(code="X", x="0", y="7", w="2", h="2", area_m2="40"), "area_m2",
         "This is far from the 4 m² drawn on the map (2 × 2 m)."),
    ],
)  # fmt: skip
async def test_a_plot_outside_overlapping_or_badly_typed_is_refused_and_nothing_written(
    conn, data, field, message
):
    plan, manager = await owned_plan()
    before = await snapshot()
    with pytest.raises(FieldErrors) as refused:
        await console.add_plot(manager=manager, field_id=plan.field_id, data=PlotInput(**data))
    assert refused.value.errors[field] == message
    assert await snapshot() == before


async def test_a_field_cannot_shrink_from_under_its_plots_but_may_be_renamed(conn):
    plan, manager = await owned_plan()
    with pytest.raises(FieldErrors) as refused:
        await console.update_field(
            manager=manager, field_id=plan.field_id,
            data=FieldInput(name="试验田", width_m="35", height_m="10"),
            today=TODAY, resize_check=field_resize_problem,
        )  # fmt: skip
    assert refused.value.errors == {"width_m": "Plot T04 would lie outside the field."}
    field = await console.update_field(
        manager=manager, field_id=plan.field_id,
        data=FieldInput(name="新名字", width_m="45", height_m="10"),
        today=TODAY, resize_check=field_resize_problem,
    )  # fmt: skip
    assert (field.name, field.width_m) == ("新名字", Decimal(45))


@pytest.mark.parametrize(
    ("width", "message"),
    [("", "This field is required."), ("abc", "Enter a number."), ("1e3", "Enter a number."),
     ("-5", "Enter a number above zero."), ("0", "Enter a number above zero."),
     ("10.123", "Use at most 2 decimal places."),
     ("99999", "This number is too large: at most 5000.")],
)  # fmt: skip
async def test_a_field_with_a_bad_size_gets_422_beside_the_field_and_nothing_is_written(
    client, width, message
):
    plan, _ = await owned_plan()
    token = await log_in_client(client, "li@coop.example")
    before = await snapshot()
    r = await client.post(
        "/manage/fields/new",
        data={"name": "新田", "width_m": width, "height_m": "20", "csrf_token": token},
    )
    assert r.status_code == 422
    assert f'<small class="error" id="err-width_m">{message}</small>' in r.text
    assert await snapshot() == before


async def test_the_map_shows_each_plot_free_reserved_or_sold_in_the_chosen_season(conn):
    plan, manager = await owned_plan()
    await sell(plan, "T01", email="a@example.com")  # paid
    await sell(plan, "T02", email="b@example.com", paid=False)  # in checkout until later(FAR)
    await sell(plan, "T03", email="c@example.com", paid=False, minutes=15)  # lapses at NOW+15
    other = await Season.create(
        cooperative_id=manager.cooperative_id, name="明年", starts_on=date(2028, 3, 1),
        ends_on=date(2029, 3, 1), sale_starts_on=date(2027, 11, 1), sale_ends_on=date(2028, 3, 1),
    )  # fmt: skip
    view = await console.field_map(
        manager=manager, field_id=plan.field_id, season_id=plan.season_id,
        now=NOW + timedelta(minutes=20),
    )  # fmt: skip
    assert {m.plot.code: m.status for m in view.plots} == {
        "T01": "sold", "T02": "reserved", "T03": "free", "T04": "free",
    }  # fmt: skip
    assert view.counts == {"free": 2, "reserved": 1, "sold": 1}
    next_year = await console.field_map(
        manager=manager, field_id=plan.field_id, season_id=other.id, now=NOW
    )
    assert {m.status for m in next_year.plots} == {"free"}
    latest = await console.field_map(
        manager=manager, field_id=plan.field_id, season_id=None, now=NOW
    )
    assert latest.season.id == other.id  # no season asked: the latest


async def test_the_field_page_draws_sold_and_reserved_plots_for_the_season_asked(client):
    plan, manager = await owned_plan()
    await sell(plan, "T01", email="a@example.com")
    await sell(plan, "T02", email="b@example.com", paid=False)
    await log_in_client(client, "li@coop.example")
    page = await client.get(f"/manage/fields/{plan.field_id}?season={plan.season_id}")
    assert page.status_code == 200
    assert page.text.count('class="plot sold"') == 1
    assert page.text.count('class="plot reserved"') == 1
    assert page.text.count('class="plot free"') == 2


# ---- seasons ----

SEASON_FORM = {
    "name": "2027年度认购季", "name_en": "2027 season", "starts_on": "2027-03-01",
    "ends_on": "2028-02-29", "sale_starts_on": "2026-11-01", "sale_ends_on": "2027-02-28",
    "ship_days_of_month": "16,1", "cutoff_days": "2",
}  # fmt: skip


async def test_a_manager_creates_a_season_with_its_ship_days_in_order(client):
    coop = await Cooperative.create(name="青山村合作社")
    await manager_of(coop.id)
    token = await log_in_client(client, "li@coop.example")
    r = await client.post("/manage/seasons/new", data={**SEASON_FORM, "csrf_token": token})
    assert r.status_code == 303
    season = await Season.get(cooperative_id=coop.id)
    assert r.headers["location"] == f"/manage/seasons/{season.id}"
    assert (season.ship_days_of_month, season.cutoff_days) == ("1,16", 2)
    assert (await client.get(r.headers["location"])).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_on": "2027-02-28"}, "ends_on", "This must come after the start."),
        ({"sale_ends_on": "2028-03-02"}, "sale_ends_on",
         "The sale must end no later than the season ends."),
        ({"sale_ends_on": "2026-10-31"}, "sale_ends_on", "This must come after the start."),
        ({"ship_days_of_month": "1,31"}, "ship_days_of_month",
         "Enter days of the month from 1 to 28, separated by commas, like 1,16."),
        ({"cutoff_days": "15"}, "cutoff_days", "Enter a whole number from 1 to 14."),
        ({"cutoff_days": "-1"}, "cutoff_days", "Enter a whole number from 1 to 14."),
        ({"cutoff_days": "0"}, "cutoff_days", "Enter a whole number from 1 to 14."),
        ({"starts_on": "2027-02-30"}, "starts_on", "Enter a date as YYYY-MM-DD, like 2027-03-01."),
        ({"name": " "}, "name", "This field is required."),
        ({"starts_on": "2027-03-02", "ends_on": "2027-03-10", "ship_days_of_month": "1"},
         "ship_days_of_month",
         "No ship day falls inside this season."),
    ],
)  # fmt: skip
async def test_a_bad_season_gets_422_beside_the_field_and_nothing_is_written(
    client, changes, field, message
):
    coop = await Cooperative.create(name="青山村合作社")
    await manager_of(coop.id)
    token = await log_in_client(client, "li@coop.example")
    r = await client.post(
        "/manage/seasons/new",
        data={**SEASON_FORM, **changes, "csrf_token": token},
    )
    assert r.status_code == 422
    assert f'<small class="error" id="err-{field}">{message}</small>' in r.text
    assert not await Season.exists()


async def test_a_season_with_sold_plots_keeps_its_dates_ship_days_and_cutoff(conn):
    plan, manager = await owned_plan()
    season = await Season.get(id=plan.season_id)
    await sell(plan, "T01", email="a@example.com")
    for changes in ({"ship_days_of_month": "5,20"}, {"cutoff_days": "3"},
                    {"starts_on": "2027-04-01"}, {"ends_on": "2028-02-01"}):  # fmt: skip
        with pytest.raises(FieldErrors) as refused:
            await console_seasons.update_season(
                manager=manager,
                season_id=season.id,
                today=TODAY,
                data=season_input(season, **changes),
            )
        [(name, message)] = refused.value.errors.items()
        assert name == next(iter(changes))
        assert message.startswith("Plots of this season are sold, so its dates, ship days")
    kept = await Season.get(id=season.id)
    assert (kept.ship_days_of_month, kept.cutoff_days) == ("1,16", 2)
    # The name and the sale window may still change.
    await console_seasons.update_season(
        manager=manager, season_id=season.id, today=TODAY,
        data=season_input(season, name="改名", sale_ends_on="2027-02-01"),
    )  # fmt: skip
    kept = await Season.get(id=season.id)
    assert (kept.name, kept.sale_ends_on) == (
        "改名",
        date(2027, 2, 2),
    )  # the last day typed, included


async def test_a_season_with_only_reservations_may_still_change_its_ship_days(conn):
    plan, manager = await owned_plan()
    season = await Season.get(id=plan.season_id)
    await sell(plan, "T01", email="a@example.com", paid=False)
    await console_seasons.update_season(
        manager=manager,
        season_id=season.id,
        today=TODAY,
        data=season_input(season, ship_days_of_month="5,20"),
    )
    assert (await Season.get(id=season.id)).ship_days_of_month == "5,20"


# ---- plans ----


async def test_a_manager_adds_a_plan_with_its_price_in_yuan_and_its_perks(client):
    plan, manager = await owned_plan()
    scenic = await Partner.create(cooperative_id=manager.cooperative_id, name="龙川景区",
                                  kind=PartnerKind.SCENIC_SPOT)  # fmt: skip
    token = await log_in_client(client, "li@coop.example")
    data = form_of(plan_input(plan, price="2,400.50", max_plots="3"))
    r = await client.post(
        f"/manage/seasons/{plan.season_id}/plans/new",
        data={**data, "perk_kind_0": "scenic_ticket", "perk_partner_0": str(scenic.id),
              "perk_count_0": "2", "perk_kind_1": "farm_stay_night", "perk_partner_1": "",
              "perk_count_1": "1", "perk_kind_2": "", "perk_partner_2": "", "perk_count_2": "",
              "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 303
    new = await Plan.filter(season_id=plan.season_id).order_by("-id").first()
    assert r.headers["location"] == f"/manage/plans/{new.id}?saved=1"
    assert (new.price_fen, new.max_plots, new.plot_area_m2) == (240050, 3, Decimal("66.67"))
    perks = (
        await PlanPerk.filter(plan_id=new.id)
        .order_by("id")
        .values_list("kind", "partner_id", "count")
    )
    assert perks == [("scenic_ticket", scenic.id, 2), ("farm_stay_night", None, 1)]
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and 'value="2400.50"' in page.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "580.505"}, "price", "An amount has at most 2 decimal places (fen)."),
        ({"price": "-580"}, "price", "Enter an amount above zero."),
        ({"price": "0"}, "price", "Enter an amount above zero."),
        ({"price": "五百八"}, "price", "Enter the amount in yuan, like 580 or 580.50."),
        ({"price": "10000000"}, "price", "This amount is too large: at most ¥1,000,000."),
        ({"plot_area_m2": "333.33"}, "plot_area_m2",
         "No plot of 试验田 measures 333.33 m². Its plots measure: 66.67 m²."),
        ({"max_plots": "0"}, "max_plots", "Enter a whole number from 1 to 10000."),
        ({"care_mode": "robots"}, "care_mode", "Choose how the plots are tended."),
        ({"field_id": ""}, "field_id", "Choose a field."),
        ({"name": ""}, "name", "This field is required."),
        ({"perk_kind_0": "spa", "perk_count_0": "1"}, "perk_kind_0", "Choose a perk."),
        ({"perk_kind_0": "scenic_ticket", "perk_count_0": "31"}, "perk_count_0",
         "Enter a whole number from 1 to 30."),
    ],
)  # fmt: skip
async def test_a_bad_plan_gets_422_beside_the_field_and_nothing_is_written(
    client, changes, field, message
):
    plan, _ = await owned_plan()
    token = await log_in_client(client, "li@coop.example")
    before = await snapshot()
    data = {**form_of(plan_input(plan)), **changes, "csrf_token": token}
    for path in (f"/manage/seasons/{plan.season_id}/plans/new", f"/manage/plans/{plan.id}"):
        r = await client.post(path, data=data)
        assert r.status_code == 422, path
        assert f'<small class="error" id="err-{field}">{message}</small>' in r.text, path
        assert "Nothing was saved." in r.text
    assert await snapshot() == before


async def test_a_plan_cannot_use_a_field_or_partner_of_another_cooperative(conn):
    plan, manager = await owned_plan()
    theirs, _ = await owned_plan_elsewhere()
    their_partner = await Partner.create(cooperative_id=theirs.cooperative_id, name="别家景区",
                                         kind=PartnerKind.SCENIC_SPOT)  # fmt: skip
    before = await snapshot()
    with pytest.raises(NotFound):
        await console_seasons.create_plan(
            manager=manager, season_id=plan.season_id,
            data=plan_input(plan, field_id=str(theirs.id)),
        )  # fmt: skip
    with pytest.raises(NotFound):
        await console_seasons.update_plan(
            manager=manager, plan_id=plan.id,
            data=plan_input(plan, perks=[PerkInput("scenic_ticket", str(their_partner.id), "1")]),
        )  # fmt: skip
    assert await snapshot() == before


async def owned_plan_elsewhere():
    """Another cooperative's field, with a plot, and its manager."""
    coop = await Cooperative.create(name="别的合作社")
    field = await Field.create(cooperative=coop, name="别家田", width_m=20, height_m=20)
    await Plot.create(field=field, code="Z1", area_m2="66.67", x_m=0, y_m=0, w_m=10, h_m="6.67")
    return field, await manager_of(coop.id, "zhao@other.example")


async def test_a_plan_with_a_sold_plot_refuses_a_price_change_and_says_why(client):
    plan, _ = await owned_plan()
    await sell(plan, "T01", email="a@example.com")
    token = await log_in_client(client, "li@coop.example")
    before = await snapshot()
    r = await client.post(
        f"/manage/plans/{plan.id}",
        data={**form_of(plan_input(plan, price="480")), "csrf_token": token},
    )
    assert r.status_code == 422
    assert "Plots of this plan are sold, so its price can no longer change." in r.text
    assert await snapshot() == before
    assert (await Plan.get(id=plan.id)).price_fen == 58000


async def test_a_plan_with_a_sold_plot_keeps_its_terms_but_takes_new_names_and_crops(conn):
    plan, manager = await owned_plan()
    await sell(plan, "T01", email="a@example.com")
    await sell(plan, "T02", email="b@example.com")
    refused_changes = [
        ({"care_mode": "self_tended"}, "care_mode"),
        ({"perks": [PerkInput("farm_stay_night", "", "1")]}, "perks"),
        ({"max_plots": "1"}, "max_plots"),
    ]
    for changes, field in refused_changes:
        with pytest.raises(FieldErrors) as refused:
            await console_seasons.update_plan(
                manager=manager, plan_id=plan.id, data=plan_input(plan, **changes)
            )
        assert list(refused.value.errors) == [field]
    with pytest.raises(FieldErrors) as refused:
        await console_seasons.update_plan(
            manager=manager, plan_id=plan.id, data=plan_input(plan, max_plots="1")
        )
    assert refused.value.errors["max_plots"] == (
        "2 plots are sold already: the plan cannot offer fewer."
    )
    await console_seasons.update_plan(
        manager=manager, plan_id=plan.id,
        data=plan_input(plan, name="一分地（新）", crop_plan="萝卜", max_plots="2"),
    )  # fmt: skip
    kept = await Plan.get(id=plan.id)
    assert (kept.name, kept.crop_plan, kept.max_plots, kept.price_fen) == (
        "一分地（新）", "萝卜", 2, 58000,
    )  # fmt: skip


async def test_a_plan_offering_fewer_plots_has_room_for_exactly_what_it_now_offers(conn):
    """Its places are shared out again: rows that held nothing under the old max_plots must
    not keep room the plan no longer has."""
    plan = await make_season(plots=40, max_plots=40)
    season = await Season.get(id=plan.season_id)
    manager = await manager_of(season.cooperative_id)
    for i in range(12):
        customer = await make_customer(f"early{i}@example.com")
        await subscriptions.reserve_plot(
            customer=customer, plan_id=plan.id, plot_id=None, today=TODAY, now=NOW, minutes=FAR
        )
    plan.max_plots = 14
    await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=plan_input(plan))
    won = 0
    for i in range(5):
        customer = await make_customer(f"late{i}@example.com")
        try:
            await subscriptions.reserve_plot(
                customer=customer, plan_id=plan.id, plot_id=None, today=TODAY, now=NOW,
                minutes=FAR,
            )  # fmt: skip
            won += 1
        except Conflict:
            pass
    assert won == 2
    assert await PlotClaim.filter(plan_id=plan.id).count() == 14 == await places_held(plan)


async def test_a_plan_cannot_offer_fewer_plots_than_are_sold_or_in_checkout_now(conn):
    plan = await make_season(plots=20, max_plots=20)
    season = await Season.get(id=plan.season_id)
    manager = await manager_of(season.cooperative_id)
    for i in range(6):  # unpaid: not sold, but each holds a place
        await subscriptions.reserve_plot(
            customer=await make_customer(f"c{i}@example.com"), plan_id=plan.id, plot_id=None,
            today=TODAY, now=NOW, minutes=FAR,
        )  # fmt: skip
    plan.max_plots = 5
    with pytest.raises(FieldErrors) as refused:
        await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=plan_input(plan))
    assert refused.value.errors["max_plots"].startswith(
        "6 plots are sold or in checkout right now: the plan cannot offer fewer."
    )
    assert (await Plan.get(id=plan.id)).max_plots == 20 and await places_held(plan) == 6
    plan.max_plots = 6
    await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=plan_input(plan))
    with pytest.raises(Conflict):  # full now
        await subscriptions.reserve_plot(
            customer=await make_customer("late@example.com"), plan_id=plan.id, plot_id=None,
            today=TODAY, now=NOW, minutes=FAR,
        )  # fmt: skip


async def test_a_plans_terms_wait_while_a_plot_is_in_checkout_and_change_once_it_is_let_go(conn):
    plan = await make_season(plots=6, max_plots=6)
    season = await Season.get(id=plan.season_id)
    manager = await manager_of(season.cooperative_id)
    sub = await subscriptions.reserve_plot(
        customer=await make_customer("paying@example.com"), plan_id=plan.id, plot_id=None,
        today=TODAY, now=NOW, minutes=FAR,
    )  # fmt: skip
    partner = await Partner.create(cooperative_id=season.cooperative_id, name="景区",
                                   kind=PartnerKind.SCENIC_SPOT)  # fmt: skip
    ticket = [PerkInput("scenic_ticket", str(partner.id), "1")]
    for change in ({"care_mode": "self_tended"}, {"perks": ticket}):
        with pytest.raises(FieldErrors) as refused:
            await console_seasons.update_plan(
                manager=manager, plan_id=plan.id, data=plan_input(plan, **change)
            )
        assert list(refused.value.errors.values()) == [
            "1 plot of this plan is in checkout right now: its buyer is paying for its field, "
            "plot size, care and perks, so they cannot change. Checkouts not paid end within "
            "minutes: try again then."
        ]
    kept = await Plan.get(id=plan.id)
    assert kept.care_mode == "managed" and not await PlanPerk.filter(plan_id=plan.id).exists()
    # its name, and its price (the buyer pays what the subscription was reserved at), may
    await console_seasons.update_plan(
        manager=manager, plan_id=plan.id, data=plan_input(plan, name="新名", price="680")
    )
    assert (await Subscription.get(id=sub.id)).price_fen == 58000

    assert await subscriptions.release_reservation(subscription_id=sub.id, now=NOW)
    await console_seasons.update_plan(
        manager=manager, plan_id=plan.id, data=plan_input(plan, care_mode="self_tended")
    )
    assert (await Plan.get(id=plan.id)).care_mode == "self_tended"


async def test_a_reservation_that_read_the_plan_before_its_field_changed_takes_no_old_plot(
    conn, monkeypatch
):
    """The explaining path (SQLite's, and PostgreSQL's second try) reads the plan, then makes
    several round trips before it claims: a manager's change landing in between is seen once
    the place row is held, and the buyer is told, instead of holding a plot of the old field."""
    plan = await make_season(plots=4, max_plots=4)
    season = await Season.get(id=plan.season_id)
    manager = await manager_of(season.cooperative_id)
    east = await Field.create(cooperative_id=season.cooperative_id, name="东田", width_m=40,
                              height_m=10)  # fmt: skip
    for i in range(4):
        await Plot.create(field=east, code=f"E{i + 1:02d}", area_m2=Decimal("66.67"),
                          x_m=10 * i, y_m=0, w_m=10, h_m="6.667")  # fmt: skip
    monkeypatch.setattr(subscriptions, "is_postgres", lambda conn: False)  # the explaining path
    allow = subscriptions._holdings_allow

    async def manager_moves_the_plan_meanwhile(**kwargs):
        await console_seasons.update_plan(
            manager=manager, plan_id=plan.id, data=plan_input(plan, field_id=str(east.id))
        )
        return await allow(**kwargs)

    monkeypatch.setattr(subscriptions, "_holdings_allow", manager_moves_the_plan_meanwhile)
    buyer = await make_customer("quick@example.com")
    with pytest.raises(Conflict, match="This plan changed a moment ago"):
        await subscriptions.reserve_plot(
            customer=buyer, plan_id=plan.id, plot_id=None, today=TODAY, now=NOW, minutes=FAR
        )
    assert not await Subscription.exists() and await places_held(plan) == 0

    monkeypatch.setattr(subscriptions, "_holdings_allow", allow)
    sub = await subscriptions.reserve_plot(
        customer=buyer, plan_id=plan.id, plot_id=None, today=TODAY, now=NOW, minutes=FAR
    )
    assert (await Plot.get(id=sub.plot_id)).field_id == east.id


@pytest.mark.postgres
async def test_a_manager_offering_fewer_plots_during_a_rush_deadlocks_nobody_and_oversells_nothing(
    conn,
):
    """The plan's row is locked FOR NO KEY UPDATE while its places are shared out again, so
    the buyers' foreign-key checks on the plan pass it; and a buyer who waited for a place
    row re-checks that row's own cap, as the edit left it."""
    import asyncio
    import contextlib

    plan = await make_season(plots=40, max_plots=40)
    season = await Season.get(id=plan.season_id)
    manager = await manager_of(season.cooperative_id)
    for i in range(10):
        await subscriptions.reserve_plot(
            customer=await make_customer(f"early{i}@example.com"), plan_id=plan.id,
            plot_id=None, today=TODAY, now=NOW, minutes=FAR,
        )  # fmt: skip
    buyers = [await make_customer(f"rush{i}@example.com") for i in range(30)]

    async def attempt(customer):
        with contextlib.suppress(Conflict):
            await subscriptions.reserve_plot(
                customer=customer, plan_id=plan.id, plot_id=None, today=TODAY, now=NOW,
                minutes=FAR,
            )  # fmt: skip

    async def offer_fewer():
        plan.max_plots = 15
        with contextlib.suppress(FieldErrors):  # refused if more than 15 are held by then
            await console_seasons.update_plan(
                manager=manager, plan_id=plan.id, data=plan_input(plan)
            )

    outcomes = await asyncio.gather(
        *(attempt(c) for c in buyers[:10]), offer_fewer(), *(attempt(c) for c in buyers[10:]),
        return_exceptions=True,
    )  # fmt: skip
    assert [o for o in outcomes if o is not None] == []  # no deadlock, no error
    max_plots = (await Plan.get(id=plan.id)).max_plots
    claims = await PlotClaim.filter(plan_id=plan.id).count()
    assert claims == await places_held(plan) and claims <= max_plots
    late = [await make_customer(f"late{i}@example.com") for i in range(40)]
    await asyncio.gather(*(attempt(c) for c in late))
    assert await PlotClaim.filter(plan_id=plan.id).count() == max_plots == await places_held(plan)


async def test_a_plan_with_only_a_reservation_may_still_change_its_price(conn):
    plan, manager = await owned_plan()
    await sell(plan, "T01", email="a@example.com", paid=False)
    await console_seasons.update_plan(
        manager=manager, plan_id=plan.id, data=plan_input(plan, price="480.5")
    )
    assert (await Plan.get(id=plan.id)).price_fen == 48050


async def test_sold_counts_each_sale_once_and_no_reservation(conn):
    plan, manager = await owned_plan()
    await sell(plan, "T01", email="a@example.com")  # an active subscription with its paid claim
    await sell(plan, "T02", email="b@example.com", paid=False)
    assert await console_seasons.sold_per_plan([plan.id]) == {plan.id: 1}
    # an active subscription whose claim is gone still counts
    await PlotClaim.filter(expires_at__isnull=True).delete()
    assert await console_seasons.sold_per_plan([plan.id]) == {plan.id: 1}


# ---- who may see and change what ----


WITHOUT_IDS = {
    "/manage",
    "/manage/fields",
    "/manage/fields/new",
    "/manage/seasons",
    "/manage/seasons/new",
}


def console_walk(field_id, season_id, plan_id):
    """Every console route, with the owner's ids: (path, answers GET, form to POST or None)."""
    grid = {"prefix": "Q", "plot_w": "1", "plot_h": "1", "cols": "1", "rows": "1", "y": "8"}
    plot = {"code": "Q9", "x": "30", "y": "8", "w": "1", "h": "1"}
    field = {"name": "改名", "width_m": "40", "height_m": "10"}
    season = {**SEASON_FORM, "name": "改名"}
    plan = {"name": "改名", "field_id": str(field_id), "plot_area_m2": "66.67",
            "care_mode": "managed", "price": "1", "max_plots": "1"}  # fmt: skip
    return [
        ("/manage", True, None),  # the console's first page and its to-do list
        ("/manage/fields", True, None),
        ("/manage/fields/new", True, field),
        (f"/manage/fields/{field_id}", True, field),
        (f"/manage/fields/{field_id}/grid", True, grid),
        (f"/manage/fields/{field_id}/plots", True, plot),
        ("/manage/seasons", True, None),
        ("/manage/seasons/new", True, season),
        (f"/manage/seasons/{season_id}", True, season),
        (f"/manage/seasons/{season_id}/plans/new", True, plan),
        (
            f"/manage/seasons/{season_id}/ship-days",
            True,
            {"day": "2027-02-01", "action": "skip", "reason": "春节"},
        ),  # fmt: skip
        (f"/manage/plans/{plan_id}", True, plan),
        (f"/manage/plans/{plan_id}/publish", False, {"publish": "1"}),
    ]


def test_the_access_walk_covers_every_console_route_and_method():
    walk = console_walk("{field_id}", "{season_id}", "{plan_id}")
    walked = {(path, "GET") for path, gets, _form in walk if gets}
    walked |= {(path, "POST") for path, _gets, form in walk if form}
    every = [*console_routes.routes, *season_routes.routes]
    routes = {(r.path, m) for r in every for m in r.methods - {"HEAD"}}
    assert walked == routes


async def log_in_as(client, role: str, owner_coop_id: int) -> str:
    if role == "visitor":
        return await csrf_of(client, "/login")
    if role == "other_manager":
        await owned_plan_elsewhere()
        return await log_in_client(client, "zhao@other.example")
    if role == "customer":
        await make_customer("c@example.com")
        return await log_in_client(client, "c@example.com")
    if role == "partner_staff":
        partner = await Partner.create(
            cooperative_id=owner_coop_id, kind=PartnerKind.SCENIC_SPOT, name="景区"
        )
        await sign_up(email="p@example.com", name="检票", password="correct horse",
                      language="zh_CN", role=Role.PARTNER_STAFF, partner_id=partner.id)  # fmt: skip
        return await log_in_client(client, "p@example.com")
    await sign_up(email="a@example.com", name="管理员", password="correct horse",
                  language="zh_CN", role=Role.ADMIN)  # fmt: skip
    return await log_in_client(client, "a@example.com")


@pytest.mark.parametrize("role", ["visitor", "customer", "other_manager", "partner_staff", "admin"])
async def test_no_one_but_the_cooperatives_manager_sees_or_changes_its_land(client, role):
    """Visitors are sent to log in; everyone else gets 404 on every page of the owner's
    objects, GET or POST, and changes nothing. Another manager's lists and new-forms work, on
    their own cooperative only."""
    plan, manager = await owned_plan()
    token = await log_in_as(client, role, manager.cooperative_id)
    owners = await snapshot(manager.cooperative_id)
    walk = console_walk(plan.field_id, plan.season_id, plan.id)
    walk.append((f"/manage/fields/{plan.field_id}?season={plan.season_id}", True, None))
    for path, gets, form in walk:
        own_objects = path not in WITHOUT_IDS
        requests = [("GET", None)] if gets else []
        requests += [("POST", {**form, "csrf_token": token})] if form else []
        for method, data in requests:
            r = await client.request(method, path, data=data)
            if role == "visitor":
                assert r.status_code == 303, (method, path)
                assert r.headers["location"].startswith("/login"), (method, path)
            elif role == "other_manager" and not own_objects:
                # their own lists and forms (a POST makes a field or season of their own)
                assert r.status_code == (200 if method == "GET" else 303), (method, path)
                assert "试验田" not in r.text and "测试季" not in r.text, (method, path)
            else:
                assert r.status_code == 404, (role, method, path, r.status_code)
                assert "试验田" not in r.text and "测试季" not in r.text and "一分地" not in r.text
    assert await snapshot(manager.cooperative_id) == owners


async def test_another_managers_own_field_cannot_show_the_owners_season(client):
    plan, _ = await owned_plan()
    their_field, _ = await owned_plan_elsewhere()
    await log_in_client(client, "zhao@other.example")
    r = await client.get(f"/manage/fields/{their_field.id}?season={plan.season_id}")
    assert r.status_code == 404


@pytest.mark.parametrize("bad", ["999999", "abc", "0", "-5", "1" * 30, "²"])
async def test_unknown_or_malformed_ids_are_404_for_the_manager_too(client, bad):
    plan, _ = await owned_plan()
    await log_in_client(client, "li@coop.example")
    for path in ("/manage/fields/{}", "/manage/seasons/{}", "/manage/plans/{}",
                 "/manage/seasons/{}/plans/new"):  # fmt: skip
        assert (await client.get(path.format(bad))).status_code == 404, path
    assert (await client.get(f"/manage/fields/{plan.field_id}?season={bad}")).status_code == 404


async def test_a_plans_perks_with_issued_vouchers_cannot_be_removed_after_all_sales_ended(conn):
    from farm.errors import Conflict
    from farm.land.models import PlotClaim
    from farm.subscriptions.models import Status, Subscription
    from farm.vouchers.services import issue_vouchers

    plan, manager = await owned_plan()
    await PlanPerk.create(plan=plan, kind="scenic_ticket", count=2)
    sub = await sell(plan, "T01", email="a@example.com")
    await issue_vouchers(subscription_id=sub.id, now=NOW, conn=None)
    await Subscription.filter(id=sub.id).update(status=Status.CANCELLED)
    async with in_transaction() as conn:  # the sale is over: not "sold", its place given back
        await places.give_back(
            conn, plan.id, PlotClaim.filter(subscription_id=sub.id).using_db(conn).delete
        )
    same = plan_input(plan, name="改名", perks=[PerkInput("scenic_ticket", "", "2")])
    await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=same)
    assert (await Plan.get(id=plan.id)).name == "改名"  # unchanged perks: the rest saves
    with pytest.raises(Conflict):
        await console_seasons.update_plan(
            manager=manager, plan_id=plan.id, data=plan_input(plan, perks=[])
        )
    assert await PlanPerk.filter(plan_id=plan.id).count() == 1
