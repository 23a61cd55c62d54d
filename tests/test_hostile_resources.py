"""Hostile files that aim at time and memory: YAML alias bombs and huge YAML files, long
values quoted in messages, rasters whose header declares absurd dimensions, CRSs that are not
on Earth.  Each must give one clear line (exit 2 from the CLI), fast, and allocate nothing big.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from zoning import _yaml
from zoning.cli import main
from zoning.errors import CatalogError, RulesError, SeedsError, quote


@contextmanager
def deadline(seconds: int):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def _raise(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def one_line(exc: BaseException, limit: int = 400) -> str:
    text = str(exc)
    assert "\n" not in text, text[:500]
    assert len(text) <= limit, text[:500]
    return text


# A "billion laughs": nine levels of nine aliases, 9**9 = 387 million strings once expanded.
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_cli_error(res, *words):
    """Exit 2, one line naming ``words``, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output[:2000])
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr[:2000]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# --------------------------------------------------------------------------------------- YAML


def isolated(code: str, *args: object, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, killed after ``timeout`` s: a hang inside C code
    (a repr of a billion-laughs value) cannot be interrupted by an alarm in-process."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


LOAD = """
import sys, time
from zoning.errors import ZoningError
import {module} as m
start = time.monotonic()
try:
    m.{func}(sys.argv[1])
except ZoningError as exc:
    print(type(exc).__name__, time.monotonic() - start)
    print(exc)
"""


@pytest.mark.parametrize(
    ("module", "func", "error", "text"),
    [
        (
            "zoning.catalog",
            "read_catalog",
            "CatalogError",
            "version: '1'\n{bomb}title: *i\nlayers: *i\n",
        ),
        ("zoning.rules", "load_rules", "RulesError", "{bomb}id: *i\n"),
        ("zoning.targets", "load_targets", "SeedsError", "{bomb}documents: *i\n"),
    ],
)
def test_billion_laughs_is_refused_fast(tmp_path, module, func, error, text):
    path = tmp_path / "bomb.yml"
    path.write_text(text.format(bomb=BOMB), encoding="utf-8")
    done = isolated(LOAD.format(module=module, func=func), path)
    assert done.returncode == 0, done.stderr[-2000:]
    kind, seconds, message = done.stdout.split(maxsplit=2)
    assert kind == error
    assert float(seconds) < 1.0
    assert message.count("\n") == 1 and len(message) < 400, message[:500]
    assert str(path) in message and "alias" in message


def test_billion_laughs_catalog_via_cli(tmp_path):
    path = tmp_path / "catalog.yml"
    path.write_text("version: '1'\n" + BOMB + "layers: *i\n", encoding="utf-8")
    code = "import sys; from zoning.cli import main; main(sys.argv[1:], prog_name='zoning')"
    done = isolated(code, "screen", "--point", "121.4,31.2", "--catalog", path)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert str(path) in lines[0] and "alias" in lines[0]


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("id: &x [1, *x]\n", encoding="utf-8")
    with deadline(20), pytest.raises(RulesError) as info:
        _yaml.load_yaml(path, RulesError, "rule set")
    assert "refers to itself" in one_line(info.value)


def test_moderate_aliases_still_load(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("base: &b {a: 1, b: [1, 2]}\none: *b\ntwo: {<<: *b, c: 2}\n", encoding="utf-8")
    assert _yaml.load_yaml(path, RulesError, "rule set") == {
        "base": {"a": 1, "b": [1, 2]},
        "one": {"a": 1, "b": [1, 2]},
        "two": {"a": 1, "b": [1, 2], "c": 2},
    }


def test_yaml_file_over_the_size_cap_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_yaml, "MAX_YAML_BYTES", 1000)
    path = tmp_path / "catalog.yml"
    path.write_text("# padding\n" * 200, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        _yaml.load_yaml(path, CatalogError, "catalog")
    msg = one_line(info.value)
    assert str(path) in msg and "1,000 bytes" in msg


def test_yaml_size_cap_default_is_5_mb(tmp_path):
    from zoning.catalog import read_catalog

    path = tmp_path / "catalog.yml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("version: '1'\nlayers: []\n")
        fh.write(("#" * 99 + "\n") * 50_001)
    with deadline(20), pytest.raises(CatalogError) as info:
        read_catalog(path)
    assert "5,000,000 bytes" in one_line(info.value)


def test_deeply_nested_yaml_is_one_line(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("id: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with deadline(20), pytest.raises(RulesError) as info:
        _yaml.load_yaml(path, RulesError, "rule set")
    one_line(info.value)


# ------------------------------------------------------------------------- quoted user values


def test_quote_is_repr_for_short_values():
    for value in ("a", 1, 2.5, None, ["x", ("y",)], {"k": [1, {"j": None}]}, (1,)):
        assert quote(value) == repr(value)


def test_quote_truncates_long_values_fast():
    assert len(quote("x" * 1_000_000)) <= 120
    assert quote("x" * 1000).endswith("…")
    nested = ["lol"] * 9
    for _ in range(9):
        nested = [nested] * 9  # 9**10 strings if walked in full
    with deadline(5):
        assert len(quote(nested)) <= 120
    assert len(quote(list(range(10**6)), limit=30)) == 30


def test_duplicate_long_key_is_quoted_short(tmp_path):
    key = "k" * 10_000
    path = tmp_path / "rules.yml"
    path.write_text(f"? {key}\n: 1\n? {key}\n: 2\n", encoding="utf-8")  # explicit keys: any length
    with pytest.raises(RulesError) as info:
        _yaml.load_yaml(path, RulesError, "rule set")
    assert "written twice" in one_line(info.value)


LONG = "x" * 5000


def _hostile_copy(tmp_path, shipped, section, mutate):
    """The shipped YAML file with its first ``section`` entry mutated, written to tmp_path."""
    import yaml

    from zoning._paths import data_dir

    parts = shipped.split("/")
    source = data_dir(parts[0]).joinpath(*parts[1:])
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    mutate(data[section][0] if section else data)
    path = tmp_path / parts[-1]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, width=10**9), encoding="utf-8")
    return path


MUTATIONS = {
    "long id": lambda e: e.update(id=LONG, verdict=LONG, kind=LONG),
    "long unknown key": lambda e: e.update({LONG: 1}),
    "long list value": lambda e: e.update(id=[LONG] * 50),
    "long nested value": lambda e: e.update(id={LONG: [LONG] * 20}),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_rules_long_value_is_quoted_short(tmp_path, mutation):
    from zoning.rules import load_rules

    path = _hostile_copy(tmp_path, "layers/rules/shanghai_demo.yml", "rules", MUTATIONS[mutation])
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert str(path) in one_line(info.value, limit=len(str(path)) + 1000)


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_targets_long_value_is_quoted_short(tmp_path, mutation):
    from zoning.targets import load_targets

    path = _hostile_copy(tmp_path, "seeds/targets.yml", "targets", MUTATIONS[mutation])
    with pytest.raises(SeedsError) as info:
        load_targets(path)
    assert str(path) in one_line(info.value, limit=len(str(path)) + 1000)


def test_yaml_integer_of_5000_digits_is_one_line(tmp_path):
    from zoning.targets import load_targets

    path = tmp_path / "targets.yml"
    path.write_text(f"version: {'9' * 5000}\n", encoding="utf-8")
    with pytest.raises(SeedsError) as info:
        load_targets(path)
    assert str(path) in one_line(info.value)


CATALOG_MUTATIONS = {
    "long id": lambda e: e.update(id=LONG, kind=LONG),
    "long unknown key": lambda e: e.update({LONG: 1}),
    "long list value": lambda e: e.update(title_zh=[LONG] * 50),
}


@pytest.mark.parametrize("mutation", CATALOG_MUTATIONS)
def test_catalog_long_value_is_quoted_short(tmp_path, mutation):
    from zoning.catalog import read_catalog

    path = _hostile_copy(tmp_path, "layers/catalog.yml", "layers", CATALOG_MUTATIONS[mutation])
    with pytest.raises(CatalogError) as info:
        read_catalog(path)
    assert str(path) in one_line(info.value, limit=len(str(path)) + 1000)


# ------------------------------------------------------------------------------------- rasters


def huge_header_tif(path, side=10**6, dtype="uint8", count=1, crs="EPSG:4326"):
    """A GeoTIFF whose header declares ``side`` x ``side`` cells, written sparse: a few kB."""
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    profile = dict(
        driver="GTiff", width=side, height=side, count=count, dtype=dtype, crs=crs,
        transform=Affine(1e-6, 0, 121.0, 0, -1e-6, 31.5), tiled=True, blockxsize=65536,
        blockysize=65536, compress="deflate", SPARSE_OK=True, BIGTIFF="YES",
    )  # fmt: skip
    with rasterio.open(path, "w", **profile):
        pass
    assert path.stat().st_size < 100_000
    return path


def test_raster_with_absurd_dimensions_is_refused_before_reading(tmp_path):
    import zoning.raster as zr
    from zoning.errors import RasterError

    path = huge_header_tif(tmp_path / "huge.tif")
    start = time.monotonic()
    with deadline(60), pytest.raises(RasterError) as info:
        zr.zonal_stats(path, by="districts")
    assert time.monotonic() - start < 5
    msg = one_line(info.value)
    assert str(path) in msg and "1,000,000 x 1,000,000" in msg and "limit" in msg


def test_raster_size_limit_is_configurable(tmp_path):
    import zoning.raster as zr
    from zoning.errors import RasterError

    with pytest.raises(RasterError, match="limit of 1,000 bytes"):
        zr.zonal_stats(zr.DEMO_RASTER, by="districts", max_bytes=1000)


def test_raster_window_size_is_bounded():
    import zoning.raster as zr
    from zoning.errors import RasterError

    with pytest.raises(RasterError, match="window_size"):
        zr.zonal_stats(zr.DEMO_RASTER, by="districts", window_size=10**6)


def test_raster_with_absurd_dimensions_via_cli(tmp_path):
    from zoning.cli.raster import zonal_cmd

    path = huge_header_tif(tmp_path / "huge.tif", count=3, dtype="float64")
    with deadline(60):
        res = CliRunner().invoke(zonal_cmd, [str(path), "--by", "districts"])
    assert_cli_error(res, str(path), "1,000,000 x 1,000,000", "3 bands", "float64")


# ----------------------------------------------------------------------------------------- CRS

LOCAL_CS = 'LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1]]'
ENGCRS = (
    'ENGCRS["eng",EDATUM["d"],CS[Cartesian,2],AXIS["x",east],AXIS["y",north],LENGTHUNIT["metre",1]]'
)
REFUSED_CRS = {
    "IAU_2015:49900": "not on the Earth",  # Mars
    "IAU_2015:30100": "not on the Earth",  # the Moon
    "ESRI:104903": "not on the Earth",  # the Moon, ESRI's code
    "+proj=longlat +a=3396190 +b=3376200": "not on the Earth",
    LOCAL_CS: "local (engineering) CRS",
    ENGCRS: "local (engineering) CRS",
    "EPSG:4978": "geocentric",
    "+proj=geocent +ellps=WGS84": "geocentric",
    "EPSG:5773": "vertical CRS",
    "IAU_2015:99999999": "not a CRS PROJ understands",
}


@pytest.mark.parametrize("value", REFUSED_CRS)
def test_crs_not_on_the_earth_surface_is_refused(value):
    from zoning.crs import parse_crs
    from zoning.errors import CRSError

    with pytest.raises(CRSError) as info:
        parse_crs(value, what="--crs")
    msg = one_line(info.value)
    assert msg.startswith("--crs: ") and REFUSED_CRS[value] in msg
    assert quote(value) in msg


def test_crs_instance_not_on_the_earth_is_refused():
    import pyproj

    from zoning.crs import parse_crs
    from zoning.errors import CRSError

    with pytest.raises(CRSError, match="not on the Earth"):
        parse_crs(pyproj.CRS("IAU_2015:49900"))


@pytest.mark.parametrize(
    "value",
    ["EPSG:4490", "EPSG:4326", "EPSG:4549", "EPSG:3857", "EPSG:4979", "EPSG:4326+5773",
     "+proj=longlat +R=6371000", "+proj=tmerc +lon_0=121 +ellps=krass", "gcj02", "4490"],
)  # fmt: skip
def test_earth_crs_still_parse(value):
    from zoning.crs import parse_crs

    parse_crs(value)


@pytest.mark.parametrize("value", ["IAU_2015:49900", LOCAL_CS, "EPSG:4978"])
def test_cli_screen_refuses_crs_not_on_the_earth(value):
    res = run("screen", "--point", "121.4,31.2", "--crs", value)
    assert_cli_error(res, "--crs", REFUSED_CRS[value])


# ------------------------------------------------------------------------------- --encoding

UNKNOWN_CODEC = "'nosuchcodec' is not a text encoding Python knows (e.g. utf-8, gb18030, big5)"


def sites_csv(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("id,lon,lat\na,121.4,31.2\n", encoding="utf-8")
    return path


def test_unknown_encoding_library(tmp_path):
    import zoning
    from zoning.errors import SitesError

    with pytest.raises(SitesError) as info:
        zoning.load_sites(sites_csv(tmp_path), encoding="nosuchcodec")
    assert one_line(info.value) == f"encoding: {UNKNOWN_CODEC}"


def test_unknown_encoding_cli(tmp_path):
    res = run("screen", sites_csv(tmp_path), "--encoding", "nosuchcodec")
    line = assert_cli_error(res)
    assert line == f"zoning: error: --encoding: {UNKNOWN_CODEC}"


def test_unknown_encoding_in_catalog(tmp_path):
    from zoning.catalog import read_catalog

    path = _hostile_copy(
        tmp_path, "layers/catalog.yml", "layers", lambda e: e.update(encoding="nosuchcodec")
    )
    with pytest.raises(CatalogError) as info:
        read_catalog(path)
    msg = one_line(info.value)
    assert "key 'encoding'" in msg and UNKNOWN_CODEC in msg


# -------------------------------------------------------------------- files whose own CRS is off


def _mars_gpkg(path):
    import geopandas as gpd
    import pyproj
    from shapely.geometry import Point

    crs = pyproj.CRS.from_user_input("IAU_2015:49900")
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(121.4, 31.2)], crs=crs).to_file(path)
    return path


def test_sites_file_whose_own_crs_is_not_on_the_earth_is_refused(tmp_path):
    import zoning
    from zoning.errors import CRSError

    path = _mars_gpkg(tmp_path / "mars.gpkg")
    with pytest.raises(CRSError) as info:
        zoning.load_sites(path)
    msg = one_line(info.value)
    assert ("mars.gpkg" in msg and "Earth" in msg) or "earth" in msg


def test_layer_file_whose_own_crs_is_not_on_the_earth_is_refused(tmp_path):
    import zoning
    from zoning.errors import CRSError

    path = _mars_gpkg(tmp_path / "mars.gpkg")
    with pytest.raises(CRSError) as info:
        zoning.load_catalog(layers=[f"red_line={path}"])["red_line"]
    msg = one_line(info.value)
    assert "mars.gpkg" in msg and "red_line" in msg and "not on the Earth" in msg
