"""Demo data for the delivery side: a season already running, with subscribers and harvests,
so that the scheduler has ship days to make as soon as a newcomer starts the service."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from tortoise import connections

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.demo.crops import load_crop_plans
from farm.demo.deliveries import ship_past_boxes
from farm.demo.story import load_story
from farm.fieldwork.models import HarvestLot
from farm.fieldwork.photos import PhotoStore
from farm.fieldwork.rules import LOT_CODE_ALPHABET, LOT_CODE_LENGTH
from farm.fieldwork.services import crops
from farm.land import places
from farm.land.models import (
    CareMode,
    Cooperative,
    Field,
    PerkKind,
    Plan,
    PlanPerk,
    Plot,
    PlotClaim,
    Season,
)
from farm.partners.models import Partner, PartnerKind
from farm.subscriptions.models import Status, Subscription

DEMO_PASSWORD = "correct horse"  # development only: see load_running_season
NEIGHBOURS = [  # name, province, city, address
    ("李华", "北京", "北京市", "朝阳区建国路 88 号"),
    ("陈静", "广东", "深圳市", "南山区科技园 3 栋"),
    ("赵强", "新疆", "乌鲁木齐市", "天山区解放北路 12 号"),
]


def _months_back(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _lot_code() -> str:
    return "".join(secrets.choice(LOT_CODE_ALPHABET) for _ in range(LOT_CODE_LENGTH))


async def load_running_season(
    *, coop: Cooperative, today: date, with_accounts: bool, store: PhotoStore | None = None
) -> Season:
    """A season that started two months ago on its own field, four plots subscribed, and
    harvests since. With accounts (development only), also people who can log in, password
    "correct horse": a customer demo@example.com, a manager li@coop.example, and the staff
    of the scenic spot (gate@scenic.example) and the guesthouse (desk@stay.example). With a
    photo store, the season's story has its field photos (farm.demo.story). Its past ship
    days' boxes were sent, with tracking, and some arrived and were rated (farm.demo.deliveries)."""
    starts = _months_back(today, 2)
    field = await Field.create(cooperative=coop, name="南坡菜园", width_m=30, height_m="13.334")
    plots = []
    for i in range(6):
        plots.append(
            await Plot.create(
                field=field,
                code=f"D{i + 1:02d}",
                area_m2=Decimal("66.67"),
                x_m=10 * (i % 3),
                y_m=Decimal("6.667") * (i // 3),
                w_m=10,
                h_m="6.667",
            )  # fmt: skip
        )
    season = await Season.create(
        cooperative=coop, name=f"{starts.year}年秋冬季（进行中）",
        name_en=f"{starts.year} autumn-winter (running)", starts_on=starts,
        ends_on=date(starts.year + 1, starts.month, 1), sale_starts_on=starts - timedelta(days=30),
        sale_ends_on=starts + timedelta(days=14), ship_days_of_month="1,16", cutoff_days=2,
    )  # fmt: skip
    plan = await Plan.create(
        season=season,
        field=field,
        name="一分菜园 · 合作社代种",
        name_en="1 fen garden · farmed for you",
        plot_area_m2=Decimal("66.67"),
        care_mode=CareMode.MANAGED,
        crop_plan="青菜、萝卜、红薯、大米",
        crop_plan_en="Greens, radish, sweet potatoes, rice",
        price_fen=68000,
        max_plots=6,
    )
    perks = (
        (PerkKind.SCENIC_TICKET, PartnerKind.SCENIC_SPOT, 2),
        (PerkKind.FARM_STAY_NIGHT, PartnerKind.GUESTHOUSE, 1),
    )
    for kind, partner_kind, count in perks:
        partner = await Partner.filter(cooperative=coop, kind=partner_kind).first()
        await PlanPerk.create(plan=plan, kind=kind, partner=partner, count=count)

    if with_accounts:
        customer = await sign_up(email="demo@example.com", name="王小明",
                                 password=DEMO_PASSWORD, language="zh_CN")  # fmt: skip
        await sign_up(email="li@coop.example", name="李经理", password=DEMO_PASSWORD,
                      language="zh_CN", role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
        staff = (
            ("gate@scenic.example", "龙川检票员", PartnerKind.SCENIC_SPOT),
            ("desk@stay.example", "民宿前台", PartnerKind.GUESTHOUSE),
        )
        for email, name, kind in staff:
            partner = await Partner.filter(cooperative=coop, kind=kind).first()
            await sign_up(email=email, name=name, password=DEMO_PASSWORD, language="zh_CN",
                          role=Role.PARTNER_STAFF, partner_id=partner.id)  # fmt: skip
        people = [(customer, "上海", "上海市", "浦东新区世纪大道 100 号")]
    else:
        people = []
    for i, (name, province, city, address) in enumerate(NEIGHBOURS):
        # No password: "!" is not a hash, so nobody can log in as a neighbour.
        user = await User.create(email=f"neighbour{i + 1}@example.com", name=name,
                                 password_hash="!")  # fmt: skip
        people.append((user, province, city, address))
    paid = datetime.combine(starts - timedelta(days=10), time(9), tzinfo=UTC)
    subscriptions = []
    for plot, (user, province, city, address) in zip(plots, people, strict=False):
        sub = await Subscription.create(
            customer=user, season=season, plan=plan, plot=plot, status=Status.ACTIVE,
            price_fen=plan.price_fen, sign_name=user.name, reserved_at=paid, activated_at=paid,
            recipient=user.name, phone="13800138000", province=province, city=city,
            address=address,
        )  # fmt: skip
        await PlotClaim.create(season=season, plot=plot, plan=plan, subscription=sub, customer=user)
        subscriptions.append(sub)
    # The plan's places (farm/land/places.py) count them too.
    await places.recount(connections.get("default"), plan.id)

    by_name = {c.name: c for c in await crops(cooperative_id=coop.id)}
    logger = await User.filter(role=Role.MANAGER, cooperative=coop).first() or people[0][0]
    day = starts + timedelta(days=3)
    while day < today:
        for plot in plots[:4]:
            crop = by_name["青菜"] if day.day % 2 else by_name["萝卜"]
            await HarvestLot.create(
                cooperative=coop, code=_lot_code(), crop=crop, field=field, plot=plot,
                harvested_on=day, weight_g=1500 + 250 * plot.id % 1000, logged_by=logger,
                created_at=datetime.combine(day, time(17), tzinfo=UTC),
            )  # fmt: skip
        await HarvestLot.create(
            cooperative=coop, code=_lot_code(), crop=by_name["红薯"], field=field, plot=None,
            harvested_on=day + timedelta(days=1), weight_g=12000, logged_by=logger,
            created_at=datetime.combine(day, time(17), tzinfo=UTC),
        )  # fmt: skip
        day += timedelta(days=6)
    await load_crop_plans(field=field, season=season, subscriptions=subscriptions, by_name=by_name)
    await load_story(coop=coop, field=field, plots=plots, starts=starts, today=today,
                     logger=logger, store=store)  # fmt: skip
    await ship_past_boxes(coop=coop, season=season, today=today)
    return season
