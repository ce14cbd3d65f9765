"""Pure rules for subscriptions: reservations, cancellation and refunds. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from farm import forms
from farm.i18n import _
from farm.land.rules import cutoff_for


def reservation_expires_at(*, now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


def is_lapsed(*, expires_at: datetime | None, now: datetime) -> bool:
    """A claim with no expiry is a paid subscription's and never lapses."""
    return expires_at is not None and expires_at <= now


@dataclass(frozen=True)
class RefundQuote:
    refund_fen: int
    undelivered: int
    total: int
    before_start: bool


def refund_quote(
    *,
    price_fen: int,
    starts_on: date,
    ends_on: date,
    ship_days: list[date],
    cutoff_days: int,
    today: date,
    empty_days: Collection[date] = (),
) -> RefundQuote | None:
    """What a cancellation today gives back, or None when it is too late to cancel.

    Before the season starts: everything. After: the share of ship days whose cutoff has not
    passed (those boxes are not yet being packed), rounded down to the fen. Only ship days
    that are sent count: `ship_days` are the season's as they now fall (skipped ones gone),
    and a past ship day with nothing to send this subscriber (`empty_days`) is left out.
    """
    if today >= ends_on:
        return None
    ship_days = [d for d in ship_days if d not in empty_days]
    total = len(ship_days)
    if today < starts_on:
        return RefundQuote(price_fen, total, total, True)
    undelivered = sum(1 for d in ship_days if today <= cutoff_for(d, cutoff_days))
    if total == 0 or undelivered == 0:
        return None
    return RefundQuote(price_fen * undelivered // total, undelivered, total, False)


# Provincial-level divisions of China, as a delivery address names them.
PROVINCES: dict[str, str] = {
    "北京": "Beijing", "天津": "Tianjin", "河北": "Hebei", "山西": "Shanxi",
    "内蒙古": "Inner Mongolia", "辽宁": "Liaoning", "吉林": "Jilin", "黑龙江": "Heilongjiang",
    "上海": "Shanghai", "江苏": "Jiangsu", "浙江": "Zhejiang", "安徽": "Anhui",
    "福建": "Fujian", "江西": "Jiangxi", "山东": "Shandong", "河南": "Henan",
    "湖北": "Hubei", "湖南": "Hunan", "广东": "Guangdong", "广西": "Guangxi",
    "海南": "Hainan", "重庆": "Chongqing", "四川": "Sichuan", "贵州": "Guizhou",
    "云南": "Yunnan", "西藏": "Tibet", "陕西": "Shaanxi", "甘肃": "Gansu",
    "青海": "Qinghai", "宁夏": "Ningxia", "新疆": "Xinjiang", "香港": "Hong Kong",
    "澳门": "Macau", "台湾": "Taiwan",
}  # fmt: skip


def read_address(
    *, recipient: str, phone: str, province: str, city: str, address: str
) -> dict[str, str]:
    """A delivery address as typed, clean (the phone as its 11 digits), or FieldErrors with
    a message beside each wrong field."""
    form = forms.Form()
    clean = {
        "recipient": form.read("recipient", forms.text, recipient, limit=60, required=True),
        "phone": form.read("phone", forms.mobile, phone),
        "province": form.read(
            "province", forms.choice, province, PROVINCES, message=_("Choose a province.")
        ),
        "city": form.read("city", forms.text, city, limit=40, required=True),
        "address": form.read("address", forms.text, address, limit=200, required=True),
    }
    form.check()
    return {name: value or "" for name, value in clean.items()}


def locked_ship_day(days: Sequence[date], *, cutoff_days: int, today: date) -> date | None:
    """The ship day now past its cutoff but not yet past: its box is being packed, so the
    delivery address must not change until it has gone."""
    return next(
        (d for d in days if cutoff_for(d, cutoff_days) < today <= d),
        None,
    )


def relapse_ends_at(*, lapsed_at: datetime, minutes: int) -> datetime:
    """When a customer who let their hold on a plot lapse at `lapsed_at` may hold it again
    (hoarders renewed holds every 15 minutes; a family that was too slow waits a little)."""
    return lapsed_at + timedelta(minutes=minutes)
