"""What reading a mailbox needs (settings, key ring, salts, how to commit), and its summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsticker.config import Settings
from newsticker.core.tokens import KeyRing
from subscribers import services
from subscribers.models import BounceRun

BATCH = 100
Commit = Callable[[], None]


@dataclass(frozen=True)
class RunContext:
    """What reading a mailbox needs besides the session."""

    settings: Settings
    keyring: KeyRing
    salts: Sequence[bytes]
    trigger: str = "cli"
    commit: Commit | None = None
    batch: int = BATCH

    @property
    def returns(self) -> services.ReturnSettings:
        """Return what handling a message needs from the settings."""
        s = self.settings
        return services.ReturnSettings(
            policy=services.BouncePolicy.from_settings(s),
            return_path=s.mail.return_path,
            unsubscribe_address=s.bounces.unsubscribe_address,
            publications=tuple(p.slug for p in s.publications),
        )


def summary(run: BounceRun) -> str:
    """Return one line about a run, for the command line and the log."""
    counts = run.counts or {}
    parts = [
        ("read", "read"),
        ("bounce", "bounces"),
        ("hard", "hard"),
        ("soft", "soft"),
        ("complaint", "complaints"),
        ("unsubscribe", "unsubscribe mails"),
        ("delay", "delay warnings"),
        ("delivered", "delivery reports"),
        ("auto_reply", "auto-replies"),
        ("other", "other mail left unread"),
        ("unknown", "about unknown addresses"),
        ("removed", "taken off the list"),
        ("quarantined", "quarantined"),
    ]
    if counts.get("already_counted"):
        parts.append(("already_counted", "counted by an earlier run (moved only)"))
    if counts.get("unverified"):
        parts.append(("unverified", "unsubscribe mails failing DMARC, left unread"))
    return ", ".join(f"{label} {counts.get(key, 0)}" for key, label in parts)
