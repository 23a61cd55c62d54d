"""The output transaction (zoning.io.outputs): real files in tmp_path (one test fails a rename).

Covers both modes of OutputFolder (a folder shared with the user, where the run owns only the
names it writes; a folder that is the output, replaced whole) and atomic_path: outputs appear
whole or not at all, the user's files are never replaced, an older output survives a failure,
and temporaries left by a killed run are removed by the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoning.errors import PublishError, ZoningError
from zoning.io import OutputFolder, atomic_path
from zoning.io.outputs import (
    Marker,
    make_folders,
    remove_folders,
    remove_stale_temporaries,
    write_atomic,
)

MARKER = ".test-marker.json"
NAMES = ["a.csv", "report"]


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its text (hidden ones included)."""
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_run(out: Path, text: str, names=NAMES, **kw) -> OutputFolder:
    """One run of a writer of ``names`` into ``out`` (a shared folder)."""
    folder = OutputFolder(out, Marker(MARKER, writer="test run"), names, **kw)
    with folder as tmp:
        for name in names:
            if name == "report":
                (tmp / "report" / "pages").mkdir(parents=True)
                (tmp / "report" / "index.html").write_text(text, encoding="utf-8")
                (tmp / "report" / "pages" / "1.html").write_text(text, encoding="utf-8")
            else:
                (tmp / name).write_text(text, encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- shared folder


def test_first_run_writes_outputs_and_marker(tmp_path):
    out = tmp_path / "new" / "out"
    folder = write_run(out, "one")
    assert tree(out) == {
        "a.csv": "one",
        "report/index.html": "one",
        "report/pages/1.html": "one",
        MARKER: json.dumps(
            {"files": ["a.csv", "report/index.html", "report/pages/1.html"]}, indent=1
        )
        + "\n",
    }
    assert folder.files == ["a.csv", "report/index.html", "report/pages/1.html"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]  # no temporary


def test_second_run_replaces_its_outputs_and_keeps_user_files(tmp_path):
    out = tmp_path / "out"
    write_run(out, "one")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    write_run(out, "two")
    files = tree(out)
    assert files["a.csv"] == "two" and files["report/pages/1.html"] == "two"
    assert files["notes.txt"] == "mine"


def test_marker_info_comes_before_files(tmp_path):
    marker = Marker(MARKER, info={"written_by": "zoning", "note": "x"}, indent=2)
    with OutputFolder(tmp_path, marker, ["a.csv"]) as tmp:
        (tmp / "a.csv").write_text("1", encoding="utf-8")
    doc = (tmp_path / MARKER).read_text(encoding="utf-8")
    expected = {"written_by": "zoning", "note": "x", "files": ["a.csv"]}
    assert doc == json.dumps(expected, indent=2) + "\n"


def test_failure_mid_write_leaves_old_output_intact(tmp_path):
    out = tmp_path / "out"
    write_run(out, "one")
    before = tree(out)
    with pytest.raises(RuntimeError, match="disk full"):
        with OutputFolder(out, MARKER, NAMES) as tmp:
            (tmp / "a.csv").write_text("two", encoding="utf-8")
            raise RuntimeError("disk full")
    assert tree(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *NAMES])


def test_failure_removes_folders_it_created(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError):
        with OutputFolder(out, MARKER, NAMES):
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_user_file_under_a_planned_name_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("mine", encoding="utf-8")
    folder = OutputFolder(tmp_path, Marker(MARKER, writer="screening"), NAMES)
    with pytest.raises(ZoningError) as info:
        with folder:
            pytest.fail("the block must not run")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'a.csv'}: not written by an earlier screening")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temporary left


def test_user_file_inside_an_earlier_output_is_refused(tmp_path):
    write_run(tmp_path, "one")
    (tmp_path / "report" / "extra.html").write_text("mine", encoding="utf-8")
    with pytest.raises(ZoningError, match=r"report/extra\.html: not written by an earlier"):
        OutputFolder(tmp_path, MARKER, NAMES).check()


def test_stale_output_of_another_format_is_removed(tmp_path):
    write_run(tmp_path, "one", names=["a.csv", "b.json"])
    (tmp_path / "c.txt").write_text("mine", encoding="utf-8")  # never ours: left alone
    managed = ["a.csv", "b.json", "c.txt"]
    folder = OutputFolder(tmp_path, MARKER, ["a.csv"], managed=managed)
    assert folder.check() == ["b.json"]
    with folder as tmp:
        (tmp / "a.csv").write_text("two", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, "a.csv", "c.txt"])


def test_unreadable_marker_is_refused(tmp_path):
    (tmp_path / MARKER).write_text("not json", encoding="utf-8")
    with pytest.raises(ZoningError, match="cannot read the list of earlier outputs"):
        OutputFolder(tmp_path, MARKER, NAMES).check()


def test_stale_temporary_of_an_earlier_run_is_removed(tmp_path):
    stale = tmp_path / f".zoning.{dead_pid()}-abc123"
    (stale / "report").mkdir(parents=True)
    (stale / "a.csv").write_text("half", encoding="utf-8")
    live = tmp_path / f".zoning.{os.getpid()}-def456"  # a run still going: left alone
    live.mkdir()
    write_run(tmp_path, "one")
    assert not stale.exists()
    assert live.is_dir()


def test_remove_stale_temporaries_matches_only_our_names(tmp_path):
    pid = dead_pid()
    ours = [tmp_path / f".site.publish.{pid}-x1", tmp_path / f".site.publish-old.{pid}-x2"]
    others = [tmp_path / f".site.publish.{pid}", tmp_path / "site", tmp_path / f".other.{pid}-x"]
    for p in [*ours, *others]:
        p.mkdir()
    assert sorted(remove_stale_temporaries(tmp_path, ".site.publish.")) == sorted(ours)
    assert all(p.exists() for p in others)


def test_unplanned_name_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="not planned"):
        with OutputFolder(tmp_path, MARKER, ["a.csv"]) as tmp:
            (tmp / "b.csv").write_text("x", encoding="utf-8")
    assert list(tmp_path.iterdir()) == []


def test_failed_swap_puts_the_old_outputs_back(tmp_path, monkeypatch):
    write_run(tmp_path, "one")
    before = tree(tmp_path)
    real_replace = os.replace
    new_report = []

    def replace(src, dst):
        # The new report (the second output) cannot be moved into place; the rest can.
        if Path(dst) == tmp_path / "report" and Path(src).name == "report":
            new_report.append(src)
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr("zoning.io.outputs.os.replace", replace)
    with pytest.raises(OSError, match="No space left"):
        with OutputFolder(tmp_path, MARKER, NAMES) as tmp:
            (tmp / "a.csv").write_text("two", encoding="utf-8")
            (tmp / "report").mkdir()
            (tmp / "report" / "index.html").write_text("two", encoding="utf-8")
    assert new_report
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, *NAMES])


# --------------------------------------------------------------------------- whole folder


def write_site(out: Path, pages: dict[str, str], **kw) -> OutputFolder:
    marker = Marker(".site.json", writer="publish", lists_itself=True, indent=2)
    folder = OutputFolder(out, marker, None, tag="publish", **kw)
    with folder as tmp:
        for rel, text in pages.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
    return folder


def test_whole_folder_is_replaced_and_user_files_are_carried(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"index.html": "one", "old/page.html": "one"})
    doc = json.loads((out / ".site.json").read_text(encoding="utf-8"))
    assert doc == {"files": ["index.html", "old/page.html", ".site.json"]}
    (out / "CNAME").write_text("example.org", encoding="utf-8")
    folder = write_site(out, {"index.html": "two"})
    assert tree(out) == {
        "index.html": "two",
        "CNAME": "example.org",
        ".site.json": (out / ".site.json").read_text(encoding="utf-8"),
    }
    assert folder.kept == ["CNAME"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary, no old site
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not the private mode of mkdtemp


def test_whole_folder_user_file_clashing_with_new_output_is_refused(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"index.html": "one"})
    (out / "about.html").write_text("mine", encoding="utf-8")
    with pytest.raises(PublishError, match=r"overwritten by the new output: about\.html; move"):
        write_site(out, {"index.html": "two", "about.html": "ours"}, error=PublishError)
    assert tree(out)["about.html"] == "mine" and tree(out)["index.html"] == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_whole_folder_not_ours_is_refused(tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "thesis.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(ZoningError, match=r"thesis\.docx: the folder .* is not empty"):
        write_site(out, {"index.html": "one"})
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ZoningError, match="exists and is not a folder"):
        write_site(tmp_path / "file", {"index.html": "one"})


def test_whole_folder_failure_keeps_old_folder_and_removes_stale_temporaries(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"index.html": "one"})
    before = tree(out)
    stale = tmp_path / f".site.publish.{dead_pid()}-zz9"
    stale.mkdir()
    with pytest.raises(RuntimeError):
        with OutputFolder(out, Marker(".site.json"), None, tag="publish") as tmp:
            (tmp / "index.html").write_text("two", encoding="utf-8")
            raise RuntimeError("template error")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_whole_folder_without_marker_is_replaced(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "old.html").write_text("old", encoding="utf-8")
    with OutputFolder(out, None, tag="report") as tmp:
        (tmp / "index.html").write_text("new", encoding="utf-8")
    assert tree(out) == {"index.html": "new"}


def test_shared_folder_needs_a_marker(tmp_path):
    with pytest.raises(ValueError, match="needs a marker"):
        OutputFolder(tmp_path, None, ["a.csv"])


# --------------------------------------------------------------------------- single files


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".table.csv.")
        tmp.write_text("one", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "one"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "one"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


def test_atomic_path_mode(tmp_path):
    with atomic_path(tmp_path / "a.js", mode=0o640) as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert (tmp_path / "a.js").stat().st_mode & 0o777 == 0o640


# --------------------------------------------------------------------------- more whole folder


def test_whole_folder_gives_usual_modes_but_keeps_the_users(tmp_path):
    out = tmp_path / "site"
    write_site(out, {"index.html": "one"})
    (out / "run.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    (out / "run.sh").chmod(0o700)

    def private(tmp: Path) -> None:
        (tmp / "sub").mkdir(mode=0o700)
        fd = os.open(tmp / "sub" / "page.html", os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)

    with OutputFolder(out, Marker(".site.json", lists_itself=True), tag="publish") as tmp:
        private(tmp)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "sub").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (out / "sub" / "page.html").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (out / "run.sh").stat().st_mode & 0o777 == 0o700


def test_legacy_marker_owns_its_layout(tmp_path):
    out = tmp_path / "site"
    (out / "pages").mkdir(parents=True)
    (out / "pages" / "old.html").write_text("old", encoding="utf-8")
    (out / "CNAME").write_text("mine", encoding="utf-8")
    (out / ".site.json").write_text("{}", encoding="utf-8")  # no list of files
    marker = Marker(".site.json", lists_itself=True, legacy=frozenset({".site.json", "pages"}))
    with OutputFolder(out, marker, tag="publish") as tmp:
        (tmp / "index.html").write_text("new", encoding="utf-8")
    assert sorted(tree(out)) == [".site.json", "CNAME", "index.html"]
    (out / ".site.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ZoningError, match="no list of files"):  # no legacy layout: refused
        OutputFolder(out, Marker(".site.json"), tag="publish").check()


def test_whole_folder_without_marker_replaces_a_file(tmp_path):
    (tmp_path / "report").write_text("a file", encoding="utf-8")
    with OutputFolder(tmp_path / "report", None, tag="partial") as tmp:
        (tmp / "index.html").write_text("new", encoding="utf-8")
    assert tree(tmp_path) == {"report/index.html": "new"}


def test_make_folders_and_remove_folders(tmp_path):
    made = make_folders(tmp_path / "a" / "b")
    assert made == [tmp_path / "a", tmp_path / "a" / "b"]
    (tmp_path / "a" / "b" / "f.txt").write_text("x", encoding="utf-8")
    remove_folders(made)  # not empty: left
    assert (tmp_path / "a" / "b" / "f.txt").exists()
    remove_folders(made, contents=True)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        make_folders(tmp_path / "file" / "sub")


def test_write_atomic_text_and_bytes(tmp_path):
    assert write_atomic(tmp_path / "a" / "t.txt", "中文\n") == tmp_path / "a" / "t.txt"
    assert (tmp_path / "a" / "t.txt").read_bytes() == "中文\n".encode()
    write_atomic(tmp_path / "b.bin", b"\x00\x01", mode=0o600)
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o600
