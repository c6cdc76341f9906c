"""Factories for test data: small functions that make valid objects with overridable fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.auth.services import create_user

DEFAULT_PASSWORD = "a-long-enough-password"


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
