"""Account rules without a database: common passwords, role mapping, auth settings."""

from __future__ import annotations

import pytest

from newsticker.auth.models import Role
from newsticker.auth.passwords import is_common
from newsticker.auth.services import mapped_role
from newsticker.config import ConfigError, load_settings
from tests.conftest import EMPTY_CONFIG

MAPPING = {"nt-admins": "admin", "nt-editors": "editor"}


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Password123!",
        "passwort2024",
        "hallo1234",
        "123456789012",
        "qwertzuiop",
        "zzzzzzzzzzzz",
    ],
)
def test_common(password):
    assert is_common(password)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Flensburg Förde im Nebel 7", "k7#Qw9!mZp2&Lx"]
)
def test_not_common(password):
    assert not is_common(password)


@pytest.mark.parametrize(
    ("claim", "role"),
    [
        (["nt-editors"], Role.EDITOR),
        (["nt-editors", "nt-admins"], Role.ADMIN),
        ("nt-admins", Role.ADMIN),
        (["staff"], None),
        ([], None),
        (None, None),
        ({"nt-admins": True}, None),
        ([1, "nt-editors"], Role.EDITOR),
    ],
)
def test_mapped_role(claim, role):
    assert mapped_role({"groups": claim}, "groups", MAPPING) is role


def load(**overrides):
    return load_settings(EMPTY_CONFIG, overrides=overrides, environ={})


def test_oidc_is_off_by_default_and_local_login_on():
    settings = load()
    assert not settings.auth.oidc.enabled
    assert settings.auth.local_login
    assert not settings.auth.require_2fa_for_admins


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"local_login": False}, "local_login = false needs single sign-on"),
        ({"oidc": {"issuer": "https://id.example.org"}}, "client_id and client_secret"),
        (
            {"oidc": {"issuer": "https://id.example.org", "client_id": "a", "client_secret": "b"}},
            "role_mapping",
        ),
        ({"oidc": {"issuer": "id.example.org"}}, "issuer URL"),
        (
            {
                "oidc": {
                    "issuer": "https://id.example.org",
                    "client_id": "a",
                    "client_secret": "b",
                    "role_mapping": {"g": "root"},
                }
            },
            "role_mapping",
        ),
    ],
)
def test_incomplete_auth_settings_are_refused(auth, message):
    with pytest.raises(ConfigError, match=message):
        load(**{f"auth.{k}": v for k, v in auth.items()})


def test_client_secret_is_masked():
    settings = load(
        **{
            "auth.oidc": {
                "issuer": "https://id.example.org",
                "client_id": "a",
                "client_secret": "very-secret",
                "role_mapping": {"g": "admin"},
            }
        }
    )
    assert "very-secret" not in str(settings.masked())
