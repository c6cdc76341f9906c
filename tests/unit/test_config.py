"""The configuration: defaults, the documented example, overrides and clear errors."""

import re
from pathlib import Path

import pytest

from newsticker import create_app
from newsticker.config import ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file(tmp_path):
    settings = load_settings(environ={})
    assert settings.site.timezone == "Europe/Berlin"
    assert [p.slug for p in settings.publications] == ["ticker", "newsletter"]


def test_example_file_is_valid_and_equals_the_defaults():
    assert load_settings(EXAMPLE, environ={}) == Settings()


def _keys(model: type, prefix: str = "") -> set[str]:
    from pydantic import BaseModel

    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_example_file_documents_every_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = [
        key
        for key in _keys(Settings)
        if key != "publications" and not re.search(rf"^{key.split('.')[-1]} = ", text, re.M)
    ]
    assert missing == []
    assert "[[publications]]" in text


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path, '[smtp]\nhots = "relay.example"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    message = str(err.value)
    assert str(path) in message
    assert "smtp.hots: unknown key" in message


def test_wrong_type_names_key_and_expectation(tmp_path):
    path = write(tmp_path, '[smtp]\nport = "twenty-five"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "smtp.port: expected a valid integer" in str(err.value), str(err.value)
    assert "twenty-five" in str(err.value)


def test_invalid_database_url(tmp_path):
    path = write(tmp_path, '[database]\nurl = "not a url"\n')
    with pytest.raises(ConfigError, match=r"database\.url: expected a database URL"):
        load_settings(path, environ={})


def test_unsupported_database_backend(tmp_path):
    path = write(tmp_path, '[database]\nurl = "mysql://root@localhost/x"\n')
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL"):
        load_settings(path, environ={})


def test_invalid_toml_is_reported(tmp_path):
    path = write(tmp_path, "[site\nname = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_invalid_time_zone_and_rate(tmp_path):
    path = write(
        tmp_path, '[site]\ntimezone = "Mars/Olympus"\n[rate_limits]\nlogin_per_ip = "often"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "site.timezone: expected an IANA time zone" in str(err.value)
    assert "rate_limits.login_per_ip: expected a rate" in str(err.value)


def test_publication_also_send_to_must_name_another_publication(tmp_path):
    path = write(tmp_path, '[[publications]]\nslug = "a"\nname = "A"\nalso_send_to = ["b"]\n')
    with pytest.raises(ConfigError, match="also_send_to names 'b'"):
        load_settings(path, environ={})


def test_missing_config_file_named_explicitly(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, '[smtp]\nhost = "relay.example"\nport = 587\n')
    settings = load_settings(
        path,
        environ={
            "NEWSTICKER_SMTP_HOST": "mail.example",
            "NEWSTICKER_SMTP_PORT": "2525",
            "NEWSTICKER_BASE_URL": "https://news.example/",
            "NEWSTICKER_DATABASE_URL": "postgresql://u@h/db",
            "NEWSTICKER_SECRET_KEY": "s3cret",
        },
    )
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example", 2525)
    assert settings.site.base_url == "https://news.example"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.site.secret_key == "s3cret"


def test_bad_environment_value_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match="smtp.port"):
        load_settings(environ={"NEWSTICKER_SMTP_PORT": "x"})


def test_masked_hides_secrets():
    settings = load_settings(environ={"NEWSTICKER_SECRET_KEY": "topsecret"})
    masked = settings.masked()
    assert masked["site"]["secret_key"] == "********"
    assert "topsecret" not in str(masked)


def test_production_refuses_a_missing_secret_key(tmp_path):
    settings = load_settings(
        overrides={"site.production": True, "site.instance_path": str(tmp_path)}, environ={}
    )
    with pytest.raises(ConfigError, match="secret_key"):
        create_app(settings)


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    settings = load_settings(
        overrides={"site.instance_path": str(tmp_path), "database.url": "sqlite://"}, environ={}
    )
    first = create_app(settings).config["SECRET_KEY"]
    second = create_app(settings).config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[bounces]\nsoft_threshold = 1\n",
            "bounces.soft_threshold: expected greater than or equal to 2",
        ),
        (
            '[bounces]\nquarantine_folder = "../etc"\n',
            "bounces.quarantine_folder: expected a folder name",
        ),
        (
            '[bounces]\nquarantine_folder = ".Hidden"\n',
            "bounces.quarantine_folder: expected a folder name",
        ),
        (
            '[bounces]\nunsubscribe_address = "abmelden at example"\n',
            "bounces.unsubscribe_address: expected an e-mail address",
        ),
        (
            "[retention]\nconsent_proof_years = 0\n",
            "retention.consent_proof_years: expected greater than or equal to 1",
        ),
        (
            "[retention]\nbounce_run_days = 1\n",
            "retention.bounce_run_days: expected greater than or equal to 7",
        ),
    ],
)
def test_bounce_and_proof_keys_are_checked(tmp_path, toml, expected):
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert expected in str(err.value), str(err.value)


def test_bounce_and_proof_keys_accept_good_values(tmp_path):
    path = write(
        tmp_path,
        '[bounces]\nsoft_threshold = 2\nquarantine_folder = "Nicht lesbar"\n'
        'unsubscribe_address = "abmelden@newsticker.example.org"\n'
        "[retention]\nconsent_proof_years = 10\n",
    )
    settings = load_settings(path, environ={})
    assert settings.bounces.quarantine_folder == "Nicht lesbar"
    assert settings.retention.consent_proof_years == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[site]\nupcoming_days = 3\n", "site.upcoming_days: expected greater than or equal to 7"),
        (
            "[site]\nupcoming_days = 1000\n",
            "site.upcoming_days: expected less than or equal to 366",
        ),
        (
            '[[publications]]\nslug = "t"\nname = "T"\ngreeting = "Hallo\\nBcc: x"\n',
            "publications.0.greeting: expected one line of at most 200 characters",
        ),
    ],
)
def test_upcoming_days_and_greeting_are_checked(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert expected in str(err.value), str(err.value)


def test_upcoming_days_and_greeting_defaults_and_an_empty_greeting(tmp_path):
    settings = load_settings(environ={})
    assert settings.site.upcoming_days == 90
    assert all(p.greeting == "Liebe Leserinnen und Leser," for p in settings.publications)
    path = write(
        tmp_path,
        '[site]\nupcoming_days = 30\n[[publications]]\nslug = "t"\nname = "T"\ngreeting = ""\n',
    )
    custom = load_settings(path, environ={})
    assert custom.site.upcoming_days == 30 and custom.publications[0].greeting == ""
