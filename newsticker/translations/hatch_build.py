"""Hatch build hook: compile the gettext catalogues (.po -> .mo) into the build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):  # type: ignore[misc]
    """Compile every messages.po so installs never depend on committed binaries."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        for po_path in sorted((root / "newsticker" / "translations").glob("*/LC_MESSAGES/*.po")):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            mo_path = po_path.with_suffix(".mo")
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            build_data["artifacts"].append(str(mo_path.relative_to(root)))
