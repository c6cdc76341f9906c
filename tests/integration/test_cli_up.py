"""`newsticker up` as a real process: SIGTERM stops all it started, and its log is plain text."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, fresh_database


def _config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[site]\nsecret_key = "up-test"\ninstance_path = "{tmp_path / "instance"}"\n'
        f'base_url = "http://127.0.0.1:{port}"\n'
        f'[database]\nurl = "{fresh_database(tmp_path)}"\n'
        f"[catcher]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    return config


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_sigterm_stops_the_scheduler_too_and_the_log_has_no_colour_codes(tmp_path):
    port = free_port()
    env = {**os.environ, "NEWSTICKER_CONFIG": str(_config(tmp_path, port))}
    env.pop("NEWSTICKER_BASE_URL", None)
    log_path = tmp_path / "up.log"
    command = [str(Path(sys.executable).parent / "newsticker"), "up", "--port", str(port)]
    with log_path.open("wb") as log:
        # Output to a file: not a terminal. A session of its own, so the test can clean up.
        process = subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "newsticker up did not answer in time"
                try:
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            assert requests.get(f"{base}/nichtda", timeout=10).status_code == 404
            scheduler = [
                pid
                for pid in _children(process.pid)
                if b"newsticker.scheduling" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            assert len(scheduler) == 1, "the scheduler process was not started"

            os.kill(process.pid, signal.SIGTERM)  # the parent only, as a service manager does
            assert process.wait(timeout=30) == 0
            deadline = time.monotonic() + 10
            while _alive(scheduler[0]) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(scheduler[0]), "the scheduler kept running after SIGTERM"
        finally:
            # Whatever is left of the group (the scheduler of a failed run too) goes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    output = log_path.read_bytes()
    assert b'"GET /nichtda HTTP/1.1" 404' in output  # the request log is there ...
    assert b"\x1b[" not in output  # ... without colour codes
    assert b"Newsticker stopped." in output
