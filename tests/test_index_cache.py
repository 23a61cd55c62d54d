"""The index cache: prepared layers and indexes persist between processes, never change an
answer, and are rebuilt (with a note) when changed, damaged or foreign.

Oracles: the same screening with a cold cache (the index computed as without a cache) and
with no cache at all; the arrays freshly built in the same process; damage made by hand to
real entry files.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

import zoning
from zoning.cli import main
from zoning.io import cachedir
from zoning.io.cachedir import CACHE_ENV, IndexCache, resolve_index_cache
from zoning.overlay import LayerIndex
from zoning.overlay.persist import EXCLUDED, PERSISTED, dump_part, narrow_int, prepare_index

# ------------------------------------------------------------------------------ helpers


def _frames_equal(a, b) -> None:
    """Sites, hits and reasons of two screenings are identical (geometries included)."""
    for name in ("sites", "hits", "reasons"):
        x, y = getattr(a, name), getattr(b, name)
        assert list(x.columns) == list(y.columns), name
        if isinstance(x, gpd.GeoDataFrame):
            wx, wy = shapely.to_wkb(x.geometry.to_numpy()), shapely.to_wkb(y.geometry.to_numpy())
            assert wx.tolist() == wy.tolist(), name  # bit-identical (None where None)
            x, y = (
                pd.DataFrame(x.drop(columns=x.geometry.name)),
                pd.DataFrame(y.drop(columns=y.geometry.name)),
            )
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)


def _index_arrays(ix: LayerIndex) -> dict:
    """Everything the cache keeps of an index, as comparable arrays."""
    out = {
        "pieces": shapely.to_wkb(ix.pieces),
        "piece_owner": ix.piece_owner,
        "chunks": shapely.to_wkb(ix.chunks),
        "chunk_owner": ix.chunk_owner,
        "dissolved": shapely.to_wkb(ix.dissolved[0]),
    }
    g = ix.grid
    if g is not None:
        out.update(
            grid_origin=np.array([g.x0, g.y0, g.size]),
            code=g.code,
            nearest=g.nearest,
            crossed=g.crossed,
            crossed_by=g.crossed_by,
        )
    return out


def _assert_same_index(a: LayerIndex, b: LayerIndex) -> None:
    x, y = _index_arrays(a), _index_arrays(b)
    assert x.keys() == y.keys()
    for k in x:
        np.testing.assert_array_equal(np.asarray(x[k]), np.asarray(y[k]), err_msg=k)
        assert np.asarray(x[k]).dtype == np.asarray(y[k]).dtype, k


def _random_points(ls, n: int, seed: int) -> gpd.GeoDataFrame:
    """Random points over the catalog plus points exactly on feature vertices (boundaries)."""
    rng = np.random.default_rng(seed)
    b = np.array([lay.gdf.total_bounds for lay in ls if len(lay.gdf)])
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pts = list(shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)))
    for lay in ls:
        xy = shapely.get_coordinates(lay.gdf.geometry.to_numpy())
        if len(xy):
            pick = xy[rng.integers(0, len(xy), 20)]
            pts.extend(shapely.points(pick))
            # midpoints of boundary edges: on the boundary, not on a vertex
            pts.extend(shapely.points((xy[:-1][:10] + xy[1:][:10]) / 2))
    return gpd.GeoDataFrame(
        {"site_id": [f"p{i}" for i in range(len(pts))]}, geometry=pts, crs=zoning.WORKING_CRS
    )


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _world(tmp_path: Path):
    from worlds import make_world

    return make_world(tmp_path / "world")


def _point_in_red():
    from worlds import RED

    c = RED.centroid
    return [f"{c.x},{c.y}"]


# ------------------------------------------------------------------------------ demonstration


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    """A cache filled from cold (every part computed as without a cache, then written), the
    layer set that filled it, and a second layer set loaded from the warm cache."""
    folder = tmp_path_factory.mktemp("demo_cache")
    cold = zoning.load_catalog(index_cache=folder)
    for lay in cold:
        prepare_index(lay.index)
    warm = zoning.load_catalog(index_cache=folder)
    return folder, cold, warm


def test_warm_layers_equal_cold(demo_cache):
    _, cold, warm = demo_cache
    for a, b in zip(cold, warm, strict=True):
        assert b.store.read_parts == {"layer", *PERSISTED.values()}
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.gdf.drop(columns="geometry")),
            pd.DataFrame(b.gdf.drop(columns="geometry")),
            check_exact=True,
        )
        assert list(a.gdf.columns) == list(b.gdf.columns)
        assert shapely.equals_exact(a.gdf.geometry.to_numpy(), b.gdf.geometry.to_numpy(), 0).all()
        assert a.gdf.crs == b.gdf.crs
        assert a.report == b.report
        assert not b.store.notes


def test_index_round_trip_equals_fresh(demo_cache):
    _, cold, warm = demo_cache
    for a, b in zip(cold, warm, strict=True):
        _assert_same_index(a.index, b.index)
        # ... and equal to an index built here without any cache
        fresh = LayerIndex(
            a.gdf.geometry.to_numpy(),
            tolerance_m=a.entry.positional_tolerance_m or 0.0,
            rings_m=a.entry.buffer_rings_m,
        )
        _assert_same_index(fresh, b.index)


def test_examples_and_random_points_warm_equal_cold(demo_cache):
    from zoning.examples import PROJECTS

    _, cold, warm = demo_cache
    _frames_equal(zoning.screen(PROJECTS, cold), zoning.screen(PROJECTS, warm))
    pts = _random_points(cold, 400, seed=15)
    for radius in (0, None):
        a = zoning.screen(pts, cold, search_radius_m=radius)
        b = zoning.screen(pts, warm, search_radius_m=radius)
        _frames_equal(a, b)
        assert (a.sites["n_hits"] > 0).any()


def test_entries_hold_no_pickle(demo_cache):
    folder, _, _ = demo_cache
    for entry in _entries(folder):
        names = {p.name for p in entry.iterdir()}
        assert "manifest.json" in names
        assert all(n == "manifest.json" or n.endswith(".npy") for n in names), names
        json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        for p in entry.glob("*.npy"):
            arr = np.load(p, mmap_mode="r", allow_pickle=False)
            assert not arr.dtype.hasobject


def test_every_cached_property_is_persisted_or_excluded():
    props = {n for n, v in vars(LayerIndex).items() if isinstance(v, cached_property)}
    assert props == set(PERSISTED) | set(EXCLUDED), (
        "a LayerIndex cached property is neither persisted by the index cache nor excluded: "
        "add it to zoning.overlay.persist (and bump FORMAT_VERSION)"
    )


# ------------------------------------------------------------------------------ invalidation


def _red_verdict(world, cache) -> tuple[str, object]:
    layers = zoning.load_catalog(world.catalog, index_cache=cache)
    res = zoning.screen(points=_point_in_red(), crs="EPSG:4326", layers=layers, rules=world.rules)
    return res.sites["verdict"].iloc[0], layers["red"]


def test_changed_layer_file_misses_and_changes_the_answer(tmp_path):
    from worlds import RED, layer_file

    world = _world(tmp_path)
    cache = tmp_path / "cache"
    before, lay = _red_verdict(world, cache)
    assert lay.store.parts  # written
    again, lay2 = _red_verdict(world, cache)
    assert again == before and "layer" in lay2.store.read_parts and not lay2.store.notes
    # the red line moved 0.05 degrees north: the point is no longer in it
    layer_file(world.folder, "R", [shapely.affinity.translate(RED, 0, 0.05)], nm=["红线一号"])
    lay3 = zoning.load_catalog(world.catalog, index_cache=cache)["red"]
    assert lay3.store.read_parts == set()  # a miss
    after, _ = _red_verdict(world, cache)
    assert after != before
    fresh = zoning.screen(
        points=_point_in_red(), crs="EPSG:4326", layers=world.catalog, rules=world.rules
    )
    assert after == fresh.sites["verdict"].iloc[0]


def test_changed_catalog_entry_misses(tmp_path):
    import yaml

    world = _world(tmp_path)
    cache = tmp_path / "cache"
    _red_verdict(world, cache)
    assert "layer" in zoning.load_catalog(world.catalog, index_cache=cache)["red"].store.read_parts
    data = yaml.safe_load(world.catalog.read_text(encoding="utf-8"))
    for e in data["layers"]:
        if e["id"] == "red":
            e["positional_tolerance_m"] = 10
    world.catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    lay = zoning.load_catalog(world.catalog, index_cache=cache)["red"]
    assert lay.store.read_parts == set()
    assert lay.index.tolerance_m == 10
    other = zoning.load_catalog(world.catalog, index_cache=cache)["districts"]
    assert "layer" in other.store.read_parts  # other entries unchanged: still hits


def test_changed_version_misses(tmp_path, monkeypatch):
    world = _world(tmp_path)
    cache = tmp_path / "cache"
    _red_verdict(world, cache)
    assert zoning.load_catalog(world.catalog, index_cache=cache)["red"].store.read_parts
    monkeypatch.setattr(cachedir, "__version__", "99.0")
    assert zoning.load_catalog(world.catalog, index_cache=cache)["red"].store.read_parts == set()
    monkeypatch.undo()
    monkeypatch.setattr(cachedir, "FORMAT_VERSION", cachedir.FORMAT_VERSION + 1)
    assert zoning.load_catalog(world.catalog, index_cache=cache)["red"].store.read_parts == set()


# ------------------------------------------------------------------------------ damage


def _filled(tmp_path):
    """A world, its cache filled with every part of every layer, and the red line's entries."""
    world = _world(tmp_path)
    cache = tmp_path / "cache"
    ls = zoning.load_catalog(world.catalog, index_cache=cache)
    for lay in ls:
        prepare_index(lay.index)
    want, _ = _red_verdict(world, cache)
    key = ls["red"].store.key
    return world, cache, want, key


def _damaged_run(world, cache, key, part):
    """Load again: the damaged part is noted and rebuilt, the answer unchanged, the entry valid
    again afterwards."""
    verdict, lay = _red_verdict(world, cache)
    notes = [n for n in lay.store.notes if f"-{part} ignored" in n]
    assert notes, lay.store.notes
    assert any(n in lay.report.notes for n in notes)
    prepare_index(lay.index)  # the parts this screening did not need are rebuilt too
    res = zoning.screen(
        points=_point_in_red(),
        crs="EPSG:4326",
        layers=zoning.load_catalog(world.catalog, index_cache=cache),
        rules=world.rules,
    )
    return verdict, res


@pytest.mark.parametrize("part", ["grid", "layer", "pieces"])
def test_truncated_entry_is_rebuilt(tmp_path, part):
    world, cache, want, key = _filled(tmp_path)
    entry = IndexCache(cache).entry_dir(key, part)
    target = max(entry.glob("*.npy"), key=lambda p: p.stat().st_size)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    verdict, res = _damaged_run(world, cache, key, part)
    assert verdict == want
    assert not [n for n in res.notes if "ignored" in n]  # rewritten: the next run is clean


@pytest.mark.parametrize("part", ["grid", "layer", "chunks"])
def test_flipped_byte_is_rebuilt(tmp_path, part):
    world, cache, want, key = _filled(tmp_path)
    entry = IndexCache(cache).entry_dir(key, part)
    target = max(entry.glob("*.npy"), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) - 3] ^= 0x5A
    target.write_bytes(bytes(data))
    verdict, _ = _damaged_run(world, cache, key, part)
    assert verdict == want


def test_foreign_format_and_garbage_are_rebuilt(tmp_path):
    world, cache, want, key = _filled(tmp_path)
    folder = IndexCache(cache)
    m = folder.entry_dir(key, "grid") / "manifest.json"
    manifest = json.loads(m.read_text(encoding="utf-8"))
    manifest["format_version"] = 0
    manifest["digest"] = cachedir._digest(manifest)
    m.write_text(json.dumps(manifest), encoding="utf-8")
    (folder.entry_dir(key, "chunks") / "manifest.json").write_text("{not json", encoding="utf-8")
    # not an entry: a plain file, and a directory without a manifest
    shutil.rmtree(folder.entry_dir(key, "pieces"))
    folder.entry_dir(key, "pieces").write_bytes(b"junk")
    shutil.rmtree(folder.entry_dir(key, "dissolved"))
    folder.entry_dir(key, "dissolved").mkdir()
    verdict, lay = _red_verdict(world, cache)
    assert verdict == want
    text = " | ".join(lay.store.notes)
    assert "format 0" in text and "not an entry directory" in text and "no manifest" in text
    prepare_index(lay.index)
    again = zoning.load_catalog(world.catalog, index_cache=cache)["red"]
    assert not again.store.notes and again.store.read_parts == {"layer", *PERSISTED.values()}


def test_edited_manifest_is_rebuilt(tmp_path):
    """A manifest changed in a JSON-valid way (the grid moved by 1 m) fails its digest."""
    world, cache, want, key = _filled(tmp_path)
    m = IndexCache(cache).entry_dir(key, "grid") / "manifest.json"
    manifest = json.loads(m.read_text(encoding="utf-8"))
    manifest["meta"]["grid"]["x0"] += 1.0
    m.write_text(json.dumps(manifest), encoding="utf-8")
    verdict, lay = _red_verdict(world, cache)
    assert verdict == want
    assert any("grid ignored (manifest.json fails its checksum)" in n for n in lay.store.notes)


def test_stale_layout_with_valid_checksums_is_replaced(tmp_path):
    """An entry that passes its checks but cannot be decoded (a layout of an earlier build) is
    removed and written again, not rebuilt on every run."""
    world, cache, want, key = _filled(tmp_path)
    m = IndexCache(cache).entry_dir(key, "layer") / "manifest.json"
    manifest = json.loads(m.read_text(encoding="utf-8"))
    del manifest["meta"]["dtypes"]
    manifest["digest"] = cachedir._digest(manifest)
    m.write_text(json.dumps(manifest), encoding="utf-8")
    verdict, lay = _red_verdict(world, cache)
    assert verdict == want and any("layer ignored" in n for n in lay.store.notes)
    again = zoning.load_catalog(world.catalog, index_cache=cache)["red"]
    assert not again.store.notes and "layer" in again.store.read_parts


def test_pickled_array_is_refused(tmp_path):
    """An entry whose manifest matches a .npy holding a pickled object array: np.load refuses
    it (allow_pickle=False), the entry is ignored, nothing is unpickled."""
    world, cache, want, key = _filled(tmp_path)
    folder = IndexCache(cache)
    entry = folder.entry_dir(key, "chunks")
    evil = entry / "owner.npy"
    np.save(evil, np.array([object(), 1], dtype=object), allow_pickle=True)
    manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["owner"].update(
        size=evil.stat().st_size, checksum=cachedir._checksum(evil), dtype="|O", shape=[2]
    )
    manifest["digest"] = cachedir._digest(manifest)
    (entry / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    verdict, lay = _red_verdict(world, cache)
    assert verdict == want
    assert any("chunks ignored" in n for n in lay.store.notes)


# ------------------------------------------------------------------------------ the folder


def test_unwritable_folder_does_not_fail(tmp_path):
    world = _world(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    layers = zoning.load_catalog(world.catalog, index_cache=blocker / "cache")
    res = zoning.screen(points=_point_in_red(), crs="EPSG:4326", layers=layers, rules=world.rules)
    fresh = zoning.screen(
        points=_point_in_red(), crs="EPSG:4326", layers=world.catalog, rules=world.rules
    )
    assert res.sites["verdict"].tolist() == fresh.sites["verdict"].tolist()
    assert any("cannot be written" in n for n in res.notes)
    assert any("cannot be written" in n for n in res.provenance["notes"])


def test_concurrent_writers_leave_one_valid_entry(tmp_path):
    arrays = {"a": np.arange(100_000, dtype=np.int64)}
    with ProcessPoolExecutor(2) as pool:
        done = list(pool.map(_write_entry, [str(tmp_path)] * 6, [arrays] * 6))
    assert all(done)
    cache = IndexCache(tmp_path)
    notes: list[str] = []
    got = cache.read("k" * 64, "part", notes)
    assert got is not None and not notes
    np.testing.assert_array_equal(got[0]["a"], arrays["a"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _write_entry(folder: str, arrays: dict) -> bool:
    return IndexCache(folder).write("k" * 64, "part", arrays, {"m": 1})


def test_background_writes(tmp_path):
    cache = IndexCache(tmp_path / "c", background=True)
    arrays = {f"a{i}": np.full(50_000, i, dtype=np.int32) for i in range(3)}
    for part in ("x", "y", "z"):
        assert cache.submit("k" * 64, part, arrays, {"part": part})
    cache.flush()
    for part in ("x", "y", "z"):
        got = IndexCache(tmp_path / "c").read("k" * 64, part)
        assert got is not None and got[1] == {"part": part}
        np.testing.assert_array_equal(got[0]["a2"], arrays["a2"])
    blocked = tmp_path / "file"
    blocked.write_text("x")
    bad = IndexCache(blocked / "c", background=True)
    assert not bad.submit("k" * 64, "x", arrays) and bad.notes


def test_a_layer_set_with_a_cache_can_be_sent_to_another_process(tmp_path):
    """dask sends objects to its workers with pickle (in memory, never into the cache): the
    cache object travels as its folder and settings."""
    import pickle

    world = _world(tmp_path)
    layers = zoning.load_catalog(
        world.catalog, index_cache=IndexCache(tmp_path / "c", background=True)
    )
    prepare_index(layers["red"].index)
    copy = pickle.loads(pickle.dumps(layers["red"].store.cache))
    assert copy.path == tmp_path / "c" and copy.background
    assert copy.read(layers["red"].store.key, "grid") is not None


def test_write_refuses_object_arrays(tmp_path):
    cache = IndexCache(tmp_path)
    assert not cache.write("k" * 64, "p", {"a": np.array([None, 1], dtype=object)})
    assert _entries(tmp_path) == []


def test_narrow_int_keeps_every_value_and_refuses_what_does_not_fit():
    assert narrow_int(np.array([-2, -1, 0, 126])).dtype == np.int8
    assert narrow_int(np.array([-2, 127])).dtype == np.int8
    assert narrow_int(np.array([-2, 128])).dtype == np.int16  # one past int8: not narrowed to it
    assert narrow_int(np.array([-129, 0])).dtype == np.int16
    assert narrow_int(np.array([0, 2**31])).dtype == np.int64
    assert narrow_int(np.array([0, 2**15], dtype=np.uint64)).dtype == np.int32
    big = np.array([[0, 40_000], [-1, 5]], dtype=np.int64)
    out = narrow_int(big)
    assert out.dtype == np.int32 and out.shape == big.shape
    np.testing.assert_array_equal(out, big)
    with pytest.raises(ValueError):
        narrow_int(np.array([0, 2**64 - 1], dtype=np.uint64))  # beyond int64
    with pytest.raises(TypeError):
        narrow_int(np.array([0.5]))


def test_int_dtype_ranges():
    from zoning.overlay.cellgrid import int_dtype

    assert int_dtype(-2, 127) == np.int8 and int_dtype(-2, 128) == np.int16
    assert int_dtype(0, 2**31 - 1) == np.int32 and int_dtype(0, 2**31) == np.int64
    with pytest.raises(ValueError):
        int_dtype(0, 2**63)


def test_grid_arrays_are_stored_narrow_and_come_back_equal(demo_cache):
    _, cold, warm = demo_cache
    narrowed = 0
    for a, b in zip(cold, warm, strict=True):
        g = b.index.grid
        if g is None:
            continue
        arrays, _ = dump_part("grid", a.index.grid)
        for name in ("code", "nearest", "crossed", "crossed_by"):
            stored = getattr(g, name)
            assert stored.dtype == arrays[name].dtype
            assert stored.dtype.itemsize <= narrow_int(np.asarray(stored)).dtype.itemsize * 2
            np.testing.assert_array_equal(stored, getattr(a.index.grid, name))
        narrowed += g.code.dtype.itemsize < 4
    assert narrowed  # the demonstration layers have few features: int8 codes


def test_unused_part_is_checked_when_loaded(tmp_path):
    """A flipped byte in a part a screening does not load is caught when it is loaded."""
    world, cache, _, key = _filled(tmp_path)
    entry = IndexCache(cache).entry_dir(key, "dissolved")
    target = max(entry.glob("*.npy"), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    ls = zoning.load_catalog(world.catalog, index_cache=cache)
    store = ls["red"].store
    assert "dissolved" in store.parts
    assert store.load("dissolved") is None
    assert [n for n in store.notes if "-dissolved ignored" in n and "checksum" in n]
    lay = ls["red"]
    fresh = LayerIndex(
        lay.gdf.geometry.to_numpy(),
        tolerance_m=lay.entry.positional_tolerance_m or 0.0,
        rings_m=lay.entry.buffer_rings_m,
    )
    got = ls["red"].index.dissolved[0]  # rebuilt, and written again
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(fresh.dissolved[0]).tolist()
    IndexCache(cache).flush()
    assert IndexCache(cache).read(key, "dissolved") is not None


def test_resolver_option_env_default_off(tmp_path):
    assert resolve_index_cache("off", {}) is None
    assert resolve_index_cache(None, {CACHE_ENV: "OFF"}) is None
    assert resolve_index_cache(str(tmp_path), {CACHE_ENV: "/elsewhere"}).path == tmp_path
    assert resolve_index_cache(None, {CACHE_ENV: str(tmp_path)}).path == tmp_path
    default = resolve_index_cache(None, {})
    assert default.path == cachedir.default_cache_dir()
    assert default.path.name == "indexes" and "zoning" in default.path.parts


def test_cli_option_env_and_off(tmp_path, monkeypatch):
    world = _world(tmp_path)
    opt, env = tmp_path / "opt", tmp_path / "env"
    monkeypatch.setenv(CACHE_ENV, str(env))
    args = ["screen", "--point", *_point_in_red(), "--crs", "EPSG:4326"]
    args += ["--catalog", str(world.catalog), "--rules", str(world.rules), "--format", "csv"]
    run = CliRunner().invoke
    r = run(main, [*args, "--out", str(tmp_path / "o1"), "--index-cache", str(opt)])
    assert r.exit_code == 0, r.output
    assert _entries(opt) and not env.exists()
    r = run(main, [*args, "--out", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    assert _entries(env)
    shutil.rmtree(env)
    r = run(main, [*args, "--out", str(tmp_path / "o3"), "--index-cache", "off"])
    assert r.exit_code == 0, r.output
    assert not env.exists()
    monkeypatch.setenv(CACHE_ENV, "off")
    r = run(main, [*args, "--out", str(tmp_path / "o4")])
    assert r.exit_code == 0, r.output
    assert not env.exists()
    for k in ("o2", "o3", "o4"):
        assert (tmp_path / k / "sites.csv").read_bytes().splitlines()[1:] == (
            tmp_path / "o1" / "sites.csv"
        ).read_bytes().splitlines()[1:]


def test_index_build_info_clear(tmp_path):
    world = _world(tmp_path)
    cache = tmp_path / "cache"
    run = CliRunner().invoke
    r = run(main, ["index", "build", "--catalog", str(world.catalog), "--index-cache", str(cache)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(line.startswith("red ") and " MB" in line for line in lines)
    assert lines[-1].startswith("total") and "(5 layers)" in lines[-1]
    ls = zoning.load_catalog(world.catalog, index_cache=cache)
    assert all(lay.store.read_parts == {"layer", *PERSISTED.values()} for lay in ls)
    r = run(main, ["index", "info", "--index-cache", str(cache)])
    assert r.exit_code == 0 and "25 entries" in r.output, r.output
    (cache / "not-mine.txt").write_text("keep")
    r = run(main, ["index", "clear", "--index-cache", str(cache)])
    assert r.exit_code == 0 and "removed 25 entries" in r.output, r.output
    assert [p.name for p in cache.iterdir()] == ["not-mine.txt"]
    r = run(main, ["index", "build", "--index-cache", "off"])
    assert r.exit_code == 2 and "off" in r.output


def test_env_points_the_suite_away_from_home(tmp_path_factory):
    where = Path(os.environ[CACHE_ENV]).resolve()
    assert tmp_path_factory.getbasetemp().resolve() in where.parents


def test_index_without_store():
    """A LayerIndex without a store behaves as before (no cache attribute needed)."""
    ix = LayerIndex(np.array([box(0, 0, 10, 10)], dtype=object))
    assert ix.store is None
    p, f = ix.contains_points(np.array([5.0, 20.0]), np.array([5.0, 5.0]))
    assert p.tolist() == [0] and f.tolist() == [0]
