import secrets

import pytest

from farm import i18n
from farm.settings import (
    DEV_PUBLISHABLE_KEY,
    DEV_SECRET_KEY,
    DEV_WEBHOOK_SECRET,
    SettingsError,
    load_settings,
)


def test_development_needs_no_other_configuration_and_uses_sqlite_in_the_data_folder():
    settings = load_settings({"FARM_ENV": "development"})
    assert settings.is_development
    assert settings.db_url == "sqlite://data/farm.sqlite3"


def test_with_no_environment_set_the_service_fails_closed_as_production():
    with pytest.raises(SettingsError) as err:
        load_settings({})
    assert "production" in str(err.value)


def test_production_refuses_placeholder_and_missing_secrets():
    with pytest.raises(SettingsError) as err:
        load_settings({"FARM_ENV": "production", "FARM_SECRET_KEY": "change-me"})
    message = str(err.value)
    assert "FARM_SECRET_KEY" in message and "FARM_STRIPE_WEBHOOK_SECRET" in message


# Production settings as an operator gives them. The secrets are made afresh for each run:
# a secret written here would ship in the repository, and production must not start with
# anything that does (an attack re-run started the service with this file's old literals).
_ACCOUNT = secrets.token_urlsafe(24)
REAL = {
    "FARM_ENV": "production",
    "FARM_SECRET_KEY": secrets.token_urlsafe(32),
    "FARM_DATABASE_URL": "postgres://farm@db/farm",
    "FARM_STRIPE_SECRET_KEY": f"sk_live_{_ACCOUNT}",
    "FARM_STRIPE_PUBLISHABLE_KEY": f"pk_live_{_ACCOUNT}",
    "FARM_STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_urlsafe(24)}",
    "FARM_SMTP_HOST": "smtp.example.com",
}


def test_production_starts_when_every_secret_is_real():
    settings = load_settings(REAL)
    assert settings.db_url == "postgres://farm@db/farm"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FARM_SECRET_KEY", "s" * 40),  # long, but one character
        ("FARM_SECRET_KEY", "kq3V9xZr7LmT2bWc8YdN4pHs6JfG1aQ"),  # 31 characters
        ("FARM_SECRET_KEY", "t" * 40),  # the tests' own
        ("FARM_SECRET_KEY", "change-me-kq3V9xZr7LmT2bWc8YdN4pHs6JfG1aQe"),
        ("FARM_STRIPE_SECRET_KEY", DEV_SECRET_KEY),  # the emulator's, in this repository
        ("FARM_STRIPE_SECRET_KEY", "sk_test_sale_bench"),  # a benchmark's
        ("FARM_STRIPE_SECRET_KEY", "kq3V9xZr7LmT2bWc8YdN4pHs6JfG1aQeZr7xx"),  # not a Stripe key
        ("FARM_STRIPE_PUBLISHABLE_KEY", DEV_PUBLISHABLE_KEY),
        ("FARM_STRIPE_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
        ("FARM_STRIPE_WEBHOOK_SECRET", "whsec_x"),
    ],
)
def test_production_refuses_a_secret_that_ships_in_the_repository_or_is_short_or_plain(name, value):
    with pytest.raises(SettingsError) as err:
        load_settings({**REAL, name: value})
    assert name in str(err.value)
    assert value not in str(err.value)  # the message never repeats a secret


def test_unknown_environment_is_refused():
    with pytest.raises(SettingsError):
        load_settings({"FARM_ENV": "staging"})


@pytest.mark.parametrize(
    ("header", "language"),
    [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("fr;q=1,en;q=0.5", "en"),
     ("fr", None), (None, None), ("en;q=0.2,zh-TW;q=0.8", "zh_CN")],
)  # fmt: skip
def test_accept_language_picks_the_best_supported_language(header, language):
    assert i18n.from_accept_language(header) == language


def test_texts_are_chinese_by_default_and_english_on_request():
    with i18n.use_language("zh_CN"):
        assert i18n._("Log in") == "登录"
    with i18n.use_language("en"):
        assert i18n._("Log in") == "Log in"


def test_the_local_date_is_the_cooperatives_day_not_utcs():
    from datetime import UTC, date, datetime

    from farm.settings import Settings

    evening_utc = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 December in Anhui
    assert Settings(timezone="Asia/Shanghai").local_date(evening_utc) == date(2026, 12, 1)
    assert Settings(timezone="UTC").local_date(evening_utc) == date(2026, 11, 30)
