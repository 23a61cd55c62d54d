"""The output transaction: whatever a command writes appears whole, or not at all.

Two tools cover every command that writes (screen, compare, map, publish, indicators,
rasterize, zonal, demo):

- :func:`atomic_path` for one file: the file is written under a temporary name beside the
  target and renamed over it only when the block succeeds (:func:`write_atomic` for a text or
  bytes already in memory).  The target itself is never a symbolic link, device, FIFO or
  socket (:func:`check_target` refuses them, one line): outputs never write through them.
  Which existing single files a run may replace is :mod:`zoning.io.owned`'s business;
- :class:`OutputFolder` for a folder of outputs, in one of two modes:

  ``planned=[names]`` (a folder shared with the user)
      The run owns only the top-level ``names`` it writes (``sites.csv``, ``report`` ...);
      the user's other files in the folder are never touched.  The temporary folder sits
      inside the target, beside those names.
  ``planned=None`` (a folder that is the output)
      The whole folder is replaced (a published site, a report folder).  The temporary
      folder sits beside it, in its parent.  Files the user added that the previous run's
      marker does not list are carried over into the new folder.

In both modes the folder's *marker* (a JSON file such as ``.zoning-screen.json``) lists every
file the run wrote; a later run replaces or removes only what that list holds, and refuses,
before writing anything, to replace anything else (one line naming the file).  Everything is
first written into the temporary folder; on success the new outputs are swapped into place,
the older ones being moved aside first and put back if a move fails; on failure the temporary
folder and any folder the run created are removed, and the older outputs stay intact.
Temporaries (folders, and the files of :func:`atomic_path`) left by an earlier run that was
killed (its process no longer exists) are removed by the next run into the same place
(:mod:`zoning.io.temporaries`).  :func:`make_folders` and :func:`remove_folders` create an
output's missing folders and take them away again after a failure (for writers of a single
page).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import ZoningError
from .temporaries import remove_stale_temporaries

__all__ = [
    "Marker",
    "OutputError",
    "OutputFolder",
    "atomic_path",
    "check_target",
    "make_folders",
    "remove_folders",
    "remove_stale_temporaries",
    "temporary_folder",
    "write_atomic",
]

log = logging.getLogger(__name__)


class OutputError(ZoningError, OSError):
    """An output that may not be written there: a device, FIFO, socket or symbolic link, or an
    existing file that zoning did not write (without ``overwrite``)."""


def check_target(target: str | Path, error: type[Exception] = OutputError) -> None:
    """Refuse a target that is not a regular file (or absent): outputs never replace nor write
    through device files, FIFOs, sockets or symbolic links.

    Parameters
    ----------
    target : path
        The file about to be written.
    error : exception class
        Raised with a one-line message naming ``target``.

    Raises
    ------
    error
        ``target`` is a symbolic link (even to a regular file), or exists and is not a
        regular file (folders are left to the caller's own message).
    """
    path = Path(target)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError:
        return  # the write itself will say why
    if stat.S_ISLNK(st.st_mode):
        raise error(f"{path}: is a symbolic link; outputs are never written through links")
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return
    kind = (
        "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "a FIFO"
        if stat.S_ISFIFO(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "not a regular file"
    )
    raise error(f"{path}: is {kind}, not a regular file; give the path of a file to write")


@contextmanager
def atomic_path(
    target: str | Path, *, suffix: str | None = None, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds.

    Parameters
    ----------
    target : path
        The file to write; its folder (and parents) are created if needed.
    suffix : str, optional
        Suffix of the temporary file (default: the target's), for writers that choose the
        format from the name.
    mode : int, optional
        The file's permission bits (default: ``0o666`` less the umask, as for any new file).

    Yields
    ------
    Path
        An empty file ``.<name>.zoning.<pid>-<random><suffix>`` beside ``target``, to be
        written by the block.

    Raises
    ------
    OutputError
        ``target`` is a symbolic link, a device, a FIFO or a socket (:func:`check_target`),
        checked before and again just before the rename.

    Notes
    -----
    The file gets its mode before it is renamed over ``target``; on failure (an exception in
    the block) it is deleted and ``target`` is left as it was.  Temporaries of ``target``
    left by a killed run are removed first (:func:`remove_stale_temporaries`).
    """
    target = Path(target)
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.zoning."
    remove_stale_temporaries(target.parent, prefix)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{prefix}{os.getpid()}-", suffix=suffix or target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the usual mode
        os.chmod(tmp_path, 0o666 & ~_umask() if mode is None else mode)
        check_target(target)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def temporary_folder(home: str | Path, tag: str = "zoning") -> Iterator[Path]:
    """Yield a private folder ``.<tag>.<pid>-<random>`` in ``home``, removed afterwards.

    Parameters
    ----------
    home : path
        Where the folder is made (created if needed).
    tag : str
        Word in its name; temporaries of the same tag left by a killed run are removed first.

    Yields
    ------
    Path
        The folder (scratch space for a writer, e.g. a GeoTIFF before it becomes a COG).
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(home, f".{tag}.")
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}.{os.getpid()}-", dir=home))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_atomic(target: str | Path, data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``target`` through :func:`atomic_path` (whole, or not at all).

    Parameters
    ----------
    target : path
        The file (its folder and parents are created if needed).
    data : str or bytes
        Text (written as UTF-8, as :meth:`pathlib.Path.write_text` does) or bytes.
    mode : int, optional
        Permission bits (default: ``0o666`` less the umask).

    Returns
    -------
    Path
        ``target``.
    """
    with atomic_path(target, mode=mode) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return Path(target)


@dataclass(frozen=True)
class Marker:
    """The file a run writes into its output folder, listing the files it wrote.

    Parameters
    ----------
    name : str
        File name, e.g. ``".zoning-screen.json"``.
    writer : str
        What wrote the outputs, for messages: ``"not written by an earlier <writer> in this
        folder"``.
    info : mapping
        Fields written before ``files`` (provenance: tool version, time ...).
    indent : int
        JSON indentation.
    lists_itself : bool
        Whether ``files`` ends with the marker's own name.
    noun : str
        What the output is called in messages (``"the new <noun> has a file named ..."``).
    legacy : frozenset of str
        Top-level names of the layout written before markers listed their files: a marker
        without a list of files (but JSON) holds whatever lies under these names.  Empty: such
        a marker is refused as unreadable.

    Notes
    -----
    The marker is ``{**info, "files": [...]}`` as UTF-8 JSON (``ensure_ascii=False``) with a
    final newline; ``files`` holds POSIX paths relative to the output folder, sorted.
    """

    name: str
    writer: str = "run"
    info: Mapping[str, Any] = field(default_factory=dict)
    indent: int = 1
    lists_itself: bool = False
    noun: str = "output"
    legacy: frozenset[str] = frozenset()

    def read(self, folder: Path, error: type[Exception] = ZoningError) -> set[str] | None:
        """The files listed by the marker in ``folder``, or None when it has none.

        Parameters
        ----------
        folder : Path
            The output folder the marker sits in.
        error : exception class
            Raised (with a one-line message naming the marker) when the marker is unreadable.

        Returns
        -------
        set of str or None
            The listed POSIX paths, relative to ``folder``; None when there is no marker.  A
            JSON marker without a list of files (only with :attr:`legacy`) gives every file
            and symbolic link under the :attr:`legacy` top-level names in ``folder``.

        Raises
        ------
        error
            The marker is a symbolic link or not a regular file, cannot be read or decoded, is
            not JSON, or holds no list of strings ``files`` (and :attr:`legacy` is empty).

        Notes
        -----
        Reads the marker only, except for a legacy marker: then one walk of ``folder``
        (symbolic links not followed).
        """
        path = folder / self.name
        if not path.exists() and not path.is_symlink():
            return None
        try:
            if path.is_symlink() or not path.is_file():
                raise ValueError("not a regular file")
            doc = json.loads(path.read_text(encoding="utf-8"))
            files = doc.get("files") if isinstance(doc, dict) else None
            listed = isinstance(files, list) and all(isinstance(f, str) for f in files)
            if not listed and not self.legacy:
                raise ValueError("no list of files")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise error(
                f"{path}: cannot read the list of earlier outputs ({exc}); "
                "move it away or choose another output folder"
            ) from None
        if not listed:  # written before markers listed files: its layout is ours
            return {f for f in _entries(folder, "") if f.split("/", 1)[0] in self.legacy}
        return set(files)

    def write(self, folder: Path, files: Sequence[str]) -> None:
        """Write the marker into ``folder`` listing ``files`` (sorted; itself last if asked).

        Parameters
        ----------
        folder : Path
            The folder to write the marker into (it must exist).
        files : sequence of str
            POSIX paths relative to ``folder``; with :attr:`lists_itself`, the marker's own
            name is appended after sorting.

        Notes
        -----
        The file is written in place (not through a temporary name): :class:`OutputFolder`
        writes it into the run's temporary folder, which is then swapped into place.
        """
        listed = sorted(files) + ([self.name] if self.lists_itself else [])
        doc = {**self.info, "files": listed}
        text = json.dumps(doc, ensure_ascii=False, indent=self.indent) + "\n"
        (folder / self.name).write_bytes(text.encode("utf-8"))


class OutputFolder:
    """Write a folder of outputs as one transaction (a context manager).

    Parameters
    ----------
    target : path
        The output folder.
    marker : Marker, str or None
        The marker listing what each run wrote (a bare name is ``Marker(name)``).  None (only
        with ``planned=None``): no marker, the target is replaced whatever it holds (or is).
    planned : sequence of str or None
        Top-level names this run writes into ``target`` (the folder is shared with the
        user); None: the whole folder is the output.
    managed : sequence of str
        With ``planned``: every top-level name any run of this writer may write.  Those an
        earlier run wrote that this run does not (another format) are removed on success, so
        the folder never mixes two runs.
    tag : str
        Word in the temporary folders' names (``.<tag>.<pid>-<random>`` inside ``target``,
        or ``.<target name>.<tag>.<pid>-<random>`` beside it).
    error : exception class
        Raised (with a one-line message) when the folder may not be written.

    Raises
    ------
    error
        On entering (or :meth:`check`): a planned name (or part of an earlier output) holds a
        file no earlier run listed; the target is a file (whole-folder mode); it is a folder
        that is not empty and has no marker (whole-folder mode).  On leaving: a file the user
        added sits where the new output writes one (whole-folder mode).
    OSError
        The folder or its parents cannot be created or written.

    Notes
    -----
    ``with OutputFolder(...) as tmp:`` yields the temporary folder; write every output into
    it under its final relative path.  Afterwards :attr:`files` lists what was written and
    :attr:`kept` the user's files carried over, :attr:`removed` the earlier outputs removed
    (also logged as a warning, so the command line says so). Cost: one walk of the earlier
    outputs, and renames only (no copies) except for carried user files, which are hard-linked
    (copied where links are not possible). Stale temporaries are recognised by the process id in
    their name; on Windows they are never removed.
    """

    def __init__(
        self,
        target: str | Path,
        marker: Marker | str | None,
        planned: Sequence[str] | None = None,
        *,
        managed: Sequence[str] = (),
        tag: str = "zoning",
        error: type[Exception] = ZoningError,
    ) -> None:
        self.target = Path(target)
        self.marker = Marker(marker) if isinstance(marker, str) else marker
        self.planned = None if planned is None else list(dict.fromkeys(planned))
        self.managed = [] if planned is None else list(dict.fromkeys([*managed, *planned]))
        self.tag = tag
        self.error = error
        if self.marker is None and self.planned is not None:
            raise ValueError("a folder shared with the user needs a marker")
        self.files: list[str] = []
        self.kept: list[str] = []
        self.removed: list[str] = []
        self._stale: list[str] = []
        self._created: list[Path] = []
        self._tmp: Path | None = None

    # ------------------------------------------------------------------ checks

    @property
    def _whole(self) -> bool:
        return self.planned is None

    @property
    def _temp_home(self) -> Path:
        """Where the temporary folder goes: inside the target, or beside it."""
        return self.target.parent if self._whole else self.target

    @property
    def _temp_prefix(self) -> str:
        return f".{self.target.name}.{self.tag}." if self._whole else f".{self.tag}."

    def check(self) -> list[str]:
        """Check, writing nothing, that the outputs may be written.

        Returns
        -------
        list of str
            Top-level names of an earlier run's outputs that this run removes (shared-folder
            mode; empty otherwise).

        Raises
        ------
        error
            See the class.
        """
        if self._whole:
            self._check_whole()
            return []
        return self._check_names()

    def _check_names(self) -> list[str]:
        out = self.target
        if not out.is_dir():
            return []
        assert self.marker is not None and self.planned is not None
        ours = self.marker.read(out, self.error) or set()
        stale: list[str] = []
        for name in self.managed:
            if not (out / name).exists() and not (out / name).is_symlink():
                continue
            first, any_ours = _foreign(out, name, ours)
            if name not in self.planned and not any_ours:
                continue  # the user's own file, under a name this run does not write
            if first is not None:
                what = (
                    "would be replaced" if name in self.planned else "is inside an earlier output"
                )
                raise self.error(
                    f"{out / first}: not written by an earlier {self.marker.writer} in this "
                    f"folder (not listed in {self.marker.name}) and {what}; move it away or "
                    "choose another output folder"
                )
            if name not in self.planned:
                stale.append(name)
        return stale

    def _check_whole(self) -> None:
        out = self.target
        if self.marker is None:
            return  # replaced whatever it is
        if out.exists() and not out.is_dir():
            raise self.error(f"{out}: exists and is not a folder")
        if not out.is_dir():
            return
        if self.marker.read(out, self.error) is None:
            present = _entries(out, "")
            if present:
                raise self.error(
                    f"{out / present[0]}: the folder {out} is not empty and was not made by an "
                    f"earlier {self.marker.writer} (no {self.marker.name}); give a new or empty "
                    "folder"
                )

    # ------------------------------------------------------------------ transaction

    def __enter__(self) -> Path:
        self._stale = self.check()  # refuses before anything is written
        home = self._temp_home
        self._created = make_folders(home)
        try:
            remove_stale_temporaries(home, self._temp_prefix)
            self._tmp = Path(
                tempfile.mkdtemp(prefix=f"{self._temp_prefix}{os.getpid()}-", dir=home)
            )
        except BaseException:
            remove_folders(self._created)
            raise
        return self._tmp

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tmp = self._tmp
        assert tmp is not None
        try:
            if exc_type is None:
                if self._whole:
                    self._commit_whole(tmp)
                else:
                    self._commit_names(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            remove_folders(self._created)
            raise
        shutil.rmtree(tmp, ignore_errors=True)
        if exc_type is not None:
            remove_folders(self._created)

    def _commit_names(self, tmp: Path) -> None:
        """Write the marker, then move each new output into place (old ones aside first)."""
        assert self.marker is not None and self.planned is not None
        written = sorted(p.name for p in tmp.iterdir())
        unplanned = [n for n in written if n not in self.planned]
        if unplanned:
            raise ValueError(f"{', '.join(unplanned)}: written but not planned")
        # Planned outputs of an earlier run that this run did not write are stale too.
        stale = [*self._stale, *(n for n in self.planned if n not in written)]
        self.files = [f for name in written for f in _entries(tmp / name, name)]
        self.marker.write(tmp, self.files)
        present = [n for n in stale if (self.target / n).exists() or (self.target / n).is_symlink()]
        _swap_names(tmp, self.target, [*written, self.marker.name], stale)
        self.removed = present
        if present:
            # Said, not silent: an output the user may have opened a minute ago is gone.
            log.warning(
                "removed earlier outputs in %s that this run did not write: %s",
                self.target,
                ", ".join(present),
            )

    def _commit_whole(self, tmp: Path) -> None:
        """Write the marker, carry the user's files over, and swap the folder into place."""
        self.files = _entries(tmp, "")
        if self.marker is not None:
            self.marker.write(tmp, self.files)
        _fix_modes(tmp)  # before the user's files join: their modes stay theirs
        if self.marker is not None:
            self.kept = self._carry_user_files(tmp)
        _swap_folder(tmp, self.target, f".{self.target.name}.{self.tag}-old.{os.getpid()}-")

    def _carry_user_files(self, tmp: Path) -> list[str]:
        """Hard-link (or copy) into ``tmp`` the files of the target its marker does not list."""
        assert self.marker is not None
        out = self.target
        ours = self.marker.read(out, self.error) if out.is_dir() else None
        if ours is None:
            return []
        marker = self.marker
        new = {*self.files, marker.name}
        extra = [f for f in _entries(out, "") if f not in ours and f != marker.name]
        clash = [f for f in extra if f in new or any(n.startswith(f + "/") for n in new)]
        if clash:
            names = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
            raise self.error(
                f"{out}: files you added would be overwritten by the new {marker.noun}: "
                f"{names}; move them away and {marker.writer} again"
            )
        for rel in extra:
            dest = tmp / rel
            if dest.parent.exists() and not dest.parent.is_dir():
                raise self.error(
                    f"{out}: {rel} cannot be kept: the new {marker.noun} has a file named "
                    f"{dest.parent.relative_to(tmp).as_posix()}"
                )
            _link_or_copy(out / rel, dest)
        return extra


# ------------------------------------------------------------------ helpers


def _entries(path: Path, rel: str) -> list[str]:
    """The files (and symbolic links) at or under ``path``, as sorted POSIX paths starting
    with ``rel`` (no prefix when ``rel`` is empty); symbolic links are not followed."""
    if path.is_symlink() or not path.is_dir():
        return [rel]
    files: list[str] = []
    for root, subdirs, names in os.walk(path):
        base = Path(rel) / Path(root).relative_to(path)
        files += [(base / d).as_posix() for d in subdirs if (Path(root) / d).is_symlink()]
        files += [(base / n).as_posix() for n in names]
    return sorted(files)


def _foreign(out: Path, name: str, ours: set[str]) -> tuple[str | None, bool]:
    """For the output ``out/name``: its first path not listed in ``ours`` (None if it is all
    ours), and whether any of it is listed."""
    target = out / name
    if target.is_symlink():  # never written by us: we write files and folders only
        return name, False
    files = _entries(target, name)
    # Empty folders hold nothing to lose: only files and links count.
    listed = [f for f in files if f in ours]
    foreign = [f for f in files if f not in ours]
    return (min(foreign) if foreign else None), bool(listed)


def make_folders(folder: str | Path) -> list[Path]:
    """Create ``folder`` and its missing parents.

    Parameters
    ----------
    folder : path

    Returns
    -------
    list of Path
        The folders created, outermost first (for :func:`remove_folders`).

    Raises
    ------
    OSError
        A folder cannot be created (its ``filename`` names it); those created before are
        removed again.
    """
    missing: list[Path] = []
    p = Path(folder)
    while not p.exists():
        if p.is_symlink():  # a dangling link: mkdir would fail with a confusing message
            raise FileNotFoundError(errno.ENOENT, "dangling symbolic link", str(p))
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(p))
    created: list[Path] = []
    try:
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                if not d.is_dir():
                    raise
                continue  # made by someone else meanwhile: not ours to remove
            created.append(d)
    except BaseException:
        remove_folders(created)
        raise
    return created


def remove_folders(created: Sequence[Path], *, contents: bool = False) -> None:
    """Remove the folders :func:`make_folders` created, after a failure.

    Parameters
    ----------
    created : sequence of Path
        As :func:`make_folders` returned them.
    contents : bool
        False: remove them innermost first while they are empty (what is in them stays).
        True: remove the outermost with everything in it (all written by the failed run).
    """
    if contents and created:
        shutil.rmtree(created[0], ignore_errors=True)
        return
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            pass


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _swap_names(tmp: Path, out: Path, names: list[str], stale: Sequence[str]) -> None:
    """Move ``tmp/<name>`` to ``out/<name>`` for every name, all or nothing.

    Existing outputs (``names`` and ``stale``, checked to be ours) are first moved aside into
    ``tmp``; if any move fails, the new files are taken out and the old ones put back.  The
    caller deletes ``tmp`` (and with it the old outputs) afterwards.
    """
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for k, name in enumerate(dict.fromkeys([*names, *stale])):
            target = out / name
            if target.exists() or target.is_symlink():
                old = tmp / f".old-{k}-{name}"
                os.replace(target, old)
                aside.append((old, target))
        for name in names:
            os.replace(tmp / name, out / name)
            placed.append(out / name)
    except BaseException:
        for target in reversed(placed):
            _remove(target)
        for old, target in reversed(aside):
            os.replace(old, target)
        raise


def _swap_folder(tmp: Path, out: Path, old_prefix: str) -> None:
    """Replace the folder ``out`` (absent or ours) by ``tmp``; restore ``out`` on failure."""
    if not out.exists() and not out.is_symlink():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=old_prefix, dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    try:  # the new folder is in place: a leftover old one is only a warning
        _remove(old)
    except OSError as exc:
        log.warning("could not remove the previous %s at %s (%s)", out.name, old, exc)


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _fix_modes(folder: Path) -> None:
    """Give the new folder and everything in it the usual modes (temporary folders and files
    are private by default); symbolic links are not followed."""
    umask = _umask()
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            if not os.path.islink(os.path.join(root, d)):
                os.chmod(os.path.join(root, d), 0o777 & ~umask)
        for f in files:
            if not os.path.islink(os.path.join(root, f)):
                os.chmod(os.path.join(root, f), 0o666 & ~umask)
    os.chmod(folder, 0o777 & ~umask)


def _link_or_copy(src: Path, dest: Path) -> None:
    """Put the user's file ``src`` at ``dest``: a link as a link, else a hard link or copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        os.symlink(os.readlink(src), dest)
        return
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)
