"""Shared fixtures: the demonstration data loaded once per session, and small hand-made layers
written to real files.

Session-scoped (built once, shared by every module; treat them as read-only):

* ``demo_layers``: the demonstration catalog (``zoning.load_catalog()``), every layer read;
* ``demo_rules``: the demonstration rule set (``zoning.load_rules()``);
* ``demo_screening``: the bundled example projects screened against ``demo_layers``;
* ``demo_site``: the demonstration site published with ``zoning publish --offline``;
* ``world``: the hand-made screening world of ``tests/worlds.py`` (``make_world``);
* ``browser``: one headless Chromium (see ``tests/browser.py``).

Tests that use ``browser`` are marked ``browser`` here, whatever their module says.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import box

# The helper modules hold assertions too: rewrite them for readable failures.
pytest.register_assert_rewrite("browser", "geometries", "oracles", "worlds")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _index_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """The index cache of every command the suite runs: a session folder, never the user's."""
    old = os.environ.get("ZONING_INDEX_CACHE")
    os.environ["ZONING_INDEX_CACHE"] = str(tmp_path_factory.mktemp("index_cache"))
    yield
    if old is None:
        os.environ.pop("ZONING_INDEX_CACHE", None)
    else:
        os.environ["ZONING_INDEX_CACHE"] = old


def write_catalog(path: Path, layers: list[dict], **top) -> Path:
    """Write a catalog YAML (plain dicts, so tests control every key)."""
    path.write_text(yaml.safe_dump({**top, "layers": layers}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def square_gpkg(tmp_path: Path) -> Path:
    """A GeoPackage with one 0.01° x 0.01° square near People's Square, EPSG:4326."""
    gdf = gpd.GeoDataFrame(
        {"fid_": ["A"], "name": ["人民广场"]},
        geometry=[box(121.47, 31.23, 121.48, 31.24)],
        crs=4326,
    )
    path = tmp_path / "square.gpkg"
    gdf.to_file(path, layer="square")
    return path


# ------------------------------------------------------------------------------ demonstration


@pytest.fixture(scope="session")
def demo_layers():
    """The demonstration catalog, every layer read now (read-only: shared by the session)."""
    import zoning

    layers = zoning.load_catalog()
    list(layers)  # read every layer now
    return layers


@pytest.fixture(scope="session")
def demo_rules():
    """The demonstration rule set (read-only: shared by the session)."""
    import zoning

    return zoning.load_rules()


@pytest.fixture(scope="session")
def demo_screening(demo_layers):
    """The bundled example projects (``zoning.examples.PROJECTS``) screened on the demo layers."""
    import zoning
    from zoning.examples import PROJECTS

    return zoning.screen(PROJECTS, demo_layers)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """The demonstration site (offline maps), built once per session with ``zoning publish``."""
    from click.testing import CliRunner

    from zoning.cli.publish import publish

    out = tmp_path_factory.mktemp("publish-demo") / "site"
    result = CliRunner().invoke(publish, [str(out), "--offline"])
    assert result.exit_code == 0, result.output
    return out


# ------------------------------------------------------------------------------ hand-made worlds


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The hand-made screening world (``worlds.make_world``): paths of its catalog and rules."""
    from worlds import make_world

    return make_world(tmp_path_factory.mktemp("world"))


# ------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Playwright over the system's browser); see tests/browser.py."""
    from browser import start_browser

    yield from start_browser()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark ``browser`` every test that drives Chromium through the ``browser`` fixture."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_report_header(config):
    from tools import header

    from browser import browser_required, chromium_path

    exe = chromium_path()
    if exe:
        line = f"browser tests: Chromium at {exe}"
    elif browser_required():
        line = "browser tests: NO Chromium found, and ZONING_REQUIRE_BROWSER is set: they will fail"
    else:
        line = "browser tests: SKIPPED (no Chromium found; install Debian's chromium package)"
    from pg import postgis_available, postgis_required

    found, what = postgis_available()
    if found:
        pg_line = f"postgis tests: {what}"
    elif postgis_required():
        pg_line = f"postgis tests: {what}, and ZONING_REQUIRE_POSTGIS is set: they will fail"
    else:
        pg_line = f"postgis tests: SKIPPED ({what})"
    return [line, pg_line, header()]
