"""The production profile: settings validated at start, each unsafe one refused by name;
settings read from `X_FILE`; demo commands refused in production."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from shareplatform import config as settings
from shareplatform import create_app
from shareplatform.config import Config, ConfigError

# A URL string only: validation never connects.
POSTGRES = "postgresql+psycopg://shareplatform@db.internal/shareplatform"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SHAREPLATFORM_") or name.startswith("DATABASE_URL"):
            monkeypatch.delenv(name)


def production(**changes: object) -> Config:
    """A configuration production accepts, with `changes` applied."""
    valid = Config(
        DATABASE_URL=POSTGRES,
        PRODUCTION=True,
        KEY_PROVIDER="pkcs11",
        PKCS11_TOKEN="shareplatform-prod",
        PKCS11_PIN="f8Qz-71kd-Pq2m",
    )
    return replace(valid, **changes)  # type: ignore[arg-type]


def test_a_valid_production_configuration_is_accepted() -> None:
    production().validate()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            {"DATABASE_URL": "sqlite:////srv/sp.db"},
            "DATABASE_URL=sqlite:////srv/sp.db: use PostgreSQL",
        ),
        ({"SESSION_COOKIE_SECURE": False}, "SHAREPLATFORM_SECURE_COOKIES=0"),
        ({"KEY_PROVIDER": "file"}, "SHAREPLATFORM_KEY_PROVIDER=file"),
        ({"ALLOW_FILE_KEYS_FOR_SECRET": True}, "SHAREPLATFORM_ALLOW_FILE_KEYS_FOR_SECRET=1"),
        ({"PKCS11_TOKEN": ""}, "SHAREPLATFORM_PKCS11_TOKEN"),
        ({"PKCS11_PIN": ""}, "SHAREPLATFORM_PKCS11_PIN"),
        ({"PKCS11_PIN": "1234"}, "SHAREPLATFORM_PKCS11_PIN"),
        ({"extra": {"SECRET_KEY": "dev"}}, "SECRET_KEY"),
        ({"extra": {"SECRET_KEY": "short-but-not-a-default"}}, "SECRET_KEY"),
    ],
)
def test_each_unsafe_setting_is_refused_by_name(changes: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        production(**changes).validate()
    message = str(refused.value)
    assert message.startswith("SHAREPLATFORM_PRODUCTION=1 refuses ")
    assert named in message
    replace(production(**changes), PRODUCTION=False).validate()  # development allows it


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        production(DATABASE_URL="sqlite://", KEY_PROVIDER="file").validate()
    assert "DATABASE_URL" in str(refused.value)
    assert "SHAREPLATFORM_KEY_PROVIDER" in str(refused.value)


def test_the_pin_never_appears_in_a_message() -> None:
    with pytest.raises(ConfigError) as refused:
        production(DATABASE_URL="sqlite://", PKCS11_PIN="f8Qz-71kd-Pq2m").validate()
    assert "f8Qz" not in str(refused.value)


def test_settings_are_read_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "url").write_text(POSTGRES + "\n")
    (tmp_path / "pin").write_text("  f8Qz-71kd-Pq2m\n")
    monkeypatch.setenv("SHAREPLATFORM_PRODUCTION", "1")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("SHAREPLATFORM_KEY_PROVIDER", "pkcs11")
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_TOKEN", "shareplatform-prod")
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_PIN_FILE", str(tmp_path / "pin"))
    config = Config.from_env()
    assert config.DATABASE_URL == POSTGRES
    assert config.PKCS11_PIN == "f8Qz-71kd-Pq2m"
    config.validate()


def test_a_setting_and_its_file_together_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "url").write_text(POSTGRES)
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "url"))
    with pytest.raises(ConfigError, match="both DATABASE_URL and DATABASE_URL_FILE"):
        Config.from_env()


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREPLATFORM_PKCS11_PIN_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="SHAREPLATFORM_PKCS11_PIN_FILE="):
        Config.from_env()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHAREPLATFORM_PROXY_HOPS", "two"),
        ("SHAREPLATFORM_PROXY_HOPS", "-1"),
        ("SHAREPLATFORM_PRODUCTION", "perhaps"),
        ("SHAREPLATFORM_KEY_WATCH_SECONDS", "soon"),
    ],
)
def test_a_malformed_value_is_refused_by_name(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Config.from_env()


def test_defaults_are_development_with_secure_cookies_and_no_proxy() -> None:
    config = Config.from_env()
    assert not config.PRODUCTION and config.PROXY_HOPS == 0
    assert (
        config.SESSION_COOKIE_SECURE is None
    )  # Secure; see tests/functional/test_proxy_awareness.py
    config.validate()


def test_create_app_refuses_before_opening_anything(tmp_path: Path) -> None:
    config = production(DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app(config)
    assert not (tmp_path / "never.db").exists()


def _app_marked_production(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An app whose platform believes it is in production (a real production profile needs an
    HSM and PostgreSQL; the demo commands refuse before touching either)."""
    app = create_app(
        settings.TestConfig(
            DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}", KEYS_DIR=str(tmp_path / "keys")
        )
    )
    app.extensions["shareplatform"].config.PRODUCTION = True
    return app


@pytest.mark.parametrize("command", [["demo", "seed"], ["demo", "code", "com.cole"]])
def test_demo_commands_refuse_in_production(tmp_path: Path, command: list[str]) -> None:
    app = _app_marked_production(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=command)
    finally:
        app.extensions["shareplatform"].db.dispose()
    assert result.exit_code == 1
    assert "demo commands are refused when SHAREPLATFORM_PRODUCTION=1" in result.output
    assert not (tmp_path / "keys").exists()  # nothing was created


def test_gunicorn_refuses_in_its_master_with_the_setting_named(tmp_path: Path) -> None:
    """An unsafe production setting stops gunicorn itself (gunicorn.conf.py `on_starting`), once,
    instead of each worker failing and being replaced for ever."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SHAREPLATFORM_PRODUCTION": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(root / "gunicorn.conf.py"),
            "-b",
            "127.0.0.1:0",
        ]
        + ["--chdir", str(root), "wsgi:app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "shareplatform will not start" in done.stderr and "DATABASE_URL" in done.stderr
    assert "Booting worker" not in done.stderr
    assert not (tmp_path / "never.db").exists()
