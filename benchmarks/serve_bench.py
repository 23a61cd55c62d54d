"""Latency and throughput of ``zoning serve``, measured with concurrent HTTP clients.

Starts a real ``zoning serve`` process on a free loopback port (a fresh process: the time to
read and index the layers is reported too), then measures:

1. one-site ``POST /screen`` requests, one client after another (closed loop): p50 / p99;
2. the same with ``--clients`` clients at once: p50 / p99 and requests per second;
3. a burst of ``--burst`` requests sent at once: every one must answer 200;
4. a job of ``--job-sites`` points uploaded as CSV to ``POST /jobs``, polled to the end;
5. the peer a planner has without the service: ``zoning screen --point ... --format csv`` as a
   fresh process, for the ratio.

Every request screens a different point inside Shanghai (fixed seed), with an industry code.
The exit status is 1 when any request fails or the targets of issue 14 are missed
(p50 <= 50 ms, p99 <= 200 ms for one-site requests; the burst without an error).

Run: ``.venv/bin/python benchmarks/serve_bench.py [--workers 1] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: A box well inside Shanghai's land (WGS84), where the demonstration layers have data.
BOX = (121.10, 30.90, 121.80, 31.40)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, token: str | None) -> tuple[subprocess.Popen, int, float]:
    """Start ``zoning serve``; return the process, its port and seconds until /health answered."""
    port = free_port()
    env = dict(os.environ)
    if token:
        env["ZONING_SERVICE_TOKEN"] = token
    cmd = [sys.executable, "-m", "zoning", "serve", "--port", str(port), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while time.perf_counter() - t0 < 300:
        if proc.poll() is not None:
            sys.exit(f"zoning serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            status, _ = request(port, "GET", "/health")
            if status == 200:
                return proc, port, time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("zoning serve did not answer /health within 300 s")


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def site_bodies(n: int, seed: int = 14) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lon = rng.uniform(BOX[0], BOX[2])
        lat = rng.uniform(BOX[1], BOX[3])
        body = {
            "sites": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "attributes": {"industry": "C2614", "nature": "new"},
        }
        out.append(json.dumps(body).encode())
    return out


class Client(threading.Thread):
    """A closed-loop client on one keep-alive connection."""

    def __init__(self, port, bodies, start_event):
        super().__init__(daemon=True)
        self.port, self.bodies, self.start_event = port, bodies, start_event
        self.latencies, self.errors = [], []

    def run(self):
        self.start_event.wait()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for body in self.bodies:
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/screen", body=body, headers=_JSON)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    self.errors.append(f"{resp.status} {data[:200]!r}")
            except OSError as exc:
                self.errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.latencies.append(time.perf_counter() - t0)
        conn.close()


_JSON = {"Content-Type": "application/json"}


def run_clients(port, bodies, n_clients):
    per = [bodies[i::n_clients] for i in range(n_clients)]
    go = threading.Event()
    clients = [Client(port, part, go) for part in per]
    for c in clients:
        c.start()
    t0 = time.perf_counter()
    go.set()
    for c in clients:
        c.join()
    wall = time.perf_counter() - t0
    lat = sorted(x for c in clients for x in c.latencies)
    errors = [e for c in clients for e in c.errors]
    return {
        "clients": n_clients,
        "requests": len(lat),
        "errors": len(errors),
        "first_errors": errors[:3],
        "p50_ms": 1000 * percentile(lat, 50),
        "p99_ms": 1000 * percentile(lat, 99),
        "max_ms": 1000 * lat[-1],
        "wall_s": wall,
        "requests_per_s": len(lat) / wall,
    }


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def run_job(port, n_sites, token):
    """Upload a CSV of ``n_sites`` points to /jobs and poll it to the end."""
    rng = random.Random(15)
    rows = ["id,lon,lat,industry,nature"]
    for i in range(n_sites):
        lon, lat = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
        rows.append(f"P{i},{lon:.6f},{lat:.6f},C2614,new")
    data = ("\n".join(rows) + "\n").encode()
    boundary = "zoningbench" + str(rng.random())[2:]
    fields = {"crs": "EPSG:4326", "formats": "csv"}
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="sites.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    t0 = time.perf_counter()
    status, body = request(port, "POST", "/jobs", b"".join(parts), headers)
    if status not in (200, 201, 202):
        return {"sites": n_sites, "error": f"POST /jobs: {status} {body[:300]!r}"}
    job = json.loads(body)
    job_id = job.get("id") or job.get("job_id")
    uploaded = time.perf_counter() - t0
    state = {}
    while time.perf_counter() - t0 < 3600:
        status, body = request(port, "GET", f"/jobs/{job_id}", headers=headers)
        state = json.loads(body)
        if state.get("status") in ("succeeded", "failed", "cancelled", "expired"):
            break
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    return {
        "sites": n_sites,
        "upload_mb": len(data) / 1e6,
        "upload_s": uploaded,
        "status": state.get("status"),
        "error": state.get("error"),
        "wall_s": wall,
        "sites_per_s": n_sites / wall,
    }


def cli_one_site() -> float:
    """Wall time of ``zoning screen --point ... --format csv --out DIR`` as a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "zoning", "screen", "--point", "121.47,31.23",
            "--crs", "EPSG:4326", "--industry", "C2614", "--nature", "new",
            "--format", "csv", "--out", str(Path(tmp) / "out"),
        ]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1, help="zoning serve --workers")
    ap.add_argument("--requests", type=int, default=500, help="one-site requests per phase")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients in phase 2")
    ap.add_argument("--burst", type=int, default=200, help="requests sent at once in phase 3")
    ap.add_argument("--job-sites", type=int, default=100_000, help="sites of the job (0: none)")
    ap.add_argument("--json", type=Path, default=None, help="write every number here")
    args = ap.parse_args(argv)

    token = "bench-" + str(random.random())[2:]
    proc, port, ready = start_server(args.workers, token)
    results = {"workers": args.workers, "cores": os.cpu_count(), "server_ready_s": ready}
    try:
        bodies = site_bodies(args.requests + args.burst + 20)
        run_clients(port, bodies[:20], 1)  # warm the connection path
        results["sequential"] = run_clients(port, bodies[20 : 20 + args.requests], 1)
        results["concurrent"] = run_clients(port, bodies[20 : 20 + args.requests], args.clients)
        results["burst"] = run_clients(port, bodies[-args.burst :], args.burst)
        if args.job_sites:
            results["job"] = run_job(port, args.job_sites, token)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    results["cli_one_site_s"] = statistics.median(cli_one_site() for _ in range(3))
    seq = results["sequential"]
    results["ratio_cli_to_service_p50"] = results["cli_one_site_s"] / (seq["p50_ms"] / 1000)

    print(
        f"zoning serve --workers {args.workers} on {os.cpu_count()} cores; ready in {ready:.1f} s"
    )
    print("| phase | clients | requests | errors | p50 ms | p99 ms | max ms | req/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("sequential", "concurrent", "burst"):
        r = results[name]
        print(
            f"| {name} | {r['clients']} | {r['requests']} | {r['errors']} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['requests_per_s']:.1f} |"
        )
    if "job" in results:
        j = results["job"]
        print(f"job: {j}")
    print(
        f"CLI one site (fresh process, median of 3): {results['cli_one_site_s']:.2f} s = "
        f"{results['ratio_cli_to_service_p50']:.0f}x the service's p50"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = (
        seq["errors"] == 0
        and results["concurrent"]["errors"] == 0
        and results["burst"]["errors"] == 0
        and seq["p50_ms"] <= 50
        and seq["p99_ms"] <= 200
        and results.get("job", {}).get("status", "succeeded") == "succeeded"
    )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
