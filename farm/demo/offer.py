"""A demo cooperative to try the whole journey at once: fields cut into plots, a season on
sale with three plans at Jutudi's prices, and its partners."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from tortoise.transactions import in_transaction

from farm.demo.renewal import load_next_season
from farm.demo.running_season import load_running_season
from farm.fieldwork.models import Household, LandTransfer
from farm.fieldwork.photos import PhotoStore
from farm.land.models import CareMode, Cooperative, Field, PerkKind, Plan, PlanPerk, Plot, Season
from farm.partners.models import Partner, PartnerKind, PartnerPrice, Room
from farm.units import mu_to_m2

FEN, HALF_MU, MU = mu_to_m2(Decimal("0.1")), mu_to_m2(Decimal("0.5")), mu_to_m2(Decimal(1))


def _first_of_month_after(d: date, months: int) -> date:
    year, month = d.year, d.month + months
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


async def _cut_grid(
    field: Field, *, prefix: str, cols: int, rows: int, w: Decimal, h: Decimal, area: Decimal
) -> None:
    plots = []
    for r in range(rows):
        for c in range(cols):
            plots.append(
                Plot(
                    field_id=field.id,
                    code=f"{prefix}{r * cols + c + 1:02d}",
                    area_m2=area,
                    x_m=w * c,
                    y_m=h * r,
                    w_m=w,
                    h_m=h,
                )
            )
    await Plot.bulk_create(plots)


async def load_demo(
    *, today: date, with_accounts: bool = False, store: PhotoStore | None = None
) -> Cooperative | None:
    """Load the demo if the database has no cooperative yet; returns it, or None if skipped.
    The season on sale starts on the first of the month after next, and is on sale until
    then. Another season is already running, with subscribers and harvests to ship. Demo
    accounts that can log in are made only when asked (development); the running season's
    field photos are drawn and stored when given a photo store."""
    async with in_transaction():
        if await Cooperative.exists():
            return None
        coop = await Cooperative.create(
            name="青山村农民专业合作社",
            name_en="Qingshan Village Farmers' Cooperative",
            village="青山村",
            province="安徽",
        )
        scenic = await Partner.create(
            cooperative=coop,
            kind=PartnerKind.SCENIC_SPOT,
            name="龙川景区",
            address="安徽省绩溪县龙川",
            opening_hours="8:00–17:30",
        )
        stay = await Partner.create(
            cooperative=coop,
            kind=PartnerKind.GUESTHOUSE,
            name="青山农家民宿",
            address="青山村东头",
            opening_hours="全年营业，14:00 后入住",
        )
        for room, capacity in (("竹间", 2), ("松间", 2), ("大通铺", 4)):
            await Room.create(partner=stay, name=room, capacity=capacity)
        # What the cooperative pays them per voucher redeemed: the ticket's price rose this year
        set_at = datetime.combine(today, time(9), tzinfo=UTC)
        for partner, kind, fen, valid_from in (
            (scenic, PerkKind.SCENIC_TICKET, 6000, date(today.year - 1, 1, 1)),
            (scenic, PerkKind.SCENIC_TICKET, 6500, date(today.year, 1, 1)),
            (stay, PerkKind.FARM_STAY_NIGHT, 15000, date(today.year - 1, 1, 1)),
        ):
            await PartnerPrice.create(
                partner=partner, kind=kind, price_fen=fen, valid_from=valid_from, set_at=set_at
            )
        # 1 fen = 66.67 m²: 10 m × 6.667 m; half a mu: 20 m × 16.667 m; a mu: 25 m × 26.667 m.
        small = await Field.create(cooperative=coop, name="东坡田", width_m=50, height_m=40)
        await _cut_grid(
            small, prefix="A", cols=5, rows=6, w=Decimal(10), h=Decimal("6.667"), area=FEN
        )
        middle = await Field.create(cooperative=coop, name="河湾田", width_m=60, height_m=50)
        await _cut_grid(
            middle, prefix="B", cols=3, rows=3, w=Decimal(20), h=Decimal("16.667"), area=HALF_MU
        )
        large = await Field.create(cooperative=coop, name="山脚大田", width_m=75, height_m="53.33")
        await _cut_grid(
            large, prefix="C", cols=3, rows=2, w=Decimal(25), h=Decimal("26.667"), area=MU
        )

        # Households that transferred the land: rent per mu a year, wage per hour, in fen.
        for name, village, poor, rent, wage, land in (
            ("张德福家", "青山村", True, 75000, 1800, [(small, "1333.40"), (middle, "1000")]),
            ("王桂兰家", "青山村", False, 75000, 1800, [(middle, "2000")]),
            ("李长根家", "石门村", True, 80000, 2000, [(large, "3999.75")]),
        ):
            household = await Household.create(
                cooperative=coop, name=name, village=village, is_poor=poor,
                rent_fen_per_mu_year=rent, wage_fen_per_hour=wage,
            )  # fmt: skip
            for field, area in land:
                await LandTransfer.create(
                    household=household, field=field, area_m2=Decimal(area),
                    starts_on=date(today.year - 1, 1, 1), rent_fen_per_mu_year=rent,
                )  # fmt: skip

        starts = _first_of_month_after(today, 2)
        season = await Season.create(
            cooperative=coop,
            name=f"{starts.year}年度认购季",
            name_en=f"{starts.year} season",
            starts_on=starts,
            ends_on=date(starts.year + 1, starts.month, 1),
            sale_starts_on=today - timedelta(days=7),
            sale_ends_on=starts,
            ship_days_of_month="1,16",
            cutoff_days=2,
        )
        plans = [
            (small, "一分地 · 自己种", "1 fen · tend it yourself", CareMode.SELF_TENDED, 58000, 30,
             "时令蔬菜：青菜、萝卜、豆角、番茄", "Seasonal vegetables: greens, radish, beans",
             [(PerkKind.SCENIC_TICKET, scenic, 2)]),
            (middle, "半亩地 · 合作社代种", "Half a mu · farmed for you", CareMode.MANAGED, 240000,
             9,
             "水稻、油菜、时令蔬菜", "Rice, rapeseed (oil), seasonal vegetables",
             [(PerkKind.SCENIC_TICKET, scenic, 4), (PerkKind.FARM_STAY_NIGHT, stay, 1)]),
            (large, "一亩地 · 合作社代种", "One mu · farmed for you", CareMode.MANAGED, 480000, 6,
             "水稻、油菜、红薯、土鸡蛋", "Rice, rapeseed (oil), sweet potatoes, free-range eggs",
             [(PerkKind.SCENIC_TICKET, scenic, 6), (PerkKind.FARM_STAY_NIGHT, stay, 2)]),
        ]  # fmt: skip
        for field, name, name_en, care, price, count, crops, crops_en, perks in plans:
            sample = await Plot.filter(field_id=field.id).first()
            assert sample is not None
            plan = await Plan.create(
                season=season,
                field=field,
                name=name,
                name_en=name_en,
                plot_area_m2=sample.area_m2,
                care_mode=care,
                crop_plan=crops,
                crop_plan_en=crops_en,
                price_fen=price,
                max_plots=count,
            )
            for kind, partner, n in perks:
                await PlanPerk.create(plan=plan, kind=kind, partner=partner, count=n)
        running = await load_running_season(
            coop=coop, today=today, with_accounts=with_accounts, store=store
        )
        if with_accounts:  # development: a renewal window for the running season's families
            await load_next_season(coop=coop, running=running, today=today)
        return coop
