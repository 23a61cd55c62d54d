"""Hostile input files: no other local file read, no network request, no zip bomb.

A sites file or a catalog layer that is a VRT (by name or by content) is refused unless a
catalog says ``allow_vrt: true``; a loopback listener counts the connections GDAL makes for
inputs that point at it (zero unless ``--allow-network``); zips are checked before reading and
encoding detection reads a bounded sample of a ``.dbf``.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile import Listener
from zoning.catalog import LayerEntry, parse_layer_spec
from zoning.cli import main
from zoning.errors import LayerReadError, ZoningError
from zoning.io import read_layer, set_network_allowed, shapefile_encoding
from zoning.sites import load_sites

CANARY = "CANARY-7f3a9c-do-not-leak"
SQUARE = "POLYGON ((121.40 31.20, 121.41 31.20, 121.41 31.21, 121.40 31.21, 121.40 31.20))"


def _canary(tmp_path: Path) -> Path:
    """A CSV GDAL can read as a layer, holding the canary text."""
    path = tmp_path / "canary.csv"
    path.write_text(f'WKT,secret\n"{SQUARE}",{CANARY}\n', encoding="utf-8")
    return path


def _vrt(src: str, layer: str = "canary") -> str:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="{layer}"><SrcDataSource>{src}</SrcDataSource>'
        "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
        '<GeometryField encoding="WKT" field="WKT"/></OGRVRTLayer></OGRVRTDataSource>'
    )


def _tree_text(folder: Path) -> str:
    if not folder.exists():
        return ""
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- other local files


@pytest.mark.parametrize("name", ["sites.vrt", "sites.geojson", "sites.gml"])
def test_sites_vrt_reading_a_canary_file_is_refused(tmp_path, name):
    canary = _canary(tmp_path)
    sites = tmp_path / name
    sites.write_text(_vrt(str(canary)), encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["screen", str(sites), "--out", str(out)])
    assert res.exit_code == 2, res.output
    message = res.output.strip()
    assert len(message.splitlines()) == 1 and "VRT" in message and name in message
    assert CANARY not in res.output and not out.exists()
    with pytest.raises(LayerReadError, match="VRT"):
        load_sites(sites)


def _vrt_entry(tmp_path: Path, **extra) -> LayerEntry:
    canary = _canary(tmp_path)
    (tmp_path / "park.vrt").write_text(_vrt(str(canary)), encoding="utf-8")
    return LayerEntry(id="parks", kind="park", source="park.vrt", **extra)


def test_catalog_vrt_layer_needs_allow_vrt(tmp_path):
    with pytest.raises(LayerReadError, match=r"layer 'parks'.*VRT.*allow_vrt") as err:
        read_layer(_vrt_entry(tmp_path), tmp_path)
    assert CANARY not in str(err.value) and "\n" not in str(err.value)
    gdf, _ = read_layer(_vrt_entry(tmp_path, allow_vrt=True), tmp_path)
    assert len(gdf) == 1 and CANARY in set(gdf["secret"])  # trusted: it reads


def test_layer_option_vrt_is_refused(tmp_path):
    entry = _vrt_entry(tmp_path)
    spec = parse_layer_spec(f"park={tmp_path / 'park.vrt'}")
    assert spec.allow_vrt is False
    with pytest.raises(LayerReadError, match="VRT"):
        read_layer(spec, tmp_path)
    catalog = tmp_path / "cat.yml"
    catalog.write_text("layers:\n  - {id: parks, kind: park, source: park.vrt}\n", encoding="utf-8")
    site, page = tmp_path / "site", tmp_path / "map.html"
    for args in (
        ["layers", "check", "--catalog", str(catalog)],
        ["publish", str(site), "--catalog", str(catalog)],
        ["map", "--catalog", str(catalog), "--out", str(page)],
        ["map", "--layer", f"park={tmp_path / 'park.vrt'}", "--out", str(page)],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2 and "VRT" in res.output and CANARY not in res.output, args
        assert len(res.output.strip().splitlines()) == 1
    assert CANARY not in _tree_text(tmp_path / "site") and not page.exists()
    assert entry.allow_vrt is False


# --------------------------------------------------------------------------- network


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.sock.close()


def _point_fc(**top) -> str:
    feature = {
        "type": "Feature",
        "properties": {"name": "a"},
        "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
    }
    return json.dumps({"type": "FeatureCollection", **top, "features": [feature]})


def _network_inputs(tmp_path: Path, listener: Listener) -> dict[str, Path]:
    files = {
        "vrt.vrt": _vrt(f"/vsicurl/{listener.url('a.geojson')}", "a"),
        "crs.geojson": _point_fc(
            crs={"type": "link", "properties": {"href": listener.url("crs"), "type": "proj4"}}
        ),
        "link.kml": (
            '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<NetworkLink><Link><href>{listener.url('b.kml')}</href></Link></NetworkLink>"
            "<Placemark><Point><coordinates>121.4,31.2</coordinates></Point></Placemark>"
            "</Document></kml>"
        ),
    }
    out = {}
    for name, text in files.items():
        out[name] = tmp_path / name
        out[name].write_text(text, encoding="utf-8")
    return out


def test_no_connection_from_sites_files(tmp_path, listener):
    for name, path in _network_inputs(tmp_path, listener).items():
        try:
            load_sites(path)
        except ZoningError as exc:
            assert "\n" not in str(exc), name
        res = CliRunner().invoke(main, ["screen", str(path)])
        assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output, name
    assert listener.count == 0


def test_no_connection_from_catalog_layers(tmp_path, listener):
    inputs = _network_inputs(tmp_path, listener)
    entries = [
        LayerEntry(id="remote", kind="park", source=listener.url("c.geojson")),
        LayerEntry(id="vsicurl", kind="park", source=f"/vsicurl/{listener.url('d.geojson')}"),
        LayerEntry(id="vrt", kind="park", source=str(inputs["vrt.vrt"]), allow_vrt=True),
        LayerEntry(id="crs", kind="population", source=str(inputs["crs.geojson"])),
        LayerEntry(id="kml", kind="population", source=str(inputs["link.kml"])),
    ]
    for entry in entries:
        try:
            read_layer(entry, tmp_path)
        except ZoningError as exc:
            assert "\n" not in str(exc)
    with pytest.raises(LayerReadError, match=r"remote.*--allow-network"):
        read_layer(entries[0], tmp_path)
    catalog = tmp_path / "cat.yml"
    catalog.write_text(
        f"layers:\n  - {{id: parks, kind: park, source: '{listener.url('e.geojson')}'}}\n",
        encoding="utf-8",
    )
    for extra in ([], ["--offline"]):
        res = CliRunner().invoke(
            main,
            [
                "screen",
                "--point",
                "121.4,31.2",
                "--crs",
                "EPSG:4326",
                "--catalog",
                str(catalog),
                *extra,
            ],
        )
        assert res.exit_code == 2 and "--allow-network" in res.output
    assert listener.count == 0


def test_allow_network_fetches_catalog_sources(tmp_path, listener):
    catalog = tmp_path / "cat.yml"
    catalog.write_text(
        f"layers:\n  - {{id: parks, kind: park, source: '{listener.url('f.geojson')}'}}\n",
        encoding="utf-8",
    )
    args = ["layers", "check", "--catalog", str(catalog), "--allow-network"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert listener.count > 0
    # The permission ends with the command.
    with pytest.raises(LayerReadError, match="network is off"):
        read_layer(LayerEntry(id="x", kind="park", source=listener.url("g.geojson")), tmp_path)
    res = CliRunner().invoke(
        main,
        [
            "screen",
            "--point",
            "121.4,31.2",
            "--crs",
            "EPSG:4326",
            "--catalog",
            str(catalog),
            "--allow-network",
            "--offline",
        ],
    )
    assert res.exit_code == 2 and "exclude each other" in res.output
    previous = set_network_allowed(True)
    try:
        before = listener.count
        with pytest.raises(LayerReadError):
            read_layer(LayerEntry(id="x", kind="park", source=listener.url("h.geojson")), tmp_path)
        assert listener.count > before
    finally:
        set_network_allowed(previous)


# --------------------------------------------------------------------------- zips and encodings


def _dbf_header(n_records: int, width: int = 20) -> bytes:
    header_len = 32 + 32 + 1
    head = struct.pack("<BBBBIHH20x", 3, 124, 1, 1, n_records, header_len, 1 + width)
    field = b"NAME".ljust(11, b"\x00") + b"C" + b"\x00" * 4 + bytes([width, 0]) + b"\x00" * 14
    return head + field + b"\x0d"


def _zip_with_big_dbf(path: Path, size: int, *, names=("x.shp", "x.shx", "x.dbf")) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names[:-1]:
            zf.writestr(name, b"")
        with zf.open(names[-1], "w", force_zip64=True) as fh:
            fh.write(_dbf_header(size // 21))
            chunk = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
    return path


@pytest.mark.slow
def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    bomb = _zip_with_big_dbf(tmp_path / "bomb.zip", 96 << 20)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(LayerReadError, match=r"expands to 96 MiB.*limits: 2,048 MiB and 200x"):
        load_sites(bomb)
    entry = LayerEntry(id="parks", kind="park", source=str(bomb))
    with pytest.raises(LayerReadError, match=r"layer 'parks'.*ZONING_ZIP_MAX_MB"):
        read_layer(entry, tmp_path)
    res = CliRunner().invoke(main, ["screen", str(bomb)])
    assert res.exit_code == 2 and "limits" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_zip_limits_are_configurable(tmp_path, monkeypatch):
    small = _zip_with_big_dbf(tmp_path / "small.zip", 3 << 20)
    monkeypatch.setenv("ZONING_ZIP_MAX_MB", "1")
    with pytest.raises(LayerReadError, match=r"expands to 3 MiB.*limits: 1 MiB"):
        load_sites(small)


@pytest.mark.parametrize("member", ["../x.shp", "/abs.shp", "a/../../x.shp"])
def test_zip_member_outside_the_zip_is_named(tmp_path, member):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(member), b"")
    with pytest.raises(LayerReadError, match=r"absolute or '\.\.' path") as err:
        load_sites(path)
    assert member in str(err.value)
    with pytest.raises(LayerReadError, match=r"layer 'p'.*absolute or '\.\.' path"):
        read_layer(LayerEntry(id="p", kind="park", source=str(path)), tmp_path)


def _peak(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_encoding_detection_reads_a_bounded_sample(tmp_path):
    shp = tmp_path / "big.shp"
    shp.write_bytes(b"")
    size = 128 << 20
    with (tmp_path / "big.dbf").open("wb") as fh:
        fh.write(_dbf_header(size // 21) + b" " + "上海".encode("gb18030").ljust(20, b" "))
        fh.truncate(size)  # sparse zeros: cheap to make, costly to read whole
    assert shapefile_encoding(str(shp), None) == ("GB18030", "detected")
    assert _peak(lambda: shapefile_encoding(str(shp), None)) < 40 << 20
    # Text after the first records is still seen: the sample includes the end of the file.
    late = tmp_path / "late.shp"
    late.write_bytes(b"")
    record = b" " + "上海".encode("gb18030").ljust(20, b" ")
    with (tmp_path / "late.dbf").open("wb") as fh:
        fh.write(_dbf_header(size // 21) + b" " + b"ascii".ljust(20, b" "))
        fh.seek(len(_dbf_header(0)) + (size // 21 - 1) * 21)
        fh.write(record)
    assert shapefile_encoding(str(late), None) == ("GB18030", "detected")
    assert _peak(lambda: shapefile_encoding(str(late), None)) < 40 << 20
    zipped = _zip_with_big_dbf(tmp_path / "big.zip", 64 << 20)
    assert _peak(lambda: shapefile_encoding(f"{zipped}/x.shp", None)) < 40 << 20


# --------------------------------------------------------------------------- time budget


def _recursive_view_gpkg(path: Path) -> Path:
    import sqlite3

    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(121.4, 31.2)], crs=4326)
    gdf.to_file(path, layer="base", driver="GPKG")
    con = sqlite3.connect(path)
    con.execute(
        "CREATE VIEW loop AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT b.fid AS fid, b.geom AS geom FROM base b, r"
    )
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        "VALUES ('loop', 'features', 'loop', 4326)"
    )
    con.execute("INSERT INTO gpkg_geometry_columns VALUES ('loop', 'geom', 'POINT', 4326, 0, 0)")
    con.commit()
    con.close()
    return path


def test_within_budget_gives_one_line(monkeypatch):
    import time

    from zoning.io.guard import within_budget

    monkeypatch.setenv("ZONING_READ_TIMEOUT_S", "0.2")
    with pytest.raises(LayerReadError, match=r"^x: reading took longer than 0.2 s"):
        within_budget(lambda: time.sleep(3), "x")
    assert within_budget(lambda: 42, "x") == 42
    with pytest.raises(ZeroDivisionError):
        within_budget(lambda: 1 / 0, "x")


@pytest.mark.slow
def test_recursive_sql_view_stops_within_the_budget(tmp_path):
    """The hung read is left behind in a child process, which exits with the one-line error."""
    import os
    import subprocess
    import sys

    gpkg = _recursive_view_gpkg(tmp_path / "loop.gpkg")
    catalog = tmp_path / "cat.yml"
    catalog.write_text(
        "layers:\n  - {id: pop, kind: population, source: loop.gpkg, layer: loop}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "ZONING_READ_TIMEOUT_S": "2"}
    for args in (
        ["screen", str(gpkg), "--layer-name", "loop"],
        ["layers", "check", "--catalog", str(catalog)],
    ):
        res = subprocess.run(
            [sys.executable, "-m", "zoning", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "longer than 2 s" in lines[0] and "Traceback" not in res.stderr


def test_no_proxy_does_not_open_the_network(tmp_path, listener, monkeypatch):
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    sites = _network_inputs(tmp_path, listener)["crs.geojson"]
    res = CliRunner().invoke(main, ["screen", str(sites)])
    assert "Traceback" not in res.output
    assert listener.count == 0


# --------------------------------------------------------------------------- links, any layout


def _feature(i: int) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": f"site {i}"},
        "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
    }


@pytest.mark.parametrize("layout", ["properties first", "after 64 KiB of features"])
def test_geojson_crs_link_is_refused_in_any_layout(tmp_path, listener, layout):
    link = {"type": "link", "properties": {"href": listener.url("crs"), "type": "proj4"}}
    if layout == "properties first":
        link = {"properties": link["properties"], "type": "link"}
        doc = {"type": "FeatureCollection", "crs": link, "features": [_feature(0)]}
    else:  # the crs member after the features, past the sniffed head of the file
        doc = {"type": "FeatureCollection", "features": [_feature(i) for i in range(800)]}
        doc["crs"] = link
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert path.stat().st_size > 64 * 1024 or layout == "properties first"
    with pytest.raises(ZoningError, match="'crs' is a link"):
        load_sites(path)
    assert listener.count == 0


def test_no_proxy_in_the_environment_does_not_open_python_api_reads(tmp_path, listener):
    """The Python API alone (no CLI) closes the network before its first read, ``no_proxy``
    included (``import zoning`` itself is lazy: the guard is set when a reader is imported)."""
    import subprocess
    import sys

    vrt = tmp_path / "remote.vrt"
    vrt.write_text(_vrt(f"/vsicurl/{listener.url('r.geojson')}", "r"), encoding="utf-8")
    catalog = tmp_path / "c.yml"
    catalog.write_text(
        "layers:\n  - {id: red_line, kind: red_line, source: remote.vrt, allow_vrt: true}\n",
        encoding="utf-8",
    )
    code = (
        "import os, zoning\n"
        "layers = zoning.load_catalog\n"
        "assert 'NO_PROXY' not in os.environ and 'no_proxy' not in os.environ\n"
        "try:\n"
        f"    layers({str(catalog)!r})['red_line']\n"
        "except zoning.ZoningError:\n"
        "    pass\n"
    )
    env = {**__import__("os").environ, "NO_PROXY": "*", "no_proxy": "*"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert listener.count == 0
