"""Temporaries left by a killed run: recognised by the process id in their name, removed by
the next run into the same place (:func:`remove_stale_temporaries`)."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

__all__ = ["remove_stale_temporaries"]


def _started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where the system says (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(ln.split()[1]) for ln in fh if ln.startswith("btime "))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _process_exists(pid: int, made: float | None = None) -> bool:
    """Whether the process ``pid`` that made a temporary at time ``made`` still runs (always
    True where that is unknown).  A process id is reused: a process that started after the
    temporary was last modified (2 s of slack) did not make it."""
    if os.name == "nt":
        return True  # os.kill would end the process on Windows
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            pass  # exists, owned by someone else
    if made is not None:
        started = _started(pid)
        if started is not None and started > made + 2:
            return False
    return True


def remove_stale_temporaries(folder: str | Path, prefix: str) -> list[Path]:
    """Remove the temporaries ``<prefix><pid>-<random>[suffix]`` in ``folder`` of dead processes.

    Parameters
    ----------
    folder : path
        Where the temporaries were made.
    prefix : str
        Their name up to the process id, e.g. ``".zoning."``, ``".site.publish."`` or
        ``".map.html.zoning."``; the asides of a folder swap (``<prefix minus the final
        dot>-old.<pid>-<random>``) are matched too.

    Returns
    -------
    list of Path
        What was removed (folders, and files such as the temporaries of :func:`atomic_path`).

    Notes
    -----
    Only names of this exact shape whose process no longer exists (or whose process id now
    belongs to a process started after the temporary was last modified) are removed: a run
    that is still writing (or one on another machine sharing the folder, if its process id
    happens to be alive here) is left alone.  Symbolic links are never followed or removed.
    """
    folder = Path(folder)
    stem = re.escape(prefix[:-1] if prefix.endswith(".") else prefix)
    pattern = re.compile(rf"{stem}(?:-old)?\.(\d+)-[A-Za-z0-9_]+(?:\.[A-Za-z0-9_.-]*)?")
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = os.lstat(entry)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or _process_exists(int(m.group(1)), st.st_mtime):
            continue
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(entry, ignore_errors=True)
        elif stat.S_ISREG(st.st_mode):
            entry.unlink(missing_ok=True)
        else:
            continue
        removed.append(entry)
    return removed
