"""A recording SMTP relay on loopback (aiosmtpd) that can misbehave on cue.

It records every message it accepts and, as its `Behaviour` says, refuses recipients,
answers 4xx or 5xx to the n-th DATA, drops each connection after k messages, or hangs.
With `tls` it speaks STARTTLS (or implicit TLS with `implicit_tls`), and with `logins` it
asks for SMTP AUTH (PLAIN and LOGIN) and accepts only those user names and passwords.
It offers PIPELINING and SMTPUTF8, as Postfix does, unless told `pipelining=False` or
`smtputf8=False`.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from newsticker.core.catcher import ehlo_offering_pipelining
from tests.conftest import free_port


@dataclass
class Received:
    """One message the relay accepted."""

    rcpt: str
    mail_from: str
    data: bytes
    at: float
    tls: str | None = None  # the TLS version the message came over ("TLSv1.3"), if any
    login: str | None = None  # the SMTP AUTH user name, if the client logged in

    @property
    def message(self) -> Any:
        """Return the parsed message."""
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class Behaviour:
    """How the relay misbehaves; every rule is optional."""

    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 ..."
    data_replies: dict[int, str] = field(default_factory=dict)  # n-th DATA (1-based) -> reply
    close_after: int = 0  # drop each connection after this many accepted messages
    hang_on: set[int] = field(default_factory=set)  # n-th DATA: do not answer for a while
    hang_seconds: float = 5.0
    on_data: Callable[[int], None] | None = None  # called with n before the n-th DATA is answered


class _Handler:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if self.relay.pipelining:
            return ehlo_offering_pipelining(session, hostname, responses)
        session.host_name = hostname  # the hook's duty in aiosmtpd
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.relay.logins is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.relay.behaviour.refuse_rcpt.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        relay = self.relay
        with relay.lock:
            relay.data_count += 1
            number = relay.data_count
        behaviour = relay.behaviour
        if behaviour.on_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, behaviour.on_data, number)
        if number in behaviour.hang_on:
            await asyncio.sleep(behaviour.hang_seconds)
            return "451 4.4.2 too slow"
        reply = behaviour.data_replies.get(number)
        if reply:
            if reply.startswith("421"):
                server.transport.close()
            return reply
        tls = server.transport.get_extra_info("ssl_object")
        login = session.auth_data.login.decode() if session.authenticated else None
        with relay.lock:
            for rcpt in envelope.rcpt_tos:
                relay.received.append(
                    Received(
                        rcpt,
                        envelope.mail_from,
                        envelope.original_content,
                        time.time(),
                        tls=tls.version() if tls is not None else None,
                        login=login,
                    )
                )
            accepted = getattr(session, "nt_accepted", 0) + 1
            session.nt_accepted = accepted
        if behaviour.close_after and accepted >= behaviour.close_after:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 2.0.0 Ok: queued as Q{number}"


class Relay:
    """A recording SMTP relay on loopback that can be told to misbehave."""

    def __init__(
        self,
        port: int | None = None,
        behaviour: Behaviour | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        logins: dict[str, str] | None = None,
        pipelining: bool = True,
        smtputf8: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.pipelining = pipelining
        self.behaviour = behaviour or Behaviour()
        self.received: list[Received] = []
        self.data_count = 0
        self.lock = threading.Lock()
        self.logins = logins
        self.refused_logins: list[str] = []
        options: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
        if tls is not None and implicit_tls:
            # The whole connection is TLS: AUTH needs no STARTTLS first.
            options.update(ssl_context=tls, auth_require_tls=False)
        elif tls is not None:
            # A relay with a certificate insists on STARTTLS, as real relays do.
            options.update(tls_context=tls, require_starttls=True)
        if logins is not None:
            # Without a login the handler refuses MAIL (aiosmtpd's auth_required would warn
            # about implicit TLS, where auth_require_tls is off because all of it is TLS).
            options.update(authenticator=self._authenticate)
        self.controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            data_size_limit=0,
            **options,
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        user = auth_data.login.decode()
        assert self.logins is not None
        if self.logins.get(user) == auth_data.password.decode():
            return AuthResult(success=True, auth_data=auth_data)
        with self.lock:
            self.refused_logins.append(user)
        return AuthResult(success=False, handled=False)

    def __enter__(self) -> Relay:
        self.controller.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.controller.stop()

    def recipients(self) -> list[str]:
        """Return the envelope recipient of every accepted message (duplicates kept)."""
        with self.lock:
            return [r.rcpt for r in self.received]
