"""The rule for tests that need something outside Python: skip where it is missing, fail in CI.

`bash .ci/test` installs what it can (Chromium, Java, Dovecot); CI sets the
NEWSTICKER_REQUIRE_* variables, so a prerequisite that went missing there fails loudly
instead of quietly skipping the test that needs it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(problem: str, require_env: str) -> NoReturn:
    """Skip the test with the problem, or fail it when `require_env` is set (in CI)."""
    if os.environ.get(require_env):
        pytest.fail(f"{problem}; {require_env} is set, so this fails")
    pytest.skip(problem)
