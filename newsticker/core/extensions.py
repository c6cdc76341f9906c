"""Flask extensions shared by every blueprint, created unbound and initialised in create_app."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from [rate_limits] storage_uri: memory:// per process, redis:// shared
# across gunicorn workers and hosts.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
