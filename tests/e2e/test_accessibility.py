"""Every page a visitor, a customer, a manager and partner staff can reach in the demo passes
axe-core's WCAG 2.1 A and AA rules, on a phone (390×844) and a desk (1366×900), in Chinese
and in English; on the phone, every control is at least 44×44 px.

The pages are read from the app, as the access walks do: every GET route, its path filled with
ids from the demo, is asked for as each person; those that answer 200 with a whole HTML page
are audited (a page the visitor sees too only as the visitor, but each person's home page for
its header). So a page added later is audited without asking. axe-core is vendored in
tests/e2e/vendor/ (see its README), and runs in Debian's chromium through Playwright."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.routing import Route
from tortoise.transactions import in_transaction

from farm import db
from farm.accounts.models import User
from farm.app import create_app
from farm.demo import load_demo
from farm.fieldwork.models import HarvestLot, Household, WorkEntry
from farm.land.models import Field, Plan, Plot, Season
from farm.partners.models import Partner, PartnerKind, Room
from farm.shipments.models import Batch
from farm.subscriptions.models import PlotClaim, Status, Subscription
from farm.vouchers.models import Voucher
from farm.vouchers.services import issue_vouchers
from tests import support
from tests.e2e.conftest import CHROMIUM, SHOTS
from tests.e2e.test_farm_log_journey import log_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = ({"width": 390, "height": 844}, {"width": 1366, "height": 900})
LANGUAGES = ("zh_CN", "en")
PEOPLE = {  # who: the demo account (password "correct horse"), None for a visitor
    "visitor": None,
    "customer": "demo@example.com",
    "manager": "li@coop.example",
    "gate staff": "gate@scenic.example",
    "guesthouse staff": "desk@stay.example",
}
# Not pages: switching language redirects; a plan's map fragment is swapped into its page.
NOT_PAGES = ("/lang/{code}", "/plans/{plan_id}/map")
NOT_FOUND = "/no-such-page"  # the error page, which answers 404: audited as the visitor's


async def _prepare(settings) -> dict:
    """The demo with its accounts, plus what some pages need to show something: the demo
    customer's vouchers, a plot in checkout, and a shipment batch. Returns the ids to put in
    paths, by parameter name, and by route path where one name means different things."""
    await db.connect(settings)
    try:
        await support.wipe(settings)
        now = datetime.now(UTC)
        await load_demo(today=now.date(), with_accounts=True)
        customer = await User.get(email="demo@example.com")
        active = await Subscription.get(customer=customer, status=Status.ACTIVE)
        async with in_transaction() as conn:
            await issue_vouchers(subscription_id=active.id, now=now, conn=conn)
        on_sale = await Season.filter(sale_ends_on__gt=now.date()).order_by("-starts_on").first()
        plan = await Plan.filter(season=on_sale).order_by("id").first()
        plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
        pending = await Subscription.create(
            customer=customer, season=on_sale, plan=plan, plot=plot, price_fen=plan.price_fen,
            sign_name=customer.name, reserved_at=now, status=Status.PENDING_PAYMENT,
        )  # fmt: skip
        await PlotClaim.create(
            season=on_sale, plot=plot, plan=plan, subscription=pending, customer=customer
        )
        await Plan.filter(id=plan.id).update(held=await PlotClaim.filter(plan=plan).count())
        coop_id = on_sale.cooperative_id
        batch = await Batch.create(
            cooperative_id=coop_id, ship_on=now.date() + timedelta(days=5), created_at=now
        )
        scenic = await Partner.get(cooperative_id=coop_id, kind=PartnerKind.SCENIC_SPOT)
        ticket = await Voucher.filter(subscription=active, partner=scenic).first()
        farm_stay = await Voucher.filter(subscription=active).exclude(partner=scenic).first()
        guesthouse = await Partner.get(cooperative_id=coop_id, kind=PartnerKind.GUESTHOUSE)
        manager = await User.filter(cooperative_id=coop_id).exclude(cooperative_id=None).first()
        entry = await WorkEntry.create(  # the correction page of a work entry
            cooperative_id=coop_id, field_id=plan.field_id, activity="weeding",
            worked_on=now.date(), whole_field=True, logged_by=manager, created_at=now,
        )  # fmt: skip
        return {
            "plan_id": plan.id, "sub_id": active.id, "field_id": plan.field_id,
            "season_id": on_sale.id, "household_id": (await Household.first()).id,
            "plot_id": plot.id, "batch_id": batch.id, "partner_id": guesthouse.id,
            "room_id": (await Room.filter(partner=guesthouse).first()).id,
            "lot_id": (await HarvestLot.first()).id,
            "entry_id": entry.id,
            "/checkout/{sub_id}": {"sub_id": pending.id},
            "/account/vouchers/{code}": {"code": farm_stay.code},
            "/v/{code}": {"code": ticket.code},
            "/trace/{code}": {"code": (await HarvestLot.first()).code},
            "/manage/fields/{field_id}": {"field_id": (await Field.first()).id},
        }  # fmt: skip
    finally:
        await db.close()


async def _wipe(settings) -> None:
    await db.connect(settings)
    try:
        await support.wipe(settings)
    finally:
        await db.close()


@pytest.fixture
def demo_site(settings, stripe_port):
    """`farm web` on the demo with its accounts; yields (url, ids)."""
    ids = asyncio.run(_prepare(settings))
    server = support.LiveServer(settings)
    try:
        yield server.url, ids
    finally:
        server.stop()
        asyncio.run(_wipe(settings))


def page_paths(settings, ids: dict) -> list[str]:
    """Every GET route of the app with its parameters filled in."""
    paths = []
    for route in create_app(settings).routes:
        if not isinstance(route, Route) or "GET" not in route.methods:
            continue
        if route.path in NOT_PAGES:
            continue
        special = ids.get(route.path, {})

        def one(match, special=special):
            name = match.group(1).split(":")[0]
            return str(special.get(name, ids.get(name, "1")))

        paths.append(re.sub(r"\{([^}]+)\}", one, route.path))
    return paths


def reachable(context, url: str, paths: list[str]) -> list[str]:
    """The paths that answer this person with a whole HTML page (not a redirect, an error,
    a download or JSON)."""
    found = []
    for path in paths:
        r = context.request.get(url + path, max_redirects=0)
        html = r.headers.get("content-type", "").startswith("text/html")
        if r.status == 200 and html and r.text().lstrip().lower().startswith("<!doctype html"):
            found.append(path)
    return found


def audit(page) -> list[dict]:
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                rule: v.id, impact: v.impact,
                targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        TAGS,
    )


# Controls smaller than 44×44 CSS px on the page: links, buttons, fields and summaries that
# are shown (not links inside running text, which WCAG's target-size rule excepts, nor a
# control hidden under the label that is its target, nor text for screen readers only).
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary'))
    .filter(e => e.getClientRects().length && !e.closest('.vh'))
    .filter(e => getComputedStyle(e).display !== 'inline' && getComputedStyle(e).opacity !== '0')
    .filter(e => !(e.matches('input[type=checkbox], input[type=radio]') && e.closest('label')
                   && e.closest('label').getBoundingClientRect().height >= 44))
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.width < 44 || r.height < 44)
    .map(([e, r]) => `${e.tagName.toLowerCase()} "${(e.innerText || e.name || '').trim()
        .slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`)"""


def test_every_page_passes_wcag_21_aa_on_phone_and_desk_in_both_languages(settings, demo_site):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    url, ids = demo_site
    paths = page_paths(settings, ids)
    violations: list[str] = []
    by_rule: Counter[str] = Counter()
    audited = 0
    public: set[str] = set()
    seen: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            for who, email in PEOPLE.items():
                context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[0])
                context.add_init_script(path=str(AXE))
                page = context.new_page()
                page.set_default_timeout(15_000)
                if email:
                    log_in(page, url, email)
                    page.wait_for_load_state()
                pages = reachable(context, url, paths)
                assert pages, who
                if email:  # the visitor's pages again only once, for the header
                    pages = ["/"] + [path for path in pages if path not in public]
                else:
                    public = set(pages)
                    pages.append(NOT_FOUND)
                seen.extend(f"{who}: {path}" for path in pages)
                for language in LANGUAGES:
                    page.goto(f"{url}/lang/{language}?next=/")
                    for path in pages:
                        page.goto(url + path)
                        for viewport in VIEWPORTS:
                            page.set_viewport_size(viewport)
                            audited += 1
                            if viewport["width"] < 640:
                                for small in page.evaluate(SMALL_TARGETS):
                                    by_rule["target under 44 px"] += 1
                                    violations.append(
                                        f"target under 44 px on {path} as {who}, {language}: "
                                        f"{small}"
                                    )
                            for v in audit(page):
                                by_rule[v["rule"]] += len(v["targets"])
                                for target in v["targets"]:
                                    violations.append(
                                        f"{v['rule']} ({v['impact']}) on {path} as {who}, "
                                        f"{language}, {viewport['width']}px: {target}"
                                    )
                context.close()
        finally:
            browser.close()
    summary = ", ".join(f"{rule}: {n}" for rule, n in by_rule.most_common())
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "axe-violations.txt").write_text(
        f"{audited} page views audited\n{summary}\n"
        + "\n".join(violations)
        + "\n\nPages audited, each in both languages at both sizes:\n"
        + "\n".join(seen)
        + "\n"
    )
    assert audited >= 100
    assert not violations, f"{len(violations)} violations ({summary}):\n" + "\n".join(violations)


def _focused_plot(page) -> dict | None:
    return page.evaluate(
        """() => {
            const a = document.activeElement;
            if (!a || !a.closest("svg.fieldmap")) return null;
            const r = a.getBoundingClientRect();
            return {code: a.querySelector("g").dataset.code, x: r.left, y: r.top};
        }"""
    )


def test_the_field_map_is_one_tab_stop_and_the_arrow_keys_move_between_plots(
    live_server, browser_page
):
    page = browser_page
    page.goto(live_server.url + "/")
    page.locator("main a[href^='/plans/']").first.click()
    for _ in range(40):  # the skip link, the header, the plan's links, then the map
        page.keyboard.press("Tab")
        if _focused_plot(page):
            break
    first = _focused_plot(page)
    assert first, "Tab never reached the map"
    page.keyboard.press("Tab")
    assert _focused_plot(page) is None  # one Tab stop: the next Tab leaves the map
    page.keyboard.press("Shift+Tab")
    back = _focused_plot(page)  # Shift+Tab comes back to the same plot (the page scrolled)
    assert back and back["code"] == first["code"]
    first = back
    page.keyboard.press("ArrowRight")
    right = _focused_plot(page)
    assert right and right["x"] > first["x"] and abs(right["y"] - first["y"]) < 1
    page.keyboard.press("ArrowDown")
    below = _focused_plot(page)
    assert below and below["y"] > right["y"] and abs(below["x"] - right["x"]) < 1
    page.keyboard.press("Enter")  # follows the link: that plot is chosen
    page.locator("g.plot.chosen").wait_for()
    assert page.locator("g.plot.chosen").get_attribute("data-code") == below["code"]
