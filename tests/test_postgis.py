"""PostGIS: catalog layers read from a database, ``zoning layers load``, ``screen --out
postgresql://``, credentials and passwords.

Against a real PostgreSQL + PostGIS cluster started for this module (``tests/pg.py``), logged
into over TCP with a password (scram-sha-256).  The oracle of the database screening is the
same screening against the GeoPackage catalog; feature counts are checked against pyogrio's
reading of the GeoPackage.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pg
import pyogrio
import pytest
import yaml

from conftest import REPO
from zoning.examples import PROJECTS
from zoning.io.postgis import DatabaseTarget, redact, redact_text, without_password

AS_OF = "2026-04-01"
GPKG = REPO / "layers" / "shanghai_demo.gpkg"
CATALOG = REPO / "layers" / "catalog.yml"


# --------------------------------------------------------------------------- no database needed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:pw@h/db?schema=x", "postgres://u:***@h/db?schema=x"),
        ("postgresql://u@h/db?password=pw&sslmode=require", "postgresql://u@h/db?password=***&sslmode=require"),
        ("postgresql:///db?service=gis", "postgresql:///db?service=gis"),
        ("layers/a.gpkg", "layers/a.gpkg"),
    ],
)  # fmt: skip
def test_redact(url, shown):
    assert redact(url) == shown


def test_redact_text_and_without_password():
    text = 'cannot reach postgresql://u:topsecret@h/db (password=topsecret "x")'
    assert "topsecret" not in redact_text(text)
    assert without_password("postgresql://u:topsecret@h:1/db?schema=s&password=x") == (
        "postgresql://u@h:1/db?schema=s"
    )


def test_target_parse():
    t = DatabaseTarget.parse("postgres://u:pw@h:5/db?schema=results&sslmode=disable")
    assert t.schema == "results" and t.conninfo == "postgresql://u:pw@h:5/db?sslmode=disable"
    assert "pw" not in t.shown
    from zoning.errors import DatabaseError

    with pytest.raises(DatabaseError, match="not a plain SQL name"):
        DatabaseTarget.parse("postgresql://u:pw@h/db?schema=a;drop")


def test_catalog_keys_for_database_sources(tmp_path):
    from conftest import write_catalog
    from zoning.catalog import read_catalog
    from zoning.errors import CatalogError

    base = {"id": "rl", "kind": "red_line", "source": "postgresql://u@h/db"}
    with pytest.raises(CatalogError, match="'table': required"):
        read_catalog(write_catalog(tmp_path / "a.yml", [base]))
    bad = {**base, "table": "public.rl", "where": "1=1; DROP TABLE x"}
    with pytest.raises(CatalogError, match="without ';'"):
        read_catalog(write_catalog(tmp_path / "b.yml", [bad]))
    with pytest.raises(CatalogError, match="only for a postgresql"):
        read_catalog(
            write_catalog(tmp_path / "c.yml", [{**base, "source": "a.gpkg", "table": "t"}])
        )


# --------------------------------------------------------------------------- the cluster


@pytest.fixture(scope="module")
def cluster():
    found, what = pg.postgis_available()
    if not found:
        if pg.postgis_required():
            pytest.fail(f"ZONING_REQUIRE_POSTGIS is set but {what}")
        pytest.skip(what)
    with pg.start_cluster() as running:
        yield running


def zoning(*args, env=None, check=None):
    """``python -m zoning ARGS`` in a subprocess (what a user sees), with ``-vv`` logging."""
    proc = subprocess.run(
        [sys.executable, "-m", "zoning", "-vv", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    if check is not None:
        assert proc.returncode == check, proc.stderr[-2000:]
    return proc


def one_line_error(proc, *words):
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("zoning: error:")]
    assert len(errors) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def loaded(cluster, tmp_path_factory):
    """The demonstration catalog loaded into schema ``gis`` (twice: the second is a no-op)."""
    folder = tmp_path_factory.mktemp("pg-load")
    url = cluster.url(query="schema=gis")
    first = zoning("layers", "load", "--into", url, "--write-catalog", folder / "db.yml", check=0)
    again = zoning("layers", "load", "--into", url, check=0)
    return {"url": url, "catalog": folder / "db.yml", "procs": [first, again], "folder": folder}


PGENV = {"PGPASSWORD": pg.PASSWORD}


@pytest.fixture(scope="module")
def screened(cluster, loaded, tmp_path_factory):
    """The bundled examples screened against both catalogs (CSV), and twice into PostGIS."""
    folder = tmp_path_factory.mktemp("pg-screen")
    procs = []
    for name, catalog in (("gpkg", CATALOG), ("db", loaded["catalog"])):
        procs.append(
            zoning("screen", PROJECTS, "--catalog", catalog, "--as-of", AS_OF, "--out",
                   folder / name, "--format", "csv,json", env=PGENV, check=0)
        )  # fmt: skip
    out = cluster.url(query="schema=results")
    for _ in range(2):
        procs.append(
            zoning("screen", PROJECTS, "--catalog", loaded["catalog"], "--as-of", AS_OF,
                   "--out", out, env=PGENV, check=0)
        )  # fmt: skip
    return {"folder": folder, "procs": procs}


def test_load_reports_and_is_idempotent(cluster, loaded):
    first, again = loaded["procs"]
    layers = pyogrio.list_layers(GPKG)
    assert "DEMONSTRATION" in first.stdout
    assert "13 loaded, 0 replaced, 0 unchanged" in first.stdout
    assert "0 loaded, 0 replaced, 13 unchanged" in again.stdout
    rows = cluster.admin(
        "SELECT layer_id, table_name, features, demonstration, source_file, "
        "source_sha256, valid_from, valid_to FROM gis.vintages ORDER BY layer_id"
    ).splitlines()
    assert len(rows) == 13
    # The feature counts as pyogrio reads the GeoPackage (an independent reader).
    expected = {name: pyogrio.read_info(GPKG, layer=name)["features"] for name, _ in layers}
    import hashlib

    sha = hashlib.sha256(GPKG.read_bytes()).hexdigest()
    by_id = {r.split("|")[0]: r.split("|") for r in rows}
    assert by_id["red_line"][2] == str(expected["red_line"])
    assert by_id["yangtze_shoreline"][2] == str(expected["shoreline"])
    assert {r[3] for r in by_id.values()} == {"t"}
    assert {r[4] for r in by_id.values()} == {"shanghai_demo.gpkg"}
    assert {r[5] for r in by_id.values()} == {sha}
    assert by_id["nature_reserves"][7] == "2026-03-14"
    assert by_id["nature_reserves_2026"][6] == "2026-03-15"
    for layer_id, row in by_id.items():
        count = cluster.admin(f'SELECT count(*) FROM gis."{row[1]}"')
        assert count == row[2], layer_id
    gist = cluster.admin(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'gis' AND indexdef ILIKE '%gist%'"
    )
    assert gist == "13"
    written = yaml.safe_load(loaded["catalog"].read_text(encoding="utf-8"))
    assert {e["table"] for e in written["layers"]} == {f"gis.{r[1]}" for r in by_id.values()}


@pytest.mark.slow
def test_postgis_screening_matches_geopackage(screened):
    folder = screened["folder"]
    for name in ("sites.csv", "hits.csv", "clauses.csv"):
        a = pd.read_csv(folder / "gpkg" / name, dtype=str, keep_default_na=False)
        b = pd.read_csv(folder / "db" / name, dtype=str, keep_default_na=False)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0, name
        for col in a.columns:
            x = pd.to_numeric(a[col].replace("", "nan"), errors="coerce").to_numpy()
            y = pd.to_numeric(b[col].replace("", "nan"), errors="coerce").to_numpy()
            numbers = (a[col] != "").any() and not (pd.isna(x) & (a[col] != "")).any()
            if numbers:  # areas, lengths, shares, distances: within 1e-6 relative
                assert (pd.isna(x) == pd.isna(y)).all(), (name, col)
                ok = pd.isna(x) | (abs(x - y) <= 1e-6 * abs(x).clip(min=1.0))
                assert ok.all(), (name, col)
            else:
                assert a[col].tolist() == b[col].tolist(), (name, col)
    sites = pd.read_csv(folder / "db" / "sites.csv", dtype=str)
    assert len(sites) == 21 and sites["verdict"].nunique() > 2


@pytest.mark.slow
def test_out_postgresql_appends_runs_with_keys_and_indexes(cluster, screened):
    wrote = [p.stdout for p in screened["procs"][2:]]
    assert all("Wrote run " in s and "(schema results)" in s for s in wrote)
    runs = cluster.admin(
        "SELECT run_id, created_local, as_of, demonstration, n_sites, n_hits, n_clauses, "
        "rule_set_hash IS NOT NULL, jsonb_typeof(layer_hashes) FROM results.runs"
    ).splitlines()
    assert len(runs) == 2 and runs[0].split("|")[0] != runs[1].split("|")[0]
    for row in runs:
        f = row.split("|")
        assert f[1].endswith("+08:00") and f[2] == AS_OF and f[3] == "t" and f[7] == "t"
        assert f[8] == "object"
    # The same rows as the CSV files of the same screening.
    csv = screened["folder"] / "db"
    n_sites, n_hits, n_clauses = (
        len(pd.read_csv(csv / n)) for n in ("sites.csv", "hits.csv", "clauses.csv")
    )
    assert runs[0].split("|")[4:7] == [str(n_sites), str(n_hits), str(n_clauses)]
    assert cluster.admin("SELECT count(*) FROM results.hits") == str(2 * n_hits)
    # Foreign keys: hits/clauses -> sites(run_id, site_id) -> runs(run_id).
    fks = cluster.admin(
        "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.constraint_column_usage ccu USING (constraint_schema, "
        "constraint_name) WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = "
        "'results' GROUP BY 1, 2 ORDER BY 1"
    ).splitlines()
    assert fks == ["clauses|sites", "codes|runs", "hits|sites", "provenance|runs", "sites|runs"]
    # The words of the sites' codes: the rows of codes.csv, once per run.
    codes = pd.read_csv(csv / "codes.csv", dtype=str)
    assert cluster.admin("SELECT count(*) FROM results.codes") == str(2 * len(codes))
    unknown = cluster.admin(
        "SELECT count(*) FROM results.sites s, unnest(string_to_array(s.reason_codes, ';')) c "
        "WHERE NOT EXISTS (SELECT 1 FROM results.codes k WHERE k.run_id = s.run_id AND "
        "k.code = c)"
    )
    assert unknown == "0"
    gist = cluster.admin(
        "SELECT tablename || '.' || indexname FROM pg_indexes WHERE schemaname = 'results' "
        "AND indexdef ILIKE '%USING gist%' ORDER BY 1"
    ).splitlines()
    assert len(gist) == 4 and {g.split(".")[0] for g in gist} == {"sites", "hits"}
    srids = cluster.admin(
        "SELECT DISTINCT ST_SRID(geom) || ',' || ST_SRID(geom_cgcs2000) FROM results.sites"
    )
    assert srids == "4326,4490"
    # Each site's point (sites.csv lon/lat, computed by the CSV writer) lies on its geometry,
    # in both CRSs (CGCS2000 and WGS84 agree to well under a metre here).
    sites = pd.read_csv(csv / "sites.csv", dtype={"site_id": str})
    run_id = runs[0].split("|")[0]
    for sid, lon, lat in sites[["site_id", "lon", "lat"]].itertuples(index=False):
        near = cluster.admin(
            f"SELECT ST_DWithin(geom::geography, ST_SetSRID(ST_Point({lon}, {lat}), 4326)"
            f"::geography, 1) AND ST_DWithin(ST_Transform(geom_cgcs2000, 4326)::geography, "
            f"ST_SetSRID(ST_Point({lon}, {lat}), 4326)::geography, 1) FROM results.sites "
            f"WHERE run_id = '{run_id}' AND site_id = '{sid}'"
        )
        assert near == "t", sid


@pytest.mark.slow
def test_a_failed_run_writes_nothing(cluster, screened, loaded, monkeypatch):
    from zoning import screen
    from zoning.database import write_screening
    from zoning.errors import DatabaseError
    from zoning.layerset import load_catalog

    monkeypatch.setenv("PGPASSWORD", pg.PASSWORD)
    before = cluster.admin("SELECT count(*) FROM results.sites")
    run_id = cluster.admin("SELECT min(run_id) FROM results.runs")
    result = screen(PROJECTS, layers=load_catalog(loaded["catalog"], as_of=AS_OF), as_of=AS_OF)
    with pytest.raises(DatabaseError) as err:
        write_screening(result, cluster.url(query="schema=results"), run_id=run_id)
    assert pg.PASSWORD not in str(err.value) and "planner:***@" in str(err.value)
    assert cluster.admin("SELECT count(*) FROM results.sites") == before
    assert cluster.admin("SELECT count(*) FROM results.runs") == "2"


def _table(cluster, name, srid, wkts):
    rows = ", ".join(f"({i}, ST_GeomFromText('{w}', {srid}))" for i, w in enumerate(wkts, 1))
    cluster.admin(
        f"DROP TABLE IF EXISTS public.{name}; CREATE TABLE public.{name} (id integer PRIMARY "
        f"KEY, geom geometry); INSERT INTO public.{name} VALUES {rows}; "
        f"GRANT SELECT ON public.{name} TO {pg.ROLE}"
    )


SQUARE = "POLYGON((121.40 31.20, 121.41 31.20, 121.41 31.21, 121.40 31.21, 121.40 31.20))"
BOWTIE = "POLYGON((121.40 31.20, 121.41 31.21, 121.41 31.20, 121.40 31.21, 121.40 31.20))"


def _db_catalog(tmp_path, url, table, **extra):
    from conftest import write_catalog

    entry = {"id": "rl", "kind": "red_line", "source": url, "table": table, **extra}
    return write_catalog(tmp_path / "cat.yml", [entry])


def test_srid_0_is_the_file_error(cluster, tmp_path):
    _table(cluster, "nosrid", 0, [SQUARE])
    proc = zoning(
        "layers", "check", "--catalog", _db_catalog(tmp_path, cluster.url(), "public.nosrid")
    )
    line = one_line_error(proc, "layer 'rl'", "has no CRS and none is declared", "public.nosrid")
    assert pg.PASSWORD not in proc.stderr + proc.stdout and "planner:***@" in line


def test_repair_reported_and_where_and_declared_crs(cluster, tmp_path, monkeypatch):
    from zoning.io import read_layer

    _table(cluster, "bowtie", 4326, [SQUARE, BOWTIE, SQUARE])
    cat = _db_catalog(tmp_path, cluster.url(), "public.bowtie", where="id >= 2")
    from zoning.catalog import read_catalog

    _gdf, report = read_layer(read_catalog(cat).layers[0], tmp_path)
    assert report.features_read == 2 and report.repaired == 1 and report.repaired_ids == ["rl:1"]
    assert report.input_crs == "EPSG:4326" and report.driver == "PostgreSQL/PostGIS"
    assert pg.PASSWORD not in str(report.to_dict()) and len(report.sha256) == 64
    _again, report2 = read_layer(read_catalog(cat).layers[0], tmp_path)
    assert report2.sha256 == report.sha256  # the content hash is stable
    _table(cluster, "nosrid2", 0, [SQUARE])
    declared = _db_catalog(tmp_path, cluster.url(), "public.nosrid2", crs="EPSG:4326")
    _, rep = read_layer(read_catalog(declared).layers[0], tmp_path)
    assert rep.crs_declared and rep.features == 1


def test_unknown_table_names_table_and_redacted_url(cluster, tmp_path):
    proc = zoning(
        "layers", "check", "--catalog", _db_catalog(tmp_path, cluster.url(), "public.nope")
    )
    line = one_line_error(proc, "public.nope", "not found", f"planner:***@127.0.0.1:{cluster.port}")
    assert pg.PASSWORD not in proc.stderr + proc.stdout
    assert "zoning_test" in line


def test_table_names_are_quoted_not_pasted(cluster, tmp_path):
    _table(cluster, "victim", 4326, [SQUARE])
    evil = 'public.x"; DROP TABLE victim; --'
    proc = zoning("layers", "check", "--catalog", _db_catalog(tmp_path, cluster.url(), evil))
    one_line_error(proc, "not found")
    assert cluster.admin("SELECT count(*) FROM public.victim") == "1"


def test_bad_host_is_one_line(cluster, tmp_path):
    closed = pg._free_port()
    url = f"postgresql://{pg.ROLE}:{pg.PASSWORD}@127.0.0.1:{closed}/zoning_test"
    proc = zoning("screen", "--point", "121.45,31.22", "--crs", "EPSG:4326", "--out", url)
    line = one_line_error(proc, "--out", f"127.0.0.1:{closed}")
    assert pg.PASSWORD not in proc.stderr + proc.stdout and "***" in line
    proc = zoning("layers", "load", "--into", url)
    one_line_error(proc, "--into")
    assert pg.PASSWORD not in proc.stderr + proc.stdout
    proc = zoning("layers", "check", "--catalog", _db_catalog(tmp_path, url, "public.x"))
    one_line_error(proc, "layer 'rl'")
    assert pg.PASSWORD not in proc.stderr + proc.stdout


def test_credentials_from_a_service_file_and_pg_variables(cluster, loaded, tmp_path):
    service = tmp_path / "pg_service.conf"
    service.write_text(
        f"[zoningtest]\nhost=127.0.0.1\nport={cluster.port}\ndbname={pg.DATABASE}\n"
        f"user={pg.ROLE}\npassword={pg.PASSWORD}\n"
    )
    cat = _db_catalog(tmp_path, "postgresql://?service=zoningtest", "gis.red_line")
    proc = zoning("layers", "list", "--catalog", cat, env={"PGSERVICEFILE": str(service)}, check=0)
    assert "service=zoningtest" in proc.stdout
    from zoning.catalog import read_catalog
    from zoning.io import read_layer

    entry = read_catalog(cat).layers[0]
    os.environ["PGSERVICEFILE"] = str(service)
    try:
        _, report = read_layer(entry, tmp_path)
    finally:
        del os.environ["PGSERVICEFILE"]
    assert report.features == pyogrio.read_info(GPKG, layer="red_line")["features"]
    # PG* variables: host, port, user and password all from the environment.
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": pg.ROLE, **PGENV}
    cat2 = _db_catalog(tmp_path, f"postgresql:///{pg.DATABASE}", "gis.red_line")
    zoning("layers", "check", "--catalog", cat2, env=env)  # red line alone: checks may fail
    proc = zoning("screen", "--point", "121.45,31.22", "--crs", "EPSG:4326", "--catalog", cat2,
                  env=env)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-2000:]


def test_where_selects_rows(cluster, loaded, tmp_path, monkeypatch):
    """``where:`` as pyogrio's own filter of the GeoPackage selects them (``%`` and quotes
    included), and the hash follows the rows."""
    from zoning.catalog import read_catalog
    from zoning.io import read_layer

    monkeypatch.setenv("PGPASSWORD", pg.PASSWORD)
    url = f"postgresql://{pg.ROLE}@127.0.0.1:{cluster.port}/{pg.DATABASE}"
    cond = "realm = 'land' AND name_zh LIKE '%'"
    expected = pyogrio.read_dataframe(GPKG, layer="red_line", where=cond, read_geometry=False)
    cat = _db_catalog(tmp_path, url, "gis.red_line", where=cond, fields={"id": "rl_id"})
    gdf, report = read_layer(read_catalog(cat).layers[0], tmp_path)
    assert 0 < len(gdf) == len(expected) < pyogrio.read_info(GPKG, layer="red_line")["features"]
    assert sorted(gdf["feature_id"]) == sorted(expected["rl_id"])
    assert any(cond in n for n in report.notes)
    whole = _db_catalog(tmp_path, url, "gis.red_line")
    assert read_layer(read_catalog(whole).layers[0], tmp_path)[1].sha256 != report.sha256


def test_load_refuses_other_files_and_foreign_tables(cluster, square_gpkg, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from conftest import write_catalog

    url = cluster.url(query="schema=t2")
    entry = {"id": "sq", "kind": "red_line", "source": str(square_gpkg), "layer": "square"}
    cat = write_catalog(tmp_path / "sq.yml", [entry])
    assert "1 loaded" in zoning("layers", "load", "--catalog", cat, "--into", url, check=0).stdout
    two = gpd.GeoDataFrame(
        {"fid_": ["A", "B"]}, geometry=[box(121.47, 31.23, 121.48, 31.24)] * 2, crs=4326
    )
    two.to_file(square_gpkg, layer="square", mode="w")
    proc = zoning("layers", "load", "--catalog", cat, "--into", url)
    one_line_error(proc, "layer 'sq' is already loaded from another file", "--replace")
    assert cluster.admin("SELECT count(*) FROM t2.sq") == "1"  # nothing changed
    proc = zoning("layers", "load", "--catalog", cat, "--into", url, "--replace", check=0)
    assert "1 replaced" in proc.stdout and cluster.admin("SELECT count(*) FROM t2.sq") == "2"
    assert cluster.admin("SELECT features FROM t2.vintages WHERE layer_id = 'sq'") == "2"
    # A table of the same name that zoning did not load is never dropped.
    cluster.admin(f"CREATE TABLE t2.mine (x int); INSERT INTO t2.mine VALUES (7); "
                  f"GRANT ALL ON t2.mine TO {pg.ROLE}")  # fmt: skip
    cat2 = write_catalog(tmp_path / "mine.yml", [{**entry, "id": "mine"}])
    proc = zoning("layers", "load", "--catalog", cat2, "--into", url)
    one_line_error(proc, "t2.mine exists and is not a layer zoning loaded")
    assert cluster.admin("SELECT x FROM t2.mine") == "7"


def test_out_leaves_foreign_tables_alone(cluster):
    cluster.admin(f"CREATE SCHEMA theirs AUTHORIZATION {pg.ROLE}; CREATE TABLE theirs.sites "
                  f"(x int); ALTER TABLE theirs.sites OWNER TO {pg.ROLE}")  # fmt: skip
    proc = zoning("screen", "--point", "121.45,31.22", "--crs", "EPSG:4326", "--out",
                  cluster.url(query="schema=theirs"))  # fmt: skip
    one_line_error(proc, "theirs.sites exists and was not made by zoning")
    cols = cluster.admin(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'theirs'"
    )
    assert cols == "1" and pg.PASSWORD not in proc.stderr
    assert cluster.admin("SELECT count(*) FROM pg_tables WHERE schemaname = 'theirs'") == "1"


def test_missing_postgresql_is_a_reason(monkeypatch):
    monkeypatch.setattr(pg, "pg_bindir", lambda: None)
    found, what = pg.postgis_available()
    assert not found and "no PostgreSQL found" in what
    monkeypatch.setenv("ZONING_REQUIRE_POSTGIS", "1")
    assert pg.postgis_required()
    monkeypatch.setenv("ZONING_REQUIRE_POSTGIS", "0")
    assert not pg.postgis_required()


@pytest.mark.slow
def test_official_totals_checked_alike(loaded):
    gpkg = zoning("layers", "check", "--catalog", CATALOG)
    db = zoning("layers", "check", "--catalog", loaded["catalog"], env=PGENV)
    assert gpkg.returncode == db.returncode

    def checks(text):
        return [ln for ln in text.splitlines() if ln.startswith(("PASS", "FAIL", "SKIP"))]

    assert checks(db.stdout) == checks(gpkg.stdout) and any(
        "official" in c.lower() or "km²" in c for c in checks(db.stdout)
    )


@pytest.mark.slow
def test_password_appears_nowhere(cluster, loaded, screened):
    seen = [p.stdout + p.stderr for p in loaded["procs"] + screened["procs"]]
    assert any("planner:***@" in s for s in seen)
    for text in seen:
        assert pg.PASSWORD not in text
    for path in [loaded["catalog"], *screened["folder"].rglob("*")]:
        if path.is_file():
            assert pg.PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
    dump = cluster.dump()
    assert "CREATE TABLE results.runs" in dump and "COPY gis.vintages" in dump
    assert pg.PASSWORD not in dump
