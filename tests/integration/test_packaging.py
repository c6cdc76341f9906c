"""`pip install .` outside the checkout: the wheel carries templates, catalogues, script."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("newsticker-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_templates_catalogues_and_scheduler(wheel):
    names = set(wheel.namelist())
    assert "newsticker/_templates/base.html" in names
    assert "newsticker/_templates/email/_layout.html" in names
    assert "newsticker/translations/de/LC_MESSAGES/messages.mo" in names
    assert "newsticker/static/css/site.css" in names
    assert "newsticker/migrations/env.py" in names
    assert "newsticker/config.example.toml" in names
    assert any(n.startswith("subscribers/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_declares_the_console_script(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "newsticker = newsticker.cli:main" in wheel.read(entry_points).decode()


def test_installed_app_finds_shipped_templates(wheel, tmp_path):
    wheel.extractall(tmp_path / "site")
    code = "import newsticker; print(newsticker.templates_dir())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(tmp_path / "site" / "newsticker" / "_templates")
