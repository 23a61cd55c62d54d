"""The Parquet tables of a screening: fixed schemas, GeoParquet sites, chunks appended."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

import zoning
from zoning.schema import CODES_OUTPUT_TYPES, HITS_OUTPUT_TYPES, SITES_OUTPUT_TYPES
from zoning.tables import PROVENANCE_KEY, parquet_schemas, parquet_tables, write_parquet


@pytest.fixture(scope="module")
def two_chunks(demo_layers):
    """Two screenings of the same layers: the example projects, and points where one has no
    project attribute at all (all-null attribute columns)."""
    from zoning.examples import PROJECTS

    first = zoning.screen(PROJECTS, demo_layers)
    points = gpd.GeoDataFrame(
        {"site_id": ["p1", "p2"]},
        geometry=[shapely.Point(121.47, 31.23), shapely.Point(121.2, 30.9)],
        crs="EPSG:4326",
    )
    second = zoning.screen(points, demo_layers)
    return first, second


def test_schemas_do_not_depend_on_the_data(two_chunks):
    a, b = (parquet_tables(r) for r in two_chunks)
    fixed = parquet_schemas()
    for name in ("sites", "hits", "clauses", "codes"):
        # the same columns and types, also where one chunk has only nulls
        assert a[name].schema.remove_metadata() == b[name].schema.remove_metadata()
        assert a[name].schema.remove_metadata() == fixed[name].remove_metadata()
    assert a["sites"].column_names == [*SITES_OUTPUT_TYPES, "geometry"]
    assert a["hits"].column_names == list(HITS_OUTPUT_TYPES)
    assert a["codes"].column_names == list(CODES_OUTPUT_TYPES)
    assert a["sites"].schema.field("industry").type == pa.string()
    assert b["sites"].column("industry").null_count == 2
    assert b["sites"].schema.field("linear").type == pa.bool_()


def test_chunks_append_to_one_file(two_chunks, tmp_path):
    a, b = (parquet_tables(r) for r in two_chunks)
    path = tmp_path / "sites.parquet"
    with pq.ParquetWriter(path, a["sites"].schema) as writer:
        writer.write_table(a["sites"])
        writer.write_table(b["sites"])
    read = gpd.read_parquet(path)
    assert list(read["site_id"]) == [*two_chunks[0].sites["site_id"], "p1", "p2"]
    assert read.crs.to_epsg() == 4326
    # the geometry is each site's, in WGS84: the points come back where they were given
    assert read.geometry.iloc[-2].equals_exact(shapely.Point(121.47, 31.23), 1e-7)
    # the codes of both chunks, each once: the words of every code either chunk uses
    from zoning.tables import union_codes

    codes = union_codes([a["codes"], b["codes"]])
    assert codes.column("code").to_pylist() == sorted(
        set(a["codes"].column("code").to_pylist()) | set(b["codes"].column("code").to_pylist()),
        key=lambda c: (c.startswith("conclusion~"), c),
    )
    used = {c for v in read["reason_codes"].dropna() for c in v.split(";")}
    assert used <= set(codes.column("code").to_pylist())
    meta = pq.read_schema(path).metadata
    prov = json.loads(meta[PROVENANCE_KEY])
    assert prov["tool_version"] == zoning.__version__
    assert json.loads(meta[b"geo"])["version"] == "1.1.0"


def test_written_files_match_the_result(two_chunks, tmp_path):
    result = two_chunks[0]
    names = write_parquet(result, tmp_path)
    assert names == {"parquet": ["sites.parquet", "hits.parquet", "clauses.parquet",
                                 "codes.parquet"]}  # fmt: skip
    sites = gpd.read_parquet(tmp_path / "sites.parquet")
    assert list(sites["verdict"]) == list(result.sites["verdict"])
    assert np.allclose(sites["overlap_m2_total"], result.sites["overlap_m2_total"], equal_nan=True)
    hits = pq.read_table(tmp_path / "hits.parquet").to_pandas()
    assert len(hits) == len(result.hits)
    codes = pq.read_table(tmp_path / "codes.parquet").to_pandas().set_index("code")
    # every code of a site is explained once, and its words are the site's reasons
    for en, codes_of in zip(result.sites["reasons_en"], sites["reason_codes"], strict=True):
        if not en:
            assert pd.isna(codes_of)
            continue
        texts = [codes.loc[c, "text_en"] for c in codes_of.split(";")]
        assert all(t in en for t in texts)
    assert codes.index.is_unique


def test_large_run_summary_reads_the_sites_table_only(demo_layers, monkeypatch):
    """Above LARGE_RUN_SITES the console summary lists each site's first reason from the
    sites table, without building the reasons table (millions of rows for a big run)."""
    from zoning.cli.render import console_summary

    monkeypatch.setattr("zoning.screening.outputs.LARGE_RUN_SITES", 3)
    rng = np.random.default_rng(5)
    pts = list(zip(rng.uniform(121.0, 122.0, 300), rng.uniform(30.8, 31.8, 300), strict=True))
    result = zoning.screen(points=pts, crs="EPSG:4326", layers=demo_layers, search_radius_m=0)
    assert not result.is_built("reasons")
    text = console_summary(result, lang="en")
    assert not result.is_built("reasons") and not result.is_built("layer_summary")
    _ = result.reasons  # now built: the summary of a run of any size
    full = console_summary(result, lang="en")
    # the same counts and sites, in the same order
    assert text.split("Most severe")[0] == full.split("Most severe")[0]
    ids = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
    assert ids == [line.split()[0] for line in full.splitlines() if line.startswith("  ")]
    # each listed site's reason is the first of its reasons_en, with its rule's citation
    first = dict(
        zip(
            result.sites["site_id"],
            result.sites["reasons_en"].str.split(" | ", regex=False).str[0],
            strict=True,
        )
    )
    listed = [line for line in text.splitlines() if line.startswith("  ") and "[" in line]
    assert listed
    for line in listed:
        words = first[line.split()[0]].split("): ", 1)[1]
        assert words[:50] in line
