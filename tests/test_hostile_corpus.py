"""The hostile corpus run through the commands a planner would use.

Every file of ``tests/data/hostile/`` (see its ``README.md``) is screened, checked or mapped
from a copy in ``tmp_path``: refused with exit 2 and exactly one line ``zoning: error: ...``
on stderr, no traceback, the canary marker nowhere, and nothing written (the folder is
byte-identical afterwards). The formula CSV is the exception: it screens (exit 0) with its
names escaped in ``sites.csv``. Network tricks run in a real subprocess against a loopback
listener that must see no connection. Large tricks are built at test time (``hostile.py``).
Last, ``zoning publish`` and the screening report are given a catalog that tries each trick.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile import (
    CANARY,
    CORPUS,
    Listener,
    deep_screening,
    huge_header_tif,
    materialise,
    tree_bytes,
    zip_bomb,
    zoning_cli,
)
from worlds import SITE_OK, make_world
from zoning.cli import main

POINT = ("--point", "121.4,31.2", "--crs", "EPSG:4326")
SCREEN = ("screen", "{file}", "--out", "{out}")
CHECK = ("layers", "check", "--catalog", "{file}")
#: corpus file -> (command line, a word of the error line, how it is run).
#: ``in-process``: click's runner; ``subprocess``: ``python -m zoning`` with a timeout (a
#: hang cannot stall the suite); ``network``: a subprocess with the loopback listener.
CASES = {
    "sites_reads_canary.vrt": (SCREEN, "VRT", "in-process"),
    "sites_reads_canary.geojson": (SCREEN, "VRT", "in-process"),
    "nul_in_name.geojson": (SCREEN, "NUL", "in-process"),
    "zip_member_dotdot.zip": (SCREEN, "'..' path", "in-process"),
    "xxe_reads_canary.kml": (SCREEN, "cannot open", "in-process"),
    "catalog_alias_bomb.yml": (CHECK, "alias", "subprocess"),
    "catalog_vrt_layer.yml": (CHECK, "allow_vrt", "in-process"),
    "rules_alias_bomb.yml": (("screen", *POINT, "--rules", "{file}", "--out", "{out}"), "alias",
                             "subprocess"),
    "catalog_remote.yml.tmpl": (CHECK, "--allow-network", "network"),
    "vsicurl_source.vrt.tmpl": (SCREEN, "VRT", "network"),
    "crs_link.geojson.tmpl": (SCREEN, "link", "network"),
    "network_link.kml.tmpl": (SCREEN, "NetworkLink", "network"),
}  # fmt: skip
#: Tricks zoning does not refuse (strict xfail: the day they are refused, this must change).
XFAIL: dict[str, str] = {}
#: Files that are part of a trick but not given to zoning themselves.
SUPPORT = {"README.md", "canary.txt", "park_reads_canary.vrt"}
FORMULA_CSV = "formula_names.csv"
NETWORK = sorted(k for k, v in CASES.items() if v[2] == "network")


def _params(names, *, xfail: bool = True) -> list:
    """``names`` as parameters; the ones that screen in full (> 3 s) are slow."""
    params = []
    for name in sorted(names):
        marks = [pytest.mark.slow] if name in XFAIL else []
        if xfail and name in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[name]))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def _run(args, how: str, cwd: Path) -> tuple[int, str, str]:
    if how == "in-process":
        res = CliRunner().invoke(main, [str(a) for a in args])
        return res.exit_code, res.stdout, res.stderr
    done = zoning_cli(*args, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


def assert_refused(code: int, stdout: str, stderr: str, word: str = "") -> str:
    """Exit 2, exactly one ``zoning: error:`` line on stderr naming ``word``, no traceback,
    no canary."""
    assert code == 2, (code, stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in stdout + stderr, stderr[-2000:]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zoning: error: "), stderr[-2000:]
    assert word in lines[0], (word, lines[0])
    assert CANARY not in stdout + stderr
    return lines[0]


# --------------------------------------------------------------------------- the corpus


def test_every_corpus_file_is_run_and_described():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in CORPUS.iterdir():
        assert path.name in {*CASES, *SUPPORT, FORMULA_CSV}, f"{path.name}: no test runs it"
        assert path.name == "README.md" or f"`{path.name}`" in readme, path.name
        small = path.name == "README.md" or path.stat().st_size < 2000
        assert small, f"{path.name}: large tricks are built at test time, never committed"
    assert CANARY in (CORPUS / "canary.txt").read_text(encoding="utf-8")


def test_the_vrt_tricks_are_live():
    """Read directly with GDAL (no guard), the committed VRTs do leak the canary."""
    import pyogrio

    for name in ("sites_reads_canary.vrt", "sites_reads_canary.geojson", "park_reads_canary.vrt"):
        df = pyogrio.read_dataframe(CORPUS / name)
        assert list(df["secret"]) == [CANARY], name


@pytest.mark.parametrize("name", _params(CASES))
def test_corpus_file_is_refused(tmp_path, listener, name):
    args, word, how = CASES[name]
    folder = materialise(tmp_path / "in", listener.port)
    file = folder / name.removesuffix(".tmpl")
    out = tmp_path / "OUT"
    before = tree_bytes(tmp_path)
    argv = [a.format(file=file, out=out) for a in args]
    code, stdout, stderr = _run(argv, how, folder)
    assert listener.count == 0
    assert_refused(code, stdout, stderr, word)
    assert not out.exists()
    assert tree_bytes(tmp_path) == before  # nothing written, nothing changed


@pytest.mark.parametrize("name", _params(NETWORK, xfail=False))
def test_network_trick_makes_no_connection(tmp_path, listener, name):
    """Refused or not, no network trick opens a connection (a real ``python -m zoning``)."""
    args, _, _ = CASES[name]
    folder = materialise(tmp_path / "in", listener.port)
    argv = [a.format(file=folder / name.removesuffix(".tmpl"), out=tmp_path / "OUT") for a in args]
    done = zoning_cli(*argv, cwd=folder)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert listener.count == 0
    assert CANARY not in done.stdout + done.stderr


def test_the_listener_sees_gdal_when_the_network_is_allowed(tmp_path, listener):
    """The control: with --allow-network the remote catalog does reach the listener."""
    folder = materialise(tmp_path / "in", listener.port)
    done = zoning_cli("layers", "check", "--catalog", folder / "catalog_remote.yml",
                      "--allow-network", cwd=folder)  # fmt: skip
    assert_refused(done.returncode, done.stdout, done.stderr, "parks")
    assert listener.count > 0


@pytest.mark.slow
def test_formula_names_are_escaped_in_csv_and_kept_in_json(tmp_path):
    src = CORPUS / FORMULA_CSV
    with open(src, encoding="utf-8", newline="") as fh:
        given = {row["id"]: row["name"] for row in csv.DictReader(fh)}
    assert given["f5"].startswith("\t=") and given["f6"].startswith("\r=")
    out = tmp_path / "OUT"
    res = CliRunner().invoke(main, ["screen", str(src), "--crs", "EPSG:4326", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        written = {row["site_id"]: row["name"] for row in csv.DictReader(fh)}
    # Leading white space of a cell is trimmed when the sites are read; what is left of a
    # formula is written with a leading apostrophe.
    kept = {k: v.strip() for k, v in given.items()}
    assert written == {k: (v if k == "ok" else "'" + v) for k, v in kept.items()}
    doc = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert {s["site_id"]: s["name"] for s in doc["sites"]} == kept


# --------------------------------------------------------------------------- built at test time


def _bomb(tmp_path: Path):
    path = zip_bomb(tmp_path / "sites.zip")
    assert path.stat().st_size < 1 << 20
    return ("screen", path, "--out", tmp_path / "OUT"), "limits"


def _tif(tmp_path: Path):
    path = huge_header_tif(tmp_path / "huge.tif")
    assert path.stat().st_size < 100_000
    args = ("zonal", path, "--by", "districts", "--out", tmp_path / "OUT.csv", "--format", "csv")
    return args, "1,000,000 x 1,000,000"


def _deep(tmp_path: Path):
    folder = deep_screening(tmp_path / "screened")
    assert (folder / "screening.json").stat().st_size == 200_000
    return ("map", "--screening", folder, "--out", tmp_path / "OUT.html"), "nested"


GENERATED = {"zip_bomb": _bomb, "huge_header_tif": _tif, "deep_screening_json": _deep}


@pytest.mark.parametrize("kind", GENERATED)
def test_generated_trick_is_refused(tmp_path, kind):
    args, word = GENERATED[kind](tmp_path)
    before = tree_bytes(tmp_path)
    done = zoning_cli(*args, cwd=tmp_path)
    assert_refused(done.returncode, done.stdout, done.stderr, word)
    assert tree_bytes(tmp_path) == before


# --------------------------------------------------------------------------- publish and report


#: trick -> (a word of the error line, how the commands are run).
TRICKS = {
    "vrt_layer_reads_canary": ("allow_vrt", "in-process"),
    "remote_source": ("--allow-network", "network"),
    "zip_dotdot_member": ("'..' path", "in-process"),
    "yaml_alias_bomb": ("alias", "subprocess"),
}


def _trick_catalog(world, port: int, trick: str) -> Path:
    """The world's catalog with one more layer (or its title) playing ``trick``."""
    import yaml

    doc = yaml.safe_load(world.catalog.read_text(encoding="utf-8"))
    folder = world.folder
    for name in ("canary.txt", "park_reads_canary.vrt", "zip_member_dotdot.zip"):
        (folder / name).write_bytes((CORPUS / name).read_bytes())
    source = {
        "vrt_layer_reads_canary": "park_reads_canary.vrt",
        "remote_source": f"https://127.0.0.1:{port}/parks.geojson",
        "zip_dotdot_member": "zip_member_dotdot.zip",
    }.get(trick)
    if source:
        doc["layers"].append({"id": "parks", "kind": "park", "source": source})
    path = folder / f"catalog_{trick}.yml"
    if trick == "yaml_alias_bomb":
        del doc["title"]
        bomb = (CORPUS / "catalog_alias_bomb.yml").read_text(encoding="utf-8")
        anchors = "".join(line + "\n" for line in bomb.splitlines() if line[:1] in "abcdefghi")
        text = anchors + yaml.safe_dump(doc, allow_unicode=True) + "title: *i\n"
    else:
        text = yaml.safe_dump(doc, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def earlier_site(tmp_path_factory):
    """The world and a site published from its (good) catalog: what a trick must not touch."""
    base = tmp_path_factory.mktemp("earlier")
    world = make_world(base / "world")
    site = base / "site"
    res = CliRunner().invoke(
        main, ["publish", str(site), "--catalog", str(world.catalog), "--offline"]
    )
    assert res.exit_code == 0, res.output
    return world, site


def _world_copy(tmp_path: Path, earlier_site):
    import shutil
    from types import SimpleNamespace

    world, _ = earlier_site
    folder = tmp_path / "world"
    shutil.copytree(world.folder, folder)
    return SimpleNamespace(folder=folder, catalog=folder / world.catalog.name,
                           rules=folder / world.rules.name)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("trick", TRICKS)
def test_publish_refuses_each_trick(tmp_path, listener, earlier_site, trick):
    import shutil

    word, how = TRICKS[trick]
    world = _world_copy(tmp_path, earlier_site)
    catalog = _trick_catalog(world, listener.port, trick)
    inputs = tree_bytes(world.folder)
    new, old = tmp_path / "new_site", tmp_path / "old_site"
    shutil.copytree(earlier_site[1], old)
    site_before = tree_bytes(old)
    for out in (new, old):
        args = ["publish", out, "--catalog", catalog, "--offline"]
        assert_refused(*_run(args, how, tmp_path), word)
    assert not new.exists()
    assert tree_bytes(old) == site_before
    assert tree_bytes(world.folder) == inputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old_site", "world"]
    assert listener.count == 0


@pytest.mark.slow
@pytest.mark.parametrize("trick", TRICKS)
def test_screening_report_refuses_each_trick(tmp_path, listener, earlier_site, trick):
    import geopandas as gpd

    word, how = TRICKS[trick]
    world = _world_copy(tmp_path, earlier_site)
    catalog = _trick_catalog(world, listener.port, trick)
    sites = tmp_path / "sites.geojson"
    gpd.GeoDataFrame({"id": ["ok"]}, geometry=[SITE_OK], crs=4326).to_file(sites)
    before = tree_bytes(tmp_path)
    out = tmp_path / "OUT"
    args = ["screen", sites, "--catalog", catalog, "--rules", world.rules, "--out", out,
            "--format", "html"]  # fmt: skip
    assert_refused(*_run(args, how, tmp_path), word)
    assert not out.exists()
    assert tree_bytes(tmp_path) == before
    assert listener.count == 0
