"""Image uploads: formats, size limits, image bombs, metadata stripped."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from newsticker.items.images import (
    MAX_EDGE,
    ImageError,
    delete_image,
    process_image,
    store_image,
)


def encoded(fmt: str, size=(40, 30), mode="RGB", **save) -> io.BytesIO:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 128)[: len(mode)]).save(out, fmt, **save)
    out.seek(0)
    return out


@pytest.mark.parametrize(
    ("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "P")]
)
def test_accepted_formats_become_jpeg(fmt, mode):
    result = process_image(encoded(fmt, mode=mode))
    assert result.data.startswith(b"\xff\xd8")
    assert (result.width, result.height) == (40, 30)


def test_large_images_are_scaled_down():
    result = process_image(encoded("PNG", size=(4000, 1000)))
    assert (result.width, result.height) == (MAX_EDGE, 400)


def test_metadata_and_orientation():
    img = Image.new("RGB", (60, 20), (0, 0, 0))
    exif = img.getexif()
    exif[0x010F] = "SpyCam"
    exif[0x0112] = 6  # rotated: the upright picture is 20 x 60
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    out.seek(0)
    result = process_image(out)
    assert (result.width, result.height) == (20, 60)
    assert b"SpyCam" not in result.data and b"secret comment" not in result.data
    with Image.open(io.BytesIO(result.data)) as again:
        assert not again.getexif()


def test_too_many_bytes():
    with pytest.raises(ImageError, match="8 MB"):
        process_image(io.BytesIO(b"\xff\xd8" + b"0" * (8 * 1024 * 1024)))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"plain text",
        b"%PDF-1.7",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00;",
        b"\x89PNG\r\n\x1a\nbroken",
    ],
)
def test_not_an_image(content):
    with pytest.raises(ImageError):
        process_image(io.BytesIO(content))


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (10_000, 5_000), (7_000, 7_000)])
def test_image_bomb(size):
    with pytest.raises(ImageError, match="Pixel|pixels"):
        process_image(io.BytesIO(_png_header(*size)))


def test_tiny_image_is_refused():
    with pytest.raises(ImageError):
        process_image(encoded("PNG", size=(4, 4)))


def test_store_and_delete(tmp_path):
    name = store_image(tmp_path, process_image(encoded("JPEG")))
    assert (tmp_path / name).read_bytes().startswith(b"\xff\xd8")
    delete_image(tmp_path, "../" + name)  # refused silently: not a stored name
    assert (tmp_path / name).exists()
    delete_image(tmp_path, name)
    assert not (tmp_path / name).exists()
