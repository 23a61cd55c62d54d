"""``zoning serve`` as a user starts it: a real process on a free loopback port (tests/service.py),
spoken to over HTTP; and its one-line errors (in-process, exit 2).

The screening's oracle is the command line on the same input (``zoning screen --out DIR
--format json``'s ``screening.json``).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from zoning.cli import main

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from service import free_port, running_service  # noqa: E402

POINT = {"point": [121.47, 31.23], "crs": "EPSG:4326", "attributes": {"industry": "C2614"}}
AS_OF = "2026-06-01"


def serve(*args: str):
    return CliRunner().invoke(main, ["serve", *map(str, args)])


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("zoning: error: ")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    return errors[0]


# ------------------------------------------------------------------ one-line errors, exit 2


def test_a_missing_catalog_is_one_line(tmp_path):
    line = one_line_error(serve("--catalog", tmp_path / "nope.yml", "--port", free_port()))
    assert "catalog not found" in line and "nope.yml" in line


def test_a_missing_rule_set_is_one_line(tmp_path):
    line = one_line_error(serve("--rules", tmp_path / "nope.yml", "--port", free_port()))
    assert "rule set not found" in line


def test_a_catalog_whose_layer_is_missing_is_one_line_also_with_workers(tmp_path):
    catalog = tmp_path / "catalog.yml"
    catalog.write_text("layers: [{id: x, kind: red_line, source: missing.gpkg}]\n", "utf-8")
    line = one_line_error(serve("--catalog", catalog, "--workers", "2", "--port", free_port()))
    assert "layer 'x'" in line and "not found" in line


def test_a_port_in_use_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(serve("--port", port))
    assert f"--port {port}: cannot listen there" in line


def test_a_missing_extra_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now fails
    line = one_line_error(serve("--port", free_port()))
    assert "uvicorn" in line and "pip install 'zoning[service]'" in line


# ---------------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def server():
    with running_service() as svc:
        yield svc


@pytest.fixture(scope="module")
def cli_reference(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cli") / "out"
    args = ["screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--industry", "C2614"]
    done = CliRunner().invoke(
        main, [*args, "--as-of", AS_OF, "--out", str(out), "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    return json.loads((out / "screening.json").read_text("utf-8"))


@pytest.mark.slow
def test_health_and_the_load_line(server):
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["demonstration"] is True
    assert "演示数据" in health["notice"]
    assert "layers loaded and indexed in" in server.log()
    assert f"listening on http://127.0.0.1:{server.port}" in server.log()


@pytest.mark.slow
def test_screen_over_http_answers_what_the_cli_writes(server, cli_reference):
    r = httpx.post(f"{server.url}/screen", json={**POINT, "as_of": AS_OF}, timeout=60)
    assert r.status_code == 200, r.text
    data = r.json()
    for key in ("sites", "hits", "reasons", "clauses", "layer_summary", "notes"):
        assert data[key] == cli_reference[key], key


@pytest.mark.slow
def test_docs_and_openapi(server):
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Swagger UI comes from the service itself: /docs works offline.
    assets = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", docs.text)
    assert assets and not [a for a in assets if "//" in a], assets
    for asset in (a for a in assets if a.endswith((".js", ".css"))):
        got = httpx.get(f"{server.url}{asset}")
        assert got.status_code == 200 and len(got.content) > 10_000, asset
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/screen" in spec["paths"] and "post" in spec["paths"]["/screen"]


@pytest.mark.slow
def test_a_problem_from_the_real_server(server):
    r = httpx.post(f"{server.url}/screen", json={"point": [121.47, 31.23]}, timeout=60)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("point: longitude/latitude with no CRS")
    r = httpx.post(f"{server.url}/screen", content=b"{", headers={"content-type": "text/csv"})
    assert r.status_code == 415


@pytest.mark.slow
def test_concurrent_requests_all_answer(server):
    n = 50
    with httpx.Client(timeout=300, limits=httpx.Limits(max_connections=n)) as client:

        def one(i: int):
            body = {**POINT, "as_of": AS_OF, "attributes": {"industry": "C2614", "name": str(i)}}
            return client.post(f"{server.url}/screen", json=body)

        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(one, range(n)))
    assert [r.status_code for r in answers] == [200] * n
    verdicts = {r.json()["sites"][0]["verdict"] for r in answers}
    assert len(verdicts) == 1
    assert sorted(r.json()["sites"][0]["name"] for r in answers) == sorted(map(str, range(n)))


@pytest.mark.slow
def test_sigterm_stops_the_server_cleanly(server):
    """Last of the module's server tests: on SIGTERM the server shuts down gracefully (then
    uvicorn re-raises the signal, so the process ends by it: the parent sees why)."""
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) in (0, -signal.SIGTERM)
    log = server.log()
    assert "Application shutdown complete" in log and "Finished server process" in log
    assert "Traceback" not in log and "Exception in ASGI application" not in log


@pytest.mark.slow
def test_workers(tmp_path):
    with running_service(["--workers", "2"], start_timeout=300) as svc:
        for _ in range(4):
            r = httpx.post(f"{svc.url}/screen", json=POINT, timeout=120)
            assert r.status_code == 200, r.text
    assert svc.returncode in (0, -signal.SIGTERM), svc.log()
    log = svc.log()
    assert "Traceback" not in log
    assert "starting 2 workers" in log
    assert log.count("layers loaded and indexed in") == 2, log
