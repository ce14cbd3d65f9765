"""One way to page a manager's list: a Page of items, the page numbers a pager shows, and a
query helper that counts, clamps the page asked for, and fetches that page with OFFSET/LIMIT.

Offset paging, not keyset: a manager jumps to page N and sees "page N of M", the lists hold at
most about 100,000 rows (1,000 pages of 100), and every list's ORDER BY ends in an indexed
column with the id as tie-breaker, so the deepest page walks at most that many index entries
(a few milliseconds on PostgreSQL) and a page never changes order between two requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from tortoise.queryset import QuerySet

from farm.parsing import parse_id

T = TypeVar("T")
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 1-based, clamped into 1..pages
    size: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)

    @property
    def first_index(self) -> int:
        """The 1-based position of the first item shown (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0

    def numbers(self) -> list[int | None]:
        return page_numbers(self.number, self.pages)


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def clamp_page(number: int, pages: int) -> int:
    return min(max(number, 1), max(pages, 1))


def parse_page(raw: object) -> int:
    """?page= as typed: anything but a positive whole number is page 1; a page past the end is
    clamped by `paginate` to the last."""
    return parse_id(raw) or 1


def page_numbers(current: int, pages: int, *, around: int = 2) -> list[int | None]:
    """The page links a pager shows: the first, the last, and `around` pages either side of
    the current one; None where two or more pages are left out (shown as an ellipsis)."""
    if pages <= 1:
        return [1]
    current = clamp_page(current, pages)
    shown = {1, pages, *range(current - around, current + around + 1)}
    numbers: list[int | None] = []
    previous = 0
    for n in sorted(p for p in shown if 1 <= p <= pages):
        if n - previous == 2:  # an ellipsis would hide one page: show it instead
            numbers.append(n - 1)
        elif n - previous > 2:
            numbers.append(None)
        numbers.append(n)
        previous = n
    return numbers


async def paginate(
    query: QuerySet[Any],
    *,
    page: int,
    size: int,
    order_by: Sequence[str],
    fetch: Callable[[QuerySet[Any]], Awaitable[list[T]]] | None = None,
    total: int | None = None,
) -> Page[T]:
    """Count the query's rows (unless the caller knows `total`), clamp `page` into range, and
    fetch that page in `order_by` order (end it with a unique column: 'id' or '-id'). `fetch`
    turns the sliced query into items (e.g. `.values(...)`, `.prefetch_related(...)`, or
    `ids_then` for joins); by default, model objects."""
    if total is None:
        total = await query.count()
    number = clamp_page(page, page_count(total, size))
    sliced = query.order_by(*order_by).offset((number - 1) * size).limit(size)
    items: list[T] = list(await (fetch(sliced) if fetch else sliced))
    return Page(items=items, number=number, size=size, total=total)


@dataclass(frozen=True)
class DaySpan:
    """A date filter as typed: from and to, both days included; `problem` says what was not
    a date (that bound is then left out, and the page says so)."""

    since: date | None = None
    until: date | None = None  # included
    problem: bool = False

    @property
    def until_exclusive(self) -> date | None:
        return self.until + timedelta(days=1) if self.until else None


def parse_day_span(since: object, until: object) -> DaySpan:
    def day(raw: object) -> tuple[date | None, bool]:
        text = str(raw or "").strip()
        if not text:
            return None, False
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None, True
        return (value, False) if date(1900, 1, 1) <= value <= date(2999, 12, 31) else (None, True)

    first, bad_first = day(since)
    last, bad_last = day(until)
    if first and last and last < first:
        first, last = last, first
    return DaySpan(first, last, bad_first or bad_last)


def search_text(raw: object, limit: int = 60) -> str:
    """A search box's text: trimmed, without control characters, at most `limit` long."""
    text = "".join(ch for ch in str(raw or "") if ch.isprintable()).strip()
    return text[:limit]


def ids_then(
    model: Any, columns: Sequence[str]
) -> Callable[[QuerySet[Any]], Awaitable[list[dict]]]:
    """A `fetch` for pages whose rows join other tables: the page's ids first (the offset is
    walked in one index, without the joins), then the joined columns of those ids only."""

    async def fetch(sliced: QuerySet[Any]) -> list[dict]:
        ids = list(await sliced.values_list("id", flat=True))
        if not ids:
            return []
        wanted = ["id", *(c for c in columns if c != "id")]
        rows = {r["id"]: r for r in await model.filter(id__in=ids).values(*wanted)}
        return [rows[i] for i in ids if i in rows]

    return fetch
