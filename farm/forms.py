"""Reading forms, one way: typed field readers, the one problem type, and the GET / POST /
422 / redirect cycle every form page goes through.

A reader takes the text typed into one field and returns its value, or raises `Problem`, whose
message (in the reader's language) is fit to show beside the field. `Form` collects one
problem per field while a service reads a whole form, then refuses it whole (`FieldErrors`,
422) or lets it through. `form_page` is the route's side: it shows the form, reads what was
posted (CSRF checked), calls the save, and either redirects (303) or shows the form again
with what was typed and the problems (422).

Readers are pure: no I/O, no clock. Money comes back in integer fen, weights in grams."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ParamSpec, TypeVar

from farm.errors import FieldErrors
from farm.i18n import _
from farm.phones import contact_phone, mobile_number
from farm.units import GRAMS_PER_KG, PIECES, format_yuan, plain_number

MAX_YUAN_FEN = 100_000_000  # ¥1,000,000: no price, rent or refund on this farm comes near
MAX_KG = Decimal(100_000)  # more than a hundred tonnes in one lot is a typo
MAX_HOURS = Decimal(24)  # one shift

_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", re.ASCII)
_GROUPED_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_WHOLE_RE = re.compile(r"-?[0-9]+", re.ASCII)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

P = ParamSpec("P")
T = TypeVar("T")


class Problem(ValueError):
    """What is wrong with a value typed: a short `code` for code to test (required, invalid,
    negative, zero, too_precise, too_large, too_small, too_long, ...) and a `message` fit to
    show beside the field, in the current language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _missing() -> Problem:
    return Problem("required", _("This field is required."))


# ---- readers: text in, a typed value out, or Problem ----


def text(value: str, *, limit: int, required: bool = False, one_line: bool = True) -> str:
    """Trimmed text of at most `limit` characters; "" when nothing was typed and that is
    allowed. One line (no line breaks or control characters) unless `one_line=False`."""
    cleaned = value.strip()
    if required and not cleaned:
        raise _missing()
    if len(cleaned) > limit:
        raise Problem("too_long", _("Use at most %(max)d characters.") % {"max": limit})
    allowed = "" if one_line else "\r\n\t"
    if any(not ch.isprintable() and ch not in allowed for ch in cleaned):
        raise Problem("invalid", _("Use one line of text without control characters."))
    return cleaned


def whole(value: str, *, low: int, high: int, message: str | None = None) -> int:
    """A whole number from `low` to `high` in ASCII digits. `message` words every refusal
    for this field, an empty one too (it gets low and high); by default, "a whole number from
    low to high", and "required" when nothing was typed."""
    cleaned = value.strip()
    said = (message or _("Enter a whole number from %(low)d to %(high)d.")) % {
        "low": low,
        "high": high,
    }
    if not cleaned:
        raise Problem("required", said) if message else _missing()
    if not _WHOLE_RE.fullmatch(cleaned) or len(cleaned) > 12:
        raise Problem("invalid", said)
    number = int(cleaned)
    if number < low:
        raise Problem("too_small", said)
    if number > high:
        raise Problem("too_large", said)
    return number


def _digits(value: str) -> tuple[str, bool]:
    """Plain digits with an optional decimal point, and whether a minus sign led them;
    thousands commas ('1,200') are dropped. Raises Problem for anything else: exponents, NaN,
    full-width digits."""
    cleaned = value.strip()
    if not cleaned:
        raise _missing()
    unsigned = cleaned.removeprefix("-")
    if _GROUPED_RE.fullmatch(unsigned):
        unsigned = unsigned.replace(",", "")
    if not _NUMBER_RE.fullmatch(unsigned):
        raise Problem("invalid", _("Enter a number."))
    return unsigned, cleaned.startswith("-")


def decimal(value: str, *, maximum: Decimal, places: int = 2, allow_zero: bool = False) -> Decimal:
    """'12.5' -> Decimal('12.50'): at most `places` decimals, above zero (or zero too when
    `allow_zero`), at most `maximum`."""
    cleaned, negative = _digits(value)
    if negative:
        raise Problem(
            "negative", _("Enter 0 or more.") if allow_zero else _("Enter a number above zero.")
        )
    if len(cleaned.split(".")[0].lstrip("0")) > 15 or len(cleaned) > 40:
        # Before Decimal arithmetic, whose precision is limited.
        raise _too_large(plain_number(maximum))
    number = Decimal(cleaned)
    step = Decimal(1).scaleb(-places)
    if number != number.quantize(step):
        raise Problem(
            "too_precise", _("Use at most %(places)d decimal places.") % {"places": places}
        )
    if number == 0 and not allow_zero:
        raise Problem("zero", _("Enter a number above zero."))
    if number > maximum:
        raise _too_large(plain_number(maximum))
    return number.quantize(step)


def _too_large(maximum: str) -> Problem:
    return Problem("too_large", _("This number is too large: at most %(max)s.") % {"max": maximum})


def yuan(
    value: str, *, maximum_fen: int = MAX_YUAN_FEN, allow_zero: bool = False, example: str = ""
) -> int:
    """An amount typed in yuan ('580', '580.50', '¥2,400') -> fen, exactly. Never float.
    `example`: what to say of a text that is no amount, for a field whose amounts look
    nothing like a plot's price (an hourly wage of 18.50)."""
    cleaned = value.strip().lstrip("¥￥").strip()
    try:
        number = decimal(cleaned, maximum=Decimal(maximum_fen) / 100, allow_zero=allow_zero)
    except Problem as problem:
        raise Problem(
            problem.code,
            {
                "required": problem.message,
                "negative": _("Enter 0 or more.")
                if allow_zero
                else _("Enter an amount above zero."),
                "zero": _("Enter an amount above zero."),
                "too_precise": _("An amount has at most 2 decimal places (fen)."),
                "too_large": _("This amount is too large: at most ¥%(max)s.")
                % {"max": format_yuan(maximum_fen)},
            }.get(problem.code, example or _("Enter the amount in yuan, like 580 or 580.50.")),
        ) from None
    return int(number * 100)


def kg(value: str, *, maximum: Decimal = MAX_KG) -> int:
    """A weight typed in kg ('12.5', '1,200') -> whole grams, at least one."""
    return int(decimal(value, maximum=maximum, places=3) * GRAMS_PER_KG)


MAX_PIECES = 100_000  # eggs in one lot: more is a typo


def amount(value: str, *, unit: str) -> int:
    """A harvest's amount as its crop is counted: kg typed ('12.5') -> whole grams, or a
    whole number of pieces for a crop counted in pieces (eggs). Both are stored in the same
    integer columns (farm/units.py amount_text shows them)."""
    if unit == PIECES:
        return whole(value, low=1, high=MAX_PIECES)
    return kg(value)


def hours(value: str, *, maximum: Decimal = MAX_HOURS) -> Decimal:
    """Hours worked, in quarters of an hour, above zero, at most a day."""
    number = decimal(value, maximum=maximum)
    if number * 4 != (number * 4).to_integral_value():
        raise Problem("too_precise", _("Count hours in quarters, like 1.25, 1.5 or 1.75."))
    return number


def day(value: str) -> date:
    """'2027-03-01' -> date; only that form (what a date box sends), and only years this
    farm could see."""
    cleaned = value.strip()
    if not cleaned:
        raise _missing()
    refused = Problem("invalid", _("Enter a date as YYYY-MM-DD, like 2027-03-01."))
    if not _DATE_RE.fullmatch(cleaned):
        raise refused
    try:
        found = date.fromisoformat(cleaned)
    except ValueError:
        raise refused from None
    if not 2000 <= found.year <= 2100:
        raise refused
    return found


def mobile(value: str) -> str:
    """A mainland mobile number as its 11 digits (farm.phones.mobile_number)."""
    if not value.strip():
        raise _missing()
    found = mobile_number(value)
    if found is None:
        raise Problem("invalid", _("Enter an 11-digit mainland mobile number."))
    return found


def phone(value: str) -> str:
    """A partner's contact phone as it will be shown (farm.phones.contact_phone); "" when
    none was given."""
    found = contact_phone(value)
    if found is None:
        raise Problem(
            "invalid",
            _("Enter a phone number: digits, spaces, - and a leading +, at most 32 characters."),
        )
    return found


def choice(value: str, choices: Collection[str], *, message: str) -> str:
    """One of `choices`, as sent; `message` says what to choose."""
    cleaned = value.strip()
    if cleaned not in choices:
        raise Problem("invalid" if cleaned else "required", message)
    return cleaned


# ---- a whole form ----


@dataclass
class Form:
    """Reads a form field by field, keeping the first problem of each; `check()` then refuses
    the form whole (FieldErrors, 422) if any field was wrong."""

    errors: dict[str, str] = field(default_factory=dict)

    def read(
        self, name: str, reader: Callable[P, T], *args: P.args, **options: P.kwargs
    ) -> T | None:
        """reader(*args, **options), or None with the problem kept under `name`."""
        try:
            return reader(*args, **options)
        except Problem as problem:
            self.refuse(name, problem.message)
            return None

    def refuse(self, name: str, message: str) -> None:
        """Say what is wrong with a field, unless something already was."""
        self.errors.setdefault(name, message)

    def __contains__(self, name: object) -> bool:
        return name in self.errors

    def __bool__(self) -> bool:
        return bool(self.errors)

    def check(self) -> None:
        if self.errors:
            raise FieldErrors(dict(self.errors))
