"""The modules of etl.api import each other in one direction only (no cycle, not even typing)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import etl.api

PACKAGE = "etl.api"
FOLDER = Path(etl.api.__file__).parent


def imported(path: Path, module: str) -> set[str]:
    """Every module named by an import anywhere in ``path`` (TYPE_CHECKING blocks included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y / from . import x
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # from pkg import mod
    return names


def graph(folder: Path, package: str) -> dict[str, set[str]]:
    """Module of ``folder`` → the modules of ``folder`` it imports."""
    modules = {f"{package}.{p.stem}": p for p in folder.glob("*.py") if p.stem != "__init__"}
    return {
        name: {m for m in imported(path, name) if m in modules and m != name}
        for name, path in modules.items()
    }


def cycle(modules: dict[str, set[str]]) -> list[str] | None:
    """An import cycle of ``modules``, or None."""
    try:
        list(TopologicalSorter(modules).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def test_no_import_cycle_between_api_modules() -> None:
    modules = graph(FOLDER, PACKAGE)
    assert {"etl.api.client", "etl.api.session", "etl.api.calibrate"} <= set(modules)
    assert cycle(modules) is None, cycle(modules)
    assert not modules["etl.api.calibrate"] & {"etl.api.client", "etl.api.session"}  # a hook


def test_the_check_sees_a_cycle_through_a_typing_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
    )
    (tmp_path / "b.py").write_text("from . import a\n")
    assert cycle(graph(tmp_path, "pkg"))
