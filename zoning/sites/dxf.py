"""DXF site plans (红线图): closed boundaries become polygon sites, read with ezdxf.

GDAL reads a closed polyline of a DXF as a line, so the same footprint would be a pipeline
here and a parcel as a Shapefile.  This reader takes from the drawing's model space:

- **boundaries** (one site each): closed LWPOLYLINE and 2D/3D POLYLINE (the closed flag, or
  the first vertex repeated at the end), HATCH boundaries (polyline and edge paths, arcs,
  ellipses and splines flattened; inner paths are holes, even-odd as the hatch fills them),
  closed SPLINEs (flattened); CIRCLEs and full ELLIPSEs only on the layer chosen with
  ``dxf_layer`` (elsewhere they are mostly symbols: trees, manholes, survey marks);
- the same outline twice on one layer (a red line drawn as a polyline and filled with a hatch)
  is one site;
- everything else is ignored, and a note counts it by type (lines, arcs, open polylines, texts,
  dimensions, block references ...).  Blocks (INSERT) are not exploded.

Boundaries on several layers (the red line, buildings, parking ...) need ``dxf_layer`` to say
which layer holds the sites; no closed boundary at all is an error saying what was found.  A
site's id is ``<layer>-<handle>`` (the handle is the entity's id in the drawing: AutoCAD's LIST
shows it); its name is the text (TEXT or MTEXT, any layer) inside the boundary when exactly one
lies there, else none.  Layer names and texts are decoded by ezdxf with the drawing's code page
(``$DWGCODEPAGE``: ANSI_936 is GBK for R2000-R2004 drawings; R2007 and later are UTF-8); a
pre-2007 drawing declaring no code page or a Western one over text that is UTF-8, or else
GB18030, throughout is read so, with a note.

A DXF has no CRS: the coordinates' CRS must be declared (``crs=`` / ``--crs``).  DWG, AutoCAD's
own format, is refused (by its ``.dwg`` suffix or its ``AC10`` magic bytes): save it as DXF.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..errors import LayerReadError, SitesError, quote
from ..io.guard import within_budget
from ..io.vector import first_line
from .raw import _Raw, _Where

__all__ = ["is_dwg", "read_dxf", "refuse_dwg"]

#: The first bytes of a DWG file (AC1012 ... AC1032: R13 to 2018+; AC1009 is R12).
_DWG_MAGIC = b"AC10"
#: Flattening tolerance of curves, relative to the entity's size.
_FLATTEN = 1e-5
#: Entity types named in notes, by DXF type (others are named by their lowercased type).
_WORDS = {
    "LINE": "line",
    "ARC": "arc",
    "TEXT": "text",
    "MTEXT": "mtext",
    "DIMENSION": "dimension",
    "ARC_DIMENSION": "dimension",
    "LARGE_RADIAL_DIMENSION": "dimension",
    "INSERT": "block reference",
    "CIRCLE": "circle",
    "ELLIPSE": "ellipse",
    "POINT": "point",
    "LEADER": "leader",
    "MLEADER": "leader",
    "MULTILEADER": "leader",
}
_CURVES = ("LWPOLYLINE", "POLYLINE", "SPLINE")


def is_dwg(path: Path) -> bool:
    """Whether ``path`` is a DWG drawing: a ``.dwg`` suffix or the ``AC10`` magic bytes.

    Parameters
    ----------
    path : Path

    Returns
    -------
    bool
    """
    if path.suffix.lower() == ".dwg":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(len(_DWG_MAGIC)) == _DWG_MAGIC
    except OSError:
        return False


def refuse_dwg(label: str) -> SitesError:
    """The error for a DWG drawing (zoning cannot read it).

    Parameters
    ----------
    label : str
        How the message names the file.

    Returns
    -------
    SitesError
        To raise: one line saying to save the drawing as DXF.
    """
    return SitesError(
        f"{label} is a DWG drawing (AutoCAD's own format), which cannot be read; save it as DXF "
        "(AutoCAD: SAVEAS, file type AutoCAD DXF) and give the .dxf, with --crs"
    )


def read_dxf(path: Path, label: str, dxf_layer: str | None) -> _Raw:
    """Sites from a DXF site plan: one polygon per closed boundary.

    Parameters
    ----------
    path : Path
        The ``.dxf`` file.
    label : str
        How messages name it.
    dxf_layer : str or None
        The layer holding the boundaries (compared case-insensitively, as AutoCAD does).

    Returns
    -------
    _Raw
        Polygons without a CRS; ids ``<layer>-<handle>``; a ``name`` column.

    Raises
    ------
    SitesError
        A DWG; no such layer; boundaries on several layers and no ``dxf_layer``; no closed
        boundary.
    LayerReadError
        Not a DXF ezdxf can read.
    """
    if is_dwg(path):
        raise refuse_dwg(label)
    import ezdxf

    encoding, note = _code_page(path)
    try:
        doc = within_budget(lambda: ezdxf.readfile(str(path), encoding=encoding), label)
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot read as DXF: {first_line(exc)}") from None
    entities = list(doc.modelspace())
    where_layer = ""
    if dxf_layer is not None:
        entities = _on_layer(entities, dxf_layer, label)
        where_layer = f" (layer {quote(dxf_layer)})"
    texts = _texts(doc.modelspace())
    found: list[tuple[str, str, object]] = []  # (layer, handle, polygon)
    ignored: Counter[str] = Counter()
    for i, e in enumerate(entities):
        kind, polygon = _boundary(e, chosen=dxf_layer is not None)
        if polygon is None:
            ignored[kind] += 1
        else:  # (an R12 drawing may have no handles: then the entity's position)
            found.append((e.dxf.layer, e.dxf.handle or f"#{i + 1}", polygon))
    if not found:
        other = "another" if dxf_layer is not None else "its"
        raise SitesError(
            f"{label}{where_layer}: no closed boundary (closed polyline, hatch or closed "
            f"spline); found {_counted(ignored) or 'nothing'}; close the red line (PEDIT, "
            f"Close) or choose {other} layer with dxf_layer= / --dxf-layer"
        )
    found, twins = _without_twins(found)
    if twins:
        ignored["duplicate boundary"] += twins  # an outline read already (polyline + hatch)
    layers = Counter(layer for layer, _, _ in found)
    if len(layers) > 1:
        shown = ", ".join(f"{quote(k)}: {v}" for k, v in layers.most_common())
        raise SitesError(
            f"{label}: closed boundaries on {len(layers)} layers ({shown}); choose the layer of "
            "the sites (the red line) with dxf_layer= / --dxf-layer"
        )
    raw = _raw(label, found, texts, ignored, layer_only=dxf_layer is not None)
    if note:
        raw.notes.insert(0, note)
    return raw


def _code_page(path: Path) -> tuple[str | None, str | None]:
    """(encoding to read with, note) when a pre-2007 drawing's text is not in its declared
    code page: no ``$DWGCODEPAGE``, or a Western one (ANSI_1252), over text that is not ASCII
    -- UTF-8 if it all decodes so, else GBK when it all decodes as GB18030 (a Chinese CAD
    export that did not say so).  (None, None): ezdxf's own reading of the header."""
    data = path.read_bytes()
    if data.startswith(b"AutoCAD Binary DXF") or data.isascii():
        return None, None
    head = data[: 1 << 16]
    version = re.search(rb"\$ACADVER\s*\r?\n\s*1\s*\r?\n\s*(AC\d{4})", head)
    if version and version[1] >= b"AC1021":  # R2007 and later: UTF-8 by definition
        return None, None
    page = re.search(rb"\$DWGCODEPAGE\s*\r?\n\s*3\s*\r?\n\s*(\S+)", head)
    if page and page[1].upper() not in (b"ANSI_1252", b"ANSI_1250"):
        return None, None
    for encoding, word in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        declared = page[1].decode("ascii") if page else "no code page"
        return encoding, f"DXF: text decoded as {word} (detected; the drawing declares {declared})"
    return None, None


def _raw(label, found, texts, ignored: Counter, *, layer_only: bool) -> _Raw:
    handles = np.array([h for _, h, _ in found], dtype=object)
    geoms = np.empty(len(found), dtype=object)
    geoms[:] = [g for _, _, g in found]
    names = _names(geoms, texts)
    notes = [
        f"DXF: {len(found)} closed boundar{'y' if len(found) == 1 else 'ies'} on layer "
        f"{quote(found[0][0])} read as sites"
    ]
    if ignored:
        where = "on that layer " if layer_only else ""
        notes.append(
            f"DXF: ignored {where}{_counted(ignored)} (only closed boundaries are sites; a text "
            "is read only as the name of the one boundary it lies in)"
        )
    raw = _Raw(
        where=_Where(label, "entity", labels=handles),
        n=len(found),
        table=pd.DataFrame({"name": names}, dtype=object),
        geoms=geoms,
        crs_subject="a DXF drawing, which carries no CRS",
        notes=notes,
    )
    raw.file_ids = np.array([f"{layer}-{h}" for layer, h, _ in found], dtype=object)
    return raw


def _without_twins(found: list) -> tuple[list, int]:
    """The boundaries without repeats of one outline on one layer (a red line drawn as a
    polyline and filled with a hatch is one site), and how many were dropped."""
    geoms = np.array([g for _, _, g in found], dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = np.ones(len(found), dtype=bool)
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if j <= i or not keep[i] or found[i][0] != found[j][0]:
            continue
        diff = shapely.symmetric_difference(geoms[i], geoms[j]).area
        if diff <= 1e-6 * max(geoms[i].area, geoms[j].area):
            keep[j] = False
    return [f for f, k in zip(found, keep, strict=True) if k], int((~keep).sum())


def _on_layer(entities: list, name: str, label: str) -> list:
    wanted = name.strip().casefold()
    kept = [e for e in entities if str(e.dxf.layer).casefold() == wanted]
    if not kept:
        have = Counter(str(e.dxf.layer) for e in entities)
        shown = ", ".join(f"{quote(k)} ({v})" for k, v in have.most_common(10)) or "none"
        raise SitesError(
            f"{label}: no entities on layer {quote(name)} (layers with entities: {shown})"
        )
    return kept


def _counted(counts: Counter) -> str:
    parts = []
    for word, n in counts.most_common():
        plural = word if n == 1 else (word[:-1] + "ies" if word.endswith("y") else word + "s")
        parts.append(f"{n} {plural}")
    return ", ".join(parts)


def _boundary(e, *, chosen: bool) -> tuple[str, object]:
    """(what the entity is, its polygon or None when it is not a boundary)."""
    kind = e.dxftype()
    if kind == "HATCH":
        polygon = _hatch_polygon(e)
        return ("hatch" if polygon is not None else "empty hatch"), polygon
    if kind in _CURVES:
        if kind == "POLYLINE" and not (e.is_2d_polyline or e.is_3d_polyline):
            return "mesh", None
        word = "spline" if kind == "SPLINE" else "polyline"
        vertices = _flattened(e)
        closed = bool(e.is_closed if kind == "POLYLINE" else e.closed)
        if len(vertices) and not closed:
            closed = _coincide(vertices[0], vertices[-1], vertices)
        if not closed:
            return f"open {word}", None
        polygon = _polygon(vertices)
        return (f"degenerate closed {word}", None) if polygon is None else (word, polygon)
    if kind in ("CIRCLE", "ELLIPSE"):
        full = kind == "CIRCLE" or abs((e.dxf.end_param - e.dxf.start_param) % (2 * np.pi)) < 1e-9
        if chosen and full:
            polygon = _polygon(_flattened(e))
            if polygon is not None:
                return kind.lower(), polygon
        return (_WORDS[kind] if full else "arc"), None
    return _WORDS.get(kind, kind.lower()), None


def _flattened(e) -> np.ndarray:
    from ezdxf import path as dxfpath

    p = dxfpath.make_path(e)
    return _path_vertices(p)


def _path_vertices(p) -> np.ndarray:
    control = np.array([(v.x, v.y) for v in p.control_vertices()], dtype="float64")
    if not len(control):
        return np.zeros((0, 2))
    size = float(np.ptp(control, axis=0).max()) if len(control) > 1 else 0.0
    tol = max(size * _FLATTEN, 1e-9)
    return np.array([(v.x, v.y) for v in p.flattening(distance=tol)], dtype="float64")


def _coincide(a: np.ndarray, b: np.ndarray, vertices: np.ndarray) -> bool:
    size = float(np.ptp(vertices, axis=0).max()) if len(vertices) > 1 else 0.0
    return bool(np.hypot(*(a - b)) <= max(size * 1e-7, 1e-9))


def _polygon(vertices: np.ndarray):
    if len(vertices) < 3:
        return None
    ring = (
        vertices
        if np.array_equal(vertices[0], vertices[-1])
        else np.vstack([vertices, vertices[:1]])
    )
    if len(ring) < 4:
        return None
    polygon = shapely.Polygon(ring)
    return polygon if polygon.area > 0 else None


def _hatch_polygon(hatch):
    """The area a hatch fills: its boundary paths combined even-odd (inner paths are holes)."""
    from ezdxf import path as dxfpath

    rings = [_polygon(_path_vertices(p)) for p in dxfpath.from_hatch(hatch)]
    rings = [shapely.make_valid(r) for r in rings if r is not None]
    if not rings:
        return None
    area = functools.reduce(shapely.symmetric_difference, rings)
    area = shapely.normalize(area)
    return area if area.area > 0 else None


def _texts(msp) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(x, y, text) of every TEXT and MTEXT in model space (any layer), blank ones left out."""
    xs, ys, words = [], [], []
    for e in msp.query("TEXT MTEXT"):
        text = e.plain_text().strip()
        if not text:
            continue
        point = e.dxf.insert
        xs.append(point.x)
        ys.append(point.y)
        words.append(" ".join(text.split()))
    return np.array(xs, dtype="float64"), np.array(ys, dtype="float64"), words


def _names(geoms: np.ndarray, texts) -> list[str | None]:
    """Each boundary's name: the one text inside it, else None."""
    xs, ys, words = texts
    names: list[str | None] = []
    for g in geoms:
        inside = np.flatnonzero(shapely.contains_xy(g, xs, ys)) if len(words) else []
        names.append(words[int(inside[0])] if len(inside) == 1 else None)
    return names
