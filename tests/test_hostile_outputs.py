"""Hostile output targets and faults: formulas in CSV cells, device files, FIFOs, symbolic
links and the user's own files as ``--out``, temporaries of killed runs, a full disk.

Every refusal is one line on stderr and exit code 2; nothing partial is left behind and older
outputs stay intact.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from worlds import hostile_site_catalog, make_world
from zoning.cli import main
from zoning.io.cells import csv_text, escape_cell, escape_formulas
from zoning.io.outputs import OutputError, atomic_path, check_target, write_atomic
from zoning.io.owned import FILES_MARKER, claim_files, record_files

FORMULAS = ["=1+1", "+41", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "\t\r@x"]
PLAIN = ["text", "a=b", "", " =x"]
#: Python 3.11's csv writer does not quote a carriage return: read back without them.
CSV_FORMULAS = [t for t in FORMULAS if "\r" not in t]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line(res, *words):
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for w in words:
        assert w in lines[0], lines[0]


def device(folder: Path) -> Path:
    """A character device (a copy of /dev/null's node) in ``folder``: the tests never aim at
    the system's own devices, which a broken writer running as root would replace."""
    path = folder / "null-device"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root")
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("world"))


# --------------------------------------------------------------------------- formulas


def test_escape_cell_follows_owasp():
    for text in FORMULAS:
        assert escape_cell(text) == "'" + text
    for text in PLAIN:
        assert escape_cell(text) == text
    assert escape_cell(-3.5) == -3.5 and escape_cell(None) is None


def test_csv_text_escapes_text_cells_and_names_only():
    df = pd.DataFrame(
        {"name": CSV_FORMULAS + PLAIN[:1], "n": [-1.5] * 6, "=col": ["x"] * 6},
    )
    df["cat"] = pd.Categorical(["-a"] * 6)
    rows = list(csv.reader(io.StringIO(csv_text(df), newline="")))
    assert rows[0] == ["name", "n", "'=col", "cat"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in CSV_FORMULAS] + ["text"]
    assert {r[1] for r in rows[1:]} == {"-1.5"}  # numbers stay numbers
    assert {r[3] for r in rows[1:]} == {"'-a"}
    assert df["name"].tolist()[0] == "=1+1"  # the frame itself is not changed
    clean = pd.DataFrame({"a": [1, 2]})
    assert escape_formulas(clean) is clean


def test_screening_csvs_escape_formulas_json_and_gpkg_keep_them(tmp_path, world):
    import geopandas as gpd
    from shapely.geometry import Point

    sites = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame(
        {"id": ['=HYPERLINK("http://x")', "@evil"], "name": ["+1", "-cmd"]},
        geometry=[Point(121.03, 31.03).buffer(0.001), Point(121.2, 31.2).buffer(0.001)],
        crs=4326,
    ).to_file(sites)
    out = tmp_path / "out"
    res = run("screen", sites, "--catalog", world.catalog, "--rules", world.rules, "--out", out)
    assert res.exit_code in (0, 1), res.output
    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert '\'=HYPERLINK("http://x")' in {v for r in rows for v in r.values()}
    for v in (v for r in rows for v in r.values() if v):
        assert v[0] not in "=+@" and (v[0] != "-" or _number(v)), v
    hits = (out / "hits.csv").read_text(encoding="utf-8-sig")
    assert "\n=" not in hits and ",=" not in hits and ",@" not in hits
    doc = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    text = json.dumps(doc, ensure_ascii=False)
    assert '"=HYPERLINK(' in text and "'=HYPERLINK" not in text and "'@evil" not in text
    gpkg = gpd.read_file(out / "screening.gpkg", layer="sites")
    assert set(gpkg["site_id"]) == {'=HYPERLINK("http://x")', "@evil"}


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_zonal_csv_escapes_formulas_json_keeps_them():
    from zoning.cli.raster import render_zonal

    df = pd.DataFrame({"zone": ["=evil()", "ok"], "class_name": ["@x", "-y"], "count": [-1, 2]})
    df.attrs = {"demonstration": False, "zones_without_cells": []}
    rows = list(csv.reader(io.StringIO(render_zonal(df, "csv"))))
    assert rows[1:] == [["'=evil()", "'@x", "-1"], ["ok", "'-y", "2"]]
    assert json.loads(render_zonal(df, "json"))["rows"][0]["zone"] == "=evil()"


# --------------------------------------------------------------------------- special targets


def test_check_target_refuses_links_fifos_and_devices(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("mine", encoding="utf-8")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dev = device(tmp_path)
    for path, word in [(link, "symbolic link"), (fifo, "FIFO"), (dev, "device")]:
        with pytest.raises(OutputError, match=word):
            check_target(path)
        with pytest.raises(OutputError):
            write_atomic(path, "x")
    assert real.read_text(encoding="utf-8") == "mine" and link.is_symlink()
    assert dev.is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fifo",
        "link.html",
        "null-device",
        "real.html",
    ]


def test_map_refuses_device_fifo_link_and_user_file(tmp_path, world):
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    mine = tmp_path / "mine.html"
    mine.write_text("my notes", encoding="utf-8")
    link = tmp_path / "link.html"
    link.symlink_to(mine)
    dev = device(tmp_path)
    cases = [
        (dev, "device"),
        (fifo, "FIFO"),
        (link, "symbolic link"),
        (mine, "--overwrite"),
    ]
    for target, word in cases:
        res = run("map", "--catalog", world.catalog, "--offline", "--out", target)
        assert_one_line(res, str(target), word)
    assert mine.read_text(encoding="utf-8") == "my notes"
    assert dev.is_char_device()
    assert fifo.is_fifo() and link.is_symlink()
    # --overwrite replaces the user's regular file, never a device, FIFO or link
    res = run("map", "--catalog", world.catalog, "--offline", "--out", mine, "--overwrite")
    assert res.exit_code == 0, res.output
    assert "<html" in mine.read_text(encoding="utf-8").lower()
    res = run("map", "--catalog", world.catalog, "--offline", "--out", link, "--overwrite")
    assert_one_line(res, "symbolic link")


def test_map_replaces_its_own_page_but_not_an_edited_one(tmp_path, world):
    page = tmp_path / "o.html"
    args = ["map", "--catalog", world.catalog, "--offline", "--out", page]
    assert run(*args).exit_code == 0
    marker = json.loads((tmp_path / FILES_MARKER).read_text(encoding="utf-8"))
    assert list(marker["files"]) == ["o.html"]
    assert run(*args).exit_code == 0  # ours: replaced without asking
    page.write_text("edited by hand", encoding="utf-8")
    assert_one_line(run(*args), "o.html", "--overwrite")
    assert page.read_text(encoding="utf-8") == "edited by hand"


def test_zonal_indicators_rasterize_refuse_user_files(tmp_path, world):
    import zoning.raster as zr

    dev = device(tmp_path)
    for name, cmd in [
        ("z.csv", ["zonal", zr.DEMO_RASTER, "--format", "csv"]),
        ("i.csv", ["indicators", "--catalog", world.catalog, "--format", "csv"]),
        ("r.tif", ["rasterize", "--catalog", world.catalog, "--res", "200"]),
    ]:
        target = tmp_path / name
        target.write_text("the user's", encoding="utf-8")
        assert_one_line(run(*cmd, "--out", target), name, "--overwrite")
        assert target.read_text(encoding="utf-8") == "the user's"
        assert_one_line(run(*cmd, "--out", dev), str(dev), "device")
        assert dev.is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i.csv", "null-device", "r.tif", "z.csv"]


def test_zonal_writes_then_replaces_its_own_csv(tmp_path):
    import zoning.raster as zr

    out = tmp_path / "z.csv"
    cmd = ["zonal", zr.DEMO_RASTER, "--format", "csv", "--out", out]
    assert run(*cmd).exit_code == 0
    assert run(*cmd).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILES_MARKER, "z.csv"]
    out.write_text("changed", encoding="utf-8")
    assert_one_line(run(*cmd), "z.csv")
    assert run(*cmd, "--overwrite").exit_code == 0


def test_claim_accepts_files_listed_by_another_zoning_marker(tmp_path):
    (tmp_path / "map.html").write_text("x", encoding="utf-8")
    (tmp_path / ".zoning-screen.json").write_text(
        json.dumps({"files": ["map.html"]}), encoding="utf-8"
    )
    claim_files([tmp_path / "map.html"])
    (tmp_path / "other.html").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"other\.html"):
        claim_files([tmp_path / "other.html"])
    record_files([tmp_path / "other.html"])
    claim_files([tmp_path / "other.html"])


# --------------------------------------------------------------------------- stale temporaries


def test_atomic_path_temporaries_carry_the_pid_and_stale_ones_go(tmp_path):
    target = tmp_path / "t.csv"
    stale = tmp_path / f".t.csv.zoning.{dead_pid()}-abc123.csv"
    stale.write_text("half", encoding="utf-8")
    live = tmp_path / f".t.csv.zoning.{os.getpid()}-def456.csv"  # a write still going
    live.write_text("half", encoding="utf-8")
    other = tmp_path / ".u.csv.zoning.1-abc.csv"
    other.write_text("x", encoding="utf-8")
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(f".t.csv.zoning.{os.getpid()}-")
        tmp.write_text("ok", encoding="utf-8")
    assert not stale.exists() and live.exists() and other.exists()


def test_stale_temporary_of_a_reused_pid_is_removed(tmp_path):
    """A temporary older than the process now holding its pid was made by an earlier one."""
    from zoning.io.temporaries import remove_stale_temporaries

    old = tmp_path / f".zoning-screen.{os.getpid()}-abc"
    old.mkdir()
    os.utime(old, (1_000_000, 1_000_000))  # 1970: before this process started
    assert remove_stale_temporaries(tmp_path, ".zoning-screen.") == [old]


def test_killed_rasterize_leaves_nothing_for_the_next_run(tmp_path, world):
    import zoning.raster as zr

    stale = tmp_path / f".zoning-rasterize.{dead_pid()}-x1"
    stale.mkdir()
    (stale / "work.tif").write_bytes(b"half")
    out = tmp_path / "z.csv"
    assert run("zonal", zr.DEMO_RASTER, "--format", "csv", "--out", out).exit_code == 0
    assert stale.exists()  # another writer's temporaries: only rasterize cleans its own
    res = run("rasterize", "--catalog", world.catalog, "--res", "500", "--out", tmp_path / "r.tif")
    assert res.exit_code == 0, res.output
    assert not stale.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".zoning-rasterize")]


# --------------------------------------------------------------------------- full disk


def _full_disk(monkeypatch, after: int = 0):
    """Make the ``after``-th and later writes of files fail with ENOSPC."""
    import builtins

    real_open = builtins.open
    real_write_bytes = Path.write_bytes
    real_write_text = Path.write_text
    count = {"n": 0}

    def tick(name):
        count["n"] += 1
        if count["n"] > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(name))

    def fake_open(file, mode="r", *a, **kw):
        if any(c in mode for c in "wax") and not str(file).startswith("/dev/"):
            tick(file)
        return real_open(file, mode, *a, **kw)

    def fake_bytes(self, data):
        tick(self)
        return real_write_bytes(self, data)

    def fake_text(self, data, *a, **kw):
        tick(self)
        return real_write_text(self, data, *a, **kw)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(Path, "write_bytes", fake_bytes)
    monkeypatch.setattr(Path, "write_text", fake_text)


def test_full_disk_during_screen(tmp_path, world, monkeypatch):
    out = tmp_path / "out"
    args = [
        "screen",
        "--point",
        "121.03,31.03",
        "--crs",
        "EPSG:4326",
        "--catalog",
        world.catalog,
        "--rules",
        world.rules,
        "--out",
        out,
    ]
    assert run(*args).exit_code in (0, 1)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with monkeypatch.context() as m:
        _full_disk(m, after=1)
        res = run(*args)
    assert_one_line(res, "No space left on device")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_full_disk_during_map_assets_folder(tmp_path, world, monkeypatch):
    page = tmp_path / "m.html"
    with monkeypatch.context() as m:
        _full_disk(m, after=3)
        res = run(
            "map", "--catalog", world.catalog, "--offline", "--assets", "folder", "--out", page
        )
    assert_one_line(res, "No space left on device")
    assert listing(tmp_path) == []
    # an older page and assets stay as they were
    res = run("map", "--catalog", world.catalog, "--offline", "--assets", "folder", "--out", page)
    assert res.exit_code == 0, res.output
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    shutil_rm = tmp_path / "assets"
    first = sorted(shutil_rm.rglob("*"))[-1]
    if first.is_file():
        first.unlink()  # the next run copies it again, then the disk fills
    with monkeypatch.context() as m:
        _full_disk(m, after=0)
        res = run(
            "map", "--catalog", world.catalog, "--offline", "--assets", "folder", "--out", page
        )
    assert_one_line(res, "No space left on device")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == {p: b for p, b in before.items() if p != first}


def test_full_disk_during_publish(tmp_path, monkeypatch):
    import pyogrio

    from zoning.publish import SITE_MARKER

    (tmp_path / "cat").mkdir()
    catalog = hostile_site_catalog(tmp_path / "cat")
    site = tmp_path / "pub" / "site"
    res = run("publish", site, "--catalog", catalog, "--offline")
    assert res.exit_code == 0, res.output
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert (site / SITE_MARKER) in before

    def no_space(*a, **kw):
        raise pyogrio.errors.FeatureError("failed to write feature: No space left on device")

    with monkeypatch.context() as m:
        m.setattr(pyogrio, "write_dataframe", no_space)
        res = run("publish", site, "--catalog", catalog, "--offline")
    assert_one_line(res, "No space left on device")
    with monkeypatch.context() as m:
        _full_disk(m, after=5)
        res = run("publish", site, "--catalog", catalog, "--offline")
    assert_one_line(res, str(site), "No space left on device")
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]
