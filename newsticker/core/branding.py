"""The city's look by configuration: its main colour, its logo and a favicon.

The main colour is the background of the site's header and of every mail's masthead,
always with white text on it, so the configuration refuses a colour whose contrast with
white is below WCAG AA (4.5:1). The favicon is the configured file or, without one,
a square in the main colour with the name's first letter, drawn as SVG (no image
library, nothing to download).
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from newsticker.config import MIN_CONTRAST, Settings, colour_channels, contrast_with_white
from newsticker.core.links import Links

__all__ = [
    "IMAGE_TYPES",
    "MIN_CONTRAST",
    "Brand",
    "contrast_with_white",
    "darker",
    "derived_favicon",
    "image_type",
    "site_brand",
]

# The logo and favicon files the site serves, by suffix.
IMAGE_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}


def darker(colour: str, factor: float = 0.68) -> str:
    """Return the colour darkened (headings and hover: the site's second brand colour)."""
    return "#" + "".join(f"{round(c * factor):02x}" for c in colour_channels(colour))


def image_type(path: str) -> str | None:
    """Return the media type of a logo or favicon file by its suffix (None: not served)."""
    return IMAGE_TYPES.get(Path(path).suffix.lower())


def derived_favicon(name: str, colour: str) -> str:
    """Return an SVG favicon: the name's first letter, white on the main colour."""
    letter = next((c for c in name if c.isalnum()), "N").upper()
    colour_channels(colour)  # refuse anything but #rrggbb before it goes into markup
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{colour}"/>'
        '<text x="32" y="45" font-family="Arial, Helvetica, sans-serif" font-size="40" '
        f'font-weight="bold" text-anchor="middle" fill="#ffffff">{escape(letter)}</text>'
        "</svg>"
    )


class Brand:
    """The look a page or mail is drawn with: name, main colours, logo link."""

    def __init__(self, *, name: str, colour: str, logo_url: str = "", logo_alt: str = "") -> None:
        self.name = name
        self.colour = colour
        self.colour_dark = darker(colour)
        self.logo_url = logo_url
        self.logo_alt = logo_alt or name


def site_brand(settings: Settings, links: Links | None) -> Brand:
    """Return the configured look; the logo's link is absolute (mails need one)."""
    site = settings.site
    logo_url = ""
    if site.logo and links is not None and links.has("public.logo"):
        logo_url = links.url("public.logo")
    return Brand(name=site.name, colour=site.colour, logo_url=logo_url, logo_alt=site.logo_alt)
