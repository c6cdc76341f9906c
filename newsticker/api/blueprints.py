"""Every blueprint of the API, in the order the reference lists them."""

from __future__ import annotations

from newsticker.api.delivery import bp as delivery_bp
from newsticker.api.issues import bp as issues_bp
from newsticker.api.moderation import bp as moderation_bp
from newsticker.api.public import bp as public_bp
from newsticker.api.subscribers import bp as subscribers_bp

BLUEPRINTS = (public_bp, moderation_bp, issues_bp, subscribers_bp, delivery_bp)
