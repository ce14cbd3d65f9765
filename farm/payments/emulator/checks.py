"""Parameter checks Stripe makes before it does anything (pure functions, no store).

Each raises a `StripeError` worded like Stripe's, with `param` and, where Stripe has one, `code`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from farm.payments.emulator.errors import StripeError, invalid, missing, unknown


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Stripe's presentment currencies (docs.stripe.com/currencies), as the API wants them: lowercase.
CURRENCIES = _codes(
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob brl bsd bwp "
    "byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel "
    "gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jpy kes kgs khr kmf krw kyd kzt "
    "lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok "
    "npr nzd pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos "
    "srd std szl thb tjs top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer "
    "zar zmw"
)
ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")

# Stripe's table of minimum charge amounts, in minor units. CNY is not in the table: Stripe
# wants the equivalent of US$0.50, which is about ¥3.60; ¥4.00 keeps a margin for the rate.
MINIMUM_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "cny": 400,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
MAXIMUM_AMOUNT = 99_999_999  # "up to eight digits"

# Which currencies each payment method takes (Stripe's payment method pages).
METHOD_CURRENCIES = {
    "card": CURRENCIES,
    "alipay": _codes("cny aud cad eur gbp hkd jpy myr nzd sgd usd"),
    "wechat_pay": _codes("cny aud cad chf dkk eur gbp hkd jpy nok sek sgd usd"),
}
PAYMENT_METHOD_TYPES = tuple(METHOD_CURRENCIES)

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500

_SYMBOLS = {"cny": "¥", "jpy": "¥", "usd": "$", "eur": "€", "gbp": "£", "hkd": "HK$"}


def money(amount: int, currency: str) -> str:
    """How Stripe writes an amount in its messages: "¥4.00", "$0.50"."""
    symbol = _SYMBOLS.get(currency, "")
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount:,}"
    return f"{symbol}{amount / 100:,.2f}"


def only(params: Mapping[str, Any], accepted: Iterable[str], stripe_knows: Iterable[str]) -> None:
    """Refuse a parameter Stripe does not know (as Stripe does) or one it knows but this
    emulator does not model (so no test ever relies on it being ignored)."""
    accepted, stripe_knows = set(accepted), set(stripe_knows)
    for name in params:
        if name in accepted:
            continue
        if name in stripe_knows:
            raise invalid(f"The Stripe emulator does not model the parameter `{name}`.", param=name)
        raise unknown(name)


def integer(value: Any, param: str) -> int:
    """Form-encoded integers arrive as strings; Stripe refuses anything else."""
    if isinstance(value, bool):
        raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    raise invalid(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")


def boolean(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"Invalid boolean: {value}", param=param)


def currency(value: Any, param: str = "currency") -> str:
    if value is None or value == "":
        raise missing(param)
    if not isinstance(value, str) or value not in CURRENCIES:
        raise invalid(
            f"Invalid currency: {value}. Stripe currently supports these currencies: "
            + ", ".join(sorted(CURRENCIES)),
            param=param,
        )
    return value


def amount(value: Any, currency_code: str, param: str = "amount") -> int:
    """An amount to charge: an integer within the currency's minimum and Stripe's maximum."""
    if value is None or value == "":
        raise missing(param)
    number = integer(value, param)
    minimum = MINIMUM_AMOUNTS.get(currency_code, 1)
    if number < minimum:
        raise invalid(
            f"Amount must be at least {money(minimum, currency_code)} {currency_code}",
            param=param,
            code="amount_too_small",
        )
    if number > MAXIMUM_AMOUNT:
        raise invalid(
            f"Amount must be no more than {money(MAXIMUM_AMOUNT, currency_code)} {currency_code}",
            param=param,
            code="amount_too_large",
        )
    return number


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param=param)
    if len(value) > METADATA_MAX_KEYS:
        raise invalid(
            f"Invalid {param}: metadata can have at most {METADATA_MAX_KEYS} keys, "
            f"but {len(value)} were given.",
            param=param,
        )
    for key, item in value.items():
        if len(key) > METADATA_KEY_MAX or "[" in key or "]" in key:
            raise invalid(
                f"Invalid {param}: metadata keys must be at most {METADATA_KEY_MAX} "
                "characters and cannot contain '[' or ']'.",
                param=f"{param}[{key}]",
            )
        if not isinstance(item, str) or len(item) > METADATA_VALUE_MAX:
            raise invalid(
                f"Invalid {param}: metadata values must be strings of at most "
                f"{METADATA_VALUE_MAX} characters.",
                param=f"{param}[{key}]",
            )
    return dict(value)


def string(value: Any, param: str, *, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("Invalid string", param=param)
    if len(value) > max_length:
        raise invalid(
            f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
            param=param,
        )
    return value


def url(value: Any, param: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise invalid("Not a valid URL", param=param, code="url_invalid")
    return value


def choice(value: Any, param: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        raise invalid(f"Invalid {param}: must be one of {', '.join(options)}", param=param)
    return str(value)


def method_list(value: Any, param: str) -> list[str]:
    """A list of payment method types this emulator models (card, alipay, wechat_pay)."""
    if not isinstance(value, list) or not value:
        raise invalid("Invalid array", param=param)
    for index, name in enumerate(value):
        choice(name, f"{param}[{index}]", PAYMENT_METHOD_TYPES)
    return list(dict.fromkeys(value))


def payment_method_types(value: Any, currency_code: str) -> list[str]:
    """The types a PaymentIntent offers; each must take the intent's currency."""
    value = method_list(value, "payment_method_types")
    wrong = [name for name in value if currency_code not in METHOD_CURRENCIES[name]]
    if wrong:
        raise StripeError(
            400,
            f"The currency provided ({currency_code}) is invalid. Payment method types "
            f"{', '.join(wrong)} do not support this currency.",
            param="currency",
            code="payment_intent_invalid_parameter",
        )
    return list(dict.fromkeys(value))
