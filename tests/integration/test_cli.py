"""The newsticker command: each command's good path and its bad input."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from newsticker.auth.models import User
from newsticker.cli import cli
from newsticker.items.models import Item


@pytest.fixture
def run(runner):
    return runner.invoke


def test_create_user_with_password_from_stdin(run, engine):
    result = run(
        "create-user",
        "Chefin@Example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin chefin@example.org" in result.output
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT email, role FROM users")).all()
    assert rows == [("chefin@example.org", "admin")]


def test_create_user_with_prompt(run):
    result = run(
        "create-user", "e@example.org", stdin="a very long password\na very long password\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("address", ["not-an-address", "two@@example.org", "a@b", ""])
def test_create_user_refuses_invalid_address(run, address, engine):
    result = run("create-user", address, "--password-stdin", stdin="a very long password\n")
    assert result.exit_code == 2
    assert "EMAIL" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_create_user_refuses_short_password(run, engine):
    result = run("create-user", "e@example.org", "--password-stdin", stdin="short\n")
    assert result.exit_code == 1
    assert "mindestens 12 Zeichen" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_create_user_refuses_duplicate(run):
    assert (
        run(
            "create-user", "e@example.org", "--password-stdin", stdin="a very long password\n"
        ).exit_code
        == 0
    )
    result = run("create-user", "E@example.org", "--password-stdin", stdin="a very long password\n")
    assert result.exit_code == 1
    assert "gibt es bereits" in result.output


def test_create_user_refuses_unknown_role(run):
    result = run(
        "create-user",
        "e@example.org",
        "--role",
        "boss",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert result.exit_code == 2
    assert "'boss' is not one of 'admin', 'editor'" in result.output


def test_unknown_option_is_an_error(run):
    result = run("init-db", "--frobnicate")
    assert result.exit_code == 2
    assert "No such option '--frobnicate'" in result.output


def test_unknown_command_is_an_error(run):
    result = run("explode")
    assert result.exit_code == 2


def test_check_config_prints_masked_settings(run):
    result = run("check-config")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout.split("\nConfiguration OK.")[0])
    assert printed["site"]["secret_key"] == "********"
    assert "cli-test-secret" not in result.output


def test_bad_config_stops_every_command(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[smtp]\nport = "abc"\n[sitee]\nname = "x"\n', encoding="utf-8")
    for args in (["check-config"], ["init-db"], ["demo"]):
        result = CliRunner().invoke(cli, ["--config", str(bad), *args])
        assert result.exit_code == 1
        assert "smtp.port: expected a valid integer" in result.output
        assert "sitee: unknown key" in result.output
        assert str(bad) in result.output


def test_init_db_on_a_new_sqlite_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[site]\ninstance_path = "{tmp_path}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "init-db"])
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'newsticker.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    # Running it again is harmless.
    assert CliRunner().invoke(cli, ["--config", str(config), "init-db"]).exit_code == 0


def test_demo_is_idempotent(run, engine):
    first = run("demo")
    assert first.exit_code == 0, first.output
    second = run("demo")
    assert "nothing added" in second.output
    with engine.connect() as conn:
        titles = [row[0] for row in conn.execute(select(Item.title))]
    assert len(titles) == len(set(titles)) >= 8
    assert "Runder Tisch Integration" in titles
    assert any("\u0600" <= ch <= "\u06ff" for t in titles for ch in t)  # Arabic script


def test_sqlite_connections_enforce_foreign_keys_and_wal(tmp_path):
    from newsticker.core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_users_exist_only_through_the_service(db):
    assert db.scalars(select(User)).all() == []
