"""Scale-out on dask.distributed: a real LocalCluster of worker processes, the same rows.

The oracle is ``zoning screen --format parquet`` in one process without chunks: every row of
sites, hits, clauses and codes must be equal (rows compared in a fixed order, by site id and
every column, since chunks come back in spatial order).  Each worker loads the layers once
however many chunks it screens.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "layers" / "examples"
AS_OF = "2026-12-05"


def random_points(path: Path, n: int, seed: int = 11) -> Path:
    rng = np.random.default_rng(seed)
    pd.DataFrame(
        {
            "id": [f"S{i:05d}" for i in rng.permutation(n)],
            "lon": rng.uniform(120.9, 122.0, n).round(6),
            "lat": rng.uniform(30.7, 31.8, n).round(6),
            "industry": rng.choice(["C2614", "H6110", "K7010"], n),
        }
    ).to_csv(path, index=False)
    return path


def rows(folder: Path, name: str) -> pd.DataFrame:
    df = pq.read_table(folder / f"{name}.parquet").to_pandas()
    if name == "clauses" and "site" in df.columns:
        df = df.drop(columns="site")  # the site's row in sites.parquet: order differs
    df = df.map(lambda v: v.hex() if isinstance(v, bytes) else ("" if v is None else repr(v)))
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def assert_same_outputs(a: Path, b: Path) -> None:
    for name in ("sites", "hits", "clauses", "codes"):
        left, right = rows(a, name), rows(b, name)
        assert len(left) == len(right), name
        pd.testing.assert_frame_equal(left, right, obj=name)


def cli(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zoning", "screen", *args, "--as-of", AS_OF],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def points(tmp_path_factory):
    """2,000 random points and their screening in one process, without chunks."""
    folder = tmp_path_factory.mktemp("points")
    csv = random_points(folder / "p.csv", 2000)
    whole = folder / "whole"
    r = cli(str(csv), "--crs", "EPSG:4326", "--format", "parquet", "--out", str(whole))
    assert r.returncode == 0, r.stderr
    return csv, whole


def test_two_local_workers_give_the_rows_of_one_process(points, tmp_path):
    csv, whole = points
    out = tmp_path / "out"
    r = cli(
        str(csv), "--crs", "EPSG:4326", "--format", "parquet", "--workers", "2",
        "--chunk-size", "300", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "on 2 worker processes" in r.stdout
    assert_same_outputs(out, whole)


def test_an_existing_scheduler_each_worker_loading_the_layers_once(points, tmp_path):
    from distributed import Client, LocalCluster

    from zoning.batch import ChunkJob, DaskExecutor, run_chunks
    from zoning.sites.chunks import iter_site_chunks

    csv, whole = points
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        # the command line against the cluster's address
        out = tmp_path / "cli"
        r = cli(
            str(csv), "--crs", "EPSG:4326", "--format", "parquet", "--scheduler",
            cluster.scheduler_address, "--chunk-size", "250", "--out", str(out),
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert_same_outputs(out, whole)
        # in-process: which workers screened, how often each loaded the layers
        executor = DaskExecutor(scheduler=cluster.scheduler_address)
        try:
            job = ChunkJob(as_of=AS_OF, total_sites=2000)
            run = run_chunks(
                iter_site_chunks(csv, chunk_size=200, crs="EPSG:4326"),
                job,
                tmp_path / "api",
                executor=executor,
                chunk_size=200,
            )
        finally:
            executor.close()
        assert run.n_chunks == 10 and run.n_sites == 2000
        assert len(run.pids) == 2  # both workers screened
        with Client(cluster) as client:
            loads = client.run(lambda: list(__import__("zoning.batch.work").batch.work.LOADS))
        assert len(loads) == 2
        for keys in loads.values():
            assert keys.count(job.key) == 1  # this run's layers loaded once per worker
    assert_same_outputs(tmp_path / "api", whole)


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    out = tmp_path / "out"
    r = cli(
        str(EXAMPLES / "projects.geojson"), "--format", "parquet", "--scheduler",
        f"tcp://127.0.0.1:{port}", "--out", str(out), timeout=120,
    )  # fmt: skip
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the dask scheduler" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_workers_and_scheduler_together_are_refused(tmp_path):
    r = cli(
        str(EXAMPLES / "projects.geojson"), "--format", "parquet", "--workers", "2",
        "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "out"), timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and "not both" in r.stderr
