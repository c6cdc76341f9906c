"""Single sign-on with OpenID Connect: the Authorization Code flow with PKCE, by Authlib.

Authlib does the protocol: it reads the provider's discovery document, sends the person
there with a random state, nonce and PKCE verifier kept in the signed session, exchanges
the code at the token endpoint with the client secret, and checks the ID token
(signature from the provider's keys, issuer, audience, expiry, nonce). This module only
wraps it and turns its failures into one of a few kinds the login page explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from werkzeug.wrappers import Response

from newsticker.config import OidcSettings

_CLIENT = "newsticker_oidc_client"


@dataclass
class OidcFailure(Exception):
    """The sign-on did not succeed: kind is refused, provider, state or token."""

    kind: str
    detail: str = ""


def _client(app: Flask, settings: OidcSettings) -> Any:
    client = app.extensions.get(_CLIENT)
    if client is None:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth()
        oauth.init_app(app)
        client = oauth.register(
            "newsticker_sso",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": " ".join(settings.scopes),
                "code_challenge_method": "S256",
                "timeout": settings.timeout_seconds,
            },
        )
        app.extensions[_CLIENT] = client
    return client


def start(app: Flask, settings: OidcSettings, redirect_uri: str) -> Response:
    """Return the redirect to the provider (state, nonce and PKCE verifier in the session)."""
    try:
        response: Response = _client(app, settings).authorize_redirect(redirect_uri)
    except Exception as exc:  # network, bad discovery document
        raise OidcFailure("provider", type(exc).__name__) from exc
    return response


def finish(app: Flask, settings: OidcSettings) -> tuple[dict[str, Any], str]:
    """Check the provider's answer on the callback; return the ID token's claims and itself."""
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError

    try:
        token = _client(app, settings).authorize_access_token()
    except MismatchingStateError as exc:
        raise OidcFailure("state", "unknown or expired state") from exc
    except OAuthError as exc:
        if exc.error == "access_denied":
            raise OidcFailure("refused", exc.description or exc.error) from exc
        raise OidcFailure("provider", exc.error or exc.description or "error") from exc
    except Exception as exc:
        # An ID token that does not check out (nonce, signature, issuer, audience,
        # expiry), or a provider that cannot be reached.
        name = type(exc).__name__
        kind = "token" if "claim" in name.lower() or "jose" in type(exc).__module__ else "provider"
        raise OidcFailure(kind, f"{name}: {exc}"[:200]) from exc
    userinfo = token.get("userinfo")
    if not userinfo:
        raise OidcFailure("token", "no ID token")
    return dict(userinfo), str(token.get("id_token", ""))


def logout_url(
    app: Flask, settings: OidcSettings, *, id_token: str, post_logout_redirect_uri: str
) -> str | None:
    """Return the provider's end-session URL (RP-initiated logout), or None without one."""
    try:
        metadata = _client(app, settings).load_server_metadata()
    except Exception:
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = {"client_id": settings.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    if id_token:
        query["id_token_hint"] = id_token
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(query)}"
