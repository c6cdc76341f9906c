"""The one image an editorial or an article may carry: checked, stored, described.

Images are processed as item images are (`newsticker.items.images`: re-encoded JPEG, no
metadata, at most 1600 px on the longer edge) and stored among them, so the site serves
them under /angebote/bilder/ and a mail links to them by absolute URL (mail programs
block embedded data: URLs and attachments are heavy; a linked image with its
description is what they all show). A description is required: the mail and the page
show it to people who cannot see the picture, and in place of a blocked image.

A replaced or removed file is deleted only once the change commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.markup import has_control_chars
from newsticker.issues.services.changes import IssueError
from newsticker.items.images import ProcessedImage, delete_image_after_commit, store_image

ALT_MAX = 300


@dataclass(frozen=True)
class ImageChange:
    """What an editor sent for an image: a new upload, its description, or its removal."""

    upload_dir: Path
    image: ProcessedImage | None = None
    alt: str = ""
    remove: bool = False


def check_image_change(current: str | None, change: ImageChange, field: str) -> str:
    """Return the description to store, or raise IssueError (nothing is stored before)."""
    alt = " ".join(change.alt.split())
    if has_control_chars(alt):
        raise IssueError(
            _l("Please write this on one line, without line breaks or control characters."),
            field=field,
        )
    if len(alt) > ALT_MAX:
        raise IssueError(_l("Please use at most %(max)d characters.", max=ALT_MAX), field=field)
    keeps_image = change.image is not None or (current is not None and not change.remove)
    if keeps_image and not alt:
        raise IssueError(
            _l("Please describe the image in a few words for people who cannot see it."),
            field=field,
        )
    return alt if keeps_image else ""


def apply_image_change(session: Session, current: str | None, change: ImageChange) -> str | None:
    """Store a new upload and drop the old file after the commit; return the file to keep.

    Call `check_image_change` first: this writes the new file.
    """
    if (change.image is not None or change.remove) and current:
        delete_image_after_commit(session, change.upload_dir, current)
        current = None
    if change.image is not None:
        current = store_image(change.upload_dir, change.image)
    return current


def drop_image_after_commit(session: Session, upload_dir: Path | None, name: str | None) -> None:
    """Delete an image whose article is gone, once that commits."""
    if upload_dir is not None and name:
        delete_image_after_commit(session, upload_dir, name)
