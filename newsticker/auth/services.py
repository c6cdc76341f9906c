"""Editor accounts: create them, check and change passwords, reset links, roles, 2FA.

Every account event goes into the audit trail (core.audit) in the caller's
transaction: auth.login, auth.login_failed, auth.logout, auth.password_changed,
auth.reset_requested, auth.password_reset, auth.2fa_enabled, auth.2fa_disabled,
auth.recovery_code_used, auth.role_changed, auth.deactivated, auth.reactivated.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pyotp
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from newsticker.auth.mails import queue_reset_mail
from newsticker.auth.models import PasswordReset, RecoveryCode, Role, User
from newsticker.auth.passwords import MIN_PASSWORD_LENGTH, is_common
from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.tokens import random_token, token_digest

RESET_LINK_MINUTES = 60
RECOVERY_CODE_COUNT = 10
# A code is accepted one 30-second step early or late (clocks of phones drift).
TOTP_WINDOW = 1
# Recovery codes: 10 characters of lower-case base32 (50 bits), shown as xxxxx-xxxxx.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
# A real scrypt hash, checked when the account does not exist, so that a login for an
# unknown address takes as long as one for a known address.
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


class UserError(ValueError):
    """An account cannot be created or changed as asked."""


class ResetLinkError(UserError):
    """A password reset link is unknown, used already or expired."""


class SecondFactorError(UserError):
    """A TOTP or recovery code is wrong or was used already."""


def actor_of(user: User, ip: str = "") -> Actor:
    """Return the audit actor for a user acting themselves."""
    return Actor(label=user.email, user_id=user.id, ip=ip)


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
    if is_common(password):
        raise UserError(
            _l(
                "This password is on a list of commonly used passwords. "
                "Please choose another one, for example several unrelated words."
            )
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
    """Change a password and end every session of the user (the caller logs in anew)."""
    check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    session.flush()


def change_password(
    session: Session, user: User, current: str, new: str, *, ip: str, now: datetime
) -> None:
    """Change one's own password, the current one required; other sessions end."""
    if not check_password_hash(user.password_hash, current):
        raise UserError(_l("The current password is not correct."))
    set_password(session, user, new)
    record_event(
        session,
        "auth.password_changed",
        actor=actor_of(user, ip),
        now=now,
        subject=("user", user.id),
        summary=user.email,
    )


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user when address and password match an active account, else None."""
    user = find_user(session, email.strip())
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def record_login(
    session: Session, user: User, *, ip: str, now: datetime, method: str = "password"
) -> None:
    """Note a completed login (after the second factor, where there is one)."""
    user.last_login_at = now
    record_event(
        session,
        "auth.login",
        actor=actor_of(user, ip),
        now=now,
        subject=("user", user.id),
        summary=user.email,
        details={"method": method},
    )
    session.flush()


def record_login_failed(
    session: Session, email: str, *, ip: str, now: datetime, reason: str
) -> None:
    """Note a refused login; the caller commits it on its own (the answer rolls back)."""
    user = find_user(session, email.strip()) if email else None
    record_event(
        session,
        "auth.login_failed",
        actor=Actor(label=email.strip()[:320] or "?", user_id=user.id if user else None, ip=ip),
        now=now,
        subject=("user", user.id) if user else None,
        summary=reason,
        details={"reason": reason},
    )
    session.flush()


def record_logout(session: Session, user: User, *, ip: str, now: datetime) -> None:
    """Note a logout."""
    record_event(
        session, "auth.logout", actor=actor_of(user, ip), now=now, subject=("user", user.id)
    )


def load_user(session: Session, user_id: str) -> User | None:
    """Return the user of a session cookie id "<id>:<version>", if still valid."""
    raw_id, _, version = user_id.partition(":")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(raw_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


# --- admins manage accounts -------------------------------------------------------------


def _other_active_admins(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def set_active(
    session: Session, user: User, active: bool, *, actor: Actor | None = None, now: datetime
) -> None:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    if active == user.active:
        return
    if not active and actor is not None and actor.user_id == user.id:
        raise UserError(_l("You cannot deactivate your own account."))
    if not active and user.role is Role.ADMIN and _other_active_admins(session, user) == 0:
        raise UserError(_l("The last active administrator cannot be deactivated."))
    user.active = active
    user.session_version += 1
    if actor is not None:
        record_event(
            session,
            "auth.reactivated" if active else "auth.deactivated",
            actor=actor,
            now=now,
            subject=("user", user.id),
            summary=user.email,
        )
    session.flush()


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Return the display names of users by id (for histories and logs that name them)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.id.in_(wanted)))
    return {user.id: user.display_name for user in users}


def names_by_email(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """Return the display names of users by login address (logs that name them by it)."""
    wanted = {e for e in emails if e and "@" in e}
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.email.in_(wanted)))
    return {user.email: user.display_name for user in users}


def change_role(session: Session, user: User, role: str, *, actor: Actor, now: datetime) -> None:
    """Give an account another role; the last active administrator keeps theirs."""
    new_role = parse_role(role)
    if new_role is user.role:
        return
    if actor.user_id == user.id:
        raise UserError(_l("You cannot change your own role."))
    if user.role is Role.ADMIN and user.active and _other_active_admins(session, user) == 0:
        raise UserError(_l("The last active administrator must stay an administrator."))
    old = user.role
    user.role = new_role
    record_event(
        session,
        "auth.role_changed",
        actor=actor,
        now=now,
        subject=("user", user.id),
        summary=f"{user.email}: {old.value} → {new_role.value}",
        details={"from": old.value, "to": new_role.value},
    )
    session.flush()


# --- password reset by mail -------------------------------------------------------------


def request_password_reset(
    session: Session, email: str, *, links: Links, ip: str, now: datetime
) -> str | None:
    """Mail a reset link when the address has an active account; say nothing either way.

    Returns the token that was mailed (for tests and the demo), or None; a view must
    never show it.
    """
    try:
        address = normalise_login(email)
    except UserError:
        return None
    user = find_user(session, address)
    if user is None or not user.active:
        return None
    # Only the newest link works: an older one that leaked is worthless.
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = random_token()
    session.add(
        PasswordReset(
            user_id=user.id,
            digest=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(minutes=RESET_LINK_MINUTES),
        )
    )
    queue_reset_mail(
        session,
        user,
        links.url("auth.reset_password", token=token),
        minutes=RESET_LINK_MINUTES,
    )
    record_event(
        session,
        "auth.reset_requested",
        actor=Actor(label=user.email, user_id=user.id, ip=ip),
        now=now,
        subject=("user", user.id),
        summary=user.email,
    )
    session.flush()
    return token


def valid_reset(session: Session, token: str, *, now: datetime) -> PasswordReset:
    """Return the reset behind a link, or raise ResetLinkError when it cannot be used."""
    reset = session.scalars(
        select(PasswordReset).where(PasswordReset.digest == token_digest(token))
    ).first()
    user = session.get(User, reset.user_id) if reset is not None else None
    if reset is None or user is None or not user.active:
        raise ResetLinkError(_l("This link is not valid. Please request a new one."))
    if reset.used_at is not None:
        raise ResetLinkError(_l("This link has been used already. Please request a new one."))
    if reset.expires_at <= now:
        raise ResetLinkError(_l("This link has expired. Please request a new one."))
    return reset


def reset_password(session: Session, token: str, password: str, *, ip: str, now: datetime) -> User:
    """Set a new password through a reset link; the link is used up, all sessions end."""
    reset = valid_reset(session, token, now=now)
    user = session.get(User, reset.user_id)
    assert user is not None  # checked by valid_reset
    set_password(session, user, password)
    reset.used_at = now
    record_event(
        session,
        "auth.password_reset",
        actor=actor_of(user, ip),
        now=now,
        subject=("user", user.id),
        summary=user.email,
    )
    session.flush()
    return user


# --- two-factor login (TOTP) ------------------------------------------------------------


def new_totp_secret() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(user: User, secret: str, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(
        RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id)  # type: ignore[attr-defined]
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, digest=_recovery_digest(code)))
    return codes


def _recovery_digest(code: str) -> str:
    return token_digest("".join(code.lower().replace("-", "").split()))


def enable_totp(
    session: Session, user: User, secret: str, code: str, *, ip: str, now: datetime
) -> list[str]:
    """Turn two-factor login on once a code from the app matches; return recovery codes."""
    step = _matching_step(secret, code, now)
    if step is None:
        raise SecondFactorError(
            _l("The code does not match. Check the time on your phone and try the next code.")
        )
    user.totp_secret = secret
    user.totp_last_step = step
    user.totp_enabled_at = now
    codes = _new_recovery_codes(session, user)
    record_event(
        session, "auth.2fa_enabled", actor=actor_of(user, ip), now=now, subject=("user", user.id)
    )
    session.flush()
    return codes


def disable_totp(
    session: Session, user: User, password: str, *, ip: str, now: datetime, required: bool
) -> None:
    """Turn two-factor login off, the current password required."""
    if required:
        raise UserError(_l("Administrators must use two-factor login here."))
    if not check_password_hash(user.password_hash, password):
        raise UserError(_l("The current password is not correct."))
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    session.execute(
        RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id)  # type: ignore[attr-defined]
    )
    record_event(
        session, "auth.2fa_disabled", actor=actor_of(user, ip), now=now, subject=("user", user.id)
    )
    session.flush()


def reset_totp(session: Session, user: User, *, actor: Actor, now: datetime) -> None:
    """An admin turns off another person's two-factor login (a lost phone, no codes left)."""
    if actor.user_id == user.id:
        raise UserError(_l("Turn off your own two-factor login under “My account”."))
    if not user.totp_secret:
        return
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    session.execute(
        RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id)  # type: ignore[attr-defined]
    )
    # Whoever has the lost phone and the password must not stay logged in.
    user.session_version += 1
    record_event(
        session,
        "auth.2fa_disabled",
        actor=actor,
        now=now,
        subject=("user", user.id),
        summary=user.email,
        details={"by_admin": True},
    )
    session.flush()


def verify_second_factor(session: Session, user: User, code: str, *, ip: str, now: datetime) -> str:
    """Accept a TOTP code (never one used before) or an unused recovery code.

    Returns "totp" or "recovery"; raises SecondFactorError.
    """
    if not user.totp_secret:
        raise SecondFactorError(_l("Two-factor login is not set up for this account."))
    step = _matching_step(user.totp_secret, code, now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise SecondFactorError(
                _l("This code has been used already. Please wait for the next code.")
            )
        user.totp_last_step = step
        session.flush()
        return "totp"
    recovery = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if recovery is None:
        raise SecondFactorError(_l("The code is not correct."))
    recovery.used_at = now
    record_event(
        session,
        "auth.recovery_code_used",
        actor=actor_of(user, ip),
        now=now,
        subject=("user", user.id),
    )
    session.flush()
    return "recovery"


def unused_recovery_codes(session: Session, user: User) -> int:
    """Return how many recovery codes the user has left."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# --- single sign-on ---------------------------------------------------------------------


def mapped_role(claims: dict[str, Any], role_claim: str, mapping: dict[str, str]) -> Role | None:
    """Return the role the provider's claim gives (admin wins), or None without a mapping."""
    raw = claims.get(role_claim)
    values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    roles = {mapping[v] for v in values if isinstance(v, str) and v in mapping}
    if Role.ADMIN.value in roles:
        return Role.ADMIN
    if Role.EDITOR.value in roles:
        return Role.EDITOR
    return None


def record_oidc_refused(
    session: Session, claims: dict[str, Any], *, reason: str, ip: str, now: datetime
) -> None:
    """Note a refused single sign-on; the caller commits it on its own."""
    label = str(claims.get("email") or claims.get("sub") or "?")[:320]
    record_event(
        session,
        "auth.oidc_refused",
        actor=Actor(label=label, ip=ip),
        now=now,
        summary=reason,
        details={"reason": reason, "sub": str(claims.get("sub", ""))[:255]},
    )
    session.flush()


def oidc_login(
    session: Session,
    claims: dict[str, Any],
    *,
    role_claim: str,
    role_mapping: dict[str, str],
    create_accounts: bool,
    ip: str,
    now: datetime,
) -> User:
    """Return the account for a checked ID token; its role follows the provider's claim.

    Raises UserError (nothing changed) for a person without a mapped role, without a
    usable address, with a deactivated account, or unknown when accounts are not created.
    """
    subject = str(claims.get("sub") or "")
    role = mapped_role(claims, role_claim, role_mapping)
    if not subject:
        raise UserError(_l("The identity provider sent no user id."))
    if role is None:
        raise UserError(
            _l(
                "Your account at the identity provider has no role for the editor area. "
                "Please ask an administrator."
            )
        )
    user = session.scalars(select(User).where(User.oidc_subject == subject)).first()
    if user is None:
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is False:
            raise UserError(_l("The identity provider sent no confirmed e-mail address."))
        address = normalise_login(email)
        user = find_user(session, address)
        if user is not None and user.oidc_subject not in (None, subject):
            raise UserError(_l("This address belongs to another single sign-on account."))
        if user is None:
            if not create_accounts:
                raise UserError(
                    _l("There is no editor account for you. Please ask an administrator.")
                )
            user = User(
                email=address,
                name=str(claims.get("name") or "")[:200],
                role=role,
                # Nobody knows this password: the account logs in through the provider.
                password_hash=generate_password_hash(random_token()),
            )
            session.add(user)
            session.flush()
        user.oidc_subject = subject
    if not user.active:
        raise UserError(_l("This account is deactivated."))
    if user.role is not role:
        record_event(
            session,
            "auth.role_changed",
            actor=Actor(label="oidc", ip=ip),
            now=now,
            subject=("user", user.id),
            summary=f"{user.email}: {user.role.value} → {role.value}",
            details={"from": user.role.value, "to": role.value, "by": "identity provider"},
        )
        user.role = role
    user.last_login_at = now
    record_event(
        session,
        "auth.oidc_login",
        actor=actor_of(user, ip),
        now=now,
        subject=("user", user.id),
        summary=user.email,
        details={"sub": subject[:255]},
    )
    session.flush()
    return user
