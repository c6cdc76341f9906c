"""A small pool of reused SMTP connections to the relay, one per sending thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from newsticker.core.mail import SmtpConnection, SmtpTransport, TemporaryMailError
from newsticker.delivery.compose import Composed

logger = logging.getLogger(__name__)

# After a failed connect, wait this long before the next one (doubling up to the maximum),
# so a relay that is down is not hammered while the failure run grows.
CONNECT_BACKOFF = (0.5, 10.0)


class RelaySession:
    """One connection to the relay, reused for many messages and reopened after a failure."""

    def __init__(
        self,
        transport: SmtpTransport,
        *,
        connect_backoff: tuple[float, float] = CONNECT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.connect_backoff = connect_backoff
        self._sleep = sleep
        self._conn: SmtpConnection | None = None
        self._connect_failures = 0
        self.opened = 0
        self.sent = 0

    def send(self, message: Composed) -> str:
        """Send one message; return the relay's reply or raise a MailError.

        A reused connection the relay has closed meanwhile (idle timeout, a limit of
        messages per connection, 421) gets one immediate second try on a new connection.
        """
        conn = self._connection()
        reused = conn.sent > 0
        try:
            reply = self._send_on(conn, message)
        except TemporaryMailError:
            if not reused or self._conn is not None:
                raise
            reply = self._send_on(self._connection(), message)
        self.sent += 1
        return reply

    def _send_on(self, conn: SmtpConnection, message: Composed) -> str:
        try:
            return conn.send_raw(
                message.envelope_from, message.recipient, message.data, smtputf8=message.smtputf8
            )
        finally:
            if not conn.is_open:
                self._conn = None

    def _connection(self) -> SmtpConnection:
        if self._conn is not None:
            return self._conn
        if self._connect_failures:
            base, limit = self.connect_backoff
            self._sleep(min(base * 2 ** (self._connect_failures - 1), limit))
        try:
            self._conn = self.transport.open()
        except TemporaryMailError:
            self._connect_failures += 1
            raise
        self._connect_failures = 0
        self.opened += 1
        return self._conn

    def close(self) -> None:
        """Say QUIT if a connection is open."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SmtpPool:
    """Hand out up to `size` relay sessions; a session is reused by whoever takes it next."""

    def __init__(
        self,
        transport: SmtpTransport,
        size: int,
        *,
        connect_backoff: tuple[float, float] = CONNECT_BACKOFF,
    ) -> None:
        if size < 1:
            raise ValueError("an SMTP pool needs at least one connection")
        self.size = size
        self._idle = [RelaySession(transport, connect_backoff=connect_backoff) for _ in range(size)]
        self._all = list(self._idle)
        self._lock = threading.Condition()

    @contextmanager
    def session(self) -> Iterator[RelaySession]:
        """Take a session for a while (blocks while all are in use) and give it back."""
        with self._lock:
            while not self._idle:
                self._lock.wait()
            relay = self._idle.pop()
        try:
            yield relay
        finally:
            with self._lock:
                self._idle.append(relay)
                self._lock.notify()

    @property
    def opened(self) -> int:
        """Return how many connections were opened in all (reconnects included)."""
        return sum(relay.opened for relay in self._all)

    def close(self) -> None:
        """Close every connection."""
        for relay in self._all:
            relay.close()
