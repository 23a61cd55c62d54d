"""zoning.screen and ScreeningResult writers on a hand-made world with known geometry.

Expected areas and distances come from pyproj.Geod on the lon/lat boxes (independent of the
engine's equal-area projection); expected verdicts from reading the hand-written rule set.
The world itself (``make_world``, the site boxes, the geodesic oracles) is in tests/worlds.py;
the ``world`` fixture in tests/conftest.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
import yaml
from shapely.geometry import Point

import zoning
from worlds import (
    EXPECTED,
    FARM,
    GEOD,
    RED,
    REL,
    RULES,
    SITE_OK,
    SITE_P,
    SITE_R,
    SITES,
    geod_area,
    geod_dist,
    make_world,
)


def wkt_of(*names: str) -> list[str]:
    return [SITES[n].wkt for n in names]


def same_shape(a, b) -> bool:
    """Two lon/lat polygons that differ by less than a 1 cm band (1e-7 degree) along b's edge.

    Projecting to the working CRS and back bends densified edges by well under a millimetre.
    """
    return a.symmetric_difference(b).area < b.length * 1e-7


@pytest.fixture(scope="module")
def result(world):
    names = list(SITES)
    gdf = gpd.GeoDataFrame({"id": names}, geometry=[SITES[n] for n in names], crs=4326)
    return zoning.screen(gdf, world.catalog, rules=world.rules)


def row(frame, **eq):
    mask = np.ones(len(frame), dtype=bool)
    for k, v in eq.items():
        mask &= (frame[k] == v).to_numpy()
    assert mask.sum() == 1, (eq, mask.sum())
    return frame[mask].iloc[0]


# ---------------------------------------------------------------------------------------------
# screen(): verdicts, measures, reasons


def test_verdicts_one_per_level(result):
    s = result.sites.set_index("site_id")
    assert s["verdict"].to_dict() == EXPECTED
    # C lies ~286 m from the water source zone, within its 500 m rule distance: a constraint
    assert s["n_constraints"].to_dict() == {"P": 1, "R": 1, "C": 1, "U": 1, "OK": 0}
    assert result.worst() == "prohibited"
    assert result.verdict_counts() == {
        "prohibited": 1,
        "unknown": 1,
        "restricted": 1,
        "conditional": 1,
        "permitted": 1,
    }
    assert not result.is_demonstration


def test_overlap_and_share_agree_with_geodesic(result):
    overlap = geod_area(SITE_P.intersection(RED))
    site_area = geod_area(SITE_P)
    h = row(result.hits, site_id="P", layer_id="red")
    assert h["relation"] == "intersects"
    assert h["overlap_m2"] == pytest.approx(overlap, rel=REL)
    assert h["share_of_site"] == pytest.approx(overlap / site_area, rel=REL)
    assert h["share_of_feature"] == pytest.approx(overlap / geod_area(RED), rel=REL)
    assert h["distance_m"] == 0
    assert h["rule_ids"].split("; ")[0] == "red.construction"
    assert h["verdict"] == "prohibited"
    s = row(result.sites, site_id="P")
    assert s["overlap_m2_total"] == pytest.approx(overlap, rel=REL)
    assert s["area_m2"] == pytest.approx(site_area, rel=REL)
    # the farmland site: half of it, by hand 0.005 x 0.01 deg of a 0.01 x 0.01 deg box
    f = row(result.hits, site_id="R", layer_id="farm")
    assert f["share_of_site"] == pytest.approx(0.5, rel=1e-3)
    assert f["overlap_m2"] == pytest.approx(geod_area(SITE_R.intersection(FARM)), rel=REL)


def test_distance_and_ring_agree_with_geodesic(result):
    # nearest points: the zone's east edge (121.16) and the site's west edge (121.163), at the
    # northern end of the shared latitudes (parallels shorten northwards)
    expected = geod_dist(121.16, 31.035, 121.163, 31.035)
    h = row(result.hits, site_id="C", layer_id="wsz")
    assert h["relation"] == "nearby"
    assert h["distance_m"] == pytest.approx(expected, rel=REL)
    assert h["ring_m"] == 500  # 286 m falls in the 100-500 m band
    assert np.isnan(h["overlap_m2"])
    assert h["rule_ids"] == "water.near" and h["verdict"] == "conditional"
    assert row(result.sites, site_id="C")["nearest_m"] == pytest.approx(expected, rel=REL)
    # nothing within the 1 km search radius of the permitted site
    assert np.isnan(row(result.sites, site_id="OK")["nearest_m"])
    assert set(result.hits.loc[result.hits.site_id == "OK", "layer_id"]) == {"districts"}


def test_reasons_cite_clauses_and_undeclared_attribute_is_unknown(result):
    r = result.reasons
    p = r[(r.site_id == "P") & (r.rule_id == "red.construction")].iloc[0]
    assert (p.verdict, p.status, p.article) == ("prohibited", "applies", "第一条")
    assert p.message_zh == "红线内禁止建设"
    u = r[r.site_id == "U"].iloc[0]
    assert (u.rule_id, u.verdict, u.status) == ("reserve.polluting", "unknown", "needs_attribute")
    assert "wastewater" in u.assumptions


def test_attributes_change_the_verdict(world):
    """A declared attribute decides: wastewater=no clears the reserve, linear=yes softens."""
    clean = zoning.screen(
        wkt=wkt_of("U"),
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
        attributes={"wastewater": False},
    )
    assert clean.sites.loc[0, "verdict"] == "permitted"
    dirty = zoning.screen(
        wkt=wkt_of("U"),
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
        attributes={"wastewater": True},
    )
    assert dirty.sites.loc[0, "verdict"] == "prohibited"
    linear = zoning.screen(
        wkt=wkt_of("P"),
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
        attributes={"linear": True},
    )
    assert linear.sites.loc[0, "verdict"] == "restricted"


def test_hits_is_a_geodataframe_of_overlap_pieces(result, world):
    hits = result.hits
    assert isinstance(hits, gpd.GeoDataFrame) and hits.crs == zoning.WORKING_CRS
    h = row(hits, site_id="P", layer_id="red")
    # the piece is the overlap: its area is the overlap, and in lon/lat it is the hand box
    assert h.geometry.area == pytest.approx(h["overlap_m2"], rel=1e-9)
    piece = gpd.GeoSeries([h.geometry], crs=hits.crs).to_crs(4326).iloc[0]
    expected = SITE_P.intersection(RED)
    assert same_shape(piece, expected)
    # nearby features have no piece
    assert row(hits, site_id="C", layer_id="wsz").geometry is None
    # every piece of result.pieces is on its hit
    assert len(result.pieces) == hits.geometry.notna().sum()
    none = zoning.screen(
        wkt=wkt_of("P"), crs="EPSG:4326", layers=world.catalog, rules=world.rules, pieces=False
    )
    assert none.hits.geometry.isna().all() and len(none.pieces) == 0
    assert none.sites.loc[0, "verdict"] == "prohibited"  # measures do not need pieces
    assert row(none.hits, site_id="1", layer_id="red")["overlap_m2"] == pytest.approx(
        h["overlap_m2"], rel=1e-9
    )


def test_screen_does_not_mutate_its_input(world):
    gdf = gpd.GeoDataFrame(
        {"id": ["P", "R"], "industry": ["C2614", "6210"]},
        geometry=[SITE_P, SITE_R],
        crs=4326,
        index=[10, 20],
    )
    before = gdf.copy()
    zoning.screen(gdf, world.catalog, rules=world.rules)
    pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(before))
    assert gdf.crs == before.crs


def test_missing_layer_file_raises_by_default(tmp_path):
    w = make_world(tmp_path)
    (tmp_path / "F.gpkg").unlink()
    with pytest.raises(zoning.LayerReadError, match="farm"):
        zoning.screen(wkt=wkt_of("R"), crs="EPSG:4326", layers=w.catalog, rules=w.rules)


def test_missing_layer_file_gives_unknown_on_request(tmp_path):
    w = make_world(tmp_path)
    (tmp_path / "F.gpkg").unlink()
    res = zoning.screen(
        wkt=wkt_of("R", "OK"),
        crs="EPSG:4326",
        layers=w.catalog,
        rules=w.rules,
        on_layer_error="unknown",
    )
    # missing data is not "no constraint": both sites are unknown, and the note says why
    assert list(res.sites["verdict"]) == ["unknown", "unknown"]
    assert any("farm failed to load" in n for n in res.notes)
    farm = next(p for p in res.provenance["layers"] if p["id"] == "farm")
    assert farm["load"] == "failed" and "not found" in farm["error"]


def test_kind_missing_from_catalog_gives_unknown(tmp_path):
    w = make_world(tmp_path, drop=("wsz",))
    res = zoning.screen(wkt=wkt_of("C", "OK"), crs="EPSG:4326", layers=w.catalog, rules=w.rules)
    # the rule is conditional, but with no layer to decide it the site cannot be cleared
    assert list(res.sites["verdict"]) == ["unknown", "unknown"]
    assert (res.reasons["status"] == "layer_missing").all()
    assert any("no water_source_zone layer" in n for n in res.notes)


def test_site_outside_coverage_is_unknown_with_a_reason(world):
    """East of the only district: the layers say nothing there (reasons without a rule id)."""
    res = zoning.screen(
        points=["121.25,31.05", "121.115,31.085"],
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
    )
    assert list(res.sites["verdict"]) == ["unknown", "permitted"]
    assert res.sites.loc[0, "n_reasons"] >= 1
    assert "outside_coverage (unknown)" in res.sites.loc[0, "reasons_en"]
    assert res.sites.loc[1, "reasons_en"] == ""
    assert any("outside the layers' coverage" in n for n in res.notes)


def test_search_radius_below_a_rule_distance_is_not_a_pass(world):
    """With a 100 m search, the 500 m rule cannot be decided for a site 286 m away."""
    res = zoning.screen(
        wkt=wkt_of("C"),
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
        search_radius_m=100,
    )
    assert res.sites.loc[0, "verdict"] != "permitted"
    assert any("searched to 100 m, below the 500 m" in n for n in res.notes)
    full = zoning.screen(wkt=wkt_of("C"), crs="EPSG:4326", layers=world.catalog, rules=world.rules)
    assert full.sites.loc[0, "verdict"] == "conditional"


def test_progress_callback_reports_every_stage(world):
    calls = []
    zoning.screen(
        wkt=wkt_of("P"),
        crs="EPSG:4326",
        layers=world.catalog,
        rules=world.rules,
        progress=lambda *a: calls.append(a),
    )
    n = 5  # layers in the catalog
    assert [c[1] for c in calls] == list(range(2 * n + 1))
    assert {c[2] for c in calls} == {2 * n + 1}
    assert calls[0][0] == "load districts" and calls[n][0] == "overlay districts"
    assert calls[-1][0] == "rules"


def test_bad_options(world):
    with pytest.raises(ValueError, match="on_layer_error"):
        zoning.screen(wkt=wkt_of("P"), crs="EPSG:4326", layers=world.catalog, on_layer_error="x")
    with pytest.raises(zoning.ZoningError, match="search radius"):
        zoning.screen(wkt=wkt_of("P"), crs="EPSG:4326", layers=world.catalog, search_radius_m=-1)
    sites = zoning.load_sites(wkt=wkt_of("P"), crs="EPSG:4326")
    with pytest.raises(zoning.ZoningError, match="apply when loading"):
        zoning.screen(sites, world.catalog, crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# Writers


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "nested" / "OUT"
    paths = result.to_file(out)
    return out, paths


def test_to_file_writes_every_output(written):
    out, paths = written
    assert sorted(p.name for p in out.iterdir()) == [
        ".zoning-screen.json",
        "clauses.csv",
        "codes.csv",
        "hits.csv",
        "report",
        "screening.gpkg",
        "screening.json",
        "sites.csv",
    ]
    assert paths == {
        "csv": out / "sites.csv",
        "hits": out / "hits.csv",
        "codes": out / "codes.csv",
        "clauses": out / "clauses.csv",
        "gpkg": out / "screening.gpkg",
        "json": out / "screening.json",
        "html": out / "report" / "index.html",
    }
    assert (out / "report" / "index.html").is_file()
    assert len(list((out / "report" / "sites").glob("*.html"))) == 5


def test_sites_csv(written):
    out, _ = written
    sites = pd.read_csv(out / "sites.csv", dtype={"site_id": str})
    for col in ("site_id", "verdict", "n_constraints", "overlap_m2_total", "nearest_m", "lon"):
        assert col in sites.columns
    s = sites.set_index("site_id")
    assert s["verdict"].to_dict() == EXPECTED
    assert s.loc["P", "n_constraints"] == 1 and s.loc["OK", "n_constraints"] == 0
    assert s.loc["P", "overlap_m2_total"] == pytest.approx(
        geod_area(SITE_P.intersection(RED)), rel=REL
    )
    # lon/lat is a point on the site
    assert SITE_OK.contains(Point(s.loc["OK", "lon"], s.loc["OK", "lat"]))
    assert (s["data_status"] == "authoritative").all()


def test_hits_csv(written):
    out, _ = written
    hits = pd.read_csv(out / "hits.csv", dtype={"site_id": str, "feature_id": str})
    required = [
        "site_id",
        "layer_id",
        "feature_id",
        "overlap_m2",
        "share_of_site",
        "distance_m",
        "rule_ids",
        "verdict",
    ]
    assert all(c in hits.columns for c in required)
    assert "geometry" not in hits.columns
    # one row per site x feature touched or nearby: 5 district rows + P/red, R/farm, C/wsz, U/res
    assert len(hits) == 9
    h = row(hits, site_id="P", layer_id="red")
    assert h["feature_id"] == "R1" and h["name"] == "红线一号"
    assert h["overlap_m2"] == pytest.approx(geod_area(SITE_P.intersection(RED)), rel=REL)
    assert h["verdict"] == "prohibited"
    c = row(hits, site_id="C", layer_id="wsz")
    assert c["distance_m"] == pytest.approx(geod_dist(121.16, 31.035, 121.163, 31.035), rel=REL)
    assert c["rule_ids"] == "water.near" and c["level"] == "level2"


def test_geopackage(written):
    out, _ = written
    gpkg = out / "screening.gpkg"
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == ["codes", "pieces", "rings", "sites"]
    codes = pyogrio.read_dataframe(gpkg, layer="codes")
    assert codes["code"].is_unique and codes["text_en"].notna().all()
    sites = gpd.read_file(gpkg, layer="sites")
    assert sites.crs.to_epsg() == 4326
    assert dict(zip(sites.site_id, sites.verdict, strict=True)) == EXPECTED
    for sid, geom in zip(sites.site_id, sites.geometry, strict=True):
        assert same_shape(geom, SITES[sid])
    pieces = gpd.read_file(gpkg, layer="pieces")
    p = pieces[(pieces.site_id == "P") & (pieces.layer_id == "red")].iloc[0]
    assert geod_area(p.geometry) == pytest.approx(geod_area(SITE_P.intersection(RED)), rel=REL)
    assert p.overlap_m2 == pytest.approx(geod_area(SITE_P.intersection(RED)), rel=REL)
    rings = gpd.read_file(gpkg, layer="rings")
    assert sorted(set(zip(rings.inner_m, rings.outer_m, strict=True))) == [
        (0, 100),
        (100, 500),
        (500, 1000),
    ]
    assert len(rings) == 3 * len(SITES)
    ok = rings[rings.site_id == "OK"]
    # 300 m east of the site's east edge: in the 100-500 m ring only
    lon, lat, _ = GEOD.fwd(121.12, 31.085, 90, 300)
    inside = ok[ok.contains(Point(lon, lat))]
    assert list(zip(inside.inner_m, inside.outer_m, strict=True)) == [(100, 500)]
    # 95 m and 105 m: either side of the 100 m ring boundary
    lon, lat, _ = GEOD.fwd(121.12, 31.085, 90, 95)
    assert list(ok[ok.contains(Point(lon, lat))].outer_m) == [100]
    lon, lat, _ = GEOD.fwd(121.12, 31.085, 90, 105)
    assert list(ok[ok.contains(Point(lon, lat))].outer_m) == [500]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_json_has_everything_and_provenance(written, world):
    out, _ = written

    def no_nan(text):
        raise ValueError(f"non-standard JSON constant {text}")

    data = json.loads((out / "screening.json").read_text("utf-8"), parse_constant=no_nan)
    assert set(data) >= {"provenance", "notes", "sites", "hits", "layer_summary", "reasons"}
    prov = data["provenance"]
    assert prov["tool"] == "zoning" and prov["tool_version"] == zoning.__version__
    # Asia/Shanghai with its offset (issue 13 §5)
    assert prov["created"].endswith("+08:00") and prov["duration_s"] >= 0
    assert prov["catalog"]["sha256"] == sha256(world.catalog)
    assert prov["catalog"]["version"] == "t1"
    by_id = {layer["id"]: layer for layer in prov["layers"]}
    stems = {"districts": "D", "red": "R", "farm": "F", "wsz": "W", "reserve": "N"}
    for layer_id, stem in stems.items():
        assert by_id[layer_id]["sha256"] == sha256(world.folder / f"{stem}.gpkg")
        assert by_id[layer_id]["vintage"] == "2024"
        assert by_id[layer_id]["status"] == "authoritative"
        assert by_id[layer_id]["load"] == "ok"
    rs = prov["rule_set"]
    assert (rs["id"], rs["version"], rs["status"]) == ("test_rules", "1.0", "authoritative")
    assert len(rs["hash"]) == 64 and rs["path"] == str(world.rules.resolve())
    assert prov["working_crs"]["name"] == zoning.WORKING_CRS.name
    assert pyproj.CRS.from_wkt(prov["working_crs"]["wkt"]) == zoning.WORKING_CRS
    assert prov["input"]["crs"] == "EPSG:4326" and prov["input"]["conversion"] is None
    assert prov["input"]["sites"] == 5
    assert prov["demonstration"] is False
    assert prov["search_radius_m"] == 1000
    assert prov["verdicts"]["prohibited"] == 1
    sites = {s["site_id"]: s for s in data["sites"]}
    assert sites["P"]["verdict"] == "prohibited"
    assert same_shape(shapely.from_wkt(sites["P"]["wkt"]), SITE_P)
    assert len(data["hits"]) == 9 and len(data["reasons"]) == 5


def test_json_file_is_to_dict_in_chunks(result, tmp_path):
    """The streamed file holds exactly to_dict(), whatever the chunk size (2 rows here)."""
    result._write_json(tmp_path / "a.json", chunk=2)
    assert json.loads((tmp_path / "a.json").read_text("utf-8")) == result.to_dict()
    empty = zoning.screen(
        points=["121.115,31.085"],
        crs="EPSG:4326",
        layers=result.layers,
        rules=result.rule_set,
    )
    empty._write_json(tmp_path / "b.json", chunk=2)
    data = json.loads((tmp_path / "b.json").read_text("utf-8"))
    assert data["reasons"] == [] and data == empty.to_dict()


def test_json_of_a_huge_run_leaves_out_the_per_layer_and_reason_rows(result, tmp_path, monkeypatch):
    """Above JSON_FULL_TABLES_MAX_SITES sites (5 here instead of 100,000) screening.json keeps
    the sites and hits but not the layer_summary and reasons rows, and says so."""
    monkeypatch.setattr("zoning.tables.frames.JSON_FULL_TABLES_MAX_SITES", 4)
    result._write_json(tmp_path / "big.json", chunk=2)
    data = json.loads((tmp_path / "big.json").read_text("utf-8"))
    full = result.to_dict()
    assert data["omitted"] == ["layer_summary", "reasons"]
    assert data["layer_summary"] == [] and data["reasons"] == []
    assert data["sites"] == full["sites"] and data["hits"] == full["hits"]
    assert len(full["reasons"]) == 5 and len(full["layer_summary"]) > 0
    assert data["notes"][:-1] == full["notes"]
    assert "leaves out the layer_summary and reasons rows for 5 sites" in data["notes"][-1]
    monkeypatch.setattr("zoning.tables.frames.JSON_FULL_TABLES_MAX_SITES", 5)
    result._write_json(tmp_path / "small.json")
    assert json.loads((tmp_path / "small.json").read_text("utf-8")) == full


def test_json_records_gcj02_conversion(world):
    true = (121.0385, 31.03)
    gcj = zoning.wgs84_to_gcj02(*true)
    res = zoning.screen(points=[gcj], crs="gcj02", layers=world.catalog, rules=world.rules)
    prov = res.to_dict()["provenance"]
    assert prov["input"]["crs"] == "gcj02"
    assert prov["input"]["conversion"] == "gcj02 -> WGS84 (zoning.crs)"


def test_rule_set_hash_follows_content(tmp_path, world):
    first = dict(RULES["rules"][0], verdict="restricted")
    path = tmp_path / "r2.yml"
    path.write_text(yaml.safe_dump(dict(RULES, rules=[first, *RULES["rules"][1:]])), "utf-8")
    a = zoning.screen(wkt=wkt_of("R"), crs="EPSG:4326", layers=world.catalog, rules=world.rules)
    b = zoning.screen(wkt=wkt_of("R"), crs="EPSG:4326", layers=world.catalog, rules=path)
    assert a.provenance["rule_set"]["hash"] != b.provenance["rule_set"]["hash"]
    assert a.provenance["rule_set"]["id"] == b.provenance["rule_set"]["id"]


def test_demonstration_data_is_labelled(tmp_path):
    w = make_world(tmp_path, status="demonstration")
    res = zoning.screen(wkt=wkt_of("P"), crs="EPSG:4326", layers=w.catalog, rules=w.rules)
    assert res.is_demonstration and res.provenance["demonstration"] is True
    res.to_file(tmp_path / "out", ["csv", "html"])
    sites = pd.read_csv(tmp_path / "out" / "sites.csv")
    assert (sites["data_status"] == "demonstration").all()
    hits = pd.read_csv(tmp_path / "out" / "hits.csv")
    assert (hits["layer_status"] == "demonstration").all()
    assert "DEMONSTRATION DATA" in (tmp_path / "out" / "report" / "index.html").read_text("utf-8")


# ---------------------------------------------------------------------------------------------
# All-or-nothing writes


def _failing_report(monkeypatch):
    """Make the HTML step fail after it has written part of its output (a full disk)."""
    import zoning.report

    def write_report(result, out_dir, **kwargs):
        (Path(out_dir) / "report").mkdir()
        (Path(out_dir) / "report" / "index.html").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir))

    monkeypatch.setattr(zoning.report, "write_report", write_report)


def test_failed_write_leaves_no_folder_behind(result, tmp_path, monkeypatch):
    _failing_report(monkeypatch)
    out = tmp_path / "a" / "b" / "OUT"
    with pytest.raises(OSError, match="No space"):
        result.to_file(out)
    # not OUT, not the parents this call created, no temporary folder
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_older_outputs(result, tmp_path, monkeypatch):
    out = tmp_path / "OUT"
    result.to_file(out, "csv")
    (out / "mine.txt").write_text("the user's own file")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _failing_report(monkeypatch)
    with pytest.raises(OSError):
        result.to_file(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failed_move_restores_older_outputs(result, tmp_path, monkeypatch):
    """If moving the finished files into place fails half-way, the older run comes back."""
    out = tmp_path / "OUT"
    result.to_file(out, ["csv", "json"])
    (out / "sites.csv").write_text("older sites.csv")  # ours (listed), content changed
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real = zoning.io.outputs.os.replace
    calls = {"n": 0}

    class FailingOs:
        def __getattr__(self, name):
            return getattr(__import__("os"), name)  # the real os module

        @staticmethod
        def replace(src, dst):
            calls["n"] += 1
            # moves 1-4 set the older sites.csv, hits.csv, screening.json and the marker
            # aside, move 5 puts the new sites.csv in place, move 6 (the new hits.csv) fails
            if calls["n"] == 6:
                raise OSError(errno.EIO, "I/O error", str(dst))
            return real(src, dst)

    monkeypatch.setattr(zoning.io.outputs, "os", FailingOs())
    with pytest.raises(OSError, match="I/O error"):
        result.to_file(out, ["csv", "json"])
    monkeypatch.undo()
    assert calls["n"] > 6  # the rollback moved things back
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _marker(out):
    return json.loads((out / ".zoning-screen.json").read_text("utf-8"))["files"]


def test_new_run_replaces_stale_outputs_only(result, tmp_path):
    out = tmp_path / "OUT"
    result.to_file(out)
    listed = _marker(out)
    assert "report/index.html" in listed and "screening.gpkg" in listed
    pages = [f for f in listed if f.startswith("report/sites/")]
    assert len([f for f in pages if f.endswith(".html")]) == 5
    assert len([f for f in pages if f.endswith(".png")]) in (0, 5)  # map figures (matplotlib)
    (out / "mine.txt").write_text("keep me")
    paths = result.to_file(out, "csv")
    # our own report, GeoPackage and JSON of the earlier run are gone (stale next to the new
    # CSV); the user's file stays
    assert sorted(p.name for p in out.iterdir()) == [
        ".zoning-screen.json",
        "clauses.csv",
        "codes.csv",
        "hits.csv",
        "mine.txt",
        "sites.csv",
    ]
    assert (out / "mine.txt").read_text() == "keep me"
    assert set(paths) == {"csv", "hits", "codes", "clauses"}
    assert _marker(out) == ["clauses.csv", "codes.csv", "hits.csv", "sites.csv"]


def test_user_file_inside_report_is_never_deleted(result, tmp_path):
    """Review item 4: mkdir P/report; echo x > P/report/mine.docx; screen --format csv."""
    out = tmp_path / "P"
    (out / "report").mkdir(parents=True)
    (out / "report" / "mine.docx").write_text("x")
    result.to_file(out, "csv")  # the report is not written: the user's folder stays
    assert (out / "report" / "mine.docx").read_text() == "x"
    assert sorted(p.name for p in (out / "report").iterdir()) == ["mine.docx"]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    stamp = (out / "sites.csv").read_bytes()
    with pytest.raises(zoning.ZoningError) as err:
        result.to_file(out, ["csv", "html"])  # the report would replace it: refused
    msg = str(err.value)
    assert "\n" not in msg and str(out / "report" / "mine.docx") in msg
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing written
    assert (out / "sites.csv").read_bytes() == stamp


def test_user_file_added_to_our_report_is_kept_or_refused(result, tmp_path):
    out = tmp_path / "OUT"
    result.to_file(out, ["csv", "html"])
    (out / "report" / "notes.txt").write_text("mine")
    for formats in (["csv", "html"], ["csv"]):  # replaced, or removed as stale: both refused
        with pytest.raises(zoning.ZoningError, match=r"notes\.txt"):
            result.to_file(out, formats)
        assert (out / "report" / "notes.txt").read_text() == "mine"
        assert (out / "report" / "index.html").is_file()


@pytest.mark.parametrize("name", ["sites.csv", "screening.json", "report"])
def test_user_output_named_like_ours_is_refused(result, tmp_path, name):
    out = tmp_path / "OUT"
    out.mkdir()
    (out / "unrelated.txt").write_text("u")
    target = out / name
    if name == "report":
        target.mkdir()
        (target / "index.html").write_text("my own page")
        check = target / "index.html"
    else:
        target.write_text("my own table")
        check = target
    content = check.read_text()
    with pytest.raises(zoning.ZoningError, match="not written by an earlier screening"):
        result.to_file(out, ["csv", "json", "html"])
    assert check.read_text() == content
    assert sorted(p.name for p in out.iterdir()) == sorted(["unrelated.txt", name])
    # a format that does not write that name leaves the user's file alone
    result.to_file(out, "gpkg")
    assert check.read_text() == content and (out / "unrelated.txt").read_text() == "u"
    assert _marker(out) == ["screening.gpkg"]


def test_symlink_named_like_an_output_is_refused(result, tmp_path):
    out = tmp_path / "OUT"
    result.to_file(out, "csv")
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep")
    (out / "sites.csv").unlink()
    (out / "sites.csv").symlink_to(elsewhere)
    with pytest.raises(zoning.ZoningError, match=r"sites\.csv"):
        result.to_file(out, "csv")
    assert elsewhere.read_text() == "keep" and (out / "sites.csv").is_symlink()


def test_unreadable_marker_is_refused(result, tmp_path):
    out = tmp_path / "OUT"
    result.to_file(out, "csv")
    (out / ".zoning-screen.json").write_text("{not json")
    with pytest.raises(zoning.ZoningError, match=r"zoning-screen\.json: cannot read"):
        result.to_file(out, "csv")
    assert (out / "sites.csv").is_file()


def test_rerun_replaces_our_outputs(result, tmp_path):
    out = tmp_path / "OUT"
    result.to_file(out)
    (out / "sites.csv").write_text("edited")
    (out / "report" / "index.html").write_text("edited")
    result.to_file(out)
    assert (out / "sites.csv").read_text("utf-8-sig").startswith("site_id,")
    assert "edited" not in (out / "report" / "index.html").read_text("utf-8")


def test_out_under_a_file_is_an_error(result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError):
        result.to_file(blocker / "OUT")
    assert blocker.read_text() == "x" and sorted(tmp_path.iterdir()) == [blocker]


def test_unknown_format(result, tmp_path):
    with pytest.raises(zoning.ZoningError, match="unknown output format"):
        result.to_file(tmp_path / "OUT", ["csv", "odt"])  # pdf is a format since issue 13
    assert not (tmp_path / "OUT").exists()


def test_html_report_from_screen(written):
    out, _ = written
    index = (out / "report" / "index.html").read_text("utf-8")
    assert "test_rules" in index and "DEMONSTRATION" not in index
    pages = {p.read_text("utf-8") for p in (out / "report" / "sites").glob("*.html")}
    page_p = [t for t in pages if 'id="site-title">P<' in t or ">P ·" in t or ">P</h1>" in t]
    assert len(page_p) == 1
    assert "第一条" in page_p[0] and "红线一号" in page_p[0]
    # P straddles the red line's edge: a boundary-sensitive warning naming the 50 m tolerance
    assert 'id="boundary"' in page_p[0] and "50.0 m" in page_p[0]  # metres to 0.1 m
    assert 'id="next-steps"' in page_p[0] and "Re-site the project" in page_p[0]
    assert 'id="limits"' in page_p[0] and "2024" in page_p[0]  # data vintage


def test_public_api():
    for name in ("screen", "ScreeningResult", "load_sites", "load_rules", "rank_alternatives"):
        assert name in zoning.__all__ and hasattr(zoning, name)
    assert sorted(zoning.__all__) == sorted(set(zoning.__all__))


@pytest.mark.slow
def test_nearest_is_not_taken_from_a_layer_searched_farther():
    """The shoreline is searched to its 3 km ring, the other constraint layers to 1,200 m: a
    site 1.9 km from the shoreline and 1.6 km from a water-source zone must not report the
    shoreline as its nearest constraint (the zone was never searched that far)."""
    res = zoning.screen(
        points=["121.6885066,31.3956815"],
        crs="EPSG:4326",
        attributes={"industry": "C1391", "nature": "new"},
    )
    shore = res.hits[res.hits["kind"] == "shoreline"]
    assert len(shore) == 1 and 1200 < shore["distance_m"].iloc[0] <= 3000  # found, in hits
    # Since rule set 2026.12 rivers are a constraint (长江保护法 art. 49 reads the water layer):
    # the nearest constraint is a river about 800 m away, searched like the zone -- never the
    # shoreline found farther out.
    water = res.hits[res.hits["kind"] == "water"]
    nearest = res.sites.loc[0, "nearest_m"]
    assert nearest == pytest.approx(water["distance_m"].min()) and nearest < 1200
    # An oracle for the claim: plain shapely finds a water-source zone nearer than the shore.
    lay = res.layers["water_source_zones"]
    site = res.sites.geometry.iloc[0]
    d = lay.gdf.geometry.distance(site).min()
    assert 1200 < d < shore["distance_m"].iloc[0]


@pytest.mark.slow
def test_prepare_point_grid_serves_small_screenings():
    """A grid built with prepare_point_grid is used by a screening of a few hundred points
    (which would not build it), with the same answers as the per-layer path."""
    layers = zoning.load_catalog()
    rng = np.random.default_rng(11)
    pts = list(zip(rng.uniform(121.0, 122.0, 400), rng.uniform(30.8, 31.8, 400), strict=True))
    kw = {"crs": "EPSG:4326", "layers": layers, "search_radius_m": 0, "rings": False}
    before = zoning.screen(points=pts, **kw)
    assert not any("_point_grids" in lay.index.__dict__ for lay in layers)
    zoning.screening.prepare_point_grid(layers)
    assert any("_point_grids" in lay.index.__dict__ for lay in layers)
    after = zoning.screen(points=pts, **kw)
    cols = ["site_id", "verdict", "n_constraints", "boundary_sensitive", "reasons_en"]
    pd.testing.assert_frame_equal(pd.DataFrame(before.sites[cols]), pd.DataFrame(after.sites[cols]))
    key = ["site", "layer_id", "feature_id", "relation", "boundary_sensitive"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(before.hits[key]).reset_index(drop=True),
        pd.DataFrame(after.hits[key]).reset_index(drop=True),
    )
