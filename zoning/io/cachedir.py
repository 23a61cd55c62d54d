"""A folder of prepared data: entries of NumPy arrays and a JSON manifest, written atomically.

The index cache (:class:`IndexCache`) keeps what the toolkit derives from a layer file (the
layer as read, the overlay engine's index) so that a new process loads it instead of building
it again.  An entry is a directory holding ``manifest.json`` and one ``.npy`` file per array;
nothing in it is executable: arrays are read with ``np.load(..., allow_pickle=False)`` (memory
mapped), the manifest with :func:`json.loads`.  Each file's size and checksum are in the manifest
and checked before use, so a truncated, damaged, foreign (another format version) or
mismatching entry is ignored with a note and rebuilt.

Entries are written into a temporary directory inside the cache folder and renamed into
place: a reader never sees half an entry, and of two processes writing the same entry at once
one wins and the other's copy is discarded.  A cache folder that cannot be written is used
read-only (with a note), and never fails the work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__

__all__ = [
    "CACHE_ENV",
    "FORMAT_VERSION",
    "IndexCache",
    "default_cache_dir",
    "resolve_index_cache",
]

log = logging.getLogger(__name__)

#: The environment variable naming the cache folder (or ``off``).
CACHE_ENV = "ZONING_INDEX_CACHE"
#: The layout of an entry; bumped whenever what an entry holds or how changes.
FORMAT_VERSION = 2
#: What ``manifest.json`` says it is.
_FORMAT_NAME = "zoning-index-cache"
#: Values of ``--index-cache`` / ``ZONING_INDEX_CACHE`` that turn the cache off.
_OFF = frozenset({"off", "none", "no", "false", "0"})


def default_cache_dir() -> Path:
    """The default cache folder: the user's cache directory, ``indexes`` inside it.

    Returns
    -------
    Path
        ``platformdirs.user_cache_dir("zoning") / "indexes"`` (``~/.cache/zoning/indexes`` on
        Linux); nothing is created.
    """
    import platformdirs

    return Path(platformdirs.user_cache_dir("zoning")) / "indexes"


def resolve_index_cache(
    value: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    background: bool = False,
) -> IndexCache | None:
    """The index cache a command uses: the option, else the environment, else the default.

    Parameters
    ----------
    value : str or path, optional
        ``--index-cache``: a folder, or ``off`` (also ``none``, ``no``, ``false``, ``0``).
    environ : mapping, optional
        Where :data:`CACHE_ENV` is looked up (default :data:`os.environ`).
    background : bool
        Write entries in a background thread (see :class:`IndexCache`).

    Returns
    -------
    IndexCache or None
        None when the cache is off.  Nothing is created or read yet.
    """
    env = os.environ if environ is None else environ
    if value is None or str(value).strip() == "":
        value = env.get(CACHE_ENV) or None
    if value is None:
        return IndexCache(default_cache_dir(), background=background)
    if str(value).strip().lower() in _OFF:
        return None
    return IndexCache(Path(value).expanduser(), background=background)


def _checksum(path: Path) -> str:
    """A cheap checksum of a file's bytes: the sum of its 64-bit words (the tail zero-padded)
    modulo 2**64, and the size, as hex digits.

    Any damage confined to one word (a flipped bit or byte, a changed value) changes the sum,
    and truncation changes the size; one pass over the bytes, memory-bandwidth bound (many
    times faster than CRC-32 or SHA-256 here), which matters for the grids.
    """
    size = os.stat(path).st_size
    if size == 0:
        return "0" * 16
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    whole = size // 8 * 8
    words = raw[:whole].view(np.uint64)
    tail = np.zeros(8, dtype=np.uint8)
    tail[: size - whole] = raw[whole:]
    last = tail.view(np.uint64)[0]
    with np.errstate(over="ignore"):
        total = np.uint64(words.sum(dtype=np.uint64) + last)
    del raw, words
    return f"{int(total):016x}-{size:x}"


class IndexCache:
    """A cache folder of prepared-data entries (see the module notes).

    Parameters
    ----------
    path : path
        The folder; created on the first write.
    background : bool, keyword-only
        Write entries in one background thread (files and checksums; the arrays are made by
        the caller), overlapping the disk writes with the work that follows; the process waits
        for it before exiting (a non-daemon thread), :meth:`flush` waits for it earlier.

    Attributes
    ----------
    path : Path
    notes : list of str
        What went wrong with the folder itself (it cannot be written); each said once.
    digests : dict
        File hashes remembered by :func:`zoning.io.layercache.layer_store` (path, size and
        modification time -> SHA-256), so one process hashes a file once.

    Notes
    -----
    Keys are built with :meth:`key` from plain JSON data and always include
    :data:`FORMAT_VERSION` and the toolkit's version.  :meth:`open` checks an entry's manifest
    and its files' sizes; :meth:`load` (before any array is used) a checksum of every file's
    bytes (:func:`_checksum`) and memory-maps the arrays.  Safe to
    share between processes; an instance is not meant to be shared between threads that write.
    """

    def __init__(self, path: str | os.PathLike, *, background: bool = False):
        self.path = Path(path)
        self.background = background
        self.notes: list[str] = []
        self.digests: dict[tuple, str | None] = {}
        self._writable: bool | None = None
        self._lock = threading.Lock()
        self._pending: deque[tuple] = deque()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict:
        """What a copy for another process holds (dask sends layer sets to its workers): the
        folder and the settings, not the writer thread, its queue or its lock."""
        self.flush()
        return {"path": self.path, "background": self.background, "notes": list(self.notes)}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], background=state["background"])
        self.notes.extend(state["notes"])

    def submit(
        self, key: str, part: str, arrays: Mapping[str, np.ndarray], meta: dict | None = None
    ) -> bool:
        """:meth:`write`, in the background thread when :attr:`background` is set.

        Parameters
        ----------
        key, part, arrays, meta
            As :meth:`write`; the arrays must not change afterwards.

        Returns
        -------
        bool
            As :meth:`write`; in the background, whether the folder can be written.
        """
        if not self.background:
            return self.write(key, part, arrays, meta)
        if not self.writable():
            return False
        with self._lock:
            self._pending.append((key, part, arrays, meta))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="zoning-index-cache", daemon=False
                )
                self._thread.start()
        return True

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                job = self._pending.popleft()
            self.write(*job)

    def flush(self) -> None:
        """Wait until every entry submitted is written.

        Returns
        -------
        None
        """
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()

    def __repr__(self) -> str:
        return f"IndexCache({str(self.path)!r})"

    @staticmethod
    def key(**parts: Any) -> str:
        """The key of an entry: a SHA-256 over the parts, the format and the toolkit version.

        Parameters
        ----------
        **parts
            Plain JSON data (anything :func:`json.dumps` takes, with ``default=str``).

        Returns
        -------
        str
            64 hex digits.
        """
        data = {"format": FORMAT_VERSION, "zoning": __version__, **parts}
        text = json.dumps(data, sort_keys=True, ensure_ascii=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def entry_dir(self, key: str, part: str) -> Path:
        """The directory of one entry (it may not exist).

        Parameters
        ----------
        key : str
            From :meth:`key`.
        part : str
            Which piece of the prepared data (``"layer"``, ``"grid"`` ...).

        Returns
        -------
        Path
        """
        return self.path / f"{key[:40]}-{part}"

    # ------------------------------------------------------------------ reading

    def read(
        self, key: str, part: str, notes: list[str] | None = None
    ) -> tuple[dict[str, np.ndarray], dict] | None:
        """One entry's arrays (memory-mapped, read-only) and metadata, or None.

        Parameters
        ----------
        key, part : str
            As :meth:`entry_dir`.
        notes : list of str, optional
            Where to say why an existing entry was ignored (also logged).

        Returns
        -------
        (dict of arrays, dict) or None
            None when there is no entry, or it is not a valid entry of this key and format.
        """
        found = self.open(key, part, notes)
        return None if found is None else self.load(found, notes)

    def open(self, key: str, part: str, notes: list[str] | None = None) -> dict | None:
        """The checked manifest of one entry (its files' sizes checked too), or None.

        Parameters
        ----------
        key, part : str
            As :meth:`entry_dir`.
        notes : list of str, optional
            Where to say why an existing entry was ignored (also logged).

        Returns
        -------
        dict or None
            What :meth:`load` takes; None when there is no entry, or it is not a valid entry
            of this key and format (a truncated file is caught here).  The files' checksums
            are checked by :meth:`load`, before any array is used.
        """
        where = self.entry_dir(key, part)
        if not where.exists():
            return None
        try:
            return self._open(where, key, part)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._ignore(where, exc, notes)
            return None

    def load(self, found: dict, notes: list[str] | None = None):
        """The arrays (memory-mapped, read-only) and metadata of an entry :meth:`open` found.

        Parameters
        ----------
        found : dict
            From :meth:`open`.
        notes : list of str, optional
            Where to say why the entry was ignored (also logged).

        Returns
        -------
        (dict of arrays, dict) or None
            None when a file fails its checksum or is not the array the manifest describes
            (the entry is then removed, to be written again).
        """
        where, manifest = found["where"], found["manifest"]
        try:
            return self._arrays(where, manifest), manifest.get("meta", {})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._ignore(where, exc, notes)
            return None

    def _ignore(self, where: Path, exc: Exception, notes: list[str] | None) -> None:
        why = " ".join(str(exc).split()) or type(exc).__name__
        note = f"index cache entry {where.name} ignored ({why}); rebuilt"
        log.warning("%s", note)
        self.discard(where)
        if notes is not None:
            notes.append(note)

    def _open(self, where: Path, key: str, part: str) -> dict:
        if not where.is_dir():
            raise ValueError("not an entry directory")
        try:
            manifest = json.loads((where / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError("no manifest.json") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT_NAME:
            raise ValueError("not an index cache entry")
        if manifest.get("format_version") != FORMAT_VERSION or manifest.get("zoning") != (
            __version__
        ):
            raise ValueError(
                f"format {manifest.get('format_version')} of zoning {manifest.get('zoning')}, "
                f"not format {FORMAT_VERSION} of zoning {__version__}"
            )
        if manifest.get("digest") != _digest(manifest):
            raise ValueError("manifest.json fails its checksum")
        if manifest.get("key") != key or manifest.get("part") != part:
            raise ValueError("key mismatch")
        for name, info in manifest["files"].items():
            size = (where / f"{name}.npy").stat().st_size
            if size != info["size"]:
                raise ValueError(f"{name}.npy has {size} bytes, not {info['size']}")
        return {"where": where, "manifest": manifest}

    @staticmethod
    def _arrays(where: Path, manifest: dict) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for name, info in manifest["files"].items():
            path = where / f"{name}.npy"
            size = path.stat().st_size
            if size != info["size"]:
                raise ValueError(f"{name}.npy has {size} bytes, not {info['size']}")
            if _checksum(path) != info["checksum"]:
                raise ValueError(f"{name}.npy fails its checksum")
            arr = np.load(path, mmap_mode="r", allow_pickle=False) if size else None
            if arr is None or arr.dtype.str != info["dtype"] or list(arr.shape) != info["shape"]:
                raise ValueError(f"{name}.npy is not the array the manifest describes")
            arrays[name] = arr
        return arrays

    # ------------------------------------------------------------------ writing

    def writable(self) -> bool:
        """Whether entries can be written (the folder is created if needed; checked once).

        Returns
        -------
        bool
            False, with a note in :attr:`notes`, when the folder cannot be created or written.
        """
        if self._writable is None:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                probe = self.path / f".probe-{uuid.uuid4().hex}"
                probe.mkdir()
                probe.rmdir()
                self._writable = True
            except OSError as exc:
                self._writable = False
                note = (
                    f"index cache {self.path} cannot be written ({exc.strerror or exc}): "
                    "layers are indexed in memory only"
                )
                log.warning("%s", note)
                self.notes.append(note)
        return self._writable

    def write(
        self, key: str, part: str, arrays: Mapping[str, np.ndarray], meta: dict | None = None
    ) -> bool:
        """Write one entry atomically (a temporary directory renamed into place).

        Parameters
        ----------
        key, part : str
            As :meth:`entry_dir`.
        arrays : mapping of str to array
            Plain numeric arrays (object arrays are refused: they would need pickle).
        meta : dict, optional
            Plain JSON data kept in the manifest.

        Returns
        -------
        bool
            True when the entry is in place (written here or by another process meanwhile);
            False when the folder cannot be written (see :meth:`writable`) or the write failed
            (logged).
        """
        if not self.writable():
            return False
        final = self.entry_dir(key, part)
        tmp = self.path / f".tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            files = {}
            for name, arr in arrays.items():
                arr = np.ascontiguousarray(arr)
                if arr.dtype.hasobject:
                    raise TypeError(f"array {name} holds Python objects")
                path = tmp / f"{name}.npy"
                np.save(path, arr, allow_pickle=False)
                files[name] = {
                    "size": path.stat().st_size,
                    "checksum": _checksum(path),
                    "dtype": arr.dtype.str,
                    "shape": list(arr.shape),
                }
            manifest = {
                "format": _FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "zoning": __version__,
                "key": key,
                "part": part,
                "meta": meta or {},
                "files": files,
            }
            manifest["digest"] = _digest(manifest)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            self._place(tmp, final)
            return True
        except (OSError, TypeError, ValueError) as exc:
            log.warning("index cache entry %s not written: %s", final.name, exc)
            return False
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _place(self, tmp: Path, final: Path) -> None:
        """Rename ``tmp`` to ``final``; when another writer placed the entry meanwhile, theirs
        is kept (entries of one key hold the same data) and ``tmp`` is discarded."""
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.exists():
                raise

    def discard(self, where: Path) -> None:
        """Remove an entry found damaged, foreign or wrong, so that it can be written again.

        Parameters
        ----------
        where : Path
            The entry (a directory, or whatever is in its place); moved aside first, so a
            reader never sees it half removed.  Nothing happens when the folder is read-only.
        """
        trash = self.path / f".trash-{uuid.uuid4().hex}"
        try:
            os.rename(where, trash)
        except OSError:
            return
        if trash.is_dir() and not trash.is_symlink():
            shutil.rmtree(trash, ignore_errors=True)
        else:
            trash.unlink(missing_ok=True)

    # ------------------------------------------------------------------ housekeeping

    def entries(self) -> list[dict]:
        """The entries in the folder (valid or not): name, part, bytes.

        Returns
        -------
        list of dict
            ``{"name", "part", "bytes"}`` per entry directory, by name.
        """
        if not self.path.is_dir():
            return []
        out = []
        for d in sorted(self.path.iterdir()):
            if d.name.startswith(".") or not d.is_dir():
                continue
            size = sum(f.stat().st_size for f in d.iterdir() if f.is_file())
            out.append({"name": d.name, "part": d.name.partition("-")[2], "bytes": size})
        return out

    def clear(self) -> int:
        """Remove every entry (and leftover temporary directories) from the folder.

        Returns
        -------
        int
            The number of entries removed.  Files that are not entries are left alone.
        """
        if not self.path.is_dir():
            return 0
        n = 0
        for d in self.path.iterdir():
            if not d.is_dir() or d.is_symlink():
                continue
            if d.name.startswith((".tmp-", ".trash-")) or (d / "manifest.json").is_file():
                shutil.rmtree(d, ignore_errors=True)
                n += not d.name.startswith(".")
        return n


def _digest(manifest: dict) -> str:
    """SHA-256 of the manifest's content (without its ``digest``), canonical JSON."""
    body = {k: v for k, v in manifest.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
