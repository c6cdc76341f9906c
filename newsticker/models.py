"""Import every model module so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "newsticker.core.mailqueue",
    "newsticker.core.audit",
    "newsticker.core.webhooks",
    "newsticker.auth.models",
    "newsticker.items.models",
    "subscribers.models",
    "newsticker.issues.models",
    "newsticker.delivery.models",
    "newsticker.api.models",
    "newsticker.translators.models",
)


def load_all_models() -> None:
    """Import all model modules."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
