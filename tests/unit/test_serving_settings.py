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


def test_a_pool_size_is_read_from_the_url_and_sqlite_counts_as_one():
    from farm.db import pool_size_of

    assert pool_size_of(f"{PG}?ssl=require&maxsize=24") == 24
    assert pool_size_of(f"{PG}?maxsize=3") == 3
    assert pool_size_of("sqlite:///tmp/farm.sqlite3") == 1


def test_workers_whose_pools_pass_postgres_max_connections_are_warned_with_a_size_that_fits():
    from farm.db import pool_budget_problem

    assert pool_budget_problem(2, 10, 100, 3) is None  # the default: 20 of 92
    assert pool_budget_problem(4, 23, 100, 3) is None  # 92 of 92
    problem = pool_budget_problem(4, 30, 100, 3)  # what broke CI: 120 of 92
    assert problem and "120" in problem and "FARM_DB_POOL_SIZE to 23" in problem
