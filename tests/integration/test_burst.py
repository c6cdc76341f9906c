"""A burst of public submissions and sign-ups never answers 500, as served for real.

SQLite used to answer "database is locked" when a form's transaction turned from
reading to writing while another writer (a request, or the thread that sends the
receipts) had committed meanwhile. Served by the README's run command (`newsticker up`,
with its catcher and scheduler) and by gunicorn with two workers, on the suite's
database (SQLite, or PostgreSQL when NEWSTICKER_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, fresh_database

BURST = 30
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _config(tmp_path: Path, port: int) -> Path:
    url = fresh_database(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[site]\nsecret_key = "burst-test"\ninstance_path = "{tmp_path / "instance"}"\n'
        f'base_url = "http://127.0.0.1:{port}"\n'
        f'[database]\nurl = "{url}"\n'
        f"[catcher]\nport = {free_port()}\n"
        '[rate_limits]\nsubmit_per_ip = "10000 per hour"\nsubscribe_per_ip = "10000 per hour"\n'
        "min_fill_seconds = 0\n",
        encoding="utf-8",
    )
    return config


def _wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped with exit code {process.returncode}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or busy starting
        time.sleep(0.2)
    raise AssertionError("the server did not answer /healthz in time")


@contextmanager
def served(how: str, tmp_path: Path) -> Iterator[str]:
    """Serve the app as `newsticker up` or gunicorn -w 2; yield its base URL."""
    port = free_port()
    config = _config(tmp_path, port)
    env = {**os.environ, "NEWSTICKER_CONFIG": str(config)}
    env.pop("NEWSTICKER_BASE_URL", None)
    bin_dir = Path(sys.executable).parent
    if how == "up":
        command = [str(bin_dir / "newsticker"), "up", "--port", str(port)]
    else:
        subprocess.run([str(bin_dir / "newsticker"), "init-db"], env=env, check=True)
        command = [
            str(bin_dir / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "newsticker:create_app()",
        ]
    log = (tmp_path / f"{how}.log").open("wb")
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def _event(i: int) -> dict[str, str]:
    day = (date.today() + timedelta(days=14)).isoformat()
    return {
        "kind": "event",
        "title": f"Sprachcafé Nummer {i}",
        "summary": "Deutsch üben bei Tee.",
        "description": "Für alle Niveaus.",
        "field_of_action": "education",
        "tags": "",
        "event_languages": "de",
        "content_language": "de",
        "start_date": day,
        "start_time": "18:30",
        "end_date": "",
        "end_time": "20:00",
        "repeat": "none",
        "repeat_interval": "1",
        "repeat_nth": "",
        "repeat_weekday": "",
        "place_name": "Hafenhaus",
        "place_address": "Schiffbrücke 1, 24939 Flensburg",
        "organiser": "Sprachtreff Flensburg e. V.",
        "contact_email": "",
        "link": "",
        "submitter_email": f"helferin{i}@example.org",
        "mail_language": "de",
        "consent": "y",
        "website": "",
    }


def _token(session: requests.Session, url: str) -> str:
    match = CSRF.search(session.get(url, timeout=60).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _visitor(base: str, i: int, answers: list[tuple[str, int | str]]) -> None:
    session = requests.Session()
    try:
        data = {**_event(i), "csrf_token": _token(session, f"{base}/einreichen")}
        response = session.post(
            f"{base}/einreichen",
            data=data,
            files={"image": ("", b"", "application/octet-stream")},
            allow_redirects=False,
            timeout=60,
        )
        answers.append(("submit", response.status_code))
        data = {
            "csrf_token": _token(session, f"{base}/abonnieren"),
            "email": f"leser{i}@example.org",
            "publications": "ticker",
            "language": "de",
            "consent": "y",
            "website": "",
        }
        response = session.post(f"{base}/abonnieren", data=data, allow_redirects=False, timeout=60)
        answers.append(("subscribe", response.status_code))
    except requests.RequestException as exc:
        answers.append(("error", repr(exc)))


@pytest.mark.parametrize("how", ["up", "gunicorn"])
def test_a_burst_of_submissions_and_signups_never_answers_500(how, tmp_path):
    with served(how, tmp_path) as base:
        answers: list[tuple[str, int | str]] = []
        visitors = [
            threading.Thread(target=_visitor, args=(base, i, answers)) for i in range(BURST)
        ]
        for visitor in visitors:
            visitor.start()
        for visitor in visitors:
            visitor.join()
    log = (tmp_path / f"{how}.log").read_text(encoding="utf-8", errors="replace")
    assert Counter(answers) == {("submit", 303): BURST, ("subscribe", 303): BURST}
    assert "database is locked" not in log
    assert "unhandled error" not in log
