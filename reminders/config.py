"""Settings, read once from the environment (and a `.env` file in the working directory).

Every process of one deployment (web, worker, scheduler, CLI) reads the same variables. A web
app built with settings of its own (tests build several in one process) has them in use while
it serves a request: `get_settings()` is the one way to read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reminders.errors import NotReady
from reminders.planning.clinic_hours import parse_open_days

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET = "development-only-secret-change-me"
MIN_SECRET_BYTES = 32
# Between a send's deadline and the end of its lease: recording the outcome, clock skew.
SEND_MARGIN_SECONDS = 1.0


class ConfigurationError(NotReady):
    """A setting is missing or wrong; the message names the variable and is safe to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field("development", alias="REMINDERS_ENV")
    database_url: str = "sqlite:///reminders.db"
    redis_url: str = "redis://localhost:6379/0"
    secret_key: str = DEVELOPMENT_SECRET
    public_base_url: str = ""  # where Twilio and email links reach the web app; "" = not public
    web_port: int = 8000
    templates_dir: Path = PROJECT_ROOT / "templates"

    sms_transport: Literal["twilio", "console"] = "console"
    email_transport: Literal["smtp", "console"] = "console"
    console_outbox: Path | None = None  # console transports append here too when set
    phone_region: str = "CA"  # for numbers typed without a country code

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = 15.0  # per connect and per read: a send takes up to twice

    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout_seconds: float = 20.0  # for the whole SMTP conversation, every step included
    email_from: str = ""

    clinic_name: str = "Bow River Physiotherapy"
    clinic_phone: str = "403-555-0100"
    clinic_timezone: str = "America/Edmonton"
    clinic_alert_email: str = ""
    oncall_phone: str = ""
    digest_time: time = time(
        7, 0
    )  # clinic time (real clock) of the therapists' daily digest  # E.164; gets an SMS alert when a reply mentions a red flag
    clinic_open_days: str = "mon-fri"  # when the clinic reads replies, clinic local time
    clinic_opens: time = time(8, 0)
    clinic_closes: time = time(18, 0)
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    cap_per_day: int | None = Field(None, ge=1)  # off by default; TCPA health-care: 1
    cap_per_week: int | None = Field(None, ge=1)  # off by default; TCPA health-care: 3
    retention_days: int | None = Field(None, ge=1)  # blank texts older than this; None = keep

    dispatch_interval_seconds: float = Field(1.0, gt=0)
    dispatch_batch_size: int = Field(500, ge=1)
    # Recovery: a message whose task was lost (Redis flushed, worker killed) is sent again
    # within lease + reaper interval + one dispatch tick (under 60 s at these defaults). Short
    # leases cost nothing: a duplicate task finds the row claimed and stops.
    queued_lease_seconds: float = Field(40.0, gt=0)
    # Must outlast the slowest send (see worst_send_seconds), checked below.
    sending_lease_seconds: float = Field(40.0, gt=0)
    reaper_interval_seconds: float = Field(5.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    retry_base_seconds: float = Field(30.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    # Per sender (the Twilio number or messaging service; the email account), for every worker
    # together. SMS in segments per second: a Canadian or US long code takes about 1; a toll-free
    # number or a short code more (ask Twilio). Email in messages per minute: Microsoft 365
    # takes 30. 0 = no limit. Emergency answers and clinic alerts never wait for it.
    send_rate_sms: int = Field(1, ge=0)
    send_rate_email: int = Field(30, ge=0)
    celery_visibility_timeout_seconds: int = Field(3600, ge=60)
    task_queue: str = "reminders"
    # `reminders worker`: a delivery mostly waits on the provider, so the default pool is threads,
    # many per process (WORKER_CONCURRENCY); the database and HTTP connection pools are sized
    # to match (deliveries_per_process). prefork (one process per delivery) remains an option.
    worker_pool: Literal["threads", "prefork"] = "threads"
    worker_concurrency: int = Field(32, ge=1, le=256)
    # Under prefork, every task is stopped after these (soft: an exception in the task; hard: the
    # worker child is replaced); both must exceed the slowest transport's timeout. Celery's
    # threads pool has no time limits: there the transports' own deadlines bound every send.
    task_soft_time_limit: float = Field(60.0, gt=0)
    task_time_limit: float = Field(90.0, gt=0)
    api_docs: bool = False  # production serves /docs, /redoc and /openapi.json only when true

    clock_speed: float | None = Field(None, alias="REMINDERS_CLOCK_SPEED", gt=0)
    log_level: str = Field("INFO", pattern=r"(?i)^(debug|info|warning|error)$")  # LOG_LEVEL
    # /metrics asks for `Authorization: Bearer METRICS_TOKEN` when set; with none it is open in
    # development and off in production, where the web port faces the internet (for Twilio).
    metrics_token: str = ""

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme = value.partition(":")[0].partition("+")[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgres") or "://" not in value:
            raise ConfigurationError(
                "DATABASE_URL: use sqlite:///FILE (the default) or"
                f" postgresql://USER@HOST/DATABASE ({scheme or 'this'} is not supported)"
            )
        return value

    @field_validator("send_rate_sms", "send_rate_email", mode="before")
    @classmethod
    def _blank_is_no_limit(cls, value: object) -> object:
        return 0 if value == "" else value

    @field_validator("clinic_timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("clinic_open_days")
    @classmethod
    def _known_days(cls, value: str) -> str:
        parse_open_days(value)  # raises ValueError with the accepted forms
        return value

    @field_validator("cap_per_day", "cap_per_week", "clock_speed", "retention_days", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _time_limits_outlast_transports(self) -> Settings:
        slowest = max(self.smtp_timeout_seconds, self.twilio_timeout_seconds)
        if self.task_soft_time_limit <= slowest:
            raise ConfigurationError(
                f"TASK_SOFT_TIME_LIMIT must be over the slowest transport timeout ({slowest:g} s,"
                " SMTP_TIMEOUT_SECONDS or TWILIO_TIMEOUT_SECONDS)"
            )
        if self.task_time_limit <= self.task_soft_time_limit:
            raise ConfigurationError("TASK_TIME_LIMIT must be over TASK_SOFT_TIME_LIMIT")
        return self

    @model_validator(mode="after")
    def _sending_lease_outlasts_sends(self) -> Settings:
        if self.sending_lease_seconds < self.worst_send_seconds + SEND_MARGIN_SECONDS:
            raise ConfigurationError(
                f"SENDING_LEASE_SECONDS ({self.sending_lease_seconds:g} s) must be at least the"
                f" slowest send ({self.worst_send_seconds:g} s: 2 x TWILIO_TIMEOUT_SECONDS,"
                f" SMTP_TIMEOUT_SECONDS) plus {SEND_MARGIN_SECONDS:g} s, or the reaper would"
                " take over sends still under way"
            )
        return self

    @property
    def worst_send_seconds(self) -> float:
        """The longest one send can take with the chosen transports: Twilio's timeout applies
        to connecting and to reading the answer (twice in all); SMTP's is one deadline for the
        whole conversation."""
        worst = 0.0
        if self.sms_transport == "twilio":
            worst = max(worst, 2 * self.twilio_timeout_seconds)
        if self.email_transport == "smtp":
            worst = max(worst, self.smtp_timeout_seconds)
        return worst

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment != "production":
            return self
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("SECRET_KEY must be set to a random value in production")
        if self.clock_speed not in (None, 1.0):
            raise ValueError("REMINDERS_CLOCK_SPEED is for demos and staging, not production")
        # ConfigurationError, not ValueError: pydantic lets it through as it is, one plain line.
        chosen = (("SMS", self.sms_transport, "twilio"), ("EMAIL", self.email_transport, "smtp"))
        for name, value, real in chosen:
            if value == "console":  # it would put patients' messages in the logs
                raise ConfigurationError(
                    f"{name}_TRANSPORT=console prints patients' messages; it is for trying the"
                    f" service, not production (set {name}_TRANSPORT={real},"
                    " or REMINDERS_ENV=development)"
                )
        if not (self.clinic_alert_email.strip() or self.oncall_phone.strip()):
            raise ConfigurationError(
                "CLINIC_ALERT_EMAIL or ONCALL_PHONE must be set in production: a patient's"
                " emergency reply is alerted there (set one or both)"
            )
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                " (for example `openssl rand -hex 32`)"
            )
        return self

    @property
    def deliveries_per_process(self) -> int:
        """How many deliveries one worker process runs at once: its database and HTTP
        connection pools hold this many connections (a prefork child runs one)."""
        return self.worker_concurrency if self.worker_pool == "threads" else 1

    @property
    def alert_queue(self) -> str:
        """Clinic alerts have a queue of their own, so they never wait behind a batch of
        deliveries; every worker takes from both."""
        return f"{self.task_queue}-alerts"

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the psycopg 3 driver filled in for plain postgresql:// URLs."""
        for prefix in ("postgresql://", "postgres://"):
            if self.database_url.startswith(prefix):
                return "postgresql+psycopg://" + self.database_url[len(prefix) :]
        return self.database_url

    @property
    def link_base_url(self) -> str:
        """Base of links in emails: the public URL, or the local web app when there is none."""
        return self.public_base_url.rstrip("/") or f"http://localhost:{self.web_port}"

    @property
    def email_domain(self) -> str:
        return self.email_from.rpartition("@")[2].strip(">") or "reminders.local"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.clinic_timezone)

    def require_transports(self) -> None:
        """Stop startup with one line naming the variable a chosen transport still needs.
        (Production's refusal of the console transports is in the settings' own checks.)"""
        needed: list[tuple[str, str]] = []
        if self.sms_transport == "twilio":
            needed += [
                ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
            ]
            if not (self.twilio_from_number or self.twilio_messaging_service_sid):
                needed.append(("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID", ""))
        if self.email_transport == "smtp":
            needed += [("SMTP_HOST", self.smtp_host), ("EMAIL_FROM", self.email_from)]
            if self.smtp_username and not self.smtp_password:
                needed.append(("SMTP_PASSWORD", ""))
        for name, value in needed:
            if not value:
                transport = "SMS_TRANSPORT" if name.startswith("TWILIO") else "EMAIL_TRANSPORT"
                raise ConfigurationError(f"{name} is not set, but {transport} needs it")


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    """The process's settings; a bad value raises ConfigurationError with a one-line message."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigurationError(f"{name}: {first['msg']}") from None


# The settings of the web app serving this request, when it was built with its own
# (reminders.web.app.create_app(settings)): a test's database, Redis and fake providers.
_IN_USE: ContextVar[Settings | None] = ContextVar("settings_in_use", default=None)


class _SettingsInUse:
    """`get_settings()`: the settings of the web app serving this request if it was given its
    own, else the process's, read once from the environment (and `.env`).
    `get_settings.cache_clear()` reads the environment again next time."""

    def __call__(self) -> Settings:
        in_use = _IN_USE.get()
        return _from_environment() if in_use is None else in_use

    def cache_clear(self) -> None:
        _from_environment.cache_clear()


get_settings = _SettingsInUse()


@contextmanager
def settings_in_use(settings: Settings) -> Iterator[None]:
    """get_settings() returns `settings` in this context (a request, and the tasks and threads
    it starts, which copy the context) until the block ends."""
    token = _IN_USE.set(settings)
    try:
        yield
    finally:
        _IN_USE.reset(token)
