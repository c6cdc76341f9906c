"""Create editor accounts and check their passwords."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from newsticker.auth.models import Role, User
from newsticker.core.db import utcnow
from newsticker.core.i18n import lazy_gettext as _l

MIN_PASSWORD_LENGTH = 12
# A real scrypt hash, checked when the account does not exist, so that a login for an
# unknown address takes as long as one for a known address.
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


class UserError(ValueError):
    """An account cannot be created or changed as asked."""


def normalise_login(email: str) -> str:
    """Return the canonical form of a login address, or raise UserError."""
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(
            _l("This is not a valid e-mail address: %(reason)s", reason=str(exc))
        ) from exc
    return valid.normalized.lower()


def check_password_strength(password: str) -> None:
    """Raise UserError when a password is too weak to protect the editor area."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )


def parse_role(role: str) -> Role:
    """Return the role named by a form or command value, or raise UserError."""
    try:
        return Role(role)
    except ValueError:
        raise UserError(_l("The role must be admin or editor.")) from None


def find_user(session: Session, email: str) -> User | None:
    """Return the user with this login address, or None."""
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def create_user(
    session: Session, email: str, password: str, role: str = Role.EDITOR.value, name: str = ""
) -> User:
    """Create an account after checking address, role and password."""
    address = normalise_login(email)
    account_role = parse_role(role)
    check_password_strength(password)
    if find_user(session, address) is not None:
        raise UserError(_l("An account with this address exists already."))
    user = User(
        email=address,
        name=name.strip(),
        role=account_role,
        password_hash=generate_password_hash(password),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and end every other session of the user."""
    check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user when address and password match an active account, else None."""
    user = find_user(session, email.strip())
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    session.flush()
    return user


def load_user(session: Session, user_id: str) -> User | None:
    """Return the user of a session cookie id "<id>:<version>", if still valid."""
    raw_id, _, version = user_id.partition(":")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(raw_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def set_active(session: Session, user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user.active = active
    user.session_version += 1
    session.flush()
