"""Hostile input at the command line: one line, exit 2, for every bad input; Ctrl-C exits 130.

Every file is real and built in ``tmp_path``; anything large is generated here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import zoning
from conftest import REPO
from zoning.cli import main
from zoning.errors import SitesError


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line(res, *words, code=2):
    """Exit ``code``, exactly one line on stderr naming ``words``, no traceback."""
    assert res.exit_code == code, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def run_python(code: str, **kw):
    """``python -c CODE`` in a subprocess: what a user sees, without pytest's warning capture."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        **kw,
    )


# ---------------------------------------------------------------------------------------------
# Ctrl-C: exit 130, one line "interrupted", nothing partial written


def test_ctrl_c_during_demo_exits_130_and_writes_nothing(tmp_path):
    out = tmp_path / "OUT"
    # "ready" on stdout when the command line is about to run: the signal then lands inside
    # the command (``zoning demo`` takes many seconds), not in Python's own start-up.
    code = (
        "import sys; import zoning.cli as c; print('ready', flush=True); "
        f"c.main(['demo', '--out', {str(out)!r}], prog_name='zoning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert stderr.strip().splitlines() == ["interrupted"], stderr
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "OUT"]
    assert leftovers == [], leftovers


@pytest.mark.parametrize("exc", [KeyboardInterrupt, click.Abort])
def test_interrupt_inside_a_command_is_one_line_130(monkeypatch, tmp_path, exc):
    import zoning.cli.screen as screen_mod

    def interrupted(**_):
        raise exc()

    monkeypatch.setattr(screen_mod, "run_screening", interrupted)
    res = run("screen", "--point", "121.4,31.2", "--crs", "EPSG:4326")
    assert res.exit_code == 130, (res.exit_code, res.output)
    assert res.stderr.strip().splitlines() == ["interrupted"]
    assert "Aborted" not in res.output


# ---------------------------------------------------------------------------------------------
# Library warnings are not extra lines before the error; the toolkit's own are single lines


def test_library_warning_is_not_printed_before_the_error():
    proc = run_python(
        """
        import warnings
        import zoning.cli.screen as s
        from zoning.errors import SitesError

        def boom(**_):
            warnings.warn("GDAL: something odd\\nsecond line", RuntimeWarning)
            raise SitesError("sites.csv, row 2: bad")

        s.run_screening = boom
        from zoning.cli import main
        main(["screen", "x.csv"], prog_name="zoning")
        """
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == ["zoning: error: sites.csv, row 2: bad"], proc.stderr


def test_zoning_warning_is_one_line():
    proc = run_python(
        """
        import warnings
        import zoning.cli.screen as s
        from zoning.errors import SitesError, ZoningWarning

        def boom(**_):
            warnings.warn("the data are\\nold", ZoningWarning)
            raise SitesError("bad")

        s.run_screening = boom
        from zoning.cli import main
        main(["screen", "x.csv"], prog_name="zoning")
        """
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "zoning: warning: the data are old",
        "zoning: error: bad",
    ], proc.stderr


def test_recursion_error_is_one_line(monkeypatch):
    import zoning.cli.screen as screen_mod

    def deep(**_):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(screen_mod, "run_screening", deep)
    line = assert_one_line(run("screen", "--point", "121.4,31.2", "--crs", "EPSG:4326"))
    assert "internal error" not in line and "nested too deeply" in line


# ---------------------------------------------------------------------------------------------
# zoning map --screening with a deeply nested screening.json


def test_map_screening_deeply_nested_json_names_the_file(tmp_path):
    folder = tmp_path / "screened"
    folder.mkdir()
    (folder / "screening.gpkg").write_bytes(b"")
    depth = 100_000
    (folder / "screening.json").write_text("[" * depth + "]" * depth, encoding="utf-8")
    line = assert_one_line(
        run("map", "--screening", folder, "--out", tmp_path / "m.html"), "screening.json"
    )
    assert "internal error" not in line and "nested" in line
    assert not (tmp_path / "m.html").exists()


def test_load_screening_deep_json_is_a_zoning_error(tmp_path):
    from zoning.webmap.data import load_screening

    (tmp_path / "screening.gpkg").write_bytes(b"")
    (tmp_path / "screening.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    with pytest.raises(zoning.ZoningError, match=r"screening\.json"):
        load_screening(tmp_path)


# ---------------------------------------------------------------------------------------------
# A NUL in a site id or name is reported, not cut


def _point_feature(props, lon=121.4, lat=31.2):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def _geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize(
    ("field", "row"),
    [("id", 1), ("name", 2)],
)
def test_nul_in_csv_id_or_name_is_reported(tmp_path, field, row):
    ids = ["a", "b"]
    names = ["n1", "n2"]
    (ids if field == "id" else names)[row - 1] += "\x00cut"
    src = tmp_path / "sites.csv"
    src.write_text(
        "id,name,lon,lat\n"
        + "".join(f"{i},{n},121.4,31.2\n" for i, n in zip(ids, names, strict=True)),
        encoding="utf-8",
    )
    with pytest.raises(SitesError, match=rf"row {row + 1}.*'{field}'.*NUL"):
        zoning.load_sites(src, crs="EPSG:4326")
    line = assert_one_line(run("screen", src, "--crs", "EPSG:4326"), f"row {row + 1}", field)
    assert "NUL" in line


@pytest.mark.parametrize("field", ["id", "name"])
def test_nul_in_geojson_property_is_reported(tmp_path, field):
    props = {"id": "a", "name": "one"}
    props[field] = props[field][0] + "\x00cut"
    src = _geojson(
        tmp_path / "sites.geojson",
        [_point_feature({"id": "z", "name": "ok"}), _point_feature(props)],
    )
    with pytest.raises(SitesError, match=rf"feature 2.*'{field}'.*NUL"):
        zoning.load_sites(src)
    line = assert_one_line(run("screen", src), "sites.geojson", "feature 2", field)
    assert "NUL" in line


def test_nul_in_a_dataframe_name_is_reported():
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["ok", "x\x00y"]},
        geometry=[Point(121.4, 31.2), Point(121.5, 31.2)],
        crs=4326,
    )
    with pytest.raises(SitesError, match=r"row 1.*'name'.*NUL"):
        zoning.load_sites(gdf)


def test_geojson_without_nul_still_loads(tmp_path):
    src = _geojson(tmp_path / "ok.geojson", [_point_feature({"id": "a", "name": "零\\u0000"})])
    sites = zoning.load_sites(src)  # an escaped backslash followed by "u0000" is no NUL
    assert list(sites.gdf["name"]) == ["零\\u0000"]


# ---------------------------------------------------------------------------------------------
# A polygon with a 1e308 coordinate: the error names the bad vertex


def _polygon_feature(ring):
    return {
        "type": "Feature",
        "properties": {"id": "p"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.mark.parametrize(
    ("vertex", "value"),
    [((1e308, 31.21), "1e+308"), ((121.41, 1e308), "1e+308"), ((121.41, -1e308), "-1e+308")],
)
def test_huge_coordinate_names_the_bad_vertex(tmp_path, vertex, value):
    ring = [[121.4, 31.2], [121.41, 31.2], list(vertex), [121.4, 31.21], [121.4, 31.2]]
    src = _geojson(tmp_path / "big.geojson", [_polygon_feature(ring)])
    with pytest.raises(SitesError) as info:
        zoning.load_sites(src)
    msg = str(info.value)
    assert "feature 1" in msg and "vertex 3" in msg and value in msg, msg
    assert "(121.4, 31.2)" not in msg, msg
    assert_one_line(run("screen", src), "vertex 3", value)


@pytest.mark.parametrize("crs", ["EPSG:32651", "EPSG:3857"])
def test_huge_projected_coordinate_is_one_line_naming_the_vertex(crs):
    wkt = (
        "POLYGON ((350000 3450000, 351000 3450000, 1e308 3451000, 350000 3451000, 350000 3450000))"
    )
    with pytest.raises(SitesError, match=r"wkt 1.*vertex 3.*1e\+308"):
        zoning.load_sites(wkt=wkt, crs=crs)
    assert_one_line(run("screen", "--wkt", wkt, "--crs", crs), "vertex 3", "1e+308")


def test_infinite_coordinate_names_the_vertex():
    with pytest.raises(SitesError, match=r"wkt 1.*vertex 2.*inf"):
        zoning.load_sites(wkt="LINESTRING (121.4 31.2, inf 31.3)", crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# Every command: an obviously bad input is one line, exit 2


@pytest.mark.parametrize(
    "args",
    [
        ["screen", "/nonexistent/sites.geojson"],
        ["screen", "--fail-on", "bogus", "x"],
        ["compare", "/nonexistent/sites.geojson"],
        ["compare", "--lang", "xx"],
        ["map", "--catalog", "/nonexistent/catalog.yaml"],
        ["map", "--basemap", "bogus"],
        ["publish", "--catalog", "/nonexistent/catalog.yaml", "{tmp}/pub"],
        ["publish", "{tmp}/afile"],
        ["indicators", "--catalog", "/nonexistent/catalog.yaml"],
        ["indicators", "--bogus"],
        ["rasterize", "--catalog", "/nonexistent/catalog.yaml", "--res", "10"],
        ["rasterize", "--res", "abc"],
        ["zonal", "/nonexistent/r.tif"],
        ["zonal", "{tmp}/afile"],
        ["layers", "check", "--catalog", "/nonexistent/catalog.yaml"],
        ["layers", "check", "--bogus"],
        ["layers", "bogus"],
        ["seeds", "--bogus"],
        ["seeds", "extra-argument"],
        ["demo", "--out", "{tmp}/afile"],
        ["demo", "--bogus"],
        ["bogus"],
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_bad_input_is_one_line(tmp_path, args):
    (tmp_path / "afile").write_text("x")
    res = run(*[a.format(tmp=tmp_path) for a in args])
    line = assert_one_line(res)
    assert line.startswith("zoning: error: "), line
    assert "internal error" not in line, line
    assert res.stdout == ""


def test_deeply_nested_catalog_yaml_names_the_file(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    line = assert_one_line(run("layers", "check", "--catalog", deep), "nested too deeply")
    assert "deep.yaml" in line, line


@pytest.mark.parametrize(
    "args",
    [
        ("screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--out", ""),
        ("compare", "--point", "121.47,31.23", "--point", "121.48,31.24", "--crs", "EPSG:4326",
         "--out", ""),
        ("map", "--out", ""),
        ("indicators", "--out", ""),
        ("rasterize", "--res", "1000", "--out", ""),
        ("demo", "--out", ""),
        ("publish", "--out", ""),
    ],
    ids=lambda a: a[0],
)  # fmt: skip
def test_empty_out_is_a_usage_error_not_the_current_folder(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 2, res.output
    assert "--out: empty path" in res.output
    assert list(tmp_path.iterdir()) == []
