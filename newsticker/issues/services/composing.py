"""Composing a draft: subject and editorial, entries (items and articles) and their order.

Every change here starts with `begin_change` (the version the editor saw, and the issue
still a draft) and ends with `touch` (who changed it; the flush bumps the version). Text
from editors is checked, not silently cleaned: a line break in a subject, a control
character, or HTML in Markdown is refused with a message that says what to do instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, actor_or, record_event
from newsticker.core.i18n import LazyText
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.markup import has_control_chars
from newsticker.issues.models import SECTION_KINDS, Issue, IssueEntry, KeyFigure
from newsticker.issues.services.changes import IssueError, StaleIssue, begin_change, touch
from newsticker.issues.services.images import (
    ImageChange,
    apply_image_change,
    check_image_change,
    drop_image_after_commit,
)
from newsticker.items.models import Item, ItemStatus

SUBJECT_MAX = 200
PREHEADER_MAX = 200
EDITORIAL_MAX = 20_000
# HTML that has no place in editor Markdown: refused with a message, not silently dropped.
_FORBIDDEN_HTML = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed|form|input|img|svg|link|meta|base)\b"
    r"|javascript\s*:",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- checks of editor text


def single_line(value: str, field: str, maximum: int, *, required: bool) -> str:
    """Return a one-line value stripped, refusing line breaks, control characters, excess."""
    if "\r" in value or "\n" in value or has_control_chars(value):
        raise IssueError(
            _l("Please write this on one line, without line breaks or control characters."),
            field=field,
        )
    value = value.strip()
    if required and not value:
        raise IssueError(_l("Please fill in this field."), field=field)
    if len(value) > maximum:
        raise IssueError(
            _l("Please use at most %(max)d characters.", max=maximum),
            field=field,
        )
    return value


def check_markdown(text: str, field: str, maximum: int = EDITORIAL_MAX) -> str:
    """Return editor Markdown stripped, refusing HTML such as scripts with a message."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > maximum:
        raise IssueError(_l("Please use at most %(max)d characters.", max=maximum), field=field)
    if has_control_chars(text.replace("\n", "").replace("\t", "")):
        # NUL cannot even be stored in PostgreSQL; the others garble mails.
        raise IssueError(_l("The text contains invisible control characters."), field=field)
    match = _FORBIDDEN_HTML.search(text)
    if match is not None:
        raise IssueError(
            _l(
                "HTML such as “%(tag)s” is not allowed here. Please use Markdown: **bold**, "
                "*italic*, [link text](https://…), lists with “- ”.",
                tag=match.group(0).strip(),
            ),
            field=field,
        )
    return text


def check_link(link: str, field: str = "link") -> str:
    """Return an http(s) link stripped, or raise IssueError."""
    link = single_line(link, field, 1000, required=False)
    if not link:
        return ""
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IssueError(
            _l("Please enter a complete web address starting with https://."), field=field
        )
    return link


# ---------------------------------------------------------------- subject and editorial


def update_issue(
    session: Session,
    issue: Issue,
    *,
    subject: str,
    preheader: str,
    editorial: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
    image: ImageChange | None = None,
    actor: Actor | None = None,
) -> None:
    """Change an issue's subject, preheader and editorial (and the editorial's image).

    Recorded in the audit trail when anything changed.
    """
    begin_change(issue, version)
    before = (issue.subject, issue.preheader, issue.editorial)
    subject = single_line(subject, "subject", SUBJECT_MAX, required=False)
    preheader = single_line(preheader, "preheader", PREHEADER_MAX, required=False)
    editorial = check_markdown(editorial, "editorial")
    if image is not None:
        alt = check_image_change(issue.editorial_image_file, image, "editorial_image_alt")
        issue.editorial_image_file = apply_image_change(session, issue.editorial_image_file, image)
        issue.editorial_image_alt = alt
    issue.subject, issue.preheader, issue.editorial = subject, preheader, editorial
    touch(session, issue, user_id=user_id, now=now)
    after = (issue.subject, issue.preheader, issue.editorial)
    if after != before:
        names = ("subject", "preheader", "editorial")
        record_event(
            session,
            "issue.edited",
            actor=actor_or(actor, user_id),
            now=now,
            subject=("issue", issue.id),
            summary=f"{issue.publication} #{issue.number} {issue.subject}".strip(),
            details={"fields": [n for n, a, b in zip(names, before, after, strict=True) if a != b]},
        )


# ---------------------------------------------------------------- entries


def _entry(issue: Issue, entry_id: int) -> IssueEntry:
    for entry in issue.entries:
        if entry.id == entry_id:
            return entry
    raise IssueError(_l("This entry is no longer part of the issue."))


def _article(issue: Issue, entry_id: int, refusal: LazyText) -> IssueEntry:
    """Return the entry when it is an article written for the issue, else refuse."""
    entry = _entry(issue, entry_id)
    if not entry.is_article:
        raise IssueError(refusal)
    return entry


def renumber(entries: Sequence[IssueEntry | KeyFigure]) -> None:
    """Give entries (or key figures) the positions of their order, from 0."""
    for position, entry in enumerate(entries):
        entry.position = position


def put_in_order(entries: Sequence[IssueEntry | KeyFigure], ids: Sequence[int]) -> None:
    """Renumber entries (or key figures) in the order of `ids`, which must name them all.

    Any other list of ids was made from an issue that changed since: StaleIssue.
    """
    if sorted(ids) != sorted(e.id for e in entries):
        raise StaleIssue()
    by_id = {e.id: e for e in entries}
    renumber([by_id[i] for i in ids])


def add_item(
    session: Session,
    issue: Issue,
    item: Item,
    *,
    occurrence_start: datetime | None = None,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Add an approved item to the section of its kind, at the end."""
    begin_change(issue, version)
    if item.status != ItemStatus.APPROVED:
        raise IssueError(_l("Only published items can be added to an issue."))
    section = {v: k for k, v in SECTION_KINDS.items()}[item.kind]
    if occurrence_start is not None and item.recurrence is None:
        occurrence_start = None
    for entry in issue.entries:
        if entry.item_id == item.id and entry.occurrence_start == occurrence_start:
            raise IssueError(_l("This item is already part of the issue."))
    entry = IssueEntry(
        section=section,
        position=len(issue.section_entries(section)),
        item=item,
        item_id=item.id,
        occurrence_start=occurrence_start,
    )
    issue.entries.append(entry)
    touch(session, issue, user_id=user_id, now=now)
    return entry


def add_article(
    session: Session,
    issue: Issue,
    *,
    title: str,
    body: str,
    link: str,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
    image: ImageChange | None = None,
) -> IssueEntry:
    """Add an article written for the issue (section "articles"), maybe with an image."""
    begin_change(issue, version)
    entry = IssueEntry(
        section="articles",
        position=len(issue.section_entries("articles")),
        title=single_line(title, "title", 200, required=True),
        body=check_markdown(body, "body"),
        link=check_link(link),
        language=language or "de",
    )
    if image is not None:
        entry.image_alt = check_image_change(None, image, "image_alt")
        entry.image_file = apply_image_change(session, None, image)
    issue.entries.append(entry)
    touch(session, issue, user_id=user_id, now=now)
    return entry


def update_article(
    session: Session,
    issue: Issue,
    entry_id: int,
    *,
    title: str,
    body: str,
    link: str,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Change an article's title, text, link and language (its place and image stay)."""
    begin_change(issue, version)
    refusal = _l("Only articles written for the issue can be edited here.")
    entry = _article(issue, entry_id, refusal)
    title = single_line(title, "title", 200, required=True)
    body = check_markdown(body, "body")
    link = check_link(link)
    # Checked all first: a refused change leaves every field as it was.
    entry.title, entry.body, entry.link = title, body, link
    entry.language = language or entry.language
    touch(session, issue, user_id=user_id, now=now)
    return entry


def set_article_image(
    session: Session,
    issue: Issue,
    entry_id: int,
    image: ImageChange,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Give an article a new image or description, or take its image away."""
    begin_change(issue, version)
    entry = _article(
        issue, entry_id, _l("Only articles written for the issue carry an image here.")
    )
    alt = check_image_change(entry.image_file, image, "image_alt")
    entry.image_file = apply_image_change(session, entry.image_file, image)
    entry.image_alt = alt
    touch(session, issue, user_id=user_id, now=now)
    return entry


def remove_entry(
    session: Session,
    issue: Issue,
    entry_id: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
    upload_dir: Path | None = None,
) -> IssueEntry:
    """Take an entry out of the issue (the item stays available for the next draft).

    An article's image file goes once that commits (given the folder of images).
    """
    begin_change(issue, version)
    entry = _entry(issue, entry_id)
    drop_image_after_commit(session, upload_dir, entry.image_file)
    issue.entries.remove(entry)
    renumber(issue.section_entries(entry.section))
    touch(session, issue, user_id=user_id, now=now)
    return entry


def move_entry(
    session: Session,
    issue: Issue,
    entry_id: int,
    offset: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Move an entry up (offset -1) or down (+1) within its section."""
    begin_change(issue, version)
    entry = _entry(issue, entry_id)
    siblings = issue.section_entries(entry.section)
    index = siblings.index(entry)
    target = min(max(index + offset, 0), len(siblings) - 1)
    siblings.insert(target, siblings.pop(index))
    renumber(siblings)
    touch(session, issue, user_id=user_id, now=now)


def reorder_section(
    session: Session,
    issue: Issue,
    section: str,
    entry_ids: Sequence[int],
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Put a section's entries in the given order (drag and drop sends the whole order)."""
    begin_change(issue, version)
    put_in_order(issue.section_entries(section), entry_ids)
    touch(session, issue, user_id=user_id, now=now)
