"""Images of submissions: checked, re-encoded without metadata, stored under the instance.

A file is written as soon as it is uploaded, but deleted only once the transaction
that stops using it commits (`delete_image_after_commit`): a change that is refused
or rolled back must not leave its row pointing at a missing file.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.tokens import random_token
from newsticker.core.unit_of_work import after_commit

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_EDGE = 1600
MIN_EDGE = 16
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
IMAGE_NAME_RE = re.compile(r"[A-Za-z0-9_-]{22,64}\.jpg")
JPEG_QUALITY = 85


class ImageError(UserError):
    """An upload that cannot be used as an image, with a message for the user."""


@dataclass(frozen=True)
class ProcessedImage:
    """A re-encoded JPEG, ready to store."""

    data: bytes
    width: int
    height: int


def process_image(stream: Any, *, max_bytes: int = MAX_IMAGE_BYTES) -> ProcessedImage:
    """Check an uploaded file and re-encode it as a JPEG without metadata, or raise ImageError."""
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ImageError(
            _l(
                "The image is too large: it may have at most %(mb)d MB. Please choose a smaller "
                "image.",
                mb=max_bytes // (1024 * 1024),
            )
        )
    if not raw:
        raise ImageError(_l("The uploaded file is empty."))
    not_an_image = ImageError(
        _l("This file is not an image we can use. Please upload a JPEG, PNG or WebP image.")
    )
    too_many_pixels = ImageError(
        _l(
            "The image has too many pixels. Please upload an image of at most %(mp)d megapixels.",
            mp=MAX_IMAGE_PIXELS // 1_000_000,
        )
    )
    try:
        with warnings.catch_warnings():
            # A "decompression bomb" announces a huge canvas in a tiny file; refuse it
            # before any pixel is decoded, whatever Pillow's global limit is.
            # Other warnings (say, about broken EXIF data we drop anyway) say nothing to the user.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                if img.format not in ACCEPTED_FORMATS:
                    raise not_an_image
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise too_many_pixels
                if min(width, height) < MIN_EDGE:
                    raise ImageError(
                        _l(
                            "The image is too small: it must be at least %(px)d pixels wide "
                            "and high.",
                            px=MIN_EDGE,
                        )
                    )
                img.load()
                return _reencode(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_an_image from None


def _reencode(img: Image.Image) -> ProcessedImage:
    # Turn the picture upright first: the orientation lives in the EXIF data we drop.
    upright = ImageOps.exif_transpose(img)
    if upright.mode in ("RGBA", "LA", "P", "PA"):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        rgb = background
    else:
        rgb = upright.convert("RGB")
    rgb.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    # Pillow writes a comment, EXIF or ICC profile it finds in .info; keep pixels only.
    rgb.info = {}
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: the new file carries pixels only.
    rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return ProcessedImage(data=out.getvalue(), width=rgb.width, height=rgb.height)


def upload_dir() -> Path:
    """Return the folder where item images are stored (inside the instance folder)."""
    from newsticker.config import get_settings

    return get_settings().instance_dir / "uploads" / "items"


def store_image(directory: Path, image: ProcessedImage) -> str:
    """Write the image under an unguessable name; return the name."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{random_token(18)}.jpg"
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(image.data)
    tmp.replace(path)
    return name


def delete_image(directory: Path, name: str | None) -> None:
    """Delete a stored image if it exists (missing files are fine)."""
    if not name or not IMAGE_NAME_RE.fullmatch(name):
        return
    try:
        (directory / name).unlink(missing_ok=True)
    except OSError:
        logger.warning("could not delete image %s", name, exc_info=True)


def delete_image_after_commit(session: Session, directory: Path, name: str | None) -> None:
    """Delete a stored image once the session's transaction commits (a rollback keeps it)."""
    if name:
        after_commit(session, partial(delete_image, directory, name))
