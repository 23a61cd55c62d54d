"""The service's JSON API in-process (FastAPI's TestClient): ``POST /screen``, ``/layers``,
``/rules``, ``/health``, problem details.

The oracle of every screening is the command line: ``zoning screen FILE --out DIR --format json``
on the same input writes ``screening.json``, and ``POST /screen`` must answer the same tables;
an input error must answer the command line's line (options spelt as the body's members).
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoning.cli import main
from zoning.labels import VERDICT_LABELS

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from zoning.service import ServiceState, create_app  # noqa: E402
from zoning.service.security import Limits  # noqa: E402
from zoning.service.serialize import DEMONSTRATION_NOTICE  # noqa: E402

AS_OF = "2026-06-01"

#: Two sites with Chinese attribute names, a feature id on one, as a web map exports them.
SITES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": 7,
            "properties": {"项目名称": "化工厂", "行业代码": "C2614", "建设性质": "新建"},
            "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
        },
        {
            "type": "Feature",
            "id": 9,
            "properties": {"项目名称": "电厂", "行业代码": "4411", "建设性质": "扩建"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [121.50, 31.10],
                        [121.51, 31.10],
                        [121.51, 31.11],
                        [121.50, 31.11],
                        [121.50, 31.10],
                    ]
                ],
            },
        },
    ],
}


@pytest.fixture(scope="module")
def state(demo_layers, demo_rules):
    """The service's state on the session's demonstration layers (indexes built once)."""
    st = ServiceState(layers=demo_layers, rules=demo_rules)
    st.warm()
    return st


@pytest.fixture(scope="module")
def client(state):
    return TestClient(create_app(state), raise_server_exceptions=False)


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def cli_json(tmp_path: Path, *args: str) -> dict:
    """``zoning screen ARGS --out DIR --format json``'s screening.json."""
    out = tmp_path / "cli_out"
    result = cli("screen", *args, "--out", out, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads((out / "screening.json").read_text(encoding="utf-8"))


def cli_error(*args: str) -> str:
    """The one-line error of ``zoning screen ARGS`` (exit 2)."""
    result = cli("screen", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("zoning: error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("zoning: error: ")


#: Provenance members that differ by nature between two runs (times) or inputs (a file and a
#: request body): compared separately.
_RUN_MEMBERS = ("created", "duration_s", "input")


def assert_same_screening(api: dict, ref: dict) -> None:
    """Every table equal; the provenance equal but for the run's time and its input's name."""
    assert api["demonstration"] is True and api["notice"] == DEMONSTRATION_NOTICE
    assert list(api)[2:] == list(ref), "the members of screening.json, in order"
    for key in ("sites", "hits", "layer_summary", "reasons", "clauses", "notes"):
        assert api[key] == ref[key], key
    strip = {k: v for k, v in api["provenance"].items() if k not in _RUN_MEMBERS}
    assert strip == {k: v for k, v in ref["provenance"].items() if k not in _RUN_MEMBERS}
    for key in ("crs", "conversion", "sites", "rejected_rows"):
        assert api["provenance"]["input"].get(key) == ref["provenance"]["input"].get(key), key


def normalise(line: str) -> str:
    """An error line without its option's spelling: the text after the first ``: ``, and
    ``--crs`` / ``crs`` alike."""
    line = line.split(": ", 1)[1] if ": " in line else line
    return re.sub(r"--(?=[a-z])", "", line)


# ------------------------------------------------------------------ POST /screen: the numbers


def test_geojson_sites_answer_what_the_cli_writes(client, tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps(SITES, ensure_ascii=False), encoding="utf-8")
    ref = cli_json(tmp_path, path, "--as-of", AS_OF)
    r = client.post("/screen", json={"sites": SITES, "as_of": AS_OF})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    api = r.json()
    assert_same_screening(api, ref)
    assert [s["site_id"] for s in api["sites"]] == ["7", "9"]  # the features' ids, as the CLI
    assert all(s["verdict_zh"] == VERDICT_LABELS[s["verdict"]][0] for s in api["sites"])
    assert api["provenance"]["input"]["source"] == "sites"
    # A bare FeatureCollection is the same request.
    bare = client.post("/screen?format=json", json=SITES, headers={}).json()
    assert bare["sites"][0]["verdict"] == api["sites"][0]["verdict"]


def test_point_with_attributes_answers_what_the_cli_writes(client, tmp_path):
    ref = cli_json(
        tmp_path,
        "--point", "121.47,31.23", "--crs", "gcj02", "--industry", "C2614", "--nature",
        "new", "--wastewater", "--discharge", "direct", "--as-of", AS_OF,
    )  # fmt: skip
    body = {
        "point": [121.47, 31.23],
        "crs": "gcj02",
        "attributes": {
            "industry": "C2614",
            "nature": "new",
            "wastewater": True,
            "discharge": "direct",
        },
        "as_of": AS_OF,
    }
    r = client.post("/screen", json=body)
    assert r.status_code == 200, r.text
    assert_same_screening(r.json(), ref)
    assert r.json()["provenance"]["options"]["attributes"] == body["attributes"]


@pytest.mark.parametrize(
    "geo",
    [
        {"type": "Point", "coordinates": [121.47, 31.23]},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [0, 0]}},
        {
            "type": "Feature",
            "properties": None,
            "geometry": {"type": "Point", "coordinates": [121.5, 31.1]},
        },
    ],
    ids=["bare-point", "far-away", "feature"],
)
def test_one_point_answers_what_the_cli_writes(client, tmp_path, geo):
    """One bare point takes a shorter road than a file; the answer is the same."""
    path = tmp_path / "point.geojson"
    path.write_text(json.dumps(geo), encoding="utf-8")
    ref = cli_json(tmp_path, path, "--industry", "C2614", "--as-of", AS_OF)
    body = {"sites": geo, "attributes": {"industry": "C2614"}, "as_of": AS_OF}
    r = client.post("/screen", json=body)
    assert r.status_code == 200, r.text
    assert_same_screening(r.json(), ref)


@pytest.mark.parametrize("xy", [[31.23, 121.47], [200, 31]], ids=["swapped", "out-of-range"])
def test_one_bad_point_is_named_as_the_cli_names_the_file(client, tmp_path, xy):
    geo = {"type": "Point", "coordinates": xy}
    path = tmp_path / "point.geojson"
    path.write_text(json.dumps(geo), encoding="utf-8")
    line = cli_error(path)
    r = client.post("/screen", json={"sites": geo})
    assert r.status_code == 422
    assert r.json()["detail"] == line.replace(str(path), "sites")


def test_as_of_picks_the_layers_and_rules_of_the_day(client):
    before = client.post(
        "/screen", json={"point": [121.47, 31.23], "crs": "EPSG:4326", "as_of": "2025-01-01"}
    ).json()
    after = client.post(
        "/screen", json={"point": [121.47, 31.23], "crs": "EPSG:4326", "as_of": AS_OF}
    ).json()
    ids = lambda d: {layer["id"] for layer in d["provenance"]["layers"]}  # noqa: E731
    assert "nature_reserves" in ids(before) and "nature_reserves_2026" not in ids(before)
    assert "nature_reserves_2026" in ids(after) and "nature_reserves" not in ids(after)
    assert before["provenance"]["as_of"] == "2025-01-01"


# ----------------------------------------------------- POST /screen: the command line's errors


@pytest.mark.parametrize(
    ("cli_args", "body"),
    [
        (["--point", "121.47,31.23"], {"point": [121.47, 31.23]}),
        (["--wkt", "POINT (121.47 31.23)"], {"wkt": "POINT (121.47 31.23)"}),
        (
            ["--point", "121.47,31.23", "--crs", "EPSG:4326", "--industry", "X999"],
            {"point": "121.47,31.23", "crs": "EPSG:4326", "attributes": {"industry": "X999"}},
        ),
        (
            ["--point", "31.23,121.47", "--crs", "EPSG:4326"],
            {"point": [31.23, 121.47], "crs": "EPSG:4326"},
        ),
        (
            ["--point", "200,31", "--crs", "EPSG:4326"],
            {"points": [[200, 31]], "crs": "EPSG:4326"},
        ),
        (
            ["--point", "121.47,31.23", "--crs", "EPSG:4326", "--as-of", "2026-13-01"],
            {"point": [121.47, 31.23], "crs": "EPSG:4326", "as_of": "2026-13-01"},
        ),
        (
            ["--point", "121.47,31.23", "--crs", "EPSG:99999"],
            {"point": [121.47, 31.23], "crs": "EPSG:99999"},
        ),
        (
            ["--point", "121.47,31.23", "--crs", "EPSG:4326", "--nature", "maybe"],
            {"point": [121.47, 31.23], "crs": "EPSG:4326", "attributes": {"nature": "maybe"}},
        ),
        (
            ["--point", "121.47,31.23", "--crs", "EPSG:4326", "--as-of", "1990-01-01"],
            {"point": [121.47, 31.23], "crs": "EPSG:4326", "as_of": "1990-01-01"},
        ),
    ],
    ids=[
        "no-crs",
        "wkt-no-crs",
        "industry",
        "swapped",
        "out-of-range",
        "as-of",
        "bad-crs",
        "nature",
        "no-law",
    ],
)
def test_input_errors_are_the_cli_line(client, cli_args, body):
    line = cli_error(*cli_args)
    r = client.post("/screen", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["instance"] == "/screen"
    assert "\n" not in problem["detail"] and "Traceback" not in problem["detail"]
    assert normalise(problem["detail"]) == normalise(line)


def test_a_bad_feature_is_named_as_the_cli_names_it(client, tmp_path):
    bad = json.loads(json.dumps(SITES))
    bad["features"][1]["properties"]["行业代码"] = "Z"
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    line = cli_error(path)
    detail = client.post("/screen", json={"sites": bad}).json()["detail"]
    assert line.startswith(f"{path}, feature 2")
    assert detail == line.replace(str(path), "sites")
    assert tempfile.gettempdir() not in detail  # the service's temporary file is never named


def _feature(**props):
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    return {"sites": {"type": "Feature", "properties": props, "geometry": point}}


def test_a_list_property_reads_as_the_texts_joined(client):
    """A facility list, as a file's column holds it (``outfall;tailings_pond``)."""
    listed = client.post("/screen", json=_feature(facility=["outfall", "tailings_pond"]))
    joined = client.post("/screen", json=_feature(facility="outfall;tailings_pond"))
    assert listed.status_code == joined.status_code == 200, listed.text
    assert listed.json()["sites"] == joined.json()["sites"]
    assert listed.json()["sites"][0]["facility"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([1, 2], "must be a JSON object"),
        ({"point": [121.47, 31.23], "crs": "EPSG:4326", "colour": 1}, "unknown member(s) 'colour'"),
        ({"crs": "EPSG:4326"}, "give the sites as"),
        ({"point": [1, 2], "wkt": "POINT (1 2)", "crs": "EPSG:4326"}, "not point and wkt together"),
        ({"sites": "POINT (1 2)"}, "sites: must be a GeoJSON"),
        ({"sites": {"type": "FeatureCollection", "features": []}}, "no sites"),
        ({"point": [121.47, 31.23], "crs": 4326}, "crs: must be a string"),
        ({"point": [121.47, 31.23], "crs": "EPSG:4326", "as_of": 20260101}, "as_of: 20260101"),
        ({"point": [121.47, 31.23], "crs": "EPSG:4326", "search_radius_m": -1}, "x>=0"),
        ({"point": [121.47, 31.23], "crs": "EPSG:4326", "attributes": []}, "attributes: must"),
        ({"point": [121.47, 31.23], "crs": "EPSG:4326", "attributes": {"colour": "red"}}, "colour"),
        (_feature(industry={"code": "C2614"}), "property 'industry': holds an object"),
        (_feature(facility=[["outfall"]]), "property 'facility': holds nested arrays"),
        ({"sites": {"type": "Feature"}}, "no geometry"),
        (
            {"sites": {"type": "Polygon", "coordinates": [[[121, 31], [121, 32], [122, 31]]]}},
            "sites: cannot read",
        ),
    ],
)
def test_bad_bodies_are_one_line_problems(client, body, words):
    r = client.post("/screen", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"", 400, "empty"),
        (b"{not json", 400, "not JSON"),
        (b'{"point": [NaN, 31]}', 400, "NaN is not a JSON number"),
        (b"\xff\xfe{}", 400, "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nests deeper"),
        (b'{"sites": ' + b'{"a": ' * 60 + b"1" + b"}" * 61, 400, "nests deeper"),
        (b'{"x": 1' + b"0" * 5000 + b"}", 400, "not plain JSON"),
    ],
    ids=["empty", "syntax", "nan", "utf8", "deep-array", "deep-object", "huge-int"],
)
def test_bodies_that_are_not_json_are_400(client, content, status, words):
    r = client.post("/screen", content=content, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]


@pytest.mark.parametrize("media", [None, "text/plain", "multipart/form-data; boundary=x"])
def test_other_media_types_are_415(client, media):
    headers = {"content-type": media} if media else {}
    r = client.post("/screen", content=b'{"point": [121.47, 31.23]}', headers=headers)
    assert r.status_code == 415
    assert r.headers["content-type"] == "application/problem+json"
    assert "application/json" in r.json()["detail"]


def test_geo_json_media_type_is_accepted(client):
    r = client.post(
        "/screen",
        content=json.dumps(SITES["features"][0]),
        headers={"content-type": "application/geo+json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------------------ the limits


@pytest.fixture(scope="module")
def small(state):
    limits = Limits(max_body_bytes=2_000, max_screen_sites=2, max_document_sites=1)
    return TestClient(create_app(state, limits=limits), raise_server_exceptions=False)


def test_body_over_the_limit_is_413(small):
    body = {"point": [121.47, 31.23], "crs": "EPSG:4326", "attributes": {"name": "x" * 3000}}
    r = small.post("/screen", json=body)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["limit"] == 2_000 and "2,000 bytes" in r.json()["detail"]


def test_streamed_body_over_the_limit_is_413(small):
    """No Content-Length (chunked): the limit holds while the body streams."""

    def chunks():
        yield b'{"wkt": "'
        for _ in range(100):
            yield b"x" * 100

    r = small.post("/screen", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        {"sites": {"type": "FeatureCollection", "features": SITES["features"] * 2}},
        {"points": [[121.47, 31.23]] * 3, "crs": "EPSG:4326"},
        {"wkt": ["POINT (121.47 31.23)"] * 3, "crs": "EPSG:4326"},
    ],
    ids=["features", "points", "wkt"],
)
def test_more_sites_than_the_limit_is_413(small, body):
    r = small.post("/screen", json=body)
    assert r.status_code == 413
    assert "at most 2 here" in r.json()["detail"] and "/jobs" in r.json()["detail"]


def test_documents_of_more_sites_than_their_limit_is_413(small):
    body = {"points": [[121.47, 31.23], [121.5, 31.1]], "crs": "EPSG:4326"}
    assert small.post("/screen", json=body).status_code == 200
    r = small.post("/screen?format=xlsx", json=body)
    assert r.status_code == 413 and "at most 1 here" in r.json()["detail"]


def test_documents_wait_for_their_turn_then_503(state):
    limits = Limits(documents_at_once=1, documents_wait_seconds=0.1)
    app = create_app(state, limits=limits)
    with TestClient(app, raise_server_exceptions=False) as busy:
        body = {"point": [121.47, 31.23], "crs": "EPSG:4326"}
        from zoning.service.api import _documents_gate

        gate = busy.portal.call(_documents_gate, app, 1)  # made in the server's event loop
        busy.portal.call(gate.acquire)  # one document being built
        try:
            r = busy.post("/screen?format=xlsx", json=body)
        finally:
            busy.portal.call(gate.release)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert r.headers["content-type"] == "application/problem+json"
        assert busy.post("/screen?format=xlsx", json=body).status_code == 200
        assert busy.post("/screen", json=body).status_code == 200  # JSON never waits


# ----------------------------------------------------------------------------- the documents


def _post_document(client, fmt: str):
    body = {"sites": SITES, "as_of": AS_OF}
    r = client.post(f"/screen?format={fmt}&lang=both", json=body)
    assert r.status_code == 200, r.text[:500]
    return r


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The process's temporary folder, watched: nothing may be left in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "temporary files left behind"


@pytest.mark.slow
def test_pdf(client, private_tmp):
    from pypdf import PdfReader

    r = _post_document(client, "pdf")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="screening.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "化工厂" in text and "电厂" in text
    assert "DEMONSTRATION DATA" in text  # the document says so itself


def test_docx(client, private_tmp):
    import docx

    r = _post_document(client, "docx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert 'filename="screening.docx"' in r.headers["content-disposition"]
    doc = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs) + "".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells
    )
    assert "化工厂" in text and "演示数据" in text


def test_xlsx(client, private_tmp):
    import openpyxl

    r = _post_document(client, "xlsx")
    assert r.headers["content-type"].endswith("spreadsheetml.sheet")
    assert 'filename="screening.xlsx"' in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "化工厂" in cells
    assert any("DEMONSTRATION DATA" in c for c in cells)


@pytest.mark.slow
def test_zip_holds_what_the_cli_writes(client, private_tmp, tmp_path, monkeypatch):
    r = _post_document(client, "zip")
    assert r.headers["content-type"] == "application/zip"
    assert 'filename="screening.zip"' in r.headers["content-disposition"]
    names = set(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
    monkeypatch.undo()  # the CLI writes where it likes
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps(SITES, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "cli"
    fmts = "csv,parquet,gpkg,json,html,pdf,docx,xlsx"
    done = cli("screen", path, "--as-of", AS_OF, "--out", out, "--format", fmts)
    assert done.exit_code == 0, done.output
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == written - {".zoning-screen.json"}
    data = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("screening.json"))
    assert data["sites"] == json.loads((out / "screening.json").read_text("utf-8"))["sites"]


def test_a_missing_documents_extra_is_501_before_screening(client, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fpdf", None)  # import fpdf now fails
    monkeypatch.setattr(ServiceState, "screen", lambda *a, **k: pytest.fail("screened"))
    r = client.post("/screen?format=pdf", json={"point": [121.47, 31.23], "crs": "EPSG:4326"})
    assert r.status_code == 501
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "this feature needs fpdf: pip install 'zoning[documents]'"


def test_unknown_format_is_a_problem(client):
    r = client.post("/screen?format=html", json={"point": [121.47, 31.23], "crs": "EPSG:4326"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("format: ")


def test_no_temporary_file_is_left(client, private_tmp):
    assert client.post("/screen", json=SITES).status_code == 200
    assert client.post("/screen", json={"sites": {"type": "Feature"}}).status_code == 422


# --------------------------------------------------------------- /layers, /rules, /health


def test_layers(client, state):
    data = client.get("/layers").json()
    assert data["demonstration"] is True and data["notice"] == DEMONSTRATION_NOTICE
    layers = {row["id"]: row for row in data["layers"]}
    assert set(layers) == {e.id for e in state.layers.all_catalog.layers}
    old, new = layers["nature_reserves"], layers["nature_reserves_2026"]
    assert (old["valid_to"], new["valid_from"]) == ("2026-03-14", "2026-03-15")
    assert new["in_force"] and not old["in_force"]
    then = {r["id"]: r for r in client.get("/layers?as_of=2025-01-01").json()["layers"]}
    assert then["nature_reserves"]["in_force"] and not then["nature_reserves_2026"]["in_force"]
    assert all(row["demonstration"] and row["status"] == "demonstration" for row in layers.values())
    # The hashes and counts are those a screening records.
    screened = client.post("/screen", json={"point": [121.47, 31.23], "crs": "EPSG:4326"}).json()
    for prov in screened["provenance"]["layers"]:
        assert layers[prov["id"]]["sha256"] == prov["sha256"]
        assert layers[prov["id"]]["features"] == prov["features"]
        assert layers[prov["id"]]["vintage"] == prov["vintage"]
    assert client.get("/layers?as_of=soon").status_code == 422


def test_rules(client, state):
    data = client.get(f"/rules?as_of={AS_OF}").json()
    assert data["demonstration"] is True and data["notice"] == DEMONSTRATION_NOTICE
    assert data["rule_set"]["id"] == state.rules.id
    assert data["rule_set"]["status"] == "demonstration"
    law = state.rules.in_force(AS_OF).law()
    in_force = {r["id"] for r in data["rules"] if r["in_force"]}
    assert in_force == {r["id"] for r in law["rules"]}
    assert {r["id"] for r in data["rules"] if not r["in_force"]} == set(law["not_in_force"])
    assert data["rules_in_force"] == len(in_force)
    docs = {d["id"]: d for d in data["documents"]}
    for doc in law["documents"]:
        assert docs[doc["id"]]["in_force_from"] == doc["in_force_from"]
        assert docs[doc["id"]]["title"]


def test_health(client, state):
    data = client.get("/health").json()
    assert data["status"] == "ok"
    assert data["demonstration"] is True and data["notice"] == DEMONSTRATION_NOTICE
    assert data["layers"] == len(state.layers)
    assert data["limits"]["max_screen_sites"] == Limits().max_screen_sites


# --------------------------------------------------------------------------------- problems


def test_404_and_405_are_problems(client):
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "no such resource: /nowhere"
    r = client.get("/screen")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


def test_an_internal_error_is_500_without_a_traceback(client, state, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret detail /srv/private/path")

    monkeypatch.setattr(ServiceState, "screen", explode)
    r = client.post("/screen", json={"point": [121.47, 31.23], "crs": "EPSG:4326"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["detail"] == "internal error: RuntimeError (logged on the server)"
    assert "secret" not in r.text and "Traceback" not in r.text and "/srv" not in r.text
    assert "secret detail" in caplog.text  # logged on the server


def test_openapi_documents_the_screen_body(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/screen"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"sites", "point", "crs", "attributes", "as_of"} <= set(body["properties"])
    assert "application/pdf" in post["responses"]["200"]["content"]
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert {"/layers", "/rules", "/health"} <= set(spec["paths"])
