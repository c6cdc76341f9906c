"""Factories for test data: small functions that make valid objects with overridable fields.

One module per domain; import from here (`from tests.factories import make_item`):

- `users`: editor accounts (`make_user`, `create_editor`) and the editor's `login`.
- `items`: stored items (`make_item`, `make_notice`), submission forms (`event_form`), images, uploads.
- `issues`: draft issues with entries and key figures (`make_issue`).
- `subscribers`: subscribers with consent (`make_subscriber`), sign-up forms, their mails.
- `delivery`: many subscribers at once, scheduled issues, apps that commit for real.
- `relay`: a recording SMTP relay on loopback that can misbehave, speak TLS, ask for AUTH.
- `certificates`: a test CA and a server certificate for it, made with openssl.
- `translators`: translators (`make_translator`) and requests to them (`make_request`).
- `api`: API tokens (`make_token`) and the headers of a call with one (`bearer`).
"""

from tests.factories.api import ALL_SCOPES, bearer, make_token
from tests.factories.certificates import Certificates, make_certificates, openssl_missing
from tests.factories.delivery import (
    FAST,
    committed_app,
    config_app,
    in_transaction,
    scheduled_issue,
    seed_subscribers,
    write_config,
)
from tests.factories.issues import make_issue
from tests.factories.items import (
    TZ,
    event_form,
    image_bytes,
    local,
    make_item,
    make_notice,
    post_multipart,
    today,
)
from tests.factories.relay import Behaviour, Received, Relay
from tests.factories.subscribers import (
    CONFIRM_LINK,
    confirm_token_from,
    counts,
    keyring,
    last_mail,
    make_subscriber,
    subscribe_form,
)
from tests.factories.translators import make_request, make_translator
from tests.factories.users import DEFAULT_PASSWORD, EDITOR, create_editor, login, make_user

__all__ = [
    "ALL_SCOPES",
    "CONFIRM_LINK",
    "DEFAULT_PASSWORD",
    "EDITOR",
    "FAST",
    "TZ",
    "Behaviour",
    "Certificates",
    "Received",
    "Relay",
    "bearer",
    "committed_app",
    "config_app",
    "confirm_token_from",
    "counts",
    "create_editor",
    "event_form",
    "image_bytes",
    "in_transaction",
    "keyring",
    "last_mail",
    "local",
    "login",
    "make_certificates",
    "make_issue",
    "make_item",
    "make_notice",
    "make_request",
    "make_subscriber",
    "make_token",
    "make_translator",
    "make_user",
    "openssl_missing",
    "post_multipart",
    "scheduled_issue",
    "seed_subscribers",
    "subscribe_form",
    "today",
    "write_config",
]
