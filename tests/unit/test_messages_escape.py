"""No translated message can turn a value it quotes into markup."""

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import Babel, force_locale

from newsticker.core.i18n import lazy_gettext, lazy_ngettext

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "newsticker" / "translations").glob("*/LC_MESSAGES/messages.po"))
HOSTILE = "<b>x</b>"


@pytest.fixture(scope="module")
def app():
    application = Flask(__name__)
    Babel(application, default_translation_directories=str(ROOT / "newsticker" / "translations"))
    return application


def _placeholder_messages():
    with CATALOGUES[0].open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and "%(" in str(message.id):
            yield message.id


def _values(msgid):
    """Return hostile text for each string placeholder and a number for the others."""
    text = msgid if isinstance(msgid, str) else " ".join(msgid)
    values = {}
    for part in text.split("%(")[1:]:
        name, rest = part.split(")", 1)
        values[name] = HOSTILE if rest[:1] == "s" and name != "num" else 2
    return values


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_message_that_quotes_a_value_escapes_it_in_a_page(app, language):
    checked = 0
    with app.app_context(), force_locale(language):
        for msgid in _placeholder_messages():
            values = _values(msgid)
            if isinstance(msgid, tuple):
                values.pop("num", None)
                message = lazy_ngettext(msgid[0], msgid[1], 2, **values)
            else:
                message = lazy_gettext(msgid, **values)
            html = render_template_string("{{ message }}", message=message)
            assert HOSTILE not in html, msgid
            if HOSTILE in values.values():
                assert "&lt;b&gt;x&lt;/b&gt;" in html, msgid
            checked += 1
    assert checked > 20


def _python_files():
    for folder in ("newsticker", "subscribers"):
        yield from (ROOT / folder).rglob("*.py")


def test_no_module_uses_flask_babels_own_lazy_strings():
    """Flask-Babel's lazy strings render as markup: newsticker.core.i18n's must be used."""
    offenders = []
    for path in _python_files():
        if path.name == "i18n.py" and path.parent.name == "core":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                names = {alias.name for alias in node.names}
                if names & {"lazy_gettext", "lazy_ngettext", "lazy_pgettext", "LazyString"}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "import lazy_gettext from newsticker.core.i18n instead"


TRANSLATING = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "_n"}


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return ""


def test_no_translated_message_is_declared_markup():
    """Markup(_(...)) would trust the values a message quotes: refused in every module."""
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if _call_name(node) != "Markup":
                continue
            inner = {_call_name(n) for n in ast.walk(node)} - {"Markup"}
            if inner & TRANSLATING:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_template_marks_text_safe():
    """`|safe` and autoescape off would let a quoted value through: only on fixed literals."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        if "autoescape false" in text:
            offenders.append(str(path.relative_to(ROOT)))
        for expression in re.findall(r"\{\{(.*?)\}\}", text, re.S):
            if re.search(r"\|\s*safe\b", expression) and not LITERAL_SAFE.fullmatch(expression):
                offenders.append(f"{path.relative_to(ROOT)}: {expression.strip()}")
    assert offenders == []


LITERAL_SAFE = re.compile(r'\s*"[^"{}]*"\s*\|\s*safe\b[^|]*')
