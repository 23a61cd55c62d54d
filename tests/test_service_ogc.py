"""The OGC API - Processes interface of the service (OGC 18-062r2, Part 1: Core 1.0).

In-process over FastAPI's test client, against the warm demonstration layers (loaded once for
the module).  The oracle of a screening is :func:`zoning.screen` run afresh on the same
GeoJSON written to a file, as ``zoning screen sites.geojson`` would read it; the oracle of the
protocol is the standard's text: the class URIs, the link relations, the exception type, the
JSON Schema dialect of ``schema.yaml``, the ``multipart/related`` body of several raw outputs
(parsed by the standard library's MIME parser).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import httpx
from fastapi.testclient import TestClient

import zoning
from zoning.errors import ZoningError
from zoning.schema import CHOICE_ATTRIBUTES, FLAGS, NATURES
from zoning.service import ServiceState, create_app
from zoning.service.security import Limits

#: Loading and indexing the layers takes seconds, and one test starts a real server.
pytestmark = pytest.mark.slow

CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
EXECUTE_REL = "http://www.opengis.net/def/rel/ogc/1.0/execute"
NO_SUCH_PROCESS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process"
EXECUTION = "/processes/screen/execution"
DAY = "2026-06-01"

#: Three sites: a point in Huangpu, one in Chongming and a small polygon in Pudong, each with its
#: industry in its properties; the nature and the waste water come from the inputs.
SITES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "a", "industry": "C2614"},
            "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
        },
        {
            "type": "Feature",
            "properties": {"id": "b", "industry": "C3011"},
            "geometry": {"type": "Point", "coordinates": [121.55, 31.62]},
        },
        {
            "type": "Feature",
            "properties": {"id": "c", "industry": "I6510"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [121.60, 31.20],
                        [121.61, 31.20],
                        [121.61, 31.21],
                        [121.60, 31.21],
                        [121.60, 31.20],
                    ]
                ],
            },
        },
    ],
}
INPUTS = {"sites": SITES, "nature": "new", "wastewater": True, "as_of": DAY}

#: Keywords of the OpenAPI 3.0 schema object the standard's ``schema.yaml`` allows.
SCHEMA_KEYWORDS = {
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxProperties", "minProperties", "required", "enum", "type", "not", "allOf", "oneOf",
    "anyOf", "items", "properties", "additionalProperties", "description", "format",
    "default", "nullable", "readOnly", "writeOnly", "example", "deprecated",
    "contentMediaType", "contentEncoding", "contentSchema",
}  # fmt: skip


@pytest.fixture(scope="module")
def state():
    return ServiceState.load()


@pytest.fixture(scope="module")
def client(state):
    with TestClient(create_app(state)) as c:
        yield c


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """``zoning screen sites.geojson --nature new --wastewater --as-of DAY``."""
    path = tmp_path_factory.mktemp("ogc") / "sites.geojson"
    path.write_text(json.dumps(SITES), encoding="utf-8")
    attributes = {"nature": "new", "wastewater": True}
    return zoning.screen(str(path), attributes=attributes, as_of=DAY)


@pytest.fixture(scope="module")
def document(client):
    """The results document of an execution of :data:`INPUTS`, both outputs."""
    r = client.post(EXECUTION, json={"inputs": INPUTS, "response": "document"})
    assert r.status_code == 200, r.text
    return r.json()


def _execute(client, inputs, **request):
    return client.post(EXECUTION, json={"inputs": inputs, **request})


def _assert_exception(r, status, type_=None, code=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    if type_:
        assert body["type"] == type_
    if code:
        assert body["code"] == code
    return body


# ------------------------------------------------------------------ discovery


def test_conformance_declares_core_json_and_process_description(client):
    r = client.get("/conformance")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert sorted(r.json()["conformsTo"]) == sorted(
        [CONF + "core", CONF + "json", CONF + "ogc-process-description"]
    )


def test_processes_lists_screen_with_its_description_and_execute_links(client):
    r = client.get("/processes")
    assert r.status_code == 200
    body = r.json()
    assert [p["id"] for p in body["processes"]] == ["screen"]
    assert any(link["rel"] == "self" for link in body["links"])
    summary = body["processes"][0]
    assert summary["version"] and summary["jobControlOptions"] == ["sync-execute"]
    assert summary["outputTransmission"] == ["value"]
    assert "inputs" not in summary
    rels = {link["rel"]: link["href"] for link in summary["links"]}
    assert rels["self"].endswith("/processes/screen")
    assert rels[EXECUTE_REL].endswith("/processes/screen/execution")
    assert client.get(rels["self"]).json()["id"] == "screen"


def test_processes_limit_is_checked(client):
    assert client.get("/processes?limit=1").status_code == 200
    _assert_exception(client.get("/processes?limit=0"), 400, code="InvalidParameterValue")


def test_landing_page_under_ogc_links_resolve_and_stay_under_ogc(client):
    r = client.get("/ogc")
    assert r.status_code == 200
    links = {link["rel"]: link["href"] for link in r.json()["links"]}
    assert {"self", "service-desc", "service-doc"} <= set(links)
    conformance = links["http://www.opengis.net/def/rel/ogc/1.0/conformance"]
    processes = links["http://www.opengis.net/def/rel/ogc/1.0/processes"]
    assert conformance.endswith("/ogc/conformance") and processes.endswith("/ogc/processes")
    for href in links.values():
        assert client.get(href).status_code == 200, href
    listed = client.get(processes).json()["processes"][0]["links"]
    assert all("/ogc/processes/screen" in link["href"] for link in listed)


def test_the_description_of_every_input_is_a_json_schema_of_the_standard_dialect(client):
    r = client.get("/processes/screen")
    assert r.status_code == 200
    description = r.json()
    inputs, outputs = description["inputs"], description["outputs"]
    assert set(inputs) == {
        "sites", "crs", "as_of", "search_radius_m", "industry", "nature",
        *FLAGS, *CHOICE_ATTRIBUTES,
    }  # fmt: skip
    assert set(outputs) == {"screening", "verdict"}

    def walk(schema, where):
        assert isinstance(schema, dict) and schema, where
        assert set(schema) <= SCHEMA_KEYWORDS, (where, set(schema) - SCHEMA_KEYWORDS)
        if "type" in schema:
            assert schema["type"] in ("array", "boolean", "integer", "number", "object", "string")
        for key in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(schema.get(key, ())):
                walk(sub, f"{where}.{key}[{i}]")
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}.items")

    for name, spec in {**inputs, **outputs}.items():
        assert spec["title"] and spec["description"], name
        walk(spec["schema"], name)
    for name, spec in inputs.items():
        assert spec["maxOccurs"] == 1
        assert spec["minOccurs"] == (1 if name == "sites" else 0), name
    assert {s["format"] for s in inputs["sites"]["schema"]["oneOf"]} == {
        "geojson-feature-collection",
        "geojson-feature",
        "geojson-geometry",
    }
    assert inputs["nature"]["schema"]["enum"] == list(NATURES)
    assert all(inputs[f]["schema"] == {"type": "boolean"} for f in FLAGS)


def test_the_description_carries_the_demonstration_notice(client, state):
    assert state.is_demonstration
    for path in ("/processes/screen", "/processes", "/ogc"):
        text = client.get(path).text
        assert "DEMONSTRATION DATA" in text and "演示数据" in text, path
    assert client.get("/processes/screen").json()["demonstration"] is True


def test_openapi_documents_the_routes_once(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/processes/{process_id}/execution" in paths and "/conformance" in paths
    assert not any(p.startswith("/ogc/") for p in paths)


# ------------------------------------------------------------------ execution


def test_execution_gives_the_verdicts_and_reasons_zoning_screen_gives(document, oracle):
    screening = document["screening"]["value"]
    assert document["screening"]["mediaType"] == "application/json"
    expected = oracle.sites.set_index("site_id")
    got = {s["site_id"]: s for s in screening["sites"]}
    assert sorted(got) == ["a", "b", "c"]
    for site_id, row in expected.iterrows():
        assert got[site_id]["verdict"] == row["verdict"], site_id
        assert got[site_id]["industry"] == row["industry"], site_id
    assert [got[k]["industry"] for k in "abc"] == ["C2614", "C3011", "I6510"]

    def reasons(rows):
        return sorted((r["site_id"], r["rule_id"], r["verdict"], r["status"]) for r in rows)

    assert reasons(screening["reasons"]) == reasons(oracle.reasons.to_dict("records"))

    def hits(rows):
        return sorted(
            (r["site_id"], r["layer_id"], str(r["feature_id"]), r["relation"]) for r in rows
        )

    assert hits(screening["hits"]) == hits(oracle.hits.to_dict("records"))
    assert len(screening["clauses"]) == len(oracle.clauses)
    assert screening["provenance"]["as_of"] == DAY


def test_the_verdict_output_is_the_worst_verdict_and_each_sites(document, oracle):
    verdict = document["verdict"]["value"]
    assert verdict["verdict"] == oracle.worst()
    assert verdict["counts"] == oracle.verdict_counts()
    expected = dict(zip(oracle.sites["site_id"], oracle.sites["verdict"], strict=True))
    assert {s["site_id"]: s["verdict"] for s in verdict["sites"]} == expected
    reasons = dict(zip(oracle.sites["site_id"], oracle.sites["reasons_en"], strict=True))
    assert {s["site_id"]: s["reasons_en"] for s in verdict["sites"]} == reasons


def test_results_carry_the_demonstration_notice(document):
    verdict = document["verdict"]["value"]
    assert verdict["demonstration"] is True
    assert "DEMONSTRATION DATA" in verdict["notice"] and "演示数据" in verdict["notice"]
    assert document["screening"]["value"]["provenance"]["demonstration"] is True


def test_raw_with_one_output_is_its_json(client, document):
    r = _execute(client, INPUTS, outputs={"verdict": {"transmissionMode": "value"}})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json()["sites"] == document["verdict"]["value"]["sites"]


def test_raw_with_every_output_is_multipart_related(client, document):
    r = _execute(client, INPUTS)  # no outputs: all of them; response: raw by default
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("multipart/related")
    head = f"Content-Type: {r.headers['content-type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + r.content, policy=email.policy.HTTP)
    parts = {p["Content-ID"].strip("<>"): p for p in message.iter_parts()}
    assert set(parts) == {"screening", "verdict"}
    assert all(p.get_content_type() == "application/json" for p in parts.values())
    verdict = json.loads(parts["verdict"].get_payload(decode=True))
    assert verdict["sites"] == document["verdict"]["value"]["sites"]
    screening = json.loads(parts["screening"].get_payload(decode=True))
    assert [s["verdict"] for s in screening["sites"]] == [
        s["verdict"] for s in document["screening"]["value"]["sites"]
    ]


def test_a_bare_point_and_a_qualified_value_screen_alike(client):
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    ask = {"outputs": {"verdict": {}}, "response": "document"}
    bare = _execute(client, {"sites": point, "as_of": DAY}, **ask)
    qualified = _execute(
        client,
        {"sites": {"value": point, "mediaType": "application/geo+json"}, "as_of": DAY},
        **ask,
    )
    text = _execute(
        client,
        {"sites": {"value": json.dumps(point), "mediaType": "application/geo+json"}, "as_of": DAY},
        **ask,
    )
    assert bare.status_code == qualified.status_code == text.status_code == 200
    oracle = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326", as_of=DAY)
    for r in (bare, qualified, text):
        assert r.json()["verdict"]["value"]["verdict"] == oracle.worst()


def test_prefer_respond_async_is_answered_synchronously(client):
    r = client.post(
        EXECUTION,
        json={"inputs": INPUTS, "outputs": {"verdict": {}}},
        headers={"Prefer": "respond-async"},
    )
    assert r.status_code == 200 and "verdict" in r.json()
    assert "preference-applied" not in r.headers


# ------------------------------------------------------------------ errors


def test_an_unknown_process_is_no_such_process(client):
    for r in (
        client.get("/processes/buffer"),
        client.post("/processes/buffer/execution", json={"inputs": INPUTS}),
    ):
        body = _assert_exception(r, 404, NO_SUCH_PROCESS, "NoSuchProcess")
        assert "buffer" in body["detail"]


def test_bad_input_is_400_with_the_command_lines_one_line(client):
    attributes = {"nature": "greenfield-ish"}
    with pytest.raises(ZoningError) as info:
        zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326", attributes=attributes)
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    r = _execute(client, {"sites": point, **attributes})
    body = _assert_exception(r, 400, "urn:zoning:problem:input", "InvalidParameterValue")
    # the same line, naming the input where the command line names its option
    name, _, line = body["detail"].partition(": ")
    assert name in ("nature", "option nature")
    assert line == " ".join(str(info.value).split()).partition(": ")[2]


def test_lon_lat_under_a_projected_crs_is_the_same_error_as_post_screen(client):
    from zoning.service.payload import parse_screen_body
    from zoning.service.problems import Problem

    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    with pytest.raises(Problem) as info:
        parse_screen_body({"sites": point, "crs": "EPSG:3857"}, max_sites=10)
    r = _execute(client, {"sites": point, "crs": "EPSG:3857"})
    body = _assert_exception(r, 400, code="InvalidParameterValue")
    assert body["detail"] == info.value.detail and "EPSG:3857" in body["detail"]


@pytest.mark.parametrize(
    "request_body, words",
    [
        ({"inputs": {"sites": SITES, "colour": "red"}}, "unknown input 'colour'"),
        ({"inputs": {"sites": {"href": "http://example.org/x.geojson"}}}, "by reference"),
        ({"inputs": {"sites": SITES, "wastewater": "yes"}}, "wastewater: must be a boolean"),
        ({"inputs": {"sites": SITES, "search_radius_m": -5}}, "0 or more"),
        ({"inputs": {"sites": SITES, "nature": ["new", "expansion"]}}, "takes one value"),
        ({"inputs": {"sites": {"type": "Topology"}}}, "GeoJSON"),
        (
            {"inputs": {"sites": {"type": "FeatureCollection", "features": 5}}},
            "'features' array",
        ),
        (
            {"inputs": {"sites": {"type": "FeatureCollection", "features": [SITES, 1]}}},
            "sites: feature 1 is not a GeoJSON Feature (type 'FeatureCollection')",
        ),
        ({"inputs": {"sites": {"type": "Point"}}}, "has no 'coordinates' array"),
        (
            {"inputs": {"sites": {"type": "Feature", "geometry": {}, "properties": None}}},
            "sites: feature 1: the geometry is not a GeoJSON geometry",
        ),
        ({"inputs": {"sites": SITES}, "response": "html"}, "response='html'"),
        ({"inputs": {"sites": SITES}, "outputs": {"map": {}}}, "unknown output 'map'"),
        (
            {"inputs": {"sites": SITES}, "outputs": {"verdict": {"transmissionMode": "reference"}}},
            "transmissionMode 'reference'",
        ),
        (
            {
                "inputs": {"sites": SITES},
                "outputs": {"verdict": {"format": {"mediaType": "text/csv"}}},
            },
            "text/csv",
        ),
    ],
)
def test_requests_that_do_not_fit_the_description_are_400(client, request_body, words):
    body = _assert_exception(client.post(EXECUTION, json=request_body), 400)
    assert words in body["detail"]
    assert body["code"] == "InvalidParameterValue"


def test_missing_sites_and_a_body_that_is_not_an_execute_request(client):
    body = _assert_exception(client.post(EXECUTION, json={"inputs": {"nature": "new"}}), 400)
    assert body["code"] == "MissingParameterValue" and "'sites'" in body["detail"]
    body = _assert_exception(
        client.post(EXECUTION, content=b"{not json", headers={"content-type": "application/json"}),
        400,
    )
    assert "not JSON" in body["detail"]
    nan = b'{"inputs": {"sites": {"type": "Point", "coordinates": [121.5, 31.2]}, "air": NaN}}'
    body = _assert_exception(client.post(EXECUTION, content=nan), 400)
    assert "NaN is not a JSON number" in body["detail"]
    deep = b'{"inputs": {"sites": ' + b"[" * 200_000 + b"]" * 200_000 + b"}}"
    body = _assert_exception(client.post(EXECUTION, content=deep), 400)
    assert "nested too deeply" in body["detail"]


def test_too_many_sites_is_413(state):
    with TestClient(create_app(state, limits=Limits(max_screen_sites=2))) as small:
        body = _assert_exception(small.post(EXECUTION, json={"inputs": INPUTS}), 413)
    assert "3 sites" in body["detail"]


def test_only_json_is_offered(client):
    _assert_exception(client.get("/conformance?f=html"), 400, code="InvalidParameterValue")
    assert client.get("/conformance?f=json").status_code == 200


def test_as_of_is_read_as_the_command_line_reads_it(client):
    r = _execute(client, {"sites": SITES, "as_of": "2026-13-45"})
    body = _assert_exception(r, 400)
    assert "as_of" in body["detail"]
    r = _execute(
        client, {"sites": SITES, "as_of": date(2026, 6, 1).isoformat()}, response="document"
    )
    assert r.status_code == 200


def test_gcj02_coordinates_screen_as_the_command_line_does(client):
    oracle = zoning.screen(points=[(121.47, 31.23)], crs="gcj02", as_of=DAY)
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    r = _execute(client, {"sites": point, "crs": "gcj02", "as_of": DAY}, outputs={"screening": {}})
    assert r.status_code == 200, r.text
    site = r.json()["sites"][0]
    assert site["input_crs"] == "gcj02" and site["verdict"] == oracle.worst()
    assert site["datum_shift_m"] == pytest.approx(oracle.sites["datum_shift_m"].iloc[0])


def test_an_unknown_crs_is_400_not_an_internal_error(client):
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    body = _assert_exception(_execute(client, {"sites": point, "crs": "EPSG:999999"}), 400)
    assert body["detail"].startswith("crs: ") and "EPSG:999999" in body["detail"]


# ------------------------------------------------------------------ a real server


@pytest.fixture(scope="module")
def served():
    """``uvicorn`` serving the service on a free loopback port, in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [
        sys.executable, "-m", "uvicorn", "zoning.service.asgi:app_from_environment",
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=root, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited: {server.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("uvicorn did not answer /health within 180 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_ogc_client_walks_from_the_landing_page_to_a_result_over_http(served, document):
    """Follow the links, as an OGC client does, from ``/ogc`` to an execution's result."""
    with httpx.Client(timeout=60) as http:
        links = {link["rel"]: link["href"] for link in http.get(f"{served}/ogc").json()["links"]}
        conformance = http.get(links["http://www.opengis.net/def/rel/ogc/1.0/conformance"])
        assert CONF + "core" in conformance.json()["conformsTo"]
        listed = http.get(links["http://www.opengis.net/def/rel/ogc/1.0/processes"]).json()
        process_links = {link["rel"]: link["href"] for link in listed["processes"][0]["links"]}
        assert http.get(process_links["self"]).json()["inputs"]["sites"]["minOccurs"] == 1
        r = http.post(
            process_links[EXECUTE_REL],
            json={"inputs": INPUTS, "outputs": {"verdict": {}}, "response": "document"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["verdict"] == document["verdict"]
        missing = http.get(f"{served}/processes/buffer")
        assert missing.status_code == 404 and missing.json()["type"] == NO_SUCH_PROCESS
