"""Editor accounts: made through the service (so passwords are really hashed), and logged in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.auth.services import create_user

DEFAULT_PASSWORD = "a-long-enough-password"
# The editor most integration tests log in as (create_editor, then login).
EDITOR = ("redaktion@example.org", "correct horse battery staple")


def make_user(
    session: Session,
    email: str = "editor@example.org",
    role: str = "editor",
    password: str = DEFAULT_PASSWORD,
    **fields: Any,
) -> User:
    """Create an account through the service (so the password is really hashed)."""
    user = create_user(session, email, password, role=role)
    for name, value in fields.items():
        setattr(user, name, value)
    session.flush()
    return user


def create_editor(session: Session) -> User:
    """Create the EDITOR account."""
    return create_user(session, EDITOR[0], EDITOR[1], role="editor")


def login(client: Any) -> None:
    """Log the EDITOR in through the login form (CSRF must be off in the test app)."""
    response = client.post("/redaktion/login", data={"email": EDITOR[0], "password": EDITOR[1]})
    assert response.status_code == 302, response.data[:500]
