"""Messages built from parts encoded once: the same content as fill(), the right headers."""

import email
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest

from newsticker.config import load_settings
from newsticker.core.headers import encode_words
from newsticker.delivery.compose import (
    PersonalValues,
    envelope_sender,
    list_headers,
    list_unsubscribe_header,
    make_template,
    message_id,
    qp_encode,
)
from newsticker.issues.rendering import PreparedIssue

MARKER = "0123456789abcdef"
EMPTY = Path(__file__).resolve().parents[1] / "data" / "empty.toml"


def ph(name: str) -> str:
    return f"xNT{MARKER}_{name}_TNx"


def prepared(
    html_body: str = "", text_body: str = "", greeting_pattern: str = "Hallo {name},"
) -> PreparedIssue:
    html = (
        f'<html><body><p class="greeting">{ph("greeting")}</p>'
        + (html_body or "<p>Grüße aus Flensburg – Treffen am Donnerstag um 18:30.</p>\n" * 400)
        + ph("rcpt_begin")
        + f'<a href="{ph("unsubscribe_url")}">Abmelden</a> · <a href="{ph("preferences_url")}">Einstellungen</a>'
        + ph("rcpt_end")
        + ph("web_begin")
        + "Archiv"
        + ph("web_end")
        + "</body></html>"
    )
    text = (
        f"{ph('greeting')}\n\n"
        + (text_body or "Treffen am Donnerstag – مرحبا\n.Punkt am Zeilenanfang\n" * 200)
        + f"Abmelden: {ph('unsubscribe_url')}\nEinstellungen: {ph('preferences_url')}"
    )
    return PreparedIssue(
        issue_id=7,
        language="de",
        subject="Newsticker Nr. 7 – Begegnung & Engagement in Flensburg, ein langer Betreff",
        archive_url="https://newsticker.example/archiv/ticker/7",
        html_template=html,
        text_template=text,
        marker=MARKER,
        default_greeting="Liebe Leserinnen und Leser,",
        greeting_pattern=greeting_pattern,
    )


def settings(**overrides):
    return load_settings(EMPTY, overrides=overrides, environ={})


PERSONAL = PersonalValues(
    unsubscribe_url="https://newsticker.example/abmelden/" + "T" * 120 + ".sig",
    preferences_url="https://newsticker.example/einstellungen/P.sig?x=1&y=<2>",
    envelope_from="bounces+42-abcdef@flensburg.example",
)


def compose(
    prep: PreparedIssue, *, name: str = "Zoë Ünal & <Co>", address: str = "zoe@example.org"
):
    template = make_template(
        prep,
        list_headers(
            settings(),
            issue_id=7,
            publication_slug="ticker",
            publication_name="Newsticker Engagement & Zusammenleben",
        ),
    )
    return template.compose(
        address=address,
        name=name,
        message_id=message_id("nt7.abcd", 42, "flensburg.example"),
        personal=PERSONAL,
        list_unsubscribe=list_unsubscribe_header(
            PERSONAL.unsubscribe_url, "integration@flensburg.example", "ticker"
        ),
    )


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def test_decoded_parts_are_exactly_what_fill_gives():
    prep = prepared()
    composed = compose(prep)
    msg = parse(composed.data)
    html, text = prep.fill(
        {
            "greeting": prep.greeting_for("Zoë Ünal & <Co>"),
            "unsubscribe_url": PERSONAL.unsubscribe_url,
            "preferences_url": PERSONAL.preferences_url,
        }
    )
    plain, rich = msg.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html
    assert "Zoë Ünal &amp; &lt;Co&gt;" in html  # escaped in the HTML, as fill does
    assert "Archiv" not in html  # the archive-only region is not in the mail


def test_no_line_starts_with_a_dot_and_dots_decode_unchanged():
    # Dots at line starts in both bodies, a greeting that is only the name, and a name
    # that starts with a dot: SMTP would have to double every such dot.
    prep = prepared(".Punkt im HTML\n." + "x" * 200 + "\n.\n", ".Punkt\n..\n.", "{name}")
    composed = compose(prep, name=".Punkt.")
    assert not any(line.startswith(b".") for line in composed.data.split(b"\r\n"))
    plain, rich = parse(composed.data).iter_parts()
    html, text = prep.fill(
        {
            "greeting": ".Punkt.",
            "unsubscribe_url": PERSONAL.unsubscribe_url,
            "preferences_url": PERSONAL.preferences_url,
        }
    )
    assert ".Punkt im HTML\n." in html and text.startswith(".Punkt.\n")
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html


@pytest.mark.parametrize(
    ("html_body", "text_body"),
    [
        ("x" * 75, "y" * 75),  # a piece that fills a line exactly
        ("", ""),
        ("<p>= =3D trailing space </p>\n\n\t", "ends with space \nund Tab\t\n"),
        ("ä" * 300, "\u05d0" * 300),
    ],
)
def test_edge_pieces_decode_exactly(html_body, text_body):
    prep = prepared(html_body or "<p></p>", text_body or "-")
    composed = compose(prep, name="", address="a@example.org")
    plain, rich = parse(composed.data).iter_parts()
    html, text = prep.fill(
        {
            "unsubscribe_url": PERSONAL.unsubscribe_url,
            "preferences_url": PERSONAL.preferences_url,
        }
    )
    assert rich.get_content().replace("\r\n", "\n") == html
    assert plain.get_content().replace("\r\n", "\n") == text


def test_body_lines_stay_within_76_characters_and_crlf():
    composed = compose(prepared())
    head, body = composed.data.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert b"\n" not in composed.data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


def test_headers_of_a_list_mail():
    composed = compose(prepared())
    msg = parse(composed.data)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Date"]
    assert msg["From"] == "Newsticker Flensburg <newsticker@flensburg.example>"
    assert msg["Reply-To"] == "integration@flensburg.example"
    assert msg["To"].addresses[0].addr_spec == "zoe@example.org"
    assert msg["Message-ID"] == "<nt7.abcd.42@flensburg.example>"
    assert msg["Subject"] == prepared().subject
    assert msg["List-Id"] == '"Newsticker Engagement & Zusammenleben" <ticker.flensburg.example>'
    unsubscribe = str(msg["List-Unsubscribe"])
    assert f"<{PERSONAL.unsubscribe_url}>" in unsubscribe
    assert "<mailto:integration@flensburg.example?subject=unsubscribe%20ticker>" in unsubscribe
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Feedback-ID"] == "7:ticker:newsletter:newsticker"
    assert msg["MIME-Version"] == "1.0"
    assert composed.envelope_from == PERSONAL.envelope_from


@pytest.mark.parametrize(
    "name",
    [
        "Jürgen Müller-Lüdenscheidt von und zu Flensburg-Glücksburg",
        "محمد عبد الله",
        "ä" * 80,
        'O\'Brien, "Pat"',
    ],
)
def test_display_names_survive_encoding(name):
    msg = parse(compose(prepared(), name=name).data)
    decoded = msg["To"].addresses[0].display_name
    # Readers drop the space between encoded words; Python's parser keeps it.
    assert decoded.replace(" ", "") == name.replace(" ", "")


def test_encoded_words_are_short_and_cut_between_characters():
    encoded = encode_words("€" * 50)
    for word in encoded.split("\r\n "):
        assert len(word) <= 75
        assert word.startswith("=?utf-8?b?")


def test_non_ascii_mailbox_asks_for_smtputf8():
    composed = compose(prepared(), name="", address="jürgen@example.org")
    assert composed.smtputf8


def test_verp_return_path_only_with_a_token_placeholder():
    token = lambda: "42-abcdef"  # noqa: E731
    assert envelope_sender("bounces+{token}@x.example", "N <n@x.example>", token) == (
        "bounces+42-abcdef@x.example"
    )
    assert envelope_sender("bounces@x.example", "N <n@x.example>", token) == "bounces@x.example"
    assert envelope_sender("", "N <n@x.example>", token) == "n@x.example"


def test_quoted_printable_pieces_use_crlf():
    assert qp_encode("a\nb\r\nc") == b"a\r\nb\r\nc"
    assert qp_encode("x" * 100).count(b"=\r\n") == 1


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl makes the test key")
def test_dkim_signature_verifies(tmp_path):
    import dkim

    from newsticker.delivery.compose import DkimKey

    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout"], check=True, capture_output=True
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + b"".join(public.splitlines()[1:-1])
    conf = settings(
        **{
            "mail.dkim_selector": "nt",
            "mail.dkim_domain": "flensburg.example",
            "mail.dkim_private_key": str(key),
        }
    )
    signer = DkimKey.from_settings(conf)
    assert signer is not None
    data = compose(prepared()).data
    signed = signer.sign(data) + data
    header = parse(signed)["DKIM-Signature"]
    assert "list-unsubscribe" in header.lower() and "list-unsubscribe-post" in header.lower()
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
