"""In development, mailed links and QR codes point at the address actually served."""

from farm import cli
from farm.settings import load_settings


def test_development_without_a_base_url_takes_links_from_the_request_and_never_production():
    assert load_settings({"FARM_ENV": "development"}).base_url_from_request
    told = load_settings({"FARM_ENV": "development", "FARM_BASE_URL": "http://farm.lan:9000/"})
    assert not told.base_url_from_request and told.base_url == "http://farm.lan:9000"
    production = {"FARM_ENV": "production", "FARM_SECRET_KEY": "x" * 40}
    assert not cli_settings_flag(production)


def cli_settings_flag(environ: dict[str, str]) -> bool:
    try:
        return load_settings(environ).base_url_from_request
    except Exception:  # noqa: BLE001 - production refuses the other missing secrets: not the flag
        return False


def test_farm_dev_and_web_on_another_port_set_the_base_url_in_development_only(monkeypatch):
    monkeypatch.setenv("FARM_ENV", "development")
    monkeypatch.delenv("FARM_BASE_URL", raising=False)
    cli._serve_links_on("0.0.0.0", 8123)
    assert load_settings().base_url == "http://127.0.0.1:8123"
    cli._serve_links_on("127.0.0.1", 9000)  # an explicit FARM_BASE_URL is never overridden
    assert load_settings().base_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("FARM_ENV", "production")
    monkeypatch.delenv("FARM_BASE_URL")
    cli._serve_links_on("127.0.0.1", 8123)
    assert "FARM_BASE_URL" not in __import__("os").environ
