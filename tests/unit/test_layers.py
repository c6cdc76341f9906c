"""The layer contracts in pyproject.toml stay complete as the packages grow.

`lint-imports` (run by the test command) checks the contracts; this checks that the
list of subscribers' modules that publishing code may not import names every module
but its services, so a new module is covered the day it is added.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contract(name_start: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(name_start))


def test_publishing_code_may_import_no_module_of_subscribers_but_its_services():
    contract = _contract("publishing code uses the subscribers package")
    modules = {
        f"subscribers.{path.stem if path.suffix == '.py' else path.name}"
        for path in (ROOT / "subscribers").iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").exists())
        and path.name not in ("__init__.py", "services")
    }
    assert set(contract["forbidden_modules"]) == modules


def test_every_feature_package_is_a_layered_container():
    contract = _contract("inside a feature")
    features = {"auth", "items", "issues", "delivery"}
    assert {f"newsticker.{name}" for name in features} | {"subscribers"} <= set(
        contract["containers"]
    )
