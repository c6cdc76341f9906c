"""A real OpenID provider for the single sign-on tests: node-oidc-provider on loopback.

tests/oidc/ holds its package.json and lock file (`npm ci` there installs it; .ci/test
does that when Node.js is present) and provider.js, which the fixture starts with
`node provider.js` on a free port and stops after the test. Its users: alice (group
newsticker-editors), root (newsticker-admins), bob (no mapped group); its login page has
a "Refuse" button that answers the app with access_denied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port, unavailable
from tests.waiting import ProcessOutput, wait_until

OIDC_DIR = Path(__file__).parent / "oidc"
CLIENT_ID = "newsticker"
CLIENT_SECRET = "test-client-secret-on-loopback"
ROLE_MAPPING = {"newsticker-admins": "admin", "newsticker-editors": "editor"}


@dataclass(frozen=True)
class Provider:
    """A running provider."""

    issuer: str

    def settings(self, **overrides: object) -> dict[str, object]:
        """Return the app's auth.oidc settings for this provider."""
        values: dict[str, object] = {
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": ["openid", "email", "profile", "groups"],
            "role_claim": "groups",
            "role_mapping": ROLE_MAPPING,
            "timeout_seconds": 10.0,
        }
        values.update(overrides)
        return values


@contextmanager
def running_provider(redirect_uri: str, post_logout_uri: str) -> Iterator[Provider]:
    """Start node-oidc-provider on a free loopback port for the duration of the block."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        unavailable(
            "Node.js or tests/oidc/node_modules missing (run `npm ci` in tests/oidc)",
            required_by="NEWSTICKER_REQUIRE_OIDC",
        )
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": redirect_uri,
        "POST_LOGOUT_URI": post_logout_uri,
        "NODE_ENV": "test",
    }
    proc = subprocess.Popen(
        [node, "provider.js"],
        cwd=OIDC_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(proc)
    try:
        wait_until(
            lambda: "listening" in output.text or proc.poll() is not None,
            timeout=30,
            what="the OpenID provider to listen",
        )
        if proc.poll() is not None:
            raise AssertionError(f"the OpenID provider did not start:\n{output.finish()}")
        yield Provider(issuer=f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            output.finish(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            output.finish(timeout=10)
