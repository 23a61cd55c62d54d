"""Runs in chunks: the same sites as a whole read, the same rows as a whole run, nothing partial.

Oracles: :func:`zoning.sites.load_sites` on the whole file (for the chunks' sites) and
``zoning screen --format parquet`` without chunks (for every row of sites, hits, clauses and
codes); an interrupted run is checked on the folder itself (absent, or as it was).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from zoning.cli import main
from zoning.errors import SitesError
from zoning.sites import load_sites
from zoning.sites.chunks import count_sites, iter_site_chunks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "layers" / "examples"
AS_OF = "2026-12-05"


def random_points(path: Path, n: int, seed: int = 7, ids: bool = True) -> Path:
    """``n`` points over Shanghai's box with a few attributes, as CSV."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "lon": rng.uniform(120.9, 122.0, n).round(6),
            "lat": rng.uniform(30.7, 31.8, n).round(6),
            "industry": rng.choice(["C2614", "H6110", "K7010", "D4411"], n),
            "nature": rng.choice(["new", "expansion"], n),
        }
    )
    if ids:
        df.insert(0, "id", [f"P{i:06d}" for i in rng.permutation(n)])
    df.to_csv(path, index=False)
    return path


def rows(folder: Path, name: str) -> pd.DataFrame:
    """Every row of ``folder/name.parquet`` as text, in a fixed order (by site id, then every
    column); ``clauses.site`` (the row of the site in sites.parquet) replaced by its id."""
    df = pq.read_table(folder / f"{name}.parquet").to_pandas()
    if name == "clauses" and "site" in df.columns:
        df = df.drop(columns="site")
    df = df.map(lambda v: v.hex() if isinstance(v, bytes) else ("" if v is None else repr(v)))
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def assert_same_outputs(a: Path, b: Path) -> None:
    for name in ("sites", "hits", "clauses", "codes"):
        left, right = rows(a, name), rows(b, name)
        assert len(left) == len(right), name
        pd.testing.assert_frame_equal(left, right, obj=name)


def screen(*args: str) -> object:
    result = CliRunner().invoke(main, ["screen", *args, "--as-of", AS_OF])
    return result


def sites_of(chunks) -> pd.DataFrame:
    parts = [c.sites.gdf for c in chunks]
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- reading in chunks


@pytest.mark.parametrize(
    ("source", "kw", "size"),
    [
        (EXAMPLES / "projects.geojson", {}, 6),
        (EXAMPLES / "amap_gcj02.csv", {"crs": "gcj02"}, 1),
        ("points", {"crs": "EPSG:4326"}, 333),
        ("points-no-ids", {"crs": "EPSG:4326"}, 400),
    ],
)
def test_chunks_give_the_sites_of_the_whole_file(tmp_path, source, kw, size):
    if source in ("points", "points-no-ids"):
        source = random_points(tmp_path / "p.csv", 1000, ids=source == "points")
    whole = load_sites(source, **kw)
    chunks = list(iter_site_chunks(source, chunk_size=size, **kw))
    assert all(len(c) <= size for c in chunks)
    got = sites_of(chunks)
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")),
        pd.DataFrame(whole.gdf.drop(columns="geometry")),
    )
    assert got.geometry.geom_equals_exact(whole.gdf.geometry, 0).all()
    positions = np.concatenate([c.positions for c in chunks])
    assert (positions == whole.input_rows.sites).all()


def test_parquet_chunks_give_the_sites_of_the_same_csv(tmp_path):
    csv = random_points(tmp_path / "p.csv", 900)
    pd.read_csv(csv, dtype=str).assign(
        lon=lambda d: d.lon.astype(float), lat=lambda d: d.lat.astype(float)
    ).to_parquet(tmp_path / "p.parquet", row_group_size=250)
    whole = load_sites(csv, crs="EPSG:4326")
    chunks = list(iter_site_chunks(tmp_path / "p.parquet", chunk_size=200, crs="EPSG:4326"))
    assert count_sites(tmp_path / "p.parquet") == 900
    got = sites_of(chunks)
    assert (got["site_id"].to_numpy() == whole.gdf["site_id"].to_numpy()).all()
    assert got.geometry.geom_equals_exact(whole.gdf.geometry, 0).all()


def test_geoparquet_chunks_keep_the_geometries_and_their_crs(tmp_path):
    whole = load_sites(EXAMPLES / "projects.geojson")
    import geopandas as gpd

    gdf = gpd.read_file(EXAMPLES / "projects.geojson").to_crs(4490)  # CGCS2000, lat-first
    gdf[["id", "name", "geometry"]].to_parquet(tmp_path / "p.parquet")
    got = sites_of(iter_site_chunks(tmp_path / "p.parquet", chunk_size=5))
    assert list(got["site_id"]) == list(whole.gdf["site_id"])
    assert got.geometry.geom_equals_exact(whole.gdf.geometry, 0.01).all()  # 1 cm


def test_a_site_id_repeated_in_a_later_chunk_is_an_error_naming_both_rows(tmp_path):
    path = random_points(tmp_path / "p.csv", 100)
    df = pd.read_csv(path, dtype=str)
    df.loc[87, "id"] = df.loc[3, "id"]
    df.to_csv(path, index=False)
    with pytest.raises(SitesError) as whole:
        load_sites(path, crs="EPSG:4326")
    with pytest.raises(SitesError) as chunked:
        list(iter_site_chunks(path, chunk_size=30, crs="EPSG:4326"))
    dup = df.loc[3, "id"]
    assert f"'{dup}'" in str(whole.value) and f"'{dup}'" in str(chunked.value)
    for text in (str(whole.value), str(chunked.value)):  # header is row 1
        assert "row 5" in text and "row 89" in text, text


def test_a_bad_row_in_a_later_chunk_is_named_by_its_line(tmp_path):
    path = random_points(tmp_path / "p.csv", 100)
    df = pd.read_csv(path, dtype=str)
    df.loc[70, "lat"] = "north"
    df.to_csv(path, index=False)
    with pytest.raises(SitesError) as whole:
        load_sites(path, crs="EPSG:4326")
    with pytest.raises(SitesError) as chunked:
        list(iter_site_chunks(path, chunk_size=30, crs="EPSG:4326"))
    assert str(chunked.value) == str(whole.value)
    assert "row 72" in str(chunked.value)


def test_rows_set_aside_in_chunks_are_those_of_the_whole_file(tmp_path):
    path = random_points(tmp_path / "p.csv", 100)
    df = pd.read_csv(path, dtype=str)
    df.loc[[5, 64, 65], "lon"] = ["x", "", "east"]
    df.loc[90, "industry"] = "ZZZ"
    df.to_csv(path, index=False)
    whole = load_sites(path, crs="EPSG:4326", on_row_error="report")
    chunks = list(iter_site_chunks(path, chunk_size=30, crs="EPSG:4326", on_row_error="report"))
    rejected = pd.concat([c.rejected for c in chunks if c.rejected is not None], ignore_index=True)
    pd.testing.assert_frame_equal(rejected, whole.input_rows.rejected)
    assert list(sites_of(chunks)["site_id"]) == list(whole.gdf["site_id"])


# --------------------------------------------------------------------------- runs in chunks


@pytest.fixture(scope="module")
def examples_whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "out"
    r = screen(str(EXAMPLES / "projects.geojson"), "--format", "parquet", "--out", str(out))
    assert r.exit_code == 0, r.output
    return out


def test_examples_in_chunks_equal_the_whole_run(tmp_path, examples_whole):
    out = tmp_path / "out"
    r = screen(
        str(EXAMPLES / "projects.geojson"),
        "--chunk-size",
        "4",
        "--format",
        "parquet",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    assert "6 chunks of up to 4" in r.output
    assert_same_outputs(out, examples_whole)
    sites = pq.read_table(out / "sites.parquet")
    assert b"geo" in sites.schema.metadata  # GeoParquet, as the whole run's


def points_run(tmp_path: Path, n: int, size: int, *extra: str) -> None:
    csv = random_points(tmp_path / "p.csv", n)
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    common = [str(csv), "--crs", "EPSG:4326", "--format", "parquet", *extra]
    r = screen(*common, "--out", str(whole))
    assert r.exit_code == 0, r.output
    r = screen(*common, "--chunk-size", str(size), "--out", str(chunked))
    assert r.exit_code == 0, r.output
    assert_same_outputs(chunked, whole)
    assert pq.read_metadata(chunked / "sites.parquet").num_rows == n


def test_5000_points_in_chunks_of_700_equal_the_whole_run(tmp_path):
    points_run(tmp_path, 5000, 700)


@pytest.mark.slow
def test_50000_points_in_chunks_of_7000_equal_the_whole_run(tmp_path):
    points_run(tmp_path, 50_000, 7000)


def test_a_run_in_chunks_refuses_other_formats_in_one_line(tmp_path):
    r = screen(
        str(EXAMPLES / "projects.geojson"), "--chunk-size", "5", "--format", "csv", "--out",
        str(tmp_path / "out"),
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--format parquet" in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_failing_chunk_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    import zoning.batch.run as batch_run

    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    r = screen(str(EXAMPLES / "projects.geojson"), "--format", "parquet", "--out", str(out))
    assert r.exit_code == 0, r.output
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    calls = []
    real = batch_run.screen_chunk

    def failing(job, sites, positions):
        calls.append(1)
        if len(calls) == 3:
            raise SitesError("chunk 3 failed on purpose")
        return real(job, sites, positions)

    monkeypatch.setattr(batch_run, "screen_chunk", failing)
    r = screen(
        str(EXAMPLES / "projects.geojson"), "--chunk-size", "4", "--format", "parquet", "--out",
        str(out),
    )  # fmt: skip
    assert r.exit_code == 2 and "failed on purpose" in r.output
    assert len(calls) == 3
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # no temporary left

    fresh = tmp_path / "fresh"
    calls.clear()
    r = screen(
        str(EXAMPLES / "projects.geojson"), "--chunk-size", "4", "--format", "parquet", "--out",
        str(fresh),
    )  # fmt: skip
    assert r.exit_code == 2 and not fresh.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_writes_nothing(tmp_path, sig):
    # 200 chunks, so the run is still going when the signal lands (40 chunks of 2,000 once
    # finished first on a quiet machine, and the test saw exit 0).
    csv = random_points(tmp_path / "p.csv", 200_000)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "zoning", "screen", str(csv), "--crs", "EPSG:4326",
            "--chunk-size", "1000", "--format", "parquet", "--progress", "--out", str(out),
            "--as-of", AS_OF, "--search-radius", "0",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    line = ""
    deadline = time.monotonic() + 600
    while "sites/s" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()  # the first chunk written
        assert line or proc.poll() is None, proc.communicate()
    assert "sites/s" in line and "ETA" in line, line
    assert any(out.glob(".zoning-screen.*"))  # the transaction's temporary folder
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not out.exists()


# VmHWM of the program itself, read as it exits: not ru_maxrss, which also counts the test
# process's memory copied at fork, before exec (4.6 GB late in a whole-suite run).
_MEASURED = (
    "import atexit, runpy, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('MAXRSS_KB', line.split()[1], file=sys.stderr)\n"
    "atexit.register(_hwm)\n"
    "sys.argv = ['zoning', *sys.argv[1:]]\n"
    "runpy.run_module('zoning', run_name='__main__')\n"
)


def peak_rss_mb(csv: Path, out: Path, size: int) -> float:
    """Peak RSS of ``zoning screen`` in a fresh process (its own ``VmHWM``)."""
    r = subprocess.run(
        [
            sys.executable, "-c", _MEASURED, "screen", str(csv), "--crs", "EPSG:4326",
            "--search-radius", "0", "--no-pieces", "--no-rings", "--format", "parquet",
            "--chunk-size", str(size), "--as-of", AS_OF, "--out", str(out),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=3600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stderr.splitlines() if x.startswith("MAXRSS_KB")][-1]
    return int(line.split()[1]) / 1024


@pytest.mark.slow
def test_memory_stays_bounded_as_the_sites_grow(tmp_path):
    """Four times the sites at the same chunk size: the peak does not grow with them (and
    stays under 2 GB).  RSS, not time: reliable on a shared machine."""
    small = random_points(tmp_path / "small.csv", 250_000, ids=False)
    big = random_points(tmp_path / "big.csv", 1_000_000, ids=False)
    a = peak_rss_mb(small, tmp_path / "a", 50_000)
    b = peak_rss_mb(big, tmp_path / "b", 50_000)
    assert b < 2048, (a, b)
    assert b < a * 1.2 + 100, (a, b)  # 4x the sites, not 4x the memory
    assert pq.read_metadata(tmp_path / "b" / "sites.parquet").num_rows == 1_000_000


def test_ids_sharing_a_hash_are_not_duplicates(tmp_path, monkeypatch):
    path = random_points(tmp_path / "p.csv", 100)
    monkeypatch.setattr(pd.util, "hash_array", lambda a, **k: np.zeros(len(a), dtype=np.uint64))
    chunks = list(iter_site_chunks(path, chunk_size=30, crs="EPSG:4326"))
    assert sum(len(c) for c in chunks) == 100
