"""SMTP over TLS and with a login, against a real relay on loopback with a test CA.

The relay (aiosmtpd) presents a certificate for 127.0.0.1 signed by a CA the test makes.
The transport builds its TLS context with ssl.create_default_context(), which trusts
what OpenSSL's default paths name, and OpenSSL reads SSL_CERT_FILE for that: so the
tests trust the test CA by setting SSL_CERT_FILE, the way an installation with its own
CA would. (`[smtp]` has no setting for a CA file.)

The sender's connection pool (delivery/smtp.py) opens its connections through the same
transport, so the last tests send an issue through it over STARTTLS with a login.
"""

from collections import Counter

import pytest
from sqlalchemy import select

from newsticker.config import SmtpSettings
from newsticker.core.db import utcnow
from newsticker.core.mail import (
    RelayLoginRefused,
    SmtpTransport,
    TemporaryMailError,
    build_message,
)
from newsticker.core.site import app_settings, site_links
from newsticker.delivery import services
from newsticker.delivery.models import Delivery
from newsticker.delivery.sender import IssueSender
from subscribers.models import Subscription
from tests.conftest import unavailable
from tests.factories import (
    Certificates,
    Relay,
    committed_app,
    in_transaction,
    make_certificates,
    openssl_missing,
    scheduled_issue,
    seed_subscribers,
)

USER, PASSWORD = "newsticker", "relay-password-for-tests"
MODES = [pytest.param("starttls", id="STARTTLS"), pytest.param("ssl", id="SSL")]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    """Return a test CA and a server certificate for 127.0.0.1."""
    if openssl_missing():
        unavailable(
            "the openssl command is missing (apt-get install openssl)",
            required_by="NEWSTICKER_REQUIRE_OPENSSL",
        )
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_test_ca(certificates, monkeypatch):
    """Let ssl.create_default_context() trust the test CA (and only it)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def relay_for(certificates, mode, **options) -> Relay:
    return Relay(tls=certificates.server_context(), implicit_tls=mode == "ssl", **options)


def transport(relay, mode, **options) -> SmtpTransport:
    return SmtpTransport(
        SmtpSettings(host="127.0.0.1", port=relay.port, tls=mode, timeout=10, **options)
    )


def message(to="leserin@example.org"):
    return build_message(
        sender="Newsticker <newsticker@example.org>",
        to=to,
        subject="Über TLS",
        text="Grüße über eine verschlüsselte Verbindung.",
        html="<p>Grüße über eine verschlüsselte Verbindung.</p>",
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_mail_arrives_over_tls(certificates, trust_test_ca, mode):
    with relay_for(certificates, mode) as relay:
        transport(relay, mode).send(message())
    (received,) = relay.received
    assert received.rcpt == "leserin@example.org"
    assert received.tls is not None and received.tls.startswith("TLSv1.")
    assert received.login is None
    assert (
        "Grüße über eine verschlüsselte Verbindung."
        in received.message.get_body(("plain",)).get_content()
    )


@pytest.mark.parametrize("mode", MODES)
def test_smtp_auth_with_the_right_password(certificates, trust_test_ca, mode):
    with relay_for(certificates, mode, logins={USER: PASSWORD}) as relay:
        transport(relay, mode, user=USER, password=PASSWORD).send(message())
    (received,) = relay.received
    assert (received.login, received.rcpt) == (USER, "leserin@example.org")
    assert received.tls is not None
    assert relay.refused_logins == []


@pytest.mark.parametrize("mode", MODES)
def test_smtp_auth_with_a_wrong_password_is_a_clear_permanent_error(
    certificates, trust_test_ca, mode
):
    with relay_for(certificates, mode, logins={USER: PASSWORD}) as relay:
        wrong = transport(relay, mode, user=USER, password="not-the-password")
        with pytest.raises(RelayLoginRefused, match=r"^SMTP login refused: 535$"):
            wrong.send(message())
    # smtplib tries each mechanism the relay offers (PLAIN, then LOGIN) before giving up.
    assert relay.refused_logins and set(relay.refused_logins) == {USER}
    assert relay.received == []


@pytest.mark.parametrize("mode", MODES)
def test_a_relay_whose_certificate_is_not_trusted_is_refused(certificates, monkeypatch, mode):
    # The system's CAs do not know the test CA: the certificate is checked, not just used.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with (
        relay_for(certificates, mode) as relay,
        pytest.raises(TemporaryMailError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        transport(relay, mode).send(message())
    assert relay.received == []


def test_an_issue_goes_out_through_the_pool_over_starttls_with_a_login(
    certificates, trust_test_ca, tmp_path
):
    with relay_for(certificates, "starttls", logins={USER: PASSWORD}) as relay:
        app = committed_app(
            tmp_path,
            **{
                "smtp.port": relay.port,
                "smtp.tls": "starttls",
                "smtp.user": USER,
                "smtp.password": PASSWORD,
                "delivery.connections": 2,
            },
        )
        settings = app_settings(app)
        ids = in_transaction(app, lambda s: seed_subscribers(s, 12))
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)
        in_transaction(
            app,
            lambda s: services.start_issue(
                s, issue_id, now=utcnow(), settings=settings, links=site_links(app)
            ),
        )
        run = IssueSender(app, settings, connect_backoff=(0, 0)).drain(issue_id, wait=True)
    assert run.state == "finished" and run.sent == 12
    addresses = {f"leser{i}@example.org" for i in ids}
    issue_mails = [r for r in relay.received if r.rcpt in addresses]
    assert Counter(r.rcpt for r in issue_mails) == Counter(addresses)
    assert {(r.login, r.tls is not None) for r in issue_mails} == {(USER, True)}


def test_a_wrong_relay_password_takes_nobody_off_the_list(certificates, trust_test_ca, tmp_path):
    with relay_for(certificates, "starttls", logins={USER: PASSWORD}) as relay:
        app = committed_app(
            tmp_path,
            **{
                "smtp.port": relay.port,
                "smtp.tls": "starttls",
                "smtp.user": USER,
                "smtp.password": "an-old-password",
                "delivery.connections": 1,
                "delivery.failure_pause_threshold": 3,
            },
        )
        settings = app_settings(app)
        in_transaction(app, lambda s: seed_subscribers(s, 6))
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)
        in_transaction(
            app,
            lambda s: services.start_issue(
                s, issue_id, now=utcnow(), settings=settings, links=site_links(app)
            ),
        )
        run = IssueSender(app, settings, connect_backoff=(0, 0)).drain(issue_id, wait=True)
    assert relay.received == []
    assert run.state == "paused"  # the failure run stops the send, as for a relay that is down
    statuses = in_transaction(
        app,
        lambda s: (
            Counter(s.scalars(select(Delivery.status).where(Delivery.issue_id == issue_id))),
            Counter(s.scalars(select(Subscription.status))),
        ),
    )
    # Once the password is fixed, everyone still gets the issue and stays subscribed.
    assert statuses == (Counter(pending=6), Counter(confirmed=6))
