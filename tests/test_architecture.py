"""The arrows point inward: checked on every build."""

import ast
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: Path) -> set[str]:
    found = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    foreign = imported_modules(ROOT / "domain") - set(sys.stdlib_module_names) - {"domain", "__future__"}
    assert foreign == set()


def test_the_check_above_would_see_a_foreign_import(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        "import json\nfrom pydantic import BaseModel\nfrom domain.x import y\n"
    )
    assert imported_modules(tmp_path) == {"json", "pydantic", "domain"}


def test_layers_hold_bootstrap_over_entrypoints_and_adapters_over_the_domain() -> None:
    # The contract lives in pyproject.toml: entrypoints and adapters never import each other,
    # and nothing below bootstrap imports it.
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
