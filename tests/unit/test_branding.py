"""The main colour's contrast check and the derived favicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsticker.config import ConfigError, Settings, load_settings
from newsticker.core.branding import contrast_with_white, darker, derived_favicon

EMPTY_CONFIG = Path(__file__).parents[1] / "data" / "empty.toml"


def _load(**overrides: str) -> Settings:
    return load_settings(EMPTY_CONFIG, overrides=overrides, environ={})


@pytest.mark.parametrize(
    ("colour", "ratio"),
    [("#ffffff", 1.0), ("#000000", 21.0), ("#004b87", 8.91), ("#767676", 4.54), ("#ffcc00", 1.5)],
)
def test_contrast_with_white_follows_wcag(colour, ratio):
    assert contrast_with_white(colour) == pytest.approx(ratio, abs=0.05)


def test_a_main_colour_too_light_for_white_text_is_refused_with_its_ratio():
    with pytest.raises(ConfigError) as caught:
        _load(**{"site.colour": "#ffcc00"})
    message = str(caught.value)
    assert "site.colour" in message
    assert "#ffcc00 has a contrast of 1.5" in message and "at least 4.5:1" in message


@pytest.mark.parametrize("colour", ["blue", "#004b8", "004b87", "#00gg87"])
def test_a_main_colour_must_be_written_as_hex(colour):
    with pytest.raises(ConfigError, match="site.colour: expected a colour written as #rrggbb"):
        _load(**{"site.colour": colour})


def test_a_dark_colour_is_accepted_and_stored_lowercase():
    settings = _load(**{"site.colour": "#0A5C36"})
    assert settings.site.colour == "#0a5c36"


def test_a_logo_that_is_not_there_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="site.logo: expected an existing image file"):
        _load(**{"site.logo": str(tmp_path / "logo.png")})
    (tmp_path / "logo.gif").write_bytes(b"GIF89a")
    with pytest.raises(ConfigError, match="site.logo: expected an image file ending in .png"):
        _load(**{"site.logo": str(tmp_path / "logo.gif")})


def test_darker_keeps_the_hue_and_passes_the_contrast():
    assert darker("#004b87") == "#00335c"
    assert contrast_with_white(darker("#767676")) > contrast_with_white("#767676")


def test_derived_favicon_is_the_first_letter_escaped():
    svg = derived_favicon("<Stadt> Flensburg", "#004b87")
    assert 'fill="#004b87"' in svg and ">S</text>" in svg
    assert derived_favicon("«&»", "#004b87").count("<text") == 1
    with pytest.raises(ValueError):
        derived_favicon("Stadt", '#000000"/><script>')


def test_check_config_refuses_a_light_main_colour(tmp_path):
    from click.testing import CliRunner

    from newsticker.cli import cli

    config = tmp_path / "config.toml"
    config.write_text('[site]\ncolour = "#ffcc00"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 1
    assert "site.colour: expected a main colour dark enough for white text" in result.output
    config.write_text('[site]\ncolour = "#7a1f2b"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 0, result.output


def test_publication_descriptions_per_language_or_one_for_all(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[publications]]\nslug = "ticker"\nname = "Ticker"\n'
        'description = { de = "Jede Woche", en = "Every week" }\n'
        '[[publications]]\nslug = "brief"\nname = "Brief"\ndescription = "Nur Deutsch"\n'
        '[[publications]]\nslug = "nur-en"\nname = "Only English"\n'
        'description = { en = "English only" }\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    ticker, brief, only_en = settings.publications
    assert (ticker.description_in("de"), ticker.description_in("en")) == (
        "Jede Woche",
        "Every week",
    )
    assert (brief.description_in("de"), brief.description_in("en")) == ("Nur Deutsch",) * 2
    assert only_en.description_in("de") == "English only"


def test_a_description_in_an_unknown_language_is_refused(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[publications]]\nslug = "ticker"\nname = "Ticker"\ndescription = { fr = "Chaque semaine" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="publications.0.description"):
        load_settings(config, environ={})
