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
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import perfplat_assets
from perfplat_assets.measures import measures

PACKAGE = Path(perfplat_assets.__file__).parent
NAME = PACKAGE.name

# Lowest first. Each top-level module or folder of the package is in exactly one layer. The measures' own
# layer, between these two, is read from the registry (`measure_folders`), so a new measure takes it by its
# line in measures.py alone.
BELOW_THE_MEASURES = (
    "__init__",
    "common",
    "services",
    "asset_names",
    "partitions",
    "quality",
    "metrics_store",
)
ABOVE_THE_MEASURES: tuple[tuple[str, ...], ...] = (
    ("measures",),  # the registry of the measures below, which everything above reads
    ("publication",),
    ("alerts",),  # what reaches a person: reads runs, the publication's deadline and records
    ("schedules", "queue"),
    # The code location, and what runs it from a terminal: its console, the commands' runs and `perfplat`.
    ("definitions", "configuration", "store_schema", "console", "commands", "cli"),
)


def measure_folders() -> tuple[str, ...]:
    """The folder of each registered measure that lives in the package (its `Measure.home`)."""
    return tuple(_unit(measure.home) for measure in measures() if measure.home.startswith(f"{NAME}."))


@cache
def layer_of() -> dict[str, int]:
    """Each top-level module or folder's layer, lowest 0."""
    layers = (BELOW_THE_MEASURES, measure_folders(), *ABOVE_THE_MEASURES)
    return {unit: depth for depth, units in enumerate(layers) for unit in units}


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


def _package_modules() -> Iterator[tuple[str, str, bool]]:
    """Every module of the package: its dotted name, its text, and whether it is a package's `__init__`."""
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path.read_text(), path.name == "__init__.py"


def _upward_imports(modules: Iterable[tuple[str, str, bool]]) -> list[str]:
    """Each import among `modules` (as `_package_modules` gives them) of a layer above the importer's."""
    layer = layer_of()
    upward = []
    for module, source, is_package in modules:
        importer = _unit(module)
        for line, imported in _imports_in(source, module, is_package):
            target = _unit(imported)
            if imported != NAME and layer[target] > layer[importer]:
                where = f"{module}:{line} ({importer}, layer {layer[importer]})"
                upward.append(f"{where} imports {imported} (layer {layer[target]})")
    return upward


def _part(module: str) -> str:
    """The part of the publication (`perfplat_assets.publication.x...`) a module belongs to."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else "__init__"


def _publication_upward_imports() -> list[str]:
    upward = []
    for module, source, is_package in _package_modules():
        if _unit(module) != "publication":
            continue
        importer = _part(module)
        for line, imported in _imports_in(source, module, is_package):
            if _unit(imported) != "publication" or imported == f"{NAME}.publication":
                continue
            target = _part(imported)
            if PUBLICATION_PART[target] > PUBLICATION_PART[importer]:
                upward.append(f"{module}:{line} ({importer}) imports {imported}")
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
    layers = layer_of().keys()
    assert units - layers == set(), (
        "register a new measure in measures.py (its folder takes the measures' layer from there), or give "
        "any other new module or folder its layer here"
    )
    assert layers - units == set(), "a layer names a module or folder that is gone"


def test_layers_import_downwards_only():
    assert _upward_imports(_package_modules()) == []


def test_an_upward_import_fails_the_check():
    """The check can fail, and for the measures' layer read from the registry: a measure importing the
    publication or the registry, and common importing a measure, are each reported; a measure importing
    another measure, or common, is not."""
    modules = [
        (
            f"{NAME}.uptime.calculation",
            "from perfplat_assets.publication.published_format.records import DatasetValue\n",
            False,
        ),
        (f"{NAME}.digital_take_up.assets", "from perfplat_assets.measures import measures\n", False),
        (f"{NAME}.common.months", "from perfplat_assets.uptime.calculation import Uptime\n", False),
        (f"{NAME}.completion_rate.checks", "from perfplat_assets.uptime.calculation import Uptime\n", False),
        (f"{NAME}.uptime", "from ..common.months import Month\n", True),
    ]
    upward = _upward_imports(modules)
    assert [found.split(" imports ")[1].split()[0] for found in upward] == [
        f"{NAME}.publication.published_format.records",
        f"{NAME}.measures",
        f"{NAME}.uptime.calculation",
    ]


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
    import perfplat_assets.queue.sensor
"""
    imported = [name for _, name in _imports_in(source, f"{NAME}.common.months", is_package=False)]
    assert f"{NAME}.definitions" in imported
    assert f"{NAME}.uptime" in imported
    assert f"{NAME}.publication.published_format.records" in imported
    assert f"{NAME}.queue.sensor" in imported


def test_the_code_location_and_the_cli_register_every_stored_assets_table():
    """The store imports no measure, so its tables are registered by what builds a store: checked in a
    fresh interpreter, where nothing else has imported them."""
    script = (
        "import perfplat_assets.{entry}\n"
        "from perfplat_assets.services.registry import services\n"
        "from perfplat_assets.metrics_store.tables import STORED_ASSETS\n"
        "names = lambda s: (*s.measure_names, 'performance_dataset')\n"
        "wanted = {{f'{{s.name}}__{{m}}' for s in services() for m in names(s)}}\n"
        "print(sorted(wanted - STORED_ASSETS.keys()))\n"
    )
    for entry in ("definitions", "cli"):
        run = subprocess.run(
            [sys.executable, "-c", script.format(entry=entry)], capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == "[]", entry


def test_no_module_of_the_package_imports_the_sample():
    """The embedded sample sits above everything, outside the package: perfplat reaches it only by name, in
    `common/settings.py` (`SAMPLE_MODULE`), when a source's setting is unset. An import of it anywhere in the
    package, deferred or not, would make production carry it."""
    importers = [
        f"{module}:{node.lineno}"
        for module, source, _ in _package_modules()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            name.split(".")[0] == "perfplat_sample"
            for name in (
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            )
        )
    ]
    assert importers == []


def test_each_registered_service_is_a_folder_of_services_and_each_folder_a_registered_service():
    """Read from the registry, as the measures' folders are: each registered service's folder holds its
    declaration, which imports nothing but `common` (the layer below the measures), and no folder there is
    left unregistered. (A service from outside the package, the tests' toy, registers in its own process.)"""
    from perfplat_assets.services.registry import services

    folder = PACKAGE / "services"
    folders = {path.name for path in folder.iterdir() if path.is_dir() and (path / "service.py").exists()}
    assert folders == {service.name for service in services()}
    for name in folders:
        module = f"{NAME}.services.{name}.service"
        declared = _imports_in((folder / name / "service.py").read_text(), module, is_package=False)
        assert {_unit(imported) for _, imported in declared} == {"common"}, name
