"""The command line: exit codes, one-line errors, no tracebacks, no partial output."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import REPO, write_catalog
from zoning.cli import main
from zoning.cli.compare import compare_cmd
from zoning.cli.screen import screen_cmd


def run(*args):
    return CliRunner().invoke(main, list(args))


def run_process(*args, cwd=None):
    """The real console entry point in a subprocess, to see exactly what a user sees."""
    return subprocess.run(
        [sys.executable, "-m", "zoning", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def assert_input_error(proc, *words):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_version_and_help():
    assert run("--version").exit_code == 0
    assert "layers" in run("--help").output


def test_layers_list_demo():
    res = run("layers", "list")
    assert res.exit_code == 0 and "DEMONSTRATION" in res.output and "red_line" in res.output


def test_missing_catalog(tmp_path):
    assert_input_error(
        run_process("layers", "check", "--catalog", str(tmp_path / "no.yml")), "catalog not found"
    )


def test_missing_layer_file(tmp_path):
    cat = write_catalog(
        tmp_path / "c.yml", [{"id": "rl", "kind": "red_line", "source": "gone.gpkg"}]
    )
    assert_input_error(run_process("layers", "check", "--catalog", str(cat)), "rl", "not found")


def test_unreadable_layer_file(tmp_path):
    (tmp_path / "junk.gpkg").write_bytes(b"\x00garbage" * 50)
    cat = write_catalog(
        tmp_path / "c.yml", [{"id": "rl", "kind": "red_line", "source": "junk.gpkg"}]
    )
    assert_input_error(run_process("layers", "check", "--catalog", str(cat)), "rl", "junk.gpkg")


def test_unknown_kind_in_catalog(tmp_path):
    cat = write_catalog(tmp_path / "c.yml", [{"id": "rl", "kind": "redline", "source": "x.gpkg"}])
    assert_input_error(run_process("layers", "check", "--catalog", str(cat)), "unknown kind")


def test_wrong_field_mapping(tmp_path, square_gpkg):
    cat = write_catalog(
        tmp_path / "c.yml",
        [{"id": "rl", "kind": "red_line", "source": square_gpkg.name, "fields": {"id": "nope"}}],
    )
    assert_input_error(run_process("layers", "check", "--catalog", str(cat)), "fields.id", "nope")


@pytest.mark.parametrize("spec", ["red_line", "bogus=x.gpkg", "red_line="])
def test_bad_layer_option(spec):
    assert_input_error(run_process("layers", "list", "--layer", spec), "--layer")


def test_check_on_own_catalog_exit_codes(tmp_path, square_gpkg):
    ok = write_catalog(
        tmp_path / "ok.yml", [{"id": "rl", "kind": "red_line", "source": square_gpkg.name}]
    )
    res = run("layers", "check", "--catalog", str(ok), "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["ok"] and data["layers"][0]["features"] == 1
    bad = write_catalog(
        tmp_path / "bad.yml",
        [
            {
                "id": "rl",
                "kind": "red_line",
                "source": square_gpkg.name,
                "official_total_km2": 5000.0,
            }
        ],
    )
    res = run("layers", "check", "--catalog", str(bad))
    assert res.exit_code == 1 and "FAIL" in res.output


def test_demo_unwritable_output_leaves_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_process("demo", "--out", str(blocker / "out"))
    assert_input_error(proc, str(blocker))
    assert blocker.read_text() == "not a folder"


def test_internal_error_is_one_line_exit_2(monkeypatch):
    import zoning.cli.layers as layers_cmd

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(layers_cmd, "check_layers", boom)
    res = CliRunner().invoke(main, ["layers", "check"])
    assert res.exit_code == 2
    assert "internal error: RuntimeError: unexpected" in res.output
    assert "Traceback" not in res.output


def test_broken_pipe_is_quiet(capsys):
    """``zoning ... | head``: the reader went away; no error line, the shell's SIGPIPE code."""
    from zoning.cli._common import handle_errors

    @handle_errors
    def talk():
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(SystemExit) as exc:
        talk()
    assert exc.value.code == 141
    assert "error" not in capsys.readouterr().err


# --------------------------------------------------------------------------- README commands


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block of a Markdown text."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.M | re.S)


def _screen_commands(text: str) -> list[list[str]]:
    """The concrete ``zoning screen`` / ``zoning compare`` commands of the code blocks (not the
    synopsis lines, which hold ``[...]``), split as a shell would, comments dropped."""
    import shlex

    out = []
    for _, body in _fenced_blocks(text):
        for line in body.splitlines():
            if re.match(r"^zoning (screen|compare)\b", line) and "[" not in line:
                out.append(shlex.split(line, comments=True))
    return out


def test_readme_has_two_setup_commands_and_text_blocks():
    """The README's only shell block is the Quick start's two set-up commands; command
    examples are ``text`` blocks (a reader copies the two set-up lines, nothing else)."""
    blocks = _fenced_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    shells = [body for lang, body in blocks if lang in ("sh", "bash", "shell", "console")]
    assert shells == ["make demo\nmake test\n"]
    assert all(lang in ("sh", "text", "python", "yaml") for lang, _ in blocks), blocks


@pytest.mark.parametrize("readme", ["README.md", "layers/examples/README.md"])
def test_readme_screen_commands_parse_and_declare_their_crs(readme):
    """Every documented screen/compare command parses, and gives --crs wherever its sites have
    no CRS of their own (CSV, --point, --wkt): without it the command is an input error."""
    commands = _screen_commands((REPO / readme).read_text(encoding="utf-8"))
    assert commands, readme
    for args in commands:
        cmd = screen_cmd if args[1] == "screen" else compare_cmd
        cmd.make_context(args[1], args[2:])  # unknown options or bad values raise
        needs_crs = any(a in ("--point", "--wkt") or a.endswith(".csv") for a in args)
        assert not needs_crs or "--crs" in args, " ".join(args)
