"""Waiting for something to happen: poll a condition against a deadline, never a guessed sleep.

A fixed `time.sleep(4)` is either too long (every run pays for it) or too short (a busy CI
machine fails the test). `wait_until` checks often and gives up only after a generous
deadline, so a test is as fast as the machine and fails with a message that says what it
was waiting for. `ProcessOutput` reads a subprocess's output in a thread, so a test can
wait for a line while the process keeps running.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> T:
    """Call condition() until it returns something true and return that; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what or condition}")
        time.sleep(interval)


class ProcessOutput:
    """Collect the output of a subprocess started with stdout=PIPE (text mode) as it comes."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None, "start the process with stdout=subprocess.PIPE"
        self.proc = proc
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)

    @property
    def text(self) -> str:
        """Return everything the process printed so far."""
        with self._lock:
            return "".join(self._lines)

    def finish(self, timeout: float = 30.0) -> str:
        """Wait for the process to end (after terminate(), say); return all it printed."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.text
