"""What starting the toolkit costs: lazy imports and the YAML loader.

``import zoning`` and ``zoning --help`` import no heavy library and no command module (checked
in a fresh interpreter); every public name still resolves; the help lists every command with
the short help click would write from the command itself; libyaml's loader (used when PyYAML
has it) gives the same data and the same refusals as the pure-Python one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

import zoning
from zoning import _yaml
from zoning.errors import RulesError

REPO = Path(__file__).resolve().parents[1]
HEAVY = {"geopandas", "pandas", "scipy", "pyogrio", "matplotlib", "shapely", "pyproj", "pydantic"}


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (top-level names and
    ``zoning.*``), minus those it held at start."""
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "import json\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def test_import_zoning_imports_no_heavy_library():
    loaded = _modules_after("import zoning")
    assert not _top(loaded) & HEAVY, sorted(_top(loaded) & HEAVY)
    assert not {n for n in loaded if n.startswith("zoning.") and n.count(".") == 1} - {
        "zoning._version",
        "zoning.errors",
    }


def test_cli_help_imports_no_command_module():
    code = (
        "import contextlib, io\n"
        "from zoning.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'], prog_name='zoning')\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    loaded = _modules_after(code)
    assert not _top(loaded) & HEAVY, sorted(_top(loaded) & HEAVY)
    from zoning.cli import COMMANDS

    commands = {f"zoning.cli.{module}" for module, _, _ in COMMANDS.values()}
    assert not loaded & commands, sorted(loaded & commands)


def test_every_public_name_resolves_lazily():
    namespace: dict[str, object] = {}
    exec("from zoning import *", namespace)
    assert set(zoning.__all__) <= set(namespace)
    assert set(zoning.__all__) <= set(dir(zoning))
    from zoning import WORKING_CRS, indicators, screen  # noqa: F401

    assert zoning.screen is screen and callable(zoning.indicators)
    assert zoning.overlay.__name__ == "zoning.overlay"  # a stage sub-package, as before
    with pytest.raises(AttributeError):
        zoning.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from zoning import no_such_name", {})


def _command_list(group: click.Group, width: int) -> str:
    formatter = click.HelpFormatter(width=width)
    with click.Context(group, info_name="zoning") as ctx:
        group.format_commands(ctx, formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("width", [50, 80, 200])
def test_help_lists_every_command_as_click_would(width):
    from zoning.cli import COMMANDS, LazyGroup, main

    lazy = LazyGroup(name="zoning")  # a fresh group: nothing loaded yet
    eager = click.Group(name="zoning")
    for name in COMMANDS:
        eager.add_command(main.get_command(click.Context(main), name), name)
    assert set(eager.commands) == set(COMMANDS)
    text = _command_list(lazy, width)
    assert text == _command_list(eager, width)
    assert all(f"  {name} " in text for name in COMMANDS)


def test_lazy_group_runs_a_command_and_refuses_an_unknown_one():
    from click.testing import CliRunner

    from zoning.cli import main

    done = CliRunner().invoke(main, ["seeds", "--help"])
    assert done.exit_code == 0 and "policy targets" in done.output
    done = CliRunner().invoke(main, ["no-such-command"])
    assert done.exit_code == 2


# --------------------------------------------------------------------------------- YAML


YAML_FILES = sorted(
    p
    for folder in ("layers", "seeds")
    for p in (REPO / folder).rglob("*")
    if p.suffix in {".yml", ".yaml"}
)
needs_libyaml = pytest.mark.skipif(
    not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml"
)


def _both(monkeypatch, path: Path) -> list[object]:
    """``load_yaml(path)`` with each loader: the data, or the one-line refusal."""
    out = []
    for loader in (_yaml._BoundedLoader, _yaml._CBoundedLoader):
        monkeypatch.setattr(_yaml, "_LOADER", loader)
        try:
            out.append(("data", _yaml.load_yaml(path, RulesError, "rule set")))
        except RulesError as exc:
            out.append(("error", str(exc).split(":", 1)[1].split(" at line")[0]))
    return out


def test_the_shipped_yaml_files_are_found():
    names = {p.name for p in YAML_FILES}
    assert {"catalog.yml", "shanghai_demo.yml", "targets.yml"} <= names


@needs_libyaml
@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_c_and_pure_loaders_agree_on_shipped_files(monkeypatch, path):
    pure, fast = _both(monkeypatch, path)
    assert pure[0] == "data" and pure == fast
    assert _yaml._LOADER is _yaml._CBoundedLoader  # monkeypatch restores it after the test


HOSTILE = {
    "yaml 1.1 scalars": (
        "codes: [0101, 010, 0x1F, 1_000, 1:20, 2026-01-01, 1e3, .inf, .nan]\n"
        "flags: [no, yes, on, off, y, n, ~, null, 'no']\n"
        "quoted: ['0101', \"C2614\", 2614]\n"
    ),
    "merge key": "base: &b {a: 1}\nx: {<<: *b, c: 2}\n",
    "key twice": "a: 1\nb: 2\na: 3\n",
    "key twice after merge": "base: &b {a: 1}\nx: {<<: *b, c: 2, c: 3}\n",
    "billion laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    ),
    "self alias": "id: &x [1, *x]\n",
    "flow nesting 300": "id: " + "[" * 300 + "]" * 300 + "\n",
    "flow nesting 5000": "id: " + "[" * 5000 + "]" * 5000 + "\n",
    "block nesting 300": "".join(" " * i + "a:\n" for i in range(300)),
    "long integer": f"version: {'9' * 5000}\n",
    "tab indent": "a:\n\tb: 1\n",
    "unclosed": "a: [1, 2\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "python tag": "a: !!python/object/apply:os.system ['true']\n",
    "empty": "",
    "nesting 150 ok": "id: " + "[" * 150 + "]" * 150 + "\n",
}


@needs_libyaml
@pytest.mark.parametrize("name", HOSTILE)
def test_c_and_pure_loaders_agree_on_hostile_documents(monkeypatch, tmp_path, name):
    path = tmp_path / "rules.yml"
    path.write_text(HOSTILE[name], encoding="utf-8")
    pure, fast = _both(monkeypatch, path)
    assert pure[0] == fast[0], (pure, fast)
    if pure[0] == "data":
        assert pure == fast
    for kind in ("nested too deeply", "written twice", "aliases expand", "refers to itself"):
        assert (kind in str(pure[1])) == (kind in str(fast[1])), (pure, fast)


def test_yaml_1_1_scalars_load_as_pyyaml_safe_load_does(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(HOSTILE["yaml 1.1 scalars"], encoding="utf-8")
    assert _yaml.load_yaml(path, RulesError, "rule set") == yaml.safe_load(
        HOSTILE["yaml 1.1 scalars"]
    )


@pytest.mark.parametrize("name", ["flow nesting 300", "block nesting 300", "flow nesting 5000"])
def test_deep_nesting_is_refused_in_one_line(tmp_path, name):
    path = tmp_path / "rules.yml"
    path.write_text(HOSTILE[name], encoding="utf-8")
    with pytest.raises(RulesError, match="nested too deeply") as info:
        _yaml.load_yaml(path, RulesError, "rule set")
    assert "\n" not in str(info.value) and str(path) in str(info.value)


# ------------------------------------------------------------------------- transformers


@pytest.mark.parametrize("code", ["EPSG:4326", "EPSG:4490", "epsg:4326", "4326"])
def test_known_pipelines_are_what_proj_builds(code):
    import numpy as np
    import pyproj

    from zoning import crs

    to_work = pyproj.Transformer.from_crs(code, crs.WORKING_CRS, always_xy=True)
    back = pyproj.Transformer.from_crs(crs.WORKING_CRS, code, always_xy=True)
    assert to_work.definition == crs._TO_WORKING
    assert back.definition == crs._FROM_WORKING
    ours, ours_back = crs.transformer(code, crs.WORKING_CRS), crs.transformer(crs.WORKING_CRS, code)
    lon = np.linspace(119.0, 124.5, 50)
    lat = np.linspace(29.5, 33.0, 50)
    assert np.array_equal(np.array(ours.transform(lon, lat)), np.array(to_work.transform(lon, lat)))
    x, y = to_work.transform(lon, lat)
    assert np.array_equal(np.array(ours_back.transform(x, y)), np.array(back.transform(x, y)))


def test_transformer_is_built_once_and_falls_back_to_proj():
    import pyproj

    from zoning import crs

    assert crs.transformer("EPSG:4326", crs.WORKING_CRS) is crs.transformer(
        crs.WGS84, crs.WORKING_CRS
    )
    gk = crs.transformer("EPSG:4549", crs.WORKING_CRS)  # not a known pipeline: PROJ's choice
    ref = pyproj.Transformer.from_crs("EPSG:4549", crs.WORKING_CRS, always_xy=True)
    assert gk.definition == ref.definition
    assert gk.transform(500000.0, 3450000.0) == ref.transform(500000.0, 3450000.0)
