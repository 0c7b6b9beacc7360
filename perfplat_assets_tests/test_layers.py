"""perfplat's layers import downwards only, read from the package's own import graph.

A module may import its own layer's folder and the layers below it: a measure never imports the
publication, and the pure machinery in common never imports a measure. Imports inside functions and under
`TYPE_CHECKING` count as much as those at the top of a module: deferring an import does not remove the
dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import perfplat_assets

PACKAGE = Path(perfplat_assets.__file__).parent
NAME = PACKAGE.name

# Lowest first. Each top-level module or folder of the package is in exactly one layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "common", "asset_names", "partitions", "quality", "metrics_store"),
    ("user_satisfaction", "digital_take_up", "completion_rate", "uptime"),
    ("measures",),  # the registry of the measures above, which everything below reads
    ("publication",),
    ("alerts",),  # what reaches a person: reads runs, the publication's deadline and records
    ("embedded", "schedules", "queue"),
    ("definitions", "configuration", "store_schema", "cli", "demo"),
)
LAYER = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}

# The publication's parts, lowest first, in the same way: what is published knows nothing of where it goes,
# committing knows a target only by its shape, and the Dagster side at the top reads them all.
PUBLICATION_PARTS: tuple[tuple[str, ...], ...] = (
    ("__init__", "published_format"),
    ("committing",),
    ("targets",),
    ("history",),
    ("deadline",),
    ("freshness", "assets"),
)
PUBLICATION_PART = {part: depth for depth, parts in enumerate(PUBLICATION_PARTS) for part in parts}


def _unit(module: str) -> str:
    """The top-level module or folder a dotted module name (`perfplat_assets.x.y`) belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """Every module of the package `path` imports, anywhere in it, with the line."""
    return _imports_in(path.read_text(), _module_name(path), path.name == "__init__.py")


def _imports_in(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """The package's modules `source` (the text of `module`) imports, with the line; `from perfplat_assets
    import x` imports `perfplat_assets.x`, and relative imports are resolved."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            anchor = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if base == NAME]
    return [(line, name) for line, name in found if name == NAME or name.startswith(f"{NAME}.")]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _upward_imports() -> list[str]:
    upward = []
    for path in _modules():
        importer = _unit(_module_name(path))
        for line, imported in _imported(path):
            target = _unit(imported)
            if imported != NAME and LAYER[target] > LAYER[importer]:
                where = f"{path.relative_to(PACKAGE.parent)}:{line} ({importer}, layer {LAYER[importer]})"
                upward.append(f"{where} imports {imported} (layer {LAYER[target]})")
    return upward


def _part(module: str) -> str:
    """The part of the publication (`perfplat_assets.publication.x...`) a module belongs to."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else "__init__"


def _publication_upward_imports() -> list[str]:
    upward = []
    for path in sorted((PACKAGE / "publication").rglob("*.py")):
        importer = _part(_module_name(path))
        for line, imported in _imported(path):
            if _unit(imported) != "publication" or imported == f"{NAME}.publication":
                continue
            target = _part(imported)
            if PUBLICATION_PART[target] > PUBLICATION_PART[importer]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({importer}) imports {imported}")
    return upward


def test_every_part_of_the_publication_is_in_a_layer():
    folder = PACKAGE / "publication"
    parts = {path.stem for path in folder.glob("*.py")} | {
        path.name for path in folder.iterdir() if path.is_dir() and any(path.glob("*.py"))
    }
    assert parts == PUBLICATION_PART.keys(), "give each new part of the publication its place"


def test_the_publications_parts_import_downwards_only():
    assert _publication_upward_imports() == []


def test_every_module_and_folder_is_in_a_layer():
    units = {path.stem for path in PACKAGE.glob("*.py")} | {
        path.name for path in PACKAGE.iterdir() if path.is_dir() and any(path.glob("*.py"))
    }
    assert units - LAYER.keys() == set(), "give each new module or folder its layer in LAYERS"
    assert LAYER.keys() - units == set(), "a layer names a module or folder that is gone"


def test_layers_import_downwards_only():
    assert _upward_imports() == []


def test_the_graph_is_read_from_every_kind_of_import():
    """The walk sees what it must, or the test above could pass by not looking: a deferred import, one under
    `TYPE_CHECKING`, a relative one, and `from perfplat_assets import x`."""
    source = """
from typing import TYPE_CHECKING
from perfplat_assets import definitions
from .. import uptime
if TYPE_CHECKING:
    from perfplat_assets.publication.published_format.records import DatasetValue
def later():
    import perfplat_assets.embedded.seed
"""
    imported = [name for _, name in _imports_in(source, f"{NAME}.common.months", is_package=False)]
    assert f"{NAME}.definitions" in imported
    assert f"{NAME}.uptime" in imported
    assert f"{NAME}.publication.published_format.records" in imported
    assert f"{NAME}.embedded.seed" in imported


def test_the_code_location_and_the_cli_register_every_stored_assets_table():
    """The store imports no measure, so its tables are registered by what builds a store: checked in a
    fresh interpreter, where nothing else has imported them."""
    script = (
        "import perfplat_assets.{entry}\n"
        "from perfplat_assets.measures import measures\n"
        "from perfplat_assets.metrics_store.tables import STORED_ASSETS\n"
        "print(sorted(({{m.name for m in measures()}} | {{'performance_dataset'}}) - STORED_ASSETS.keys()))\n"
    )
    for entry in ("definitions", "cli"):
        run = subprocess.run(
            [sys.executable, "-c", script.format(entry=entry)], capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == "[]", entry
