"""`farm web` takes its database pool size and access log from the configuration."""

import pytest

from farm.settings import SettingsError, load_settings

DEV = {"FARM_ENV": "development"}
PG = "postgres://farm@db:5432/farm"


def test_by_default_each_worker_pools_ten_connections_and_logs_no_access_lines():
    settings = load_settings({**DEV, "FARM_DATABASE_URL": PG})
    assert settings.db_pool_size == 10 and settings.access_log is False
    assert settings.pooled_db_url == f"{PG}?maxsize=10"


def test_the_pool_size_and_access_log_are_read_from_the_environment():
    settings = load_settings(
        {**DEV, "FARM_DATABASE_URL": f"{PG}?ssl=require", "FARM_DB_POOL_SIZE": "24",
         "FARM_ACCESS_LOG": "true"}
    )  # fmt: skip
    assert settings.access_log is True
    assert settings.pooled_db_url == f"{PG}?ssl=require&maxsize=24"


def test_a_pool_size_written_in_the_database_url_wins():
    settings = load_settings({**DEV, "FARM_DATABASE_URL": f"{PG}?maxsize=3"})
    assert settings.pooled_db_url == f"{PG}?maxsize=3"


def test_sqlite_has_no_pool_to_size():
    settings = load_settings({**DEV, "FARM_DB_POOL_SIZE": "30"})
    assert settings.pooled_db_url == settings.db_url == "sqlite://data/farm.sqlite3"


@pytest.mark.parametrize("size", ["0", "101", "many"])
def test_a_pool_size_out_of_range_or_not_a_number_is_refused(size):
    with pytest.raises((SettingsError, ValueError)):
        load_settings({**DEV, "FARM_DB_POOL_SIZE": size})


def test_an_access_log_setting_that_is_not_a_boolean_is_refused():
    with pytest.raises(ValueError):
        load_settings({**DEV, "FARM_ACCESS_LOG": "sometimes"})
