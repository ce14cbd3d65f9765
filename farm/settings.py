"""Settings: read once from FARM_* environment variables into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.config import Config
from starlette.datastructures import Secret

PLACEHOLDER = "change-me"
# Stripe stand-ins for development, the emulator and the tests: public, in this repository,
# and so refused in production (check_settings).
DEV_WEBHOOK_SECRET = "whsec_farm_development_only"  # noqa: S105 - emulator only
DEV_SECRET_KEY = "sk_test_farm_local"  # noqa: S105 - emulator only
DEV_PUBLISHABLE_KEY = "pk_test_farm_local"
# A secret that someone could have read here, in the README or in the tests' and benchmarks'
# code, or guessed, is no secret: production refuses these and anything containing them.
SHIPPED_SECRETS = (PLACEHOLDER, DEV_WEBHOOK_SECRET, DEV_SECRET_KEY, "farm_local", "bench")
MIN_SECRET_CHARS = 32
# How mail reaches the SMTP server, and the port each uses unless FARM_SMTP_PORT says.
SMTP_PORTS = {"starttls": 587, "tls": 465, "plain": 25}
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
DEVELOPMENT = "development"
PRODUCTION = "production"
ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """The environment does not describe a runnable service."""


@dataclass(frozen=True)
class Settings:
    environment: str = DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite in data_dir
    secret_key: Secret = field(default_factory=lambda: Secret(PLACEHOLDER))
    base_url: str = "http://127.0.0.1:8000"
    # Development without FARM_BASE_URL: the web app's mailed links and QR codes use the
    # address each request came to (a server on another port, or reached by its LAN address).
    base_url_from_request: bool = False
    reservation_minutes: int = 15
    default_language: str = "zh_CN"
    timezone: str = "Asia/Shanghai"  # how times are shown to people
    # Stripe. Empty keys in development mean: use the local emulator.
    stripe_secret_key: Secret = field(default_factory=lambda: Secret(""))
    stripe_publishable_key: str = ""
    stripe_webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    stripe_api_base: str = ""  # e.g. http://127.0.0.1:8420 for localstripe
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # A waiting page's poll asks Stripe about one payment at most this often (farm/payments/
    # polling.py); in between, our row, which the webhook updates, answers.
    stripe_poll_seconds: int = 20
    # Each call to Stripe waits at most this long for an answer, and is sent at most twice.
    stripe_timeout_seconds: float = 8.0
    # Mail: an SMTP host in production, else the outbox folder under data_dir. Security:
    # "starttls" (port 587 by default), "tls" (implicit TLS, port 465) or "plain" (port 25,
    # only to a relay on this host); smtp_ca_file: a CA bundle to check the server against
    # instead of the system's.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_ca_file: str = ""
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    mail_from: str = "noreply@farm.example"
    login_attempts_before_delay: int = 5
    # Hoarding: a new customer confirms their email before reserving (None: on in production,
    # off in development and tests); reservations per client address an hour (0: no limit);
    # minutes before a customer may hold again a plot whose hold they let lapse.
    require_email_confirmation: bool | None = None
    reservations_per_address: int = 20
    relapse_minutes: int = 30
    # Serving: database connections per web worker (PostgreSQL), and uvicorn's access log
    # (off by default: at a sale it costs a log line per request; a proxy logs them anyway).
    db_pool_size: int = 10
    access_log: bool = False
    # Where photos and documents are kept (farm/storage.py): the data folder, or a bucket of
    # an S3-compatible store shared by every machine.
    storage: str = "local"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: Secret = field(default_factory=lambda: Secret(""))
    s3_addressing_style: str = "auto"  # "path" for most MinIO setups, "virtual" for OSS

    def local_date(self, now: datetime) -> date:
        """The calendar day at `now` where the cooperative is: seasons, sale windows, ship
        days and cutoffs are local dates. The one place a date is taken from the clock."""
        return now.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def confirms_email(self) -> bool:
        """Whether a new customer must confirm their email before reserving."""
        if self.require_email_confirmation is None:
            return not self.is_development
        return self.require_email_confirmation

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over https: always in production, whatever FARM_BASE_URL says (the
        proxy in front terminates TLS), and in development when the base URL is https."""
        return not self.is_development or self.base_url.startswith("https://")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite://{(self.data_dir / 'farm.sqlite3').as_posix()}"

    @property
    def pooled_db_url(self) -> str:
        """The database URL with the pool size, unless the URL sets one itself."""
        url = self.db_url
        if not url.startswith(("postgres://", "postgresql://")) or "maxsize=" in url:
            return url
        return f"{url}{'&' if '?' in url else '?'}maxsize={self.db_pool_size}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _optional_bool(text: str) -> bool | None:
    """'' is None (the environment's default); else true/false as Starlette's Config reads."""
    if not text.strip():
        return None
    if text.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if text.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise SettingsError("FARM_REQUIRE_EMAIL_CONFIRMATION must be true or false")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from FARM_* variables; refuse placeholder secrets outside development."""
    config = Config(environ=dict(environ) if environ is not None else os.environ)
    # Production unless told otherwise: a forgotten variable must fail closed (real secrets
    # required, no development outbox), never open. `farm dev` sets development itself.
    environment = config("FARM_ENV", default=PRODUCTION)
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"FARM_ENV must be one of {', '.join(ENVIRONMENTS)}")
    smtp_security = config("FARM_SMTP_SECURITY", default="starttls").strip().lower()
    settings = Settings(
        environment=environment,
        data_dir=Path(config("FARM_DATA_DIR", default="data")),
        database_url=config("FARM_DATABASE_URL", default=""),
        secret_key=config("FARM_SECRET_KEY", cast=Secret, default=PLACEHOLDER),
        base_url=config("FARM_BASE_URL", default="http://127.0.0.1:8000").rstrip("/"),
        base_url_from_request=(
            environment in ("development", "test") and not config("FARM_BASE_URL", default="")
        ),
        reservation_minutes=config("FARM_RESERVATION_MINUTES", cast=int, default=15),
        default_language=config("FARM_DEFAULT_LANGUAGE", default="zh_CN"),
        timezone=config("FARM_TIMEZONE", default="Asia/Shanghai"),
        stripe_secret_key=config("FARM_STRIPE_SECRET_KEY", cast=Secret, default=""),
        stripe_publishable_key=config("FARM_STRIPE_PUBLISHABLE_KEY", default=""),
        stripe_webhook_secret=config("FARM_STRIPE_WEBHOOK_SECRET", cast=Secret, default=""),
        stripe_api_base=config("FARM_STRIPE_API_BASE", default="").rstrip("/"),
        stripe_js_url=config("FARM_STRIPE_JS_URL", default="https://js.stripe.com/v3/"),
        stripe_poll_seconds=config("FARM_STRIPE_POLL_SECONDS", cast=int, default=20),
        stripe_timeout_seconds=config("FARM_STRIPE_TIMEOUT_SECONDS", cast=float, default=8.0),
        smtp_host=config("FARM_SMTP_HOST", default=""),
        smtp_port=config("FARM_SMTP_PORT", cast=int, default=SMTP_PORTS.get(smtp_security, 587)),
        smtp_security=smtp_security,
        smtp_ca_file=config("FARM_SMTP_CA_FILE", default=""),
        smtp_user=config("FARM_SMTP_USER", default=""),
        smtp_password=config("FARM_SMTP_PASSWORD", cast=Secret, default=""),
        mail_from=config("FARM_MAIL_FROM", default="noreply@farm.example"),
        db_pool_size=config("FARM_DB_POOL_SIZE", cast=int, default=10),
        access_log=config("FARM_ACCESS_LOG", cast=bool, default=False),
        storage=config("FARM_STORAGE", default="local"),
        s3_bucket=config("FARM_S3_BUCKET", default=""),
        s3_prefix=config("FARM_S3_PREFIX", default=""),
        s3_endpoint_url=config("FARM_S3_ENDPOINT_URL", default="").rstrip("/"),
        s3_region=config("FARM_S3_REGION", default=""),
        s3_access_key_id=config("FARM_S3_ACCESS_KEY_ID", default=""),
        s3_secret_access_key=config("FARM_S3_SECRET_ACCESS_KEY", cast=Secret, default=""),
        s3_addressing_style=config("FARM_S3_ADDRESSING_STYLE", default="auto"),
        require_email_confirmation=_optional_bool(
            config("FARM_REQUIRE_EMAIL_CONFIRMATION", default="")
        ),
        reservations_per_address=config("FARM_RESERVATIONS_PER_ADDRESS", cast=int, default=20),
        relapse_minutes=config("FARM_RELAPSE_MINUTES", cast=int, default=30),
    )
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    if settings.reservation_minutes < 1:
        raise SettingsError("FARM_RESERVATION_MINUTES must be at least 1")
    if settings.reservations_per_address < 0 or settings.relapse_minutes < 0:
        raise SettingsError(
            "FARM_RESERVATIONS_PER_ADDRESS and FARM_RELAPSE_MINUTES must be 0 or more"
        )
    if settings.stripe_poll_seconds < 0:
        raise SettingsError("FARM_STRIPE_POLL_SECONDS must be 0 or more")
    if not 0.1 <= settings.stripe_timeout_seconds <= 30:
        raise SettingsError("FARM_STRIPE_TIMEOUT_SECONDS must be between 0.1 and 30")
    if not 1 <= settings.db_pool_size <= 100:
        raise SettingsError("FARM_DB_POOL_SIZE must be between 1 and 100")
    check_storage(settings)
    if settings.smtp_security not in SMTP_PORTS:
        raise SettingsError("FARM_SMTP_SECURITY must be one of " + ", ".join(SMTP_PORTS))
    if (
        settings.smtp_security == "plain"
        and settings.smtp_host
        and settings.smtp_host not in LOCAL_HOSTS
    ):
        raise SettingsError(
            "FARM_SMTP_SECURITY=plain sends passwords and mail unencrypted: only to a relay "
            "on this host (FARM_SMTP_HOST=127.0.0.1 or localhost)"
        )
    if settings.is_development:
        return
    missing = []
    if not _random_enough(str(settings.secret_key), prefixes=("",)):
        missing.append(f"FARM_SECRET_KEY ({MIN_SECRET_CHARS}+ random characters of your own)")
    if not _random_enough(str(settings.stripe_secret_key), prefixes=("sk_", "rk_")):
        missing.append("FARM_STRIPE_SECRET_KEY (your account's sk_live_… or sk_test_…)")
    if not settings.stripe_publishable_key.startswith("pk_") or any(
        shipped in settings.stripe_publishable_key
        for shipped in (*SHIPPED_SECRETS, DEV_PUBLISHABLE_KEY)
    ):
        missing.append("FARM_STRIPE_PUBLISHABLE_KEY (your account's pk_…)")
    if not _random_enough(str(settings.stripe_webhook_secret), prefixes=("whsec_",)):
        missing.append("FARM_STRIPE_WEBHOOK_SECRET (the endpoint's whsec_…)")
    if not settings.smtp_host:
        missing.append("FARM_SMTP_HOST")
    if settings.storage == "s3" and not (
        settings.s3_access_key_id and str(settings.s3_secret_access_key)
    ):
        missing.append("FARM_S3_ACCESS_KEY_ID and FARM_S3_SECRET_ACCESS_KEY (the bucket's key)")
    if missing:
        raise SettingsError(f"{settings.environment} needs real values for: " + "; ".join(missing))


def check_storage(settings: Settings) -> None:
    """FARM_STORAGE names a back end, and a bucket needs its name in every environment."""
    if settings.storage not in ("local", "s3"):
        raise SettingsError("FARM_STORAGE must be local or s3")
    if settings.s3_addressing_style not in ("auto", "path", "virtual"):
        raise SettingsError("FARM_S3_ADDRESSING_STYLE must be auto, path or virtual")
    if settings.storage == "s3" and not settings.s3_bucket:
        raise SettingsError("FARM_STORAGE=s3 needs FARM_S3_BUCKET (the bucket's name)")


def _random_enough(secret: str, *, prefixes: tuple[str, ...]) -> bool:
    """A secret with one of its kind's prefixes and, after it, MIN_SECRET_CHARS or more
    characters of at least 10 different ones (what a password manager, `openssl rand` or
    Stripe gives), none of the values that ship in this repository."""
    prefix = next((p for p in prefixes if secret.startswith(p)), None)
    if prefix is None:
        return False
    body = secret[len(prefix) :]
    return (
        len(body) >= MIN_SECRET_CHARS
        and len(set(body)) >= 10
        and not any(shipped in secret for shipped in SHIPPED_SECRETS)
    )
