"""``POST /jobs``: uploads screened in the background, as ``zoning screen FILE --out DIR``.

In-process (FastAPI's TestClient) against the demonstration data loaded once.  The oracle of
a job's results is the command line itself on the same file (``sites.csv`` compared row by
row); hostile uploads (a zip bomb, ``..`` members, a VRT named ``.geojson``, links to remote
sources, an upload over the limit, a wrong extension) each end as one line, nothing left in
the jobs folder.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from shapely.geometry import Point

from hostile import CORPUS, Listener, materialise, zip_bomb
from zoning.cli import main
from zoning.service import ServiceState, create_app
from zoning.service.security import Limits

SITES = Path(__file__).resolve().parent / "data" / "sites"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def state():
    return ServiceState.load()


@pytest.fixture(scope="module")
def client(state):
    app = create_app(state, token="")
    with TestClient(app) as c:
        yield c


@pytest.fixture
def small(state):
    """An application with small limits (and a one-second expiry)."""
    limits = Limits(
        max_upload_bytes=64 * 1024,
        max_job_sites=2,
        max_zip_members=5,
        max_unzipped_bytes=32 * 1024 * 1024,
        job_ttl_seconds=1,
        max_jobs=2,
    )
    app = create_app(state, token="", limits=limits)
    with TestClient(app) as c:
        yield c


def jobs_root(c: TestClient) -> Path:
    return c.app.state.jobs.root


def post(c: TestClient, path: Path, name: str | None = None, headers=None, **fields):
    with path.open("rb") as fh:
        return c.post(
            "/jobs",
            files={"file": (name or path.name, fh, "application/octet-stream")},
            data={k: str(v) for k, v in fields.items()},
            headers=headers or {},
        )


def wait(c: TestClient, job_id: str, headers=None, timeout: float = 120) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        body = c.get(f"/jobs/{job_id}", headers=headers or {}).json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def cli(cwd: Path, *args) -> tuple[int, str]:
    """``zoning screen ARGS`` in-process in ``cwd``: exit code and stderr."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(main, ["screen", *map(str, args)])
    finally:
        os.chdir(old)
    return r.exit_code, r.stderr


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_empty(c: TestClient, timeout: float = 30) -> None:
    root = jobs_root(c)
    t0 = time.time()
    while any(root.iterdir()) and time.time() - t0 < timeout:
        time.sleep(0.1)
    assert root.is_dir() and not any(root.iterdir()), list(root.rglob("*"))


def assert_only_record(c: TestClient, job_id: str) -> None:
    """An ended job keeps only its ``job.json`` (its status and error); DELETE forgets it."""
    root = jobs_root(c)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        job_id,
        f"{job_id}/job.json",
    ]
    assert c.delete(f"/jobs/{job_id}").status_code == 200
    assert c.get(f"/jobs/{job_id}").status_code == 404
    assert_empty(c)


# --------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The same four sites as GeoJSON, CSV, zipped Shapefile, XLSX and GeoPackage."""
    d = tmp_path_factory.mktemp("uploads")
    table = pd.read_csv(SITES / "sites_zh.csv", dtype=str, encoding="utf-8-sig")
    shutil.copyfile(SITES / "sites_zh.csv", d / "sites.csv")
    table.to_excel(d / "sites.xlsx", index=False)
    gdf = gpd.GeoDataFrame(
        {"id": table["编号"], "name": table["项目名称"], "industry": table["行业代码"]},
        geometry=[
            Point(float(x), float(y)) for x, y in zip(table["经度"], table["纬度"], strict=True)
        ],
        crs="EPSG:4326",
    )
    gdf.to_file(d / "sites.geojson", driver="GeoJSON")
    gdf.to_file(d / "sites.gpkg", driver="GPKG", layer="sites")
    shp = d / "shp"
    shp.mkdir()
    gdf.to_file(shp / "sites.shp", encoding="UTF-8")
    with zipfile.ZipFile(d / "sites.zip", "w") as zf:
        for p in sorted(shp.iterdir()):
            zf.write(p, p.name)
    gdf[["name", "geometry"]].to_file(d / "sites.kml", driver="KML")
    plan_dxf(d / "sites.dxf")
    return {p.suffix: p for p in d.iterdir() if p.is_file()}


def plan_dxf(path: Path) -> Path:
    """A CAD site plan: a 100 m red line (EPSG:4549) in the city centre and a road."""
    import ezdxf
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(121.47, 31.23)
    doc = ezdxf.new("R2000")
    doc.layers.add("红线")
    ring = [(x, y), (x + 100, y), (x + 100, y + 100), (x, y + 100)]
    doc.modelspace().add_lwpolyline(ring, close=True, dxfattribs={"layer": "红线"})
    doc.modelspace().add_line((x - 50, y), (x + 150, y), dxfattribs={"layer": "道路"})
    doc.saveas(path)
    return path


# --------------------------------------------------------------------------------- the oracle


@pytest.mark.slow
@pytest.mark.parametrize(
    ("suffix", "fields", "flags"),
    [
        (".geojson", {"nature": "new"}, ["--nature", "new"]),
        (".zip", {"nature": "new"}, ["--nature", "new"]),
        (".csv", {"crs": "EPSG:4326"}, ["--crs", "EPSG:4326"]),
        (
            ".xlsx",
            {"crs": "EPSG:4326", "key_project": "true"},
            ["--crs", "EPSG:4326", "--key-project"],
        ),
        (".gpkg", {"nature": "new", "air": "true"}, ["--nature", "new", "--air"]),
        (".kml", {"industry": "C2614"}, ["--industry", "C2614"]),
        (
            ".dxf",
            {"crs": "EPSG:4549", "industry": "H6210"},
            ["--crs", "EPSG:4549", "--industry", "H6210"],
        ),
    ],
)
def test_job_results_are_the_command_lines(client, files, tmp_path, suffix, fields, flags):
    src = files[suffix]
    r = post(client, src, formats="csv,json", **fields)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/jobs/{job['id']}"
    assert len(job["id"]) >= 22 and job["status"] in ("queued", "running")
    done = wait(client, job["id"])
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0 and done["sites"] == (1 if suffix == ".dxf" else 4)
    assert done["error"] is None
    assert done["created"].endswith("+08:00") and done["finished"].endswith("+08:00")
    if suffix == ".csv":  # the notes zoning screen prints
        assert any(n.startswith("two_high derived from the industry code") for n in done["notes"])
    assert done["demonstration"] is True and "DEMONSTRATION" in done["notice"]
    kept = sorted(p.name for p in (jobs_root(client) / job["id"]).iterdir())
    assert kept == ["job.json", "out"]  # the upload was deleted when the job ended
    listing = client.get(f"/jobs/{job['id']}/results").json()
    names = [f["name"] for f in listing["files"]]
    assert {"sites.csv", "hits.csv", "clauses.csv", "screening.json"} <= set(names)
    got = tmp_path / "got.csv"
    got.write_bytes(client.get(f"/jobs/{job['id']}/results/sites.csv").content)

    shutil.copyfile(src, tmp_path / src.name)
    code, err = cli(tmp_path, src.name, "--out", "cli", "--format", "csv,json", *flags)
    assert code == 0, err
    assert rows(got) == rows(tmp_path / "cli" / "sites.csv")
    assert (tmp_path / "cli" / "hits.csv").read_bytes() == client.get(
        f"/jobs/{job['id']}/results/hits.csv"
    ).content
    # No server path in what the client gets back.
    body = client.get(f"/jobs/{job['id']}/results/screening.json").text
    assert str(jobs_root(client)) not in body and src.name in body
    assert client.delete(f"/jobs/{job['id']}").status_code == 200
    assert client.get(f"/jobs/{job['id']}").status_code == 404


@pytest.mark.slow
def test_default_formats_report_zip_and_names(client, files):
    r = post(client, files[".geojson"], nature="new")
    job = wait(client, r.json()["id"])
    assert job["status"] == "succeeded", job
    names = [f["name"] for f in client.get(f"/jobs/{job['id']}/results").json()["files"]]
    assert {"sites.csv", "screening.gpkg", "screening.json", "report/index.html"} <= set(names)
    one = client.get(f"/jobs/{job['id']}/results/report/index.html")
    assert one.status_code == 200 and "attachment" in one.headers["content-disposition"]
    z = client.get(f"/jobs/{job['id']}/results.zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        assert sorted(zf.namelist()) == sorted(names)
    for bad in ("../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "report", "x.csv"):
        assert client.get(f"/jobs/{job['id']}/results/{bad}").status_code == 404, bad
    client.delete(f"/jobs/{job['id']}")
    assert_empty(client)


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["nul_in_name.geojson", "nocrs.csv"])
def test_failed_job_says_what_the_command_line_says(client, tmp_path, name):
    bad = tmp_path / name
    if name == "nocrs.csv":
        bad.write_text("id,x,y\nA,121.4,31.2\n", encoding="utf-8")
    else:
        shutil.copyfile(CORPUS / name, bad)
    job = wait(client, post(client, bad).json()["id"])
    assert job["status"] == "failed" and job["error"]
    assert job["error"].startswith(name) and "\n" not in job["error"]
    code, err = cli(tmp_path, bad.name, "--out", "cli")
    assert code == 2
    # The same line; the library names an option both ways (crs= / --crs), the CLI as --crs.
    assert err.strip() == f"zoning: error: {job['error']}".replace("crs= / --crs", "--crs")
    assert str(jobs_root(client)) not in job["error"]
    assert_only_record(client, job["id"])


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"formats": "csv,exe"}, "unknown format(s) exe"),
        ({"crs": "EPSG:99999999"}, "crs"),
        ({"as_of": "2026-13-45"}, "as_of"),
        ({"search_radius_m": "-1"}, "search_radius_m"),
        ({"linear": "maybe"}, "linear"),
        ({"on_row_error": "ignore"}, "on_row_error"),
        ({"out_dir": "/etc"}, "unknown form field 'out_dir'"),
    ],
)
def test_bad_fields_are_one_line_problems(client, files, fields, words):
    r = post(client, files[".csv"], **fields)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"] and "\n" not in r.json()["detail"]
    assert_empty(client)


def test_wrong_extension_and_no_file(client, tmp_path):
    exe = tmp_path / "sites.exe"
    exe.write_bytes(b"MZ")
    r = post(client, exe)
    assert r.status_code == 415 and "sites.exe" in r.json()["detail"]
    r = client.post("/jobs", data={"crs": "EPSG:4326"}, files={"x": ("", b"")})
    assert r.status_code in (415, 422)
    r = client.post("/jobs", json={"sites": []})
    assert r.status_code == 415
    assert_empty(client)


def test_client_path_never_reaches_the_filesystem(client, files):
    r = post(client, files[".csv"], name="../../../../tmp/evil/sites.csv", crs="EPSG:4326")
    assert r.status_code == 202
    job = wait(client, r.json()["id"])
    assert job["status"] == "succeeded" and job["file"] == "sites.csv"
    assert not Path("/tmp/evil").exists()
    client.delete(f"/jobs/{job['id']}")
    r = post(client, files[".csv"], name="上海地块.CSV", crs="EPSG:4326", formats="csv")
    assert r.status_code == 202 and r.json()["file"] == "上海地块.CSV"
    assert [p.name for p in jobs_root(client).glob("*/upload/*")] in ([], ["sites.csv"])
    assert wait(client, r.json()["id"])["status"] == "succeeded"
    client.delete(f"/jobs/{r.json()['id']}")
    assert_empty(client)


# --------------------------------------------------------------------------------- hostile


def test_zip_bomb_is_refused_before_reading(small, tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.zip", size=40 << 20)
    assert bomb.stat().st_size < 64 * 1024
    r = post(small, bomb)
    assert r.status_code == 413, r.text
    assert "bomb.zip expands to" in r.json()["detail"]
    assert_empty(small)


def test_zip_with_too_many_members_or_dotdot_or_symlink(small, tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(6):
            zf.writestr(f"f{i}.txt", "x")
    r = post(small, many)
    assert r.status_code == 413 and "6 members" in r.json()["detail"]
    r = post(small, CORPUS / "zip_member_dotdot.zip")
    assert r.status_code == 422 and "'..'" in r.json()["detail"]
    assert "zip_member_dotdot.zip" in r.json()["detail"]
    assert str(jobs_root(small)) not in r.json()["detail"]
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("x.shp")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    r = post(small, link)
    assert r.status_code == 422 and "symbolic link" in r.json()["detail"]
    assert_empty(small)


def test_vrt_and_links_are_refused_without_a_connection(client, tmp_path):
    listener = Listener()
    try:
        corpus = materialise(tmp_path / "corpus", listener.port)
        cases = [
            (corpus / "sites_reads_canary.vrt", "sites.geojson", "VRT"),
            (corpus / "sites_reads_canary.geojson", None, "VRT"),
            (corpus / "vsicurl_source.vrt", "remote.geojson", "VRT"),
            (corpus / "crs_link.geojson", None, "does not follow links"),
            (corpus / "network_link.kml", None, "does not follow links"),
        ]
        for path, name, words in cases:
            r = post(client, path, name=name, crs="EPSG:4326")
            assert r.status_code == 422, (path.name, r.text)
            detail = r.json()["detail"]
            assert words in detail and "CANARY" not in detail, detail
            assert str(jobs_root(client)) not in detail
        # An XML external entity in a KML: the reader refuses it; the job fails in one line.
        r = post(client, corpus / "xxe_reads_canary.kml")
        assert r.status_code == 202, r.text
        job = wait(client, r.json()["id"])
        assert job["status"] == "failed" and job["error"].startswith("xxe_reads_canary.kml")
        assert "CANARY" not in job["error"] and str(jobs_root(client)) not in job["error"]
        client.delete(f"/jobs/{job['id']}")
        # A client file name that is a remote path only gives the extension.
        r = post(
            client, SITES / "leaflet_draw.geojson", name=f"/vsicurl/{listener.url('x.geojson')}"
        )
        assert r.status_code == 202
        job = wait(client, r.json()["id"])
        assert job["status"] == "succeeded" and job["file"] == "x.geojson"
        client.delete(f"/jobs/{job['id']}")
        assert listener.count == 0
    finally:
        listener.close()
    assert_empty(client)


def test_upload_over_the_limit_while_streaming(small):
    """No Content-Length (chunked): the body is counted as it arrives."""
    boundary = "b0undary"

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.csv"\r\n\r\n'
        ).encode()
        for _ in range(100):
            yield b"A,121.4,31.2\n" * 100
        yield f"\r\n--{boundary}--\r\n".encode()

    r = small.post(
        "/jobs",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413 and "65,536 bytes" in r.json()["detail"]
    assert_empty(small)


def test_upload_over_the_limit(small, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("id,lon,lat\n" + "A,121.4,31.2\n" * 10_000, encoding="utf-8")
    r = post(small, big, crs="EPSG:4326")
    assert r.status_code == 413 and "65,536 bytes" in r.json()["detail"]
    assert_empty(small)


def test_too_many_features_fail_the_job_before_reading(state, files, monkeypatch):
    import zoning.service.jobs_run as jobs_run

    def never(*args, **kwargs):
        raise AssertionError("read although counted above the limit")

    monkeypatch.setattr(jobs_run, "_read_sites", never)
    with TestClient(create_app(state, token="", limits=Limits(max_job_sites=2))) as c:
        for suffix in (".geojson", ".gpkg", ".kml"):
            r = post(c, files[suffix])
            assert r.status_code == 202, r.text
            job = wait(c, r.json()["id"])
            assert job["status"] == "failed" and job["sites"] == 4, job
            assert job["error"] == (
                f"sites{suffix}: 4 sites; a job may hold at most 2 (split the file into several "
                "jobs)"
            )
            assert_only_record(c, job["id"])


def test_too_many_sites_fail_the_job(small, files):
    job = wait(small, post(small, files[".csv"], crs="EPSG:4326").json()["id"])
    assert job["status"] == "failed"
    assert (
        job["error"]
        == "sites.csv: 4 sites; a job may hold at most 2 (split the file into several jobs)"
    )
    assert_only_record(small, job["id"])


# --------------------------------------------------------------------------------- lifecycle


def test_expiry_and_max_jobs(small, tmp_path):
    one = tmp_path / "one.geojson"
    one.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[121.47,31.23]}}]}',
        encoding="utf-8",
    )
    first = post(small, one, formats="csv").json()["id"]
    second = post(small, one, formats="csv").json()["id"]
    r = post(small, one, formats="csv")
    assert r.status_code == 429 and r.headers["retry-after"]
    assert "2 jobs are kept" in r.json()["detail"]
    for job_id in (first, second):
        assert wait(small, job_id)["status"] == "succeeded"
    time.sleep(1.2)
    body = small.get(f"/jobs/{first}").json()
    assert body["status"] == "expired"
    assert small.get(f"/jobs/{first}/results").status_code == 410
    assert_empty(small)
    assert post(small, one, formats="csv").status_code == 202


def test_cancel_a_running_job(client, state, files, monkeypatch):
    started = []
    real = type(state).screen

    def slow_screen(self, sites, **options):
        progress = options["progress"]

        def slower(stage, step, total):
            started.append(stage)
            time.sleep(0.05)
            progress(stage, step, total)

        return real(self, sites, **{**options, "progress": slower})

    monkeypatch.setattr(type(state), "screen", slow_screen)
    job_id = post(client, files[".csv"], crs="EPSG:4326").json()["id"]
    t0 = time.time()
    while not started and time.time() - t0 < 30:
        time.sleep(0.02)
    assert client.get(f"/jobs/{job_id}").json()["status"] == "running"
    r = client.delete(f"/jobs/{job_id}")
    assert r.status_code == 200
    body = wait(client, job_id)
    assert body["status"] == "cancelled" and body["error"] is None
    assert client.get(f"/jobs/{job_id}/results").status_code == 410
    assert_only_record(client, job_id)


def test_shutdown_removes_the_jobs_folder(state):
    app = create_app(state, token="")
    with TestClient(app) as c:
        root = jobs_root(c)
        assert root.is_dir() and oct(root.stat().st_mode & 0o777) == "0o700"
    assert not root.exists()


# --------------------------------------------------------------------------------- the token


def test_token_guards_every_job_endpoint(state, files):
    app = create_app(state, token=TOKEN)
    with TestClient(app) as c:
        good = {"Authorization": f"Bearer {TOKEN}"}
        for method, url in [
            ("post", "/jobs"),
            ("get", "/jobs/x"),
            ("get", "/jobs/x/results"),
            ("get", "/jobs/x/results.zip"),
            ("get", "/jobs/x/results/sites.csv"),
            ("delete", "/jobs/x"),
        ]:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                r = getattr(c, method)(url, headers=headers)
                assert r.status_code == 401, (method, url, headers)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["www-authenticate"].startswith("Bearer")
            assert getattr(c, method)(url, headers=good).status_code != 401
        assert post(c, files[".csv"], crs="EPSG:4326").status_code == 401
        assert_empty(c)
        r = post(c, files[".csv"], headers=good, crs="EPSG:4326", formats="csv")
        assert r.status_code == 202
        job = wait(c, r.json()["id"], headers=good)
        assert job["status"] == "succeeded"
        assert c.get(f"/jobs/{job['id']}/results/sites.csv").status_code == 401
        assert c.get(f"/jobs/{job['id']}/results/sites.csv", headers=good).status_code == 200
        assert c.delete(f"/jobs/{job['id']}", headers=good).status_code == 200
        assert_empty(c)


def test_openapi_documents_the_upload(client):
    spec = client.get("/openapi.json").json()
    form = spec["paths"]["/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert {"file", "crs", "industry", "as_of", "formats"} <= set(form["schema"]["properties"])


# --------------------------------------------------------------------------------- workers


def test_worker_processes_sharing_the_folder_answer_for_every_job(
    state, files, tmp_path, monkeypatch
):
    """Two applications on one jobs folder, as the workers of ``zoning serve --workers 2``:
    a job posted to one is seen, downloaded and deleted through the other."""
    from zoning.service.jobs_store import JOBS_DIR_ENV

    shared = tmp_path / "jobs"
    shared.mkdir(mode=0o700)
    monkeypatch.setenv(JOBS_DIR_ENV, str(shared))
    with TestClient(create_app(state, token="")) as a, TestClient(create_app(state, token="")) as b:
        assert jobs_root(a) == jobs_root(b) == shared
        job_id = post(a, files[".csv"], crs="EPSG:4326", formats="csv").json()["id"]
        done = wait(b, job_id)
        assert done["status"] == "succeeded" and done["file"] == "sites.csv"
        assert b.get(f"/jobs/{job_id}/results/sites.csv").status_code == 200
        assert b.delete(f"/jobs/{job_id}").status_code == 200
        assert a.get(f"/jobs/{job_id}").status_code == 404
        assert_empty(a)
    assert shared.is_dir()  # a shared folder belongs to the service, not to one worker


def test_a_job_deleted_through_another_worker_is_cancelled(state, files, tmp_path, monkeypatch):
    from zoning.service.jobs_store import JOBS_DIR_ENV

    started = []
    real = type(state).screen

    def slow_screen(self, sites, **options):
        progress = options["progress"]

        def slower(stage, step, total):
            started.append(stage)
            time.sleep(0.05)
            progress(stage, step, total)

        return real(self, sites, **{**options, "progress": slower})

    monkeypatch.setattr(type(state), "screen", slow_screen)
    shared = tmp_path / "jobs"
    monkeypatch.setenv(JOBS_DIR_ENV, str(shared))
    with TestClient(create_app(state, token="")) as a, TestClient(create_app(state, token="")) as b:
        job_id = post(a, files[".csv"], crs="EPSG:4326").json()["id"]
        t0 = time.time()
        while not started and time.time() - t0 < 30:
            time.sleep(0.02)
        r = b.delete(f"/jobs/{job_id}")
        assert r.status_code == 200 and r.json()["stage"] == "cancelling"
        body = wait(b, job_id)
        assert body["status"] == "cancelled"
        assert_only_record(b, job_id)


def test_a_job_whose_process_died_fails(client):
    """A job left running by a process that is gone fails at the next sweep."""
    import json
    import subprocess
    import sys

    store = client.app.state.jobs
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    job_id = "x" * 24
    folder = jobs_root(client) / job_id
    (folder / "upload").mkdir(parents=True)
    (folder / "job.json").write_text(
        json.dumps({"id": job_id, "status": "running", "stage": "rules", "progress": 0.5,
                    "created": time.time(), "owner": int(gone.stdout), "file": "a.csv"}),
        encoding="utf-8",
    )  # fmt: skip
    body = client.get(f"/jobs/{job_id}").json()
    assert body["status"] == "failed" and body["error"] == "the service stopped"
    assert not (folder / "upload").exists()
    assert store.running == {}
    assert_only_record(client, job_id)


def test_shared_jobs_dir_is_set_for_the_workers_and_removed():
    from zoning.service.jobs_store import JOBS_DIR_ENV, shared_jobs_dir

    assert JOBS_DIR_ENV not in os.environ
    with shared_jobs_dir() as root:
        assert os.environ[JOBS_DIR_ENV] == str(root) and oct(root.stat().st_mode & 0o777) == "0o700"
        (root / "x").mkdir()
    assert not root.exists() and JOBS_DIR_ENV not in os.environ


# --------------------------------------------------------------------------------- real uvicorn


@pytest.mark.slow
def test_jobs_on_a_real_uvicorn_with_two_workers(files, tmp_path):
    """``uvicorn --workers 2`` on a free loopback port, the workers sharing one jobs folder:
    a job posted over HTTP is polled (by whichever worker answers) to its end, downloaded and
    deleted; the folder is empty afterwards."""
    import socket
    import subprocess
    import sys

    import httpx

    from zoning.service.jobs_store import JOBS_DIR_ENV

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    shared = tmp_path / "jobs"
    shared.mkdir(mode=0o700)
    repo = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        JOBS_DIR_ENV: str(shared),
        "ZONING_SERVICE_TOKEN": TOKEN,
        "PYTHONPATH": os.pathsep.join([str(repo), *sys.path]),
    }
    cmd = [sys.executable, "-m", "uvicorn", "zoning.service.asgi:app_from_environment"]
    cmd += ["--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
    try:
        t0 = time.time()
        while time.time() - t0 < 180:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert httpx.post(f"{base}/jobs", files={"file": ("a.csv", b"x")}).status_code == 401
        with files[".csv"].open("rb") as fh:
            r = httpx.post(
                f"{base}/jobs",
                files={"file": ("sites.csv", fh)},
                data={"crs": "EPSG:4326", "formats": "csv"},
                headers=auth,
            )
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        seen = set()
        while time.time() - t0 < 300:
            body = httpx.get(f"{base}/jobs/{job_id}", headers=auth).json()
            seen.add(body["status"])
            if body["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert body["status"] == "succeeded", body
        got = httpx.get(f"{base}/jobs/{job_id}/results/sites.csv", headers=auth)
        assert got.status_code == 200 and got.text.count("\n") == 5
        assert httpx.delete(f"{base}/jobs/{job_id}", headers=auth).status_code == 200
        assert httpx.get(f"{base}/jobs/{job_id}", headers=auth).status_code == 404
        assert not any(shared.iterdir())
    finally:
        proc.terminate()
        proc.wait(timeout=60)
