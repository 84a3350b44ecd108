"""bot/config.py and bot/logs.py: settings from the environment and .env, and secrets kept out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_API_URL,
    ConfigError,
    Secret,
    Settings,
    load_settings,
    read_dotenv,
)
from bot.logs import RedactSecrets

TOKEN = "123456789:AAH-secret_Part-xyz"
ROOT = Path(__file__).resolve().parents[1]


def _settings(**env: str) -> Settings:
    return load_settings(env, dotenv=None)


def _config_error(**env: str) -> str:
    with pytest.raises(ConfigError) as info:
        _settings(**env)
    message = str(info.value)
    assert message
    assert "\n" not in message
    return message


# --- defaults and parsing -------------------------------------------------------------------


def test_defaults() -> None:
    s = load_settings({}, dotenv=None)
    assert s.bot_token is None
    assert s.telegram_api_url == DEFAULT_API_URL == "https://api.telegram.org"
    assert s.database_path == Path("var") / "cso-bot.sqlite3"
    assert s.plan_file == ROOT / "data" / "annex4.yaml"
    assert s.plan_file.is_file()
    assert s.coordinator_ids == frozenset()
    assert s.timezone.key == "Europe/Kyiv"
    assert s.webhook_url is None
    assert s.webhook_secret is None
    assert s.webhook_mode is False
    assert s.webhook_host == "127.0.0.1"
    assert s.webhook_port == 8080
    assert s.log_level == "INFO"


def test_missing_token_is_an_error_only_when_required() -> None:
    s = _settings()
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        s.require_token()


def test_blank_values_count_as_unset() -> None:
    s = _settings(BOT_TOKEN="  ", TIMEZONE="", WEBHOOK_URL=" ", COORDINATOR_IDS="")
    assert s.bot_token is None
    assert s.timezone.key == "Europe/Kyiv"
    assert s.webhook_url is None
    assert s.coordinator_ids == frozenset()


def test_every_variable_parsed(tmp_path: Path) -> None:
    plan = tmp_path / "next.yaml"
    s = _settings(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:8081/",
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        PLAN_FILE=str(plan),
        COORDINATOR_IDS="1, 2,3",
        TIMEZONE="UTC",
        WEBHOOK_URL="https://bot.example.org/hook",
        WEBHOOK_SECRET="s3cr3t_-X",
        WEBHOOK_HOST="0.0.0.0",
        WEBHOOK_PORT="8443",
        LOG_LEVEL="debug",
    )
    assert s.bot_token == TOKEN
    assert isinstance(s.bot_token, Secret)
    assert s.require_token() == TOKEN
    assert s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.database_path == tmp_path / "bot.sqlite3"
    assert s.plan_file == plan
    assert s.coordinator_ids == frozenset({1, 2, 3})
    assert s.timezone.key == "UTC"
    assert s.webhook_url == "https://bot.example.org/hook"
    assert s.webhook_secret == "s3cr3t_-X"
    assert isinstance(s.webhook_secret, Secret)
    assert s.webhook_mode is True
    assert s.webhook_host == "0.0.0.0"
    assert s.webhook_port == 8443
    assert s.log_level == "DEBUG"


def test_trailing_slashes_of_the_api_url_stripped() -> None:
    assert _settings(TELEGRAM_API_URL="https://api.example.org//").telegram_api_url == (
        "https://api.example.org"
    )


def test_relative_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = _settings(DATABASE_PATH="var/db.sqlite3", PLAN_FILE="plans/next.yaml")
    assert s.database_path == tmp_path / "var" / "db.sqlite3"
    assert s.plan_file == tmp_path / "plans" / "next.yaml"


def test_home_in_paths_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _settings(DATABASE_PATH="~/bot.sqlite3").database_path == tmp_path / "bot.sqlite3"


def test_coordinator_ids_tolerate_spaces_and_empty_parts() -> None:
    assert _settings(COORDINATOR_IDS=" 10 ,, 20, ").coordinator_ids == frozenset({10, 20})


# --- malformed values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "123:abc def"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": ":abc"}, "BOT_TOKEN"),
        ({"COORDINATOR_IDS": "1, abc"}, "COORDINATOR_IDS"),
        ({"TIMEZONE": "Mars/Olympus_Mons"}, "TIMEZONE"),
        ({"TIMEZONE": "../../etc/passwd"}, "TIMEZONE"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "0"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_URL": "https://bot.example.org/hook"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "bot.example.org", "WEBHOOK_SECRET": "x"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "has spaces"}, "WEBHOOK_SECRET"),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"),
        ({"TELEGRAM_API_URL": "ftp://api.telegram.org"}, "TELEGRAM_API_URL"),
        ({"TELEGRAM_API_URL": "https://"}, "TELEGRAM_API_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_malformed_values_name_their_variable(env: dict[str, str], variable: str) -> None:
    assert variable in _config_error(**env)


def test_bad_coordinator_id_is_quoted() -> None:
    assert "'abc'" in _config_error(COORDINATOR_IDS="abc")


def test_bad_port_is_quoted() -> None:
    assert "99999" in _config_error(WEBHOOK_PORT="99999")


def test_coordinator_id_with_two_minus_signs() -> None:
    # Regression: '--5' passed lstrip('-').isdigit() and then int() raised ValueError.
    assert "COORDINATOR_IDS" in _config_error(COORDINATOR_IDS="--5")


def test_port_of_superscript_digits() -> None:
    # Regression: '²'.isdigit() is True but int('²') raised ValueError.
    assert "WEBHOOK_PORT" in _config_error(WEBHOOK_PORT="²")


# --- secrets never shown --------------------------------------------------------------------


def test_token_not_in_str_or_repr_of_settings() -> None:
    s = _settings(BOT_TOKEN=TOKEN, WEBHOOK_URL="https://x.example/h", WEBHOOK_SECRET="hooksecret")
    for text in (str(s), repr(s)):
        assert TOKEN not in text
        assert "AAH-secret" not in text
        assert "hooksecret" not in text
    assert repr(s.bot_token) == "Secret('********')"


@pytest.mark.parametrize("token", ["123:abc def", "123456:TOKEN/with/slashes", "no-colon-secret"])
def test_malformed_token_not_echoed(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        _settings(BOT_TOKEN=token)
    secret_part = token.split(":")[-1]
    for text in (str(info.value), repr(info.value), str(info.value.args)):
        assert secret_part not in text
        assert token not in text
    # Nor in a chained exception.
    assert info.value.__cause__ is None


# --- .env -----------------------------------------------------------------------------------


def _dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_dotenv_read(tmp_path: Path) -> None:
    path = _dotenv(
        tmp_path,
        "# the bot\n"
        "\n"
        f"BOT_TOKEN={TOKEN}\n"
        "export TIMEZONE='UTC'\n"
        'COORDINATOR_IDS="7,8"\n'
        "WEBHOOK_PORT = 9000\n",
    )
    s = load_settings({}, dotenv=path)
    assert s.bot_token == TOKEN
    assert s.timezone.key == "UTC"
    assert s.coordinator_ids == frozenset({7, 8})
    assert s.webhook_port == 9000


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    path = _dotenv(tmp_path, f"BOT_TOKEN={TOKEN}\nTIMEZONE=UTC\nLOG_LEVEL=ERROR\n")
    s = load_settings({"TIMEZONE": "Europe/Warsaw", "BOT_TOKEN": "42:other"}, dotenv=path)
    assert s.timezone.key == "Europe/Warsaw"
    assert s.bot_token == "42:other"
    assert s.log_level == "ERROR"  # from .env, not overridden


def test_missing_dotenv_is_fine(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=tmp_path / "absent.env").bot_token is None
    assert read_dotenv(tmp_path / "absent.env") == {}


def test_malformed_dotenv_line_names_file_and_line(tmp_path: Path) -> None:
    path = _dotenv(tmp_path, "TIMEZONE=UTC\nthis line has no equals sign\n")
    with pytest.raises(ConfigError) as info:
        load_settings({}, dotenv=path)
    assert str(info.value).startswith(f"{path}:2:")


def test_bad_value_in_dotenv_names_the_variable(tmp_path: Path) -> None:
    path = _dotenv(tmp_path, "WEBHOOK_PORT=99999\n")
    with pytest.raises(ConfigError, match="WEBHOOK_PORT"):
        load_settings({}, dotenv=path)


# --- logging redaction ----------------------------------------------------------------------


def test_redact_secrets_in_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redact")
    redact = RedactSecrets([TOKEN, "", "hooksecret"])
    caplog.handler.addFilter(redact)
    try:
        with caplog.at_level(logging.INFO, logger="tests.redact"):
            logger.info("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
            logger.info("webhook secret %s and token %s", "hooksecret", TOKEN)
            logger.info("nothing to hide here: %d", 42)
    finally:
        caplog.handler.removeFilter(redact)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "POST https://api.telegram.org/bot********/getMe failed",
        "webhook secret ******** and token ********",
        "nothing to hide here: 42",
    ]
    assert TOKEN not in caplog.text
    assert "hooksecret" not in caplog.text


def test_redact_secrets_filter_with_a_handler() -> None:
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(RedactSecrets([Secret(TOKEN)]))
    logger = logging.getLogger("tests.redact.handler")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        logger.warning(f"token in the message itself: {TOKEN}")
        logger.debug("token in a dict arg: %s", {"token": TOKEN})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert lines == [
        "token in the message itself: ********",
        "token in a dict arg: {'token': '********'}",
    ]


def test_redact_secrets_ignores_empty_secrets() -> None:
    # An unset token must not turn every message into asterisks.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert RedactSecrets(["", ""]).filter(record) is True
    assert record.getMessage() == "hello world"


def test_redact_secrets_in_a_logged_traceback() -> None:
    # Regression: only msg/args were redacted, not the traceback of logger.exception().
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(RedactSecrets([TOKEN]))
    logger = logging.getLogger("tests.redact.traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
        except ConnectionError:
            logger.exception("polling failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(lines) == 1
    assert "polling failed" in lines[0]
    assert TOKEN not in lines[0]


def test_database_url_selects_postgresql_and_never_shows_its_password() -> None:
    assert _settings().database == _settings().database_path  # SQLite by default
    url = "postgresql://csobot:s3cret@db.example.org:5432/csobot"
    s = _settings(DATABASE_URL=url, DATABASE_PATH="var/db.sqlite3")
    assert s.database == url
    assert "s3cret" not in repr(s)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        _settings(DATABASE_URL="mysql://csobot@db/csobot")
