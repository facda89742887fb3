"""Settings: the one module that reads the environment.

Every setting is an environment variable named in ``ENVIRONMENT``; a malformed value, or an
unknown ``MARKET_*`` variable (usually a typo), stops start-up with a message naming it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

ROOT = Path(__file__).resolve().parent.parent.parent

StorageBackend = Literal["local", "s3"]
PaymentBackend = Literal["offline", "stripe"]
MailBackend = Literal["local", "smtp"]
SmsBackend = Literal["local", "http"]
LogFormat = Literal["console", "json"]
Positive = Annotated[int, msgspec.Meta(gt=0)]


class SettingsError(Exception):
    """A setting is missing, unknown or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    data_dir_name: str = "var"
    secret_key: str = ""
    debug: bool = False
    log_format: LogFormat = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    # The OCDS prefix of the publisher's contracting process ids (open data, /api/ocds): "ocds-" and six
    # characters, registered with the Open Contracting Partnership for a deployment that publishes.
    ocds_prefix: Annotated[str, msgspec.Meta(pattern=r"^ocds-[a-z0-9]{6}$")] = "ocds-market"
    secure_cookies: bool = False
    session_hours: Positive = 12
    login_max_failures: Positive = 5
    login_lockout_minutes: Positive = 15
    login_address_max_failures: Positive = 30
    db_pool_min: Annotated[int, msgspec.Meta(ge=0)] = 1
    # Above the 16 clients `market bench api` uses: a request holds its connection while its page
    # renders, so a pool smaller than the requests in flight makes them queue for a connection.
    db_pool_max: Positive = 20
    statements_file: str | None = None

    storage_backend: StorageBackend = "local"
    storage_dir: str | None = None
    s3_bucket: str = "market"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    max_upload_bytes: Positive = 20 * 1024 * 1024
    file_link_seconds: Positive = 300
    notify_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 30

    payment_backend: PaymentBackend = "offline"
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    stripe_retries: Annotated[int, msgspec.Meta(ge=0, le=5)] = 2

    mail_backend: MailBackend = "local"
    mail_from: str = "公益服务市场 <no-reply@market.local>"
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, msgspec.Meta(gt=0, lt=65536)] = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    matching_weights: str = ""
    milestone_early_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 7
    report_grace_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 15
    standing_bar_grade: Literal["B", "C"] = "C"
    standing_bar_months: Annotated[int, msgspec.Meta(ge=0, le=120)] = 12
    rectification_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30
    rectification_escalate_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 14
    pledge_pay_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30
    test_clock: bool = False

    survey_threshold_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] = 80
    sms_backend: SmsBackend = "local"
    sms_api_url: str | None = None
    sms_api_key: str | None = None
    sms_sender: str = "market"
    sms_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 10.0
    sms_code_minutes: Annotated[int, msgspec.Meta(ge=1, le=60)] = 10
    sms_per_number_per_hour: Positive = 3
    sms_per_address_per_hour: Positive = 20

    @property
    def data_dir(self) -> Path:
        return Path(self.data_dir_name).resolve()

    @property
    def local_storage_dir(self) -> Path:
        return Path(self.storage_dir).resolve() if self.storage_dir else self.data_dir / "files"


# Environment variable → (field, one-line description for the README and `market settings`).
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("database_url", "PostgreSQL URL; unset = embedded PostgreSQL in $MARKET_DATA_DIR/pg"),
    "MARKET_DATA_DIR": ("data_dir_name", "where the embedded PostgreSQL, local files and local mail live (default ./var)"),
    "MARKET_SECRET_KEY": ("secret_key", "signs sessions, CSRF tokens and file links; required when DATABASE_URL is set"),
    "MARKET_DEBUG": ("debug", "true shows tracebacks on error pages and reads a template again when its file changes (never in production)"),
    "MARKET_LOG_FORMAT": ("log_format", "console (default) or json"),
    "MARKET_LOG_LEVEL": ("log_level", "debug, info (default), warning or error"),
    "MARKET_TIMEZONE": ("timezone", "time zone dates are shown in (default Asia/Shanghai)"),
    "MARKET_BASE_URL": ("base_url", "public address, used in emailed links (default http://127.0.0.1:8000)"),
    "MARKET_OCDS_PREFIX": ("ocds_prefix", "the OCDS prefix of the open data's process ids, registered with the Open "
                           "Contracting Partnership (default ocds-market)"),
    "MARKET_SECURE_COOKIES": ("secure_cookies", "true behind HTTPS: cookies get the Secure flag"),
    "MARKET_SESSION_HOURS": ("session_hours", "how long a log-in lasts (default 12)"),
    "MARKET_LOGIN_MAX_FAILURES": ("login_max_failures", "failed log-ins before an account is locked (default 5)"),
    "MARKET_LOGIN_LOCKOUT_MINUTES": ("login_lockout_minutes", "how long the lock lasts (default 15)"),
    "MARKET_LOGIN_ADDRESS_MAX_FAILURES": ("login_address_max_failures", "failed log-ins from one client address, "
                                          "to any accounts, before it must wait out the lock time (default 30)"),
    "MARKET_DB_POOL_MIN": ("db_pool_min", "database connections kept open per process (default 1)"),
    "MARKET_DB_POOL_MAX": ("db_pool_max", "most database connections per process (default 20; each process's pool counts "
                           "against PostgreSQL's max_connections, 100 by default)"),
    "MARKET_STATEMENTS_FILE": ("statements_file", "benchmarks only (`market bench api`): each request sent with "
                               "the header x-record-statements is answered with how many statements it ran "
                               "(x-statements), and they are appended, with their arguments, to this file; unset "
                               "(default) records nothing"),
    "MARKET_STORAGE_BACKEND": ("storage_backend", "local (default) or s3"),
    "MARKET_STORAGE_DIR": ("storage_dir", "local backend directory (default $MARKET_DATA_DIR/files)"),
    "MARKET_S3_BUCKET": ("s3_bucket", "S3 bucket (default market)"),
    "MARKET_S3_ENDPOINT_URL": ("s3_endpoint_url", "S3 API endpoint, for any S3-compatible store"),
    "MARKET_S3_REGION": ("s3_region", "S3 region (default us-east-1)"),
    "MARKET_S3_ACCESS_KEY_ID": ("s3_access_key_id", "S3 credentials; unset = boto3's usual credential chain"),
    "MARKET_S3_SECRET_ACCESS_KEY": ("s3_secret_access_key", "S3 credentials"),
    "MARKET_MAX_UPLOAD_BYTES": ("max_upload_bytes", "largest accepted upload (default 20 MiB)"),
    "MARKET_FILE_LINK_SECONDS": ("file_link_seconds", "lifetime of a private file link (default 300)"),
    "MARKET_NOTIFY_SECONDS": ("notify_seconds", "how often each process emails pending notifications and "
                              "queues deadline reminders (default 30; 0 turns it off)"),
    "MARKET_PAYMENT_BACKEND": ("payment_backend", "offline (default) or stripe"),
    "MARKET_STRIPE_API_KEY": ("stripe_api_key", "Stripe secret key, for the stripe backend"),
    "MARKET_STRIPE_WEBHOOK_SECRET": ("stripe_webhook_secret", "Stripe webhook signing secret"),
    "MARKET_STRIPE_API_BASE": ("stripe_api_base", "override Stripe's API address (tests use a local stand-in)"),
    "MARKET_STRIPE_TIMEOUT_SECONDS": ("stripe_timeout_seconds", "how long to wait for Stripe before telling the "
                                      "payer to try again (default 10)"),
    "MARKET_STRIPE_RETRIES": ("stripe_retries", "retries of a failed Stripe request, each with the same "
                              "idempotency key (default 2)"),
    "MARKET_MAIL_BACKEND": ("mail_backend", "local (default: .eml files in $MARKET_DATA_DIR/mail) or smtp"),
    "MARKET_MAIL_FROM": ("mail_from", "sender address of outgoing mail"),
    "MARKET_SMTP_HOST": ("smtp_host", "SMTP server (default localhost)"),
    "MARKET_SMTP_PORT": ("smtp_port", "SMTP port (default 25)"),
    "MARKET_SMTP_USERNAME": ("smtp_username", "SMTP log-in, if the server needs one"),
    "MARKET_SMTP_PASSWORD": ("smtp_password", "SMTP password"),
    "MARKET_SMTP_STARTTLS": ("smtp_starttls", "true to upgrade the SMTP connection with STARTTLS"),
    "MARKET_MATCHING_WEIGHTS": ("matching_weights", "JSON object overriding fit-scoring weights, e.g. "
                                "{\"price\": 30, \"capacity_contracts\": 5}; the weights in force are shown at "
                                "/matching/weights"),
    "MARKET_MILESTONE_EARLY_DAYS": ("milestone_early_days", "how many days before its due date a contract milestone "
                                    "may be accepted (default 7)"),
    "MARKET_REPORT_GRACE_DAYS": ("report_grace_days", "how many days after its due date a provider's report may "
                                 "still be filed before its stage counts as a failed evaluation (default 15)"),
    "MARKET_STANDING_BAR_GRADE": ("standing_bar_grade", "a delivery evaluation graded this or lower (C, the default, "
                                  "or B), or a stage failed for a report not filed, bars the provider from that "
                                  "contract's catalogue item"),
    "MARKET_STANDING_BAR_MONTHS": ("standing_bar_months", "for how many months after the evaluation the bar lasts "
                                   "(default 12; 0 bars nobody)"),
    "MARKET_RECTIFICATION_DAYS": ("rectification_days", "how many days a provider has to put right a finding of a "
                                  "delivery evaluation (default 30)"),
    "MARKET_RECTIFICATION_ESCALATE_DAYS": ("rectification_escalate_days", "how many days after its due date a "
                                           "rectification item not yet verified goes to the bureau above its "
                                           "buyer (default 14)"),
    "MARKET_PLEDGE_PAY_DAYS": ("pledge_pay_days", "how many days a funder has to pay a pledge, from the day it was "
                               "made or its need became a project, before it lapses; reminded a week before "
                               "(default 30)"),
    "MARKET_TEST_CLOCK": ("test_clock", "tests only, never in production: true lets POST /_test/clock move the "
                          "clock every time rule reads"),
}

# Read by one CLI command only (`market admin create`), not a setting of the running service.
_TOLERATED = {"MARKET_ADMIN_PASSWORD"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    unknown = sorted(k for k in env if k.startswith("MARKET_") and k not in ENVIRONMENT and k not in _TOLERATED)
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]} (known: {', '.join(sorted(ENVIRONMENT))})")
    raw: dict[str, object] = {}
    for var, (field, _) in ENVIRONMENT.items():
        value = env.get(var)
        if value is None or value == "":
            continue
        raw[field] = value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        at = re.search(r"`\$\.(\w+)`", str(exc))
        var = next((v for v, (f, _) in ENVIRONMENT.items() if at and f == at.group(1)), "a setting")
        raise SettingsError(f"{var}={env.get(var)!r} is not valid: {str(exc).split(' - at ')[0]}") from None
    if not settings.secret_key:
        if settings.database_url:
            raise SettingsError("MARKET_SECRET_KEY must be set when DATABASE_URL is set (all processes must share it)")
        settings = msgspec.structs.replace(settings, secret_key=_local_secret(settings.data_dir))
    elif len(settings.secret_key) < 32:
        raise SettingsError("MARKET_SECRET_KEY must be at least 32 characters")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"MARKET_TIMEZONE={settings.timezone!r} is not a known time zone") from None
    return settings


def _local_secret(data_dir: Path) -> str:
    """A secret kept beside the embedded database, so a single-machine install needs no keys."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret
