"""Typed settings, read once from the environment and an optional .env file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.resources import DEFAULT_PLAN_FILE

DEFAULT_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(ValueError):
    """A setting that is missing or malformed; its message is one line a person can act on."""


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('********')"


@dataclass(frozen=True)
class Settings:
    bot_token: Secret | None
    telegram_api_url: str = DEFAULT_API_URL
    database_path: Path = Path("var") / "cso-bot.sqlite3"  # relative to the working directory
    database_url: Secret | None = None  # postgresql://…: the server instead of the SQLite file
    plan_file: Path = DEFAULT_PLAN_FILE
    coordinator_ids: frozenset[int] = field(default_factory=frozenset)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Kyiv"))
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    log_level: str = "INFO"
    send_rate: float = 25.0  # messages per second, the whole bot (bot/outgoing.py)
    newsletter_concurrency: int = 8
    reminder_hours: int = 24  # how long before an event its attendees are reminded
    newsletter_cron: str = "0 10 1 * *"  # when the monthly issue goes out, in `timezone`
    newsletter_draft_days: int = 3  # how long before that coordinators get the draft
    newsletter_unapproved: str = "wait"  # an issue not approved at send time: "send" or "wait"
    web_host: str = "127.0.0.1"  # the public progress website (`cso-bot web`)
    web_port: int = 8081
    web_public_url: str | None = None  # where people reach the site; the bot links to it
    # Several processes: dialog state, event isolation, the send budget and the scheduler
    # leader shared through Redis (redis://host:port/db); None: one process, as on a laptop.
    redis_url: Secret | None = None
    leader_lease: float = 30.0  # seconds a dead scheduler leader keeps its lease at most

    @property
    def database(self) -> str | Path:
        """What Database.open takes: the PostgreSQL URL when set, else the SQLite file."""
        return str(self.database_url) if self.database_url else self.database_path

    @property
    def plan_files(self) -> tuple[Path, ...]:
        """PLAN_FILE may name several plans that follow one another, separated by commas."""
        return tuple(
            _path(part.strip(), self.plan_file)
            for part in str(self.plan_file).split(",")
            if part.strip()
        )

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    def require_token(self) -> Secret:
        if self.bot_token is None:
            raise ConfigError(
                "BOT_TOKEN is not set: put the token from @BotFather in the environment or .env"
            )
        return self.bot_token


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; blank lines and # comments ignored, quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Settings from the environment, which wins over .env; raise ConfigError on a bad value."""
    env = {
        **(read_dotenv(dotenv) if dotenv else {}),
        **(os.environ if environ is None else environ),
    }

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    token = get("BOT_TOKEN")
    if token is not None and not _TOKEN.match(token):
        # Never echo the value: a half-pasted token is still a secret.
        raise ConfigError("BOT_TOKEN is malformed: expected digits, a colon and the secret part")

    api_url = (get("TELEGRAM_API_URL") or DEFAULT_API_URL).rstrip("/")
    _require_http_url("TELEGRAM_API_URL", api_url)

    webhook_url = get("WEBHOOK_URL")
    secret = get("WEBHOOK_SECRET")
    if webhook_url is not None:
        _require_http_url("WEBHOOK_URL", webhook_url)
        if secret is None:
            raise ConfigError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
    if secret is not None and not _SECRET.match(secret):
        raise ConfigError("WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")

    tz_name = get("TIMEZONE") or "Europe/Kyiv"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE {tz_name!r} is not a known time zone") from None

    return Settings(
        bot_token=Secret(token) if token else None,
        telegram_api_url=api_url,
        database_path=_path(get("DATABASE_PATH"), Settings.database_path),
        database_url=_database_url(get("DATABASE_URL")),
        plan_file=_path(get("PLAN_FILE"), Settings.plan_file),
        coordinator_ids=_ids(get("COORDINATOR_IDS")),
        timezone=timezone,
        webhook_url=webhook_url,
        webhook_secret=Secret(secret) if secret else None,
        webhook_host=get("WEBHOOK_HOST") or "127.0.0.1",
        webhook_port=_port(get("WEBHOOK_PORT")),
        log_level=_log_level(get("LOG_LEVEL")),
        send_rate=_positive("SEND_RATE", get("SEND_RATE"), 25.0, 1000.0),
        newsletter_concurrency=int(
            _positive("NEWSLETTER_CONCURRENCY", get("NEWSLETTER_CONCURRENCY"), 8, 100)
        ),
        reminder_hours=int(_positive("REMINDER_HOURS", get("REMINDER_HOURS"), 24, 24 * 30)),
        newsletter_cron=_cron(get("NEWSLETTER_CRON"), timezone),
        newsletter_draft_days=int(
            _positive("NEWSLETTER_DRAFT_DAYS", get("NEWSLETTER_DRAFT_DAYS"), 3, 27)
        ),
        newsletter_unapproved=_unapproved(get("NEWSLETTER_UNAPPROVED")),
        web_host=get("WEB_HOST") or "127.0.0.1",
        web_port=_web_port(get("WEB_PORT")),
        web_public_url=_public_url(get("WEB_PUBLIC_URL")),
        redis_url=_redis_url(get("REDIS_URL")),
        leader_lease=_positive("LEADER_LEASE", get("LEADER_LEASE"), 30.0, 600.0),
    )


def _cron(value: str | None, timezone: ZoneInfo) -> str:
    if value is None:
        return Settings.newsletter_cron
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone=timezone)
    except ValueError as e:
        raise ConfigError(
            f"NEWSLETTER_CRON must be a crontab line such as '0 10 1 * *', got {value!r} ({e})"
        ) from None
    return value


def _redis_url(value: str | None) -> Secret | None:
    if value is None:
        return None
    if urlparse(value).scheme not in ("redis", "rediss", "unix"):
        # Not echoed: the URL may carry a password.
        raise ConfigError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return Secret(value)


def _unapproved(value: str | None) -> str:
    choice = (value or "wait").lower()
    if choice not in ("send", "wait"):
        raise ConfigError(f"NEWSLETTER_UNAPPROVED must be send or wait, got {value!r}")
    return choice


def _require_http_url(name: str, value: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")


def _path(value: str | None, default: Path) -> Path:
    if value is None:
        return default
    # Relative paths are relative to the working directory, as in any command-line program;
    # made absolute once here, so nothing depends on where the process is later.
    return Path.cwd() / Path(value).expanduser()


def _ids(value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    ids = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?[0-9]{1,20}", part):
            raise ConfigError(
                f"COORDINATOR_IDS must be Telegram user ids separated by commas, got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _port(value: str | None) -> int:
    if value is None:
        return 8080
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        raise ConfigError(f"WEBHOOK_PORT must be a port number 1-65535, got {value!r}")
    return int(value)


def _web_port(value: str | None) -> int:
    if value is None:
        return Settings.web_port
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        raise ConfigError(f"WEB_PORT must be a port number 1-65535, got {value!r}")
    return int(value)


def _public_url(value: str | None) -> str | None:
    if value is None:
        return None
    _require_http_url("WEB_PUBLIC_URL", value)
    return value.rstrip("/")


def _log_level(value: str | None) -> str:
    level = (value or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _positive(name: str, value: str | None, default: float, maximum: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number <= maximum:
        raise ConfigError(f"{name} must be a number above 0, at most {maximum:g}; got {value!r}")
    return number


def _database_url(value: str | None) -> Secret | None:
    if value is None:
        return None
    if not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise ConfigError("DATABASE_URL must be postgresql://user:password@host:port/database")
    return Secret(value)
