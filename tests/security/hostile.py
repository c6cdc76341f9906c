"""The hostile-input corpus and the checks that prove nothing in it took effect.

A value goes in wrapped in markers (`ZQ<code> … QZ`), so a check can find the region
where it came out and tell "shown as text" from "interpreted". No tests in here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email import message_from_bytes, message_from_string, policy
from html.parser import HTMLParser
from typing import Any

from lxml import etree

# The hostile values: name → value. Every executable one calls alert( or loads evil.example,
# so a check can look for those strings in executable places.
CORPUS: dict[str, str] = {
    "script-tag": "<script>alert(1)</script>",
    "script-split": "<scr<script>ipt>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "attribute-break": '" onmouseover="alert(1)" x="',
    "single-quote-break": "' onfocus='alert(1)' autofocus x='",
    "javascript-url": "javascript:alert(1)",
    "javascript-url-obfuscated": " JaVaScRiPt:alert(1)",
    "svg-onload": "<svg onload=alert(1)><circle r=1></svg>",
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "css-expression": '<div style="width: expression(alert(1))">x</div>',
    "style-tag": "<style>body{background:url(javascript:alert(1))}</style>",
    "markdown-js-link": "[klick mich](javascript:alert(1)) ![bild](https://evil.example/x.png)",
    "markdown-raw-html": 'Text <a href="javascript:alert(1)">link</a> <b onclick=alert(1)>b</b>',
    "entities": "&lt;script&gt;alert(1)&lt;/script&gt; &#106;avascript:alert(1)",
    "template-expression": "{{ 7*7 }}",
    "template-big-number": "{{ 1337*1337 }}",
    "template-statement": "{% if 1 %}EVALUATED{% endif %}",
    "template-config": "{{ config.SECRET_KEY }}{{ config.items() }}",
    "bidi-override": "abc\u202edcba\u2066x\u2069",
    "crlf-header": "Betreff\r\nBcc: opfer@example.org\r\nX-Injected: 1",
    "lf-only": "eins\nX-Injected: 1",
    "nul-byte": "a\x00b",
    "other-control": "a\x1b[31mrot\x07",
    "line-separator": "eins\u2028zwei",
    "sql-quote": "' OR '1'='1' --",
    "sql-drop": "'); DROP TABLE items; --",
    "sql-like": "%_%\\",
    "csv-formula": '=HYPERLINK("https://evil.example/","klick")',
    "overlong": "A" * 100_000,
    "unicode-mixed": "Ärger ß 👍🏽 مرحبا שלום 𝔘𝔫𝔦",
}

BIG = "1787569"  # 1337 * 1337
EXECUTABLE = ("alert(", "evil.example")
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "ping",
    "cite",
    "srcset",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


def wrap(code: str, value: str) -> str:
    """Return the value between this field's markers."""
    return f"ZQ{code} {value} QZ"


def marker_code(payload: str, field: str) -> str:
    """Return a marker code (letters and digits only) for a payload in a field."""
    return re.sub(r"[^A-Za-z0-9]", "", f"{payload}{field}")[:40]


@dataclass
class Finding:
    """Something hostile that took effect in a sink."""

    sink: str
    what: str

    def __str__(self) -> str:
        return f"{self.sink}: {self.what}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.raw_text: dict[str, list[str]] = {"script": [], "style": []}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        if tag in self.raw_text:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.raw_text[self._open[-1]].append(data)


def _squash(value: str) -> str:
    # Browsers ignore whitespace and control characters inside a URL scheme.
    return re.sub(r"[\x00-\x20]", "", value).lower()


def html_findings(sink: str, document: str) -> list[Finding]:
    """Return everything executable the corpus could have put into an HTML document."""
    parser = _Collector()
    parser.feed(document)
    parser.close()
    found = []
    for tag, attrs in parser.elements:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                found.append(Finding(sink, f"<{tag} {name}=…> event handler"))
            elif name in URL_ATTRIBUTES and _squash(value).startswith(BAD_SCHEMES):
                found.append(Finding(sink, f"<{tag} {name}={value[:60]!r}>"))
            elif name == "srcdoc":
                found.append(Finding(sink, f"<{tag} srcdoc>"))
            elif name == "style" and any(s in _squash(value) for s in ("expression(", "alert(")):
                found.append(Finding(sink, f"<{tag} style={value[:60]!r}>"))
            elif name in URL_ATTRIBUTES and "evil.example" in value and tag != "a":
                found.append(
                    Finding(sink, f"<{tag} {name}={value[:60]!r}> loads a foreign resource")
                )
        if tag in ("script", "iframe", "object", "embed", "frame", "base"):
            src = dict(attrs).get("src") or dict(attrs).get("data") or ""
            if tag == "script" and src.startswith("/static/"):
                continue
            if tag == "iframe" and src.startswith("/redaktion/"):
                continue
            found.append(Finding(sink, f"<{tag} {src[:60]!r}> element"))
    for tag in ("script", "style"):
        text = "".join(parser.raw_text[tag])
        if any(s in text for s in EXECUTABLE) or "expression(" in text:
            found.append(Finding(sink, f"hostile code inside <{tag}>"))
    return found


def template_findings(sink: str, text: str, secret: str) -> list[Finding]:
    """Return signs that a template expression in the input was evaluated."""
    found = []
    plain = html.unescape(text)
    if BIG in plain:
        found.append(Finding(sink, f"{{{{ 1337*1337 }}}} evaluated to {BIG}"))
    # Shown as text, the word follows the statement's "%}" (or its URL encoding "%7D").
    for match in re.finditer("EVALUATED", plain):
        before = plain[max(0, match.start() - 3) : match.start()].rstrip()
        if not before.endswith(("%}", "%7D", "%7d", "+")):
            found.append(Finding(sink, "{% if %} statement evaluated"))
            break
    if secret and secret in plain:
        found.append(Finding(sink, "the secret key appears"))
    for region in re.findall(r"ZQtemplateexpression\w*(.*?)QZ", plain, flags=re.S):
        if "49" in region:
            found.append(Finding(sink, "{{ 7*7 }} evaluated to 49"))
    return found


def mail_findings(sink: str, raw: bytes | str, secret: str) -> list[Finding]:
    """Return injected headers, and anything executable or evaluated in the parts."""
    message = (
        message_from_bytes(raw, policy=policy.default)
        if isinstance(raw, bytes)
        else message_from_string(raw, policy=policy.default)
    )
    found = []
    for name, value in message.items():
        if name.lower() in ("bcc", "x-injected"):
            found.append(Finding(sink, f"injected header {name}"))
        if "\n" in str(value) or "\r" in str(value):
            found.append(Finding(sink, f"line break in header {name}"))
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        content = part.get_content()
        if part.get_content_subtype() == "html":
            found += html_findings(f"{sink} (html part)", content)
        found += template_findings(f"{sink} ({part.get_content_subtype()} part)", content, secret)
    return found


def atom_findings(sink: str, body: bytes, secret: str) -> list[Finding]:
    """Return problems in an Atom feed: broken XML, or HTML content that would run."""
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        return [Finding(sink, f"not well-formed XML: {exc}")]
    found = []
    ns = {"a": "http://www.w3.org/2005/Atom"}
    for node in root.iterfind(".//a:*[@type]", ns):
        if node.get("type") == "html" and node.text:
            found += html_findings(f"{sink} ({etree.QName(node).localname})", node.text)
    found += template_findings(sink, body.decode("utf-8"), secret)
    return found


def ical_findings(sink: str, body: bytes, secret: str) -> list[Finding]:
    """Return problems in an iCalendar file: unparseable, or injected properties."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(body)
    except ValueError as exc:
        return [Finding(sink, f"not valid iCalendar: {exc}")]
    found = []
    for component in calendar.walk():
        for name in component:
            if name.upper().startswith("X-INJECTED") or name.upper() in ("BCC", "ATTACH"):
                found.append(Finding(sink, f"injected property {name}"))
    found += template_findings(sink, body.decode("utf-8"), secret)
    return found


def region(text: str, code: str) -> str | None:
    """Return what came out between a field's markers, or None when absent."""
    match = re.search(rf"ZQ{re.escape(code)}(.*?)QZ", html.unescape(text), flags=re.S)
    return match.group(1) if match else None


def sanitised(given: str, stored: Any) -> bool:
    """Return whether the stored value differs from what was sent (cleaned on the way in)."""
    if isinstance(stored, list):
        return given not in stored and given.strip() not in stored
    return str(stored).strip() != given.strip()
