"""The package's shape: its public surface, what importing it costs, and the size of its parts.

These hold the restructure in place: a frozen ``zoning.__all__``, no optional extra imported
by ``import zoning`` (as geopandas' ``test_no_additional_imports``), the old import paths, and
the size limits a newcomer can hold in their head (modules <= 800 lines, classes <= 400,
functions <= 120 lines, their docstrings aside).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import zoning

PACKAGE = Path(zoning.__file__).parent

PUBLIC = [
    "KINDS",
    "WORKING_CRS",
    "CRSError",
    "Catalog",
    "CatalogError",
    "CheckResult",
    "Layer",
    "LayerDataError",
    "LayerEntry",
    "LayerReadError",
    "LayerSet",
    "LoadReport",
    "PublishError",
    "RasterError",
    "RuleSet",
    "RulesError",
    "ScreeningResult",
    "SeedsError",
    "Sites",
    "SitesError",
    "ZoningError",
    "ZoningWarning",
    "__version__",
    "check_layers",
    "compare_alternatives",
    "gcj02_to_wgs84",
    "indicators",
    "load_catalog",
    "load_rules",
    "load_sites",
    "parse_crs",
    "publish_site",
    "rank_alternatives",
    "rasterize",
    "read_catalog",
    "read_layer",
    "screen",
    "wgs84_to_gcj02",
    "zonal_stats",
]


def test_all_is_frozen():
    assert zoning.__all__ == PUBLIC
    for name in PUBLIC:
        assert hasattr(zoning, name), name


def test_import_pulls_in_no_optional_extra():
    # Modules already loaded before the import (a namespace package's .pth file loads
    # xstatic when Python starts) are not the package's doing.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import zoning\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "extras = ('folium', 'branca', 'rasterio', 'matplotlib', 'jinja2', 'xstatic')\n"
        "print(','.join(m for m in extras if m in new))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_version_has_one_home():
    from zoning._version import __version__

    assert zoning.__version__ == __version__
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from . import __version__" not in text, path
        assert "from .. import __version__" not in text, path


def test_indicators_is_the_function_and_its_module_lives_in_targets():
    # ``import zoning.indicators as m`` used to give the function (the package attribute hid
    # the module of the same name); the module now lives in zoning.targets only.
    assert callable(zoning.indicators) and not inspect.ismodule(zoning.indicators)
    module = importlib.import_module("zoning.targets.indicators")
    assert inspect.ismodule(module) and module.indicators is zoning.indicators
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("zoning.indicators")


@pytest.mark.parametrize(
    "path",
    [
        "zoning.overlay",
        "zoning.rules",
        "zoning.report",
        "zoning.screening",
        "zoning.sites",
        "zoning.io",
        "zoning.grid",
        "zoning.seeds",
        "zoning.dashboard",
        "zoning.raster",
        "zoning.publish",
        "zoning.checks",
        "zoning.compare",
        "zoning.layerset",
        "zoning.catalog",
        "zoning.crs",
        "zoning.webmap",
    ],
)
def test_old_import_paths_keep_working(path):
    module = importlib.import_module(path)
    assert inspect.ismodule(module)


def test_public_callables_have_numpydoc_docstrings():
    missing = []
    for name in zoning.__all__:
        obj = getattr(zoning, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException | Warning):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            continue
        doc = inspect.getdoc(obj) or ""
        if inspect.isfunction(obj) and not any(
            head in doc for head in ("Parameters\n----", "Returns\n----")
        ):
            missing.append(name)
        elif not doc.strip():
            missing.append(name)
    assert not missing, f"public names without a numpydoc docstring: {missing}"


# --------------------------------------------------------------------------------------------
# Size limits.

MAX_MODULE_LINES = 800
MAX_CLASS_LINES = 400
MAX_FUNCTION_LINES = 120


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _docstring_lines(node) -> int:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return body[0].end_lineno - body[0].lineno + 1
    return 0


def _code_lines(node) -> int:
    """Lines of a definition, its own and nested docstrings left out."""
    total = node.end_lineno - node.lineno + 1
    docs = sum(
        _docstring_lines(n)
        for n in ast.walk(node)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    return total - docs


def test_module_class_and_function_sizes():
    too_big = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(PACKAGE.parent)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{rel}: module of {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _code_lines(node) > MAX_CLASS_LINES:
                too_big.append(f"{rel}:{node.lineno} class {node.name}: {_code_lines(node)}")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if _code_lines(node) > MAX_FUNCTION_LINES:
                    too_big.append(f"{rel}:{node.lineno} {node.name}: {_code_lines(node)}")
    assert not too_big, "\n".join(too_big)


# --------------------------------------------------------------------------------------------
# Docstrings of every public function and class.

_COMMAND_DECORATORS = ("click", "command", "group")
_PROPERTY_DECORATORS = ("property", "cached_property", "functools.cached_property")


def _public_definitions(tree: ast.Module):
    """(qualified name, node) of every public function, method and class of a module."""

    def walk(body, prefix):
        for node in body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield prefix + node.name, node
                yield from walk(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_"):
                    yield prefix + node.name, node

    yield from walk(tree.body, "")


def test_every_public_function_and_class_has_a_numpydoc_docstring():
    missing = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(PACKAGE.parent)
        for name, node in _public_definitions(tree):
            doc = ast.get_docstring(node) or ""
            if not doc.strip():
                missing.append(f"{rel}:{node.lineno} {name}: no docstring")
                continue
            if isinstance(node, ast.ClassDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if any(w in d for d in decorators for w in _COMMAND_DECORATORS):
                continue  # a click command's docstring is its --help text
            if any(d in _PROPERTY_DECORATORS or d.endswith(".setter") for d in decorators):
                continue
            args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            args = [a for a in args if a not in ("self", "cls")]
            if args and "Parameters\n---" not in doc and "Returns\n---" not in doc:
                missing.append(f"{rel}:{node.lineno} {name}: no Parameters/Returns section")
    assert not missing, "\n".join(missing)
