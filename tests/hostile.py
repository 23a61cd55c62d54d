"""The hostile corpus (``tests/data/hostile/``) and the builders of its large members.

Builders only (no fixtures, no tests). Small tricks are committed files under
:data:`CORPUS` (see its ``README.md``); tricks that need a loopback port are templates
(``*.tmpl`` with ``{PORT}``) filled in by :func:`materialise`; large ones (a zip bomb, a
GeoTIFF header declaring 10^6 x 10^6 cells, a JSON document nested 100,000 deep) are built
here at test time and never committed.

* :class:`Listener`: a loopback HTTP server that counts the connections it accepts;
* :func:`materialise`: a copy of the corpus in a folder, templates filled in;
* :func:`zip_bomb`, :func:`huge_header_tif`, :func:`deep_screening`: the large tricks;
* :func:`zoning_cli`: run ``python -m zoning`` in a subprocess, as a planner would;
* :func:`tree_bytes`: every file of a folder, for "nothing changed" and "no canary" checks.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

#: The committed corpus.
CORPUS = Path(__file__).resolve().parent / "data" / "hostile"
#: The marker in ``canary.txt``: it must never appear in anything zoning writes or prints.
CANARY = "CANARY-hostile-corpus-5e1d0b"
#: The repository root (what ``python -m zoning`` must import).
REPO = Path(__file__).resolve().parent.parent


class Listener:
    """A loopback HTTP server answering 404 to everything, counting accepted connections.

    Attributes
    ----------
    port : int
        The port it listens on (127.0.0.1).
    count : int
        Connections accepted so far.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            try:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            conn.close()

    def url(self, name: str) -> str:
        """``http://127.0.0.1:PORT/name``: an address on this listener."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        """Stop listening.

        Returns
        -------
        None
        """
        self.sock.close()


def materialise(folder: Path, port: int) -> Path:
    """Copy the corpus into ``folder``, each ``NAME.tmpl`` written as ``NAME`` for ``port``.

    Parameters
    ----------
    folder : Path
        Where to copy (created).
    port : int
        The loopback port that replaces ``{PORT}`` in the templates.

    Returns
    -------
    Path
        ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for src in CORPUS.iterdir():
        if src.name.endswith(".tmpl"):
            text = src.read_text(encoding="utf-8").replace("{PORT}", str(port))
            (folder / src.name[: -len(".tmpl")]).write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(src, folder / src.name)
    return folder


def zip_bomb(path: Path, size: int = 96 << 20) -> Path:
    """A zipped Shapefile whose ``.dbf`` expands to ``size`` bytes of zeros (< 1 MB zipped).

    Parameters
    ----------
    path : Path
        The zip to write.
    size : int
        Uncompressed size of the ``.dbf`` (the ratio limit applies above 64 MiB).

    Returns
    -------
    Path
        ``path``.
    """
    width = 20
    head = (
        bytes([3, 124, 1, 1])
        + (size // (width + 1)).to_bytes(4, "little")
        + (65).to_bytes(2, "little")
        + (width + 1).to_bytes(2, "little")
        + b"\x00" * 20
    )
    field = b"NAME".ljust(11, b"\x00") + b"C" + b"\x00" * 4 + bytes([width, 0]) + b"\x00" * 14
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.shp", b"")
        zf.writestr("x.shx", b"")
        with zf.open("x.dbf", "w", force_zip64=True) as fh:
            fh.write(head + field + b"\x0d")
            chunk = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
    return path


def huge_header_tif(path: Path, side: int = 10**6) -> Path:
    """A GeoTIFF whose header declares ``side`` x ``side`` cells, written sparse (a few kB).

    Parameters
    ----------
    path : Path
        The ``.tif`` to write.
    side : int
        Width and height in cells.

    Returns
    -------
    Path
        ``path``.
    """
    import rasterio
    from affine import Affine

    profile = dict(
        driver="GTiff", width=side, height=side, count=1, dtype="uint8", crs="EPSG:4326",
        transform=Affine(1e-6, 0, 121.0, 0, -1e-6, 31.5), tiled=True, blockxsize=65536,
        blockysize=65536, compress="deflate", SPARSE_OK=True, BIGTIFF="YES",
    )  # fmt: skip
    with rasterio.open(path, "w", **profile):
        pass
    return path


def deep_screening(folder: Path, depth: int = 100_000) -> Path:
    """A screening folder whose ``screening.json`` is ``depth`` nested arrays (2 x depth bytes).

    Parameters
    ----------
    folder : Path
        The folder to create (with an empty ``screening.gpkg`` beside the JSON).
    depth : int
        Nesting depth.

    Returns
    -------
    Path
        ``folder``.
    """
    folder.mkdir(parents=True)
    (folder / "screening.gpkg").write_bytes(b"")
    (folder / "screening.json").write_text("[" * depth + "]" * depth, encoding="utf-8")
    return folder


def zoning_cli(*args: object, cwd: Path | None = None, timeout: float = 120):
    """Run ``python -m zoning ARGS`` in a fresh interpreter, as a planner's shell would.

    Parameters
    ----------
    *args : object
        The command line after ``zoning`` (converted with ``str``).
    cwd : Path, optional
        Working directory.
    timeout : float
        Seconds before the run is killed (a hang fails the test instead of the suite).

    Returns
    -------
    subprocess.CompletedProcess
        With ``returncode``, ``stdout`` and ``stderr`` as text.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    return subprocess.run(
        [sys.executable, "-m", "zoning", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path (empty when ``folder`` does not exist).

    Parameters
    ----------
    folder : Path
        The folder.

    Returns
    -------
    dict of str to bytes
        Relative POSIX path to content.
    """
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
