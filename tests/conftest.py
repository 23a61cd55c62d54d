"""Shared fixtures: small hand-made layers written to real files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import box

REPO = Path(__file__).resolve().parent.parent


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


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Playwright over the system's browser); see tests/browser.py."""
    from browser import start_browser

    yield from start_browser()


def pytest_report_header(config):
    from browser import browser_required, chromium_path

    exe = chromium_path()
    if exe:
        return f"browser tests: Chromium at {exe}"
    if browser_required():
        return "browser tests: NO Chromium found, and ZONING_REQUIRE_BROWSER is set: they will fail"
    return "browser tests: SKIPPED (no Chromium found; install Debian's chromium package)"
