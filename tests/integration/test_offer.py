from datetime import date

from farm.accounts.models import User
from farm.demo import load_demo
from farm.land.models import Plan, Plot
from tests.support import NOW, TODAY, log_in_client, make_customer


async def test_health_check_answers_ok_when_the_database_answers(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_the_demo_loads_once_with_jutudi_prices(app):
    assert await load_demo(today=TODAY) is not None
    assert await load_demo(today=TODAY) is None
    prices = sorted(await Plan.all().values_list("price_fen", flat=True))
    assert prices == [58000, 68000, 240000, 480000]  # the Jutudi three, and the running season


async def test_home_shows_each_plan_with_price_size_care_mode_shipments_perks_and_plots_left(
    client,
):
    await load_demo(today=date.today())
    r = await client.get("/", headers={"accept-language": "en"})
    assert r.status_code == 200
    text = r.text
    assert "¥580" in text and "¥2,400" in text and "¥4,800" in text
    assert "66.67 m² (0.1 mu · 1 fen)" in text and "(0.5 mu · 5 fen)" in text
    assert "Managed by the cooperative" in text and "Self-tended" in text
    assert "24 shipments" in text
    assert "scenic-spot tickets" in text and "farm-stay night" in text
    assert "30 plots left" in text and "9 plots left" in text and "6 plots left" in text


async def test_home_is_in_chinese_by_default(client):
    await load_demo(today=date.today())
    r = await client.get("/")
    assert "一分地" in r.text and "合作社代种" in r.text


async def test_a_plans_page_draws_the_field_map_with_every_plot(client):
    await load_demo(today=date.today())
    plan = await Plan.get(price_fen=58000)
    r = await client.get(f"/plans/{plan.id}")
    assert r.status_code == 200
    assert (
        r.text.count('class="plot free"') == await Plot.filter(field_id=plan.field_id).count() == 30
    )
    assert "<svg" in r.text


async def test_choosing_a_plot_on_the_map_highlights_it_and_offers_to_reserve_it(client):
    await load_demo(today=date.today())
    plan = await Plan.get(price_fen=58000)
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    r = await client.get(f"/plans/{plan.id}?plot={plot.id}")
    assert 'class="plot chosen"' in r.text
    # a visitor is offered to sign up and come back to the same choice, at its Reserve button
    assert f"/signup?next=/plans/{plan.id}%3Fplot%3D{plot.id}%23pick" in r.text
    await make_customer()
    await log_in_client(client, "wang@example.com")
    r = await client.get(f"/plans/{plan.id}?plot={plot.id}")
    assert f'name="plot_id" value="{plot.id}"' in r.text


async def test_unknown_or_malformed_plan_ids_are_404_pages_not_errors(client):
    for path in ("/plans/999999", "/plans/abc", "/plans/-1", "/plans/99999999999999999999"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert "Traceback" not in r.text


async def test_security_headers_are_set(client):
    r = await client.get("/")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]


async def test_english_pages_name_plans_seasons_and_crops_in_english(client):
    await load_demo(today=date.today())
    await client.get("/lang/en")
    text = (await client.get("/")).text
    assert "Half a mu · farmed for you" in text and "半亩地" not in text
    assert "season" in text and "Rice, rapeseed" in text


async def test_the_demo_has_a_running_season_whose_ship_days_the_scheduler_can_make(app):
    from farm.shipments.batches import make_due_batches
    from farm.shipments.models import Batch, Shipment

    await load_demo(today=TODAY, with_accounts=True)
    made = await Batch.all().count()
    assert made and await make_due_batches(today=TODAY, now=NOW) == []  # the past ones are made
    next_day = date(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1)
    results = await make_due_batches(today=next_day, now=NOW)
    assert len(results) == 1 and results[0].completed
    assert await Shipment.all().count() == 4 * (made + 1)  # four subscribed plots
    assert await User.filter(email__in=["demo@example.com", "li@coop.example"]).count() == 2


async def test_the_demos_past_boxes_were_sent_with_tracking_and_some_arrived_and_were_rated(app):
    from farm.shipments.models import BoxReport, Shipment, ShipmentStatus

    await load_demo(today=TODAY, with_accounts=True)
    past = await Shipment.filter(ship_on__lt=TODAY).select_related("subscription__customer")
    assert past and {b.status for b in past} <= {ShipmentStatus.SHIPPED, ShipmentStatus.EMPTY}
    shipped = [b for b in past if b.status == ShipmentStatus.SHIPPED]
    assert shipped and all(b.courier and b.tracking_no and b.shipped_at for b in shipped)
    assert all(b.tracking_url.endswith(b.tracking_no) for b in shipped)
    assert len({b.tracking_no for b in shipped}) == len(shipped)
    mine = [b for b in shipped if b.subscription.customer.email == "demo@example.com"]
    reports = await BoxReport.filter(shipment_id__in=[b.id for b in mine]).order_by("id")
    assert [r.rating is not None for r in reports] == [True] * (len(mine) - 2) + [False]
    assert all(r.arrived_at for r in reports)  # the latest box is on its way: no report
    assert await BoxReport.filter(rating__isnull=False).count() >= 3


async def test_the_demo_makes_no_accounts_that_can_log_in_unless_asked(app):
    await load_demo(today=TODAY)
    assert not await User.filter(email__in=["demo@example.com", "li@coop.example"]).exists()
