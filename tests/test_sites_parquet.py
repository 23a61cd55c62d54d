"""Sites from (Geo)Parquet: the same screening as the same sites from CSV; hostile files."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

import zoning
from zoning.cli import main
from zoning.errors import SitesError

#: Points over Shanghai with project attributes (some undeclared): districts, the red line,
#: water sources, the sea; one outside the territory.
ROWS = [
    ("a", 121.4737, 31.2304, "C2614", "new"),
    ("b", 121.9, 31.5, "C2614", None),
    ("c", 121.2, 31.05, None, "expansion"),
    ("d", 121.55, 31.05, "H6210", "new"),
    ("e", 122.3, 30.7, None, None),
    ("f", 120.6, 31.3, "C3011", "new"),
]
COMPARED = ["site_id", "verdict", "n_constraints", "n_hits", "n_reasons", "reasons_en"]


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["id", "lon", "lat", "industry", "nature"])


@pytest.fixture(scope="module")
def from_csv(demo_layers, tmp_path_factory):
    """The oracle: the same sites screened from a CSV with --crs EPSG:4326."""
    path = tmp_path_factory.mktemp("csv") / "sites.csv"
    frame().to_csv(path, index=False)
    return zoning.screen(path, demo_layers, crs="EPSG:4326").sites


def same(result: zoning.ScreeningResult, oracle: pd.DataFrame) -> None:
    got = pd.DataFrame(result.sites[COMPARED]).reset_index(drop=True)
    want = pd.DataFrame(oracle[COMPARED]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_geoparquet_written_by_geopandas(demo_layers, from_csv, tmp_path):
    df = frame()
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(df.lon, df.lat),
        crs="EPSG:4326",
    )
    path = tmp_path / "sites.parquet"
    gdf.to_parquet(path)
    assert b"geo" in pq.read_schema(path).metadata
    same(zoning.screen(path, demo_layers), from_csv)  # its own CRS: no crs needed
    # declaring the same CRS is fine; another one contradicts the file's
    same(zoning.screen(path, demo_layers, crs="EPSG:4326"), from_csv)
    with pytest.raises(SitesError, match=r"sites\.parquet: declared crs .* contradicts"):
        zoning.screen(path, demo_layers, crs="EPSG:4490")
    # a projected GeoParquet (CGCS2000 / 3-degree GK CM 120E) gives the same screening
    gdf.to_crs("EPSG:4549").to_parquet(tmp_path / "gk.parquet")
    same(zoning.screen(tmp_path / "gk.parquet", demo_layers), from_csv)


def _geo_table(crs: object = "omit", version: str = "1.0.0", encoding: str = "WKB") -> pa.Table:
    df = frame()
    wkb = shapely.to_wkb(shapely.points(df.lon.to_numpy(), df.lat.to_numpy()))
    table = pa.table(
        {
            "id": df["id"],
            "industry": df["industry"],
            "nature": df["nature"],
            "geometry": pa.array(list(wkb), type=pa.binary()),
        }
    )
    col: dict = {"encoding": encoding, "geometry_types": ["Point"]}
    if crs != "omit":
        col["crs"] = crs
    geo = {"version": version, "primary_column": "geometry", "columns": {"geometry": col}}
    return table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})


def test_geoparquet_written_by_pyarrow_without_crs_is_crs84(demo_layers, from_csv, tmp_path):
    """GeoParquet 1.0: a column without ``crs`` is OGC:CRS84 (longitude, latitude)."""
    path = tmp_path / "bare.parquet"
    pq.write_table(_geo_table(), path)
    same(zoning.screen(path, demo_layers), from_csv)


def test_geoparquet_with_a_null_crs_needs_one(demo_layers, from_csv, tmp_path):
    path = tmp_path / "unknown.parquet"
    pq.write_table(_geo_table(crs=None, version="1.1.0"), path)
    with pytest.raises(SitesError, match=r"unknown\.parquet"):
        zoning.screen(path, demo_layers)
    same(zoning.screen(path, demo_layers, crs="EPSG:4326"), from_csv)


def test_plain_parquet_with_lon_lat_needs_crs(demo_layers, from_csv, tmp_path):
    path = tmp_path / "table.parquet"
    pq.write_table(pa.Table.from_pandas(frame(), preserve_index=False), path)
    with pytest.raises(SitesError, match=r"table\.parquet .*no CRS and none declared"):
        zoning.screen(path, demo_layers)
    same(zoning.screen(path, demo_layers, crs="EPSG:4326"), from_csv)
    # x/y and 经度/纬度 columns as a CSV's
    renamed = frame().rename(columns={"lon": "经度", "lat": "纬度"})
    pq.write_table(pa.Table.from_pandas(renamed, preserve_index=False), tmp_path / "zh.parquet")
    same(zoning.screen(tmp_path / "zh.parquet", demo_layers, crs="EPSG:4326"), from_csv)


def _bad(tmp_path, name: str, data: bytes | pa.Table) -> str:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        pq.write_table(data, path)
    return str(path)


def test_hostile_files_are_one_line_errors_naming_the_file(tmp_path, monkeypatch):
    good = tmp_path / "good.parquet"
    pq.write_table(_geo_table(), good)
    whole = good.read_bytes()
    footer = int.from_bytes(whole[-8:-4], "little")
    forged = whole[:-8] + (len(whole) * 4).to_bytes(4, "little") + b"PAR1"
    cases = {
        "text.parquet": (b"id,lon,lat\na,121.4,31.2\n", "not a Parquet file"),
        "empty.parquet": (b"", "not a Parquet file"),
        "cut.parquet": (whole[: len(whole) // 2], "truncated"),
        "forged.parquet": (forged, "footer claims"),
        "badfooter.parquet": (
            whole[: -8 - footer] + b"\x00" * footer + whole[-8:],
            "damaged Parquet file",
        ),
        "json.parquet": (
            _geo_table().replace_schema_metadata({b"geo": b"{not json"}),
            "'geo' metadata is not valid JSON",
        ),
        "enc.parquet": (_geo_table(encoding="geoarrow.pointz"), "encoding 'geoarrow.pointz'"),
        "nogeom.parquet": (
            pa.table({"id": ["a"], "industry": ["C2614"]}),
            "no coordinate columns",
        ),
        "notwkb.parquet": (
            pa.table({"id": ["a"], "geometry": pa.array([b"\x01\x02"], type=pa.binary())}),
            "not WKB",
        ),
    }
    runner = CliRunner()
    for name, (data, words) in cases.items():
        path = _bad(tmp_path, name, data)
        res = runner.invoke(main, ["screen", path, "--crs", "EPSG:4326"])
        assert res.exit_code == 2, (name, res.output)
        line = res.stderr.strip()
        assert "\n" not in line and "Traceback" not in res.output, (name, res.output)
        assert name in line and words in line, (name, line)
    # a row count beyond the limit is refused from the footer, before anything is read
    monkeypatch.setenv("ZONING_PARQUET_MAX_ROWS", "3")
    res = runner.invoke(main, ["screen", str(good)])
    assert res.exit_code == 2 and "6 rows, more than 3" in res.stderr
    assert "good.parquet" in res.stderr


def test_cli_parquet_in_and_out(tmp_path):
    src = tmp_path / "pts.parquet"
    pq.write_table(_geo_table(), src)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["screen", str(src), "--out", str(out), "--format", "parquet"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".zoning-screen.json",
        "clauses.parquet",
        "codes.parquet",
        "hits.parquet",
        "sites.parquet",
    ]
    back = gpd.read_parquet(out / "sites.parquet")
    assert list(back["site_id"]) == [r[0] for r in ROWS]
    assert back.crs.to_epsg() == 4326
    # the sites come back where they were given
    for (_, lon, lat, *_), geom in zip(ROWS, back.geometry, strict=True):
        assert geom.distance(shapely.Point(lon, lat)) < 1e-7


def test_large_runs_default_to_parquet_and_say_why(tmp_path, monkeypatch):
    monkeypatch.setattr("zoning.screening.outputs.LARGE_RUN_SITES", 3)
    src = tmp_path / "pts.csv"
    frame().to_csv(src, index=False)
    runner = CliRunner()
    out = tmp_path / "big"
    res = runner.invoke(main, ["screen", str(src), "--crs", "EPSG:4326", "--out", str(out)])
    assert res.exit_code == 0, res.output
    said = [line for line in res.stdout.splitlines() if "more than 3" in line]
    assert len(said) == 1 and "Parquet" in said[0] and "--format csv" in said[0]
    assert (out / "sites.parquet").is_file() and not (out / "sites.csv").exists()
    # CSV on request
    out = tmp_path / "asked"
    res = runner.invoke(
        main, ["screen", str(src), "--crs", "EPSG:4326", "--out", str(out), "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "sites.csv").is_file() and not (out / "sites.parquet").exists()
    assert "more than 3" not in res.stdout
