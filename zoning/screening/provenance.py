"""The provenance of a screening: tool, catalog and layers, rule set, CRS, input, options.

Assembles the ``provenance`` dict of a :class:`~zoning.screening.ScreeningResult` (written into
``screening.json`` and shown by the report): the catalog's hash, each layer's load record, the
rule set's identity, the working CRS, the input file's hash and conversion, and the options
the screening ran with.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from ..crs import WORKING_CRS
from ..dates import iso, shanghai_zone
from ..io import file_sha256
from ..io.postgis import redact
from ..layerset import LayerSet
from ..rules import RuleSet
from ..rules.validity import in_force_summary
from ..sites import Sites
from .options import ScreenOptions, SiteReading

#: How :func:`load_sites` labels sources that are not files.
_INLINE_SOURCES = frozenset(
    {"points", "wkt", "geometries", "GeoDataFrame", "GeoSeries", "DataFrame", "sites"}
)


def _input_file(sites: object) -> Path | None:
    """The local file the sites come from (for its hash), if any."""
    if isinstance(sites, Sites):
        if sites.source in _INLINE_SOURCES:
            return None
        sites = sites.source
    if isinstance(sites, str | Path) and Path(sites).is_file():
        return Path(sites)
    return None


def _layer_provenance(entry: Any) -> dict[str, Any]:
    """What the catalog says of one layer (its load record is added by the caller)."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "title_en": entry.title("en"),
        "title_zh": entry.title("zh"),
        "status": entry.provenance.status if entry.provenance else "unknown",
        "vintage": entry.provenance.vintage if entry.provenance else None,
        "source": redact(entry.source),
        "positional_tolerance_m": entry.positional_tolerance_m,
        **_layer_validity(entry),
    }


def _layer_validity(entry: Any) -> dict[str, str | None]:
    """A catalog layer's ``valid_from`` / ``valid_to`` as ``YYYY-MM-DD`` (None: unbounded)."""
    out = {}
    for key in ("valid_from", "valid_to"):
        value = getattr(entry, key, None)
        out[key] = value if value is None or isinstance(value, str) else iso(value)
    return out


def _layers_not_in_force(layers: LayerSet) -> list[dict[str, Any]]:
    """The catalog's layers not in force on the screening's day: id, kind and their days."""
    return [{"id": e.id, "kind": e.kind, **_layer_validity(e)} for e in layers.not_in_force]


#: What a layer's load report adds to its provenance, under the report's own names.
_LOAD_RECORD = ("sha256", "features", "input_crs", "conversion", "encoding")


def _layer_loaded(prov: dict[str, Any], report: Any) -> None:
    """Add a loaded layer's :class:`~zoning.layerset.Layer` report to its provenance."""
    prov.update({name: getattr(report, name) for name in _LOAD_RECORD})
    prov.update(load_notes=report.notes, load="ok")


def _options(
    reading: SiteReading, options: ScreenOptions, radius: float, *, from_sites: bool
) -> dict[str, Any]:
    """The ``options`` entry of the provenance (``attributes`` None for a Sites object)."""
    return {
        # None: the sites came as a Sites object, whose attributes were set when loading.
        "attributes": None
        if from_sites
        else {k: v for k, v in (reading.attributes or {}).items() if v is not None},
        "id_field": reading.id_field,
        "name_field": reading.name_field,
        "layer": reading.layer,
        "encoding": reading.encoding,
        "dxf_layer": reading.dxf_layer,
        "search_radius_m": radius,
        "as_of": iso(options.as_of),
        "pieces": bool(options.pieces),
        "rings": bool(options.rings),
        "on_layer_error": options.on_layer_error,
    }


#: SHA-256 of files by (path, size, modification time, inode): a warm process (a service)
#: does not hash its catalog again for every screening.
_HASHES: dict[tuple, str | None] = {}


def _sha256(path: str | Path) -> str | None:
    """:func:`zoning.io.file_sha256`, kept for a plain file that has not changed since (a
    Shapefile set or a folder is hashed again each time: its other files may change)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return file_sha256(p)
    if not p.is_file() or p.suffix.lower() == ".shp":
        return file_sha256(p)
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _HASHES:
        if len(_HASHES) >= 256:
            _HASHES.clear()
        _HASHES[key] = file_sha256(p)
    return _HASHES[key]


def _working_wkt() -> str:
    """The working CRS as WKT (worked out once)."""
    if not _WKT:
        _WKT.append(WORKING_CRS.to_wkt())
    return _WKT[0]


_WKT: list[str] = []


def _provenance(
    layers: LayerSet,
    layer_prov: list[dict],
    rule_set: RuleSet,
    sites: Sites,
    radius: float,
    started: datetime,
    options: dict[str, Any],
    input_path: Path | None,
) -> dict:
    """The provenance dict of a screening (without its duration, notes and verdicts)."""
    cat = layers.catalog
    cat_path = getattr(cat, "path", None)
    input_sha256 = _sha256(input_path) if input_path is not None else None
    rule_prov = rule_set.provenance()
    law = rule_prov.pop("law")
    return {
        "tool": "zoning",
        "tool_version": __version__,
        # Shown to people in Shanghai: local time with its offset (unambiguous ISO 8601).
        "created": started.astimezone(shanghai_zone()).isoformat(timespec="seconds"),
        "demonstration": bool(layers.is_demonstration or rule_set.is_demonstration),
        "as_of": iso(layers.as_of),
        "catalog": {
            "path": str(cat_path) if cat_path else None,
            "sha256": _sha256(cat_path) if cat_path else None,
            "title": getattr(cat, "title", None),
            "version": getattr(cat, "version", None),
        },
        "layers": layer_prov,
        "layers_not_in_force": _layers_not_in_force(layers),
        "rule_set": rule_prov,
        "law": law,
        "working_crs": {"name": WORKING_CRS.name, "wkt": _working_wkt()},
        "input": {
            "source": sites.source,
            "sha256": input_sha256,
            "crs": sites.input_crs,
            "conversion": (f"{sites.pseudo} -> WGS84 (zoning.crs)" if sites.pseudo else None),
            "sites": len(sites),
        },
        "search_radius_m": radius,
        "options": options,
    }


def in_force_line(provenance: dict[str, Any], lang: str = "en") -> str | None:
    """The console line saying which rules, documents and layer vintages were in force.

    Parameters
    ----------
    provenance : dict
        A screening's provenance (``as_of``, ``law``, ``layers``, ``layers_not_in_force``).
    lang : {"en", "zh"}
        English (console) or Chinese (the report's footer).

    Returns
    -------
    str or None
        E.g. ``as of 2026-04-01: 37 of 41 rules in force (自然保护区条例（2026） from
        2026-03-15); layers: 12 of 13 in force, dated: nature_reserves_2026 (valid from
        2026-03-15); not in force: nature_reserves (valid to 2026-03-14)``; None for a
        provenance without ``as_of`` (written before screenings had a day).
    """
    law, as_of = provenance.get("law"), provenance.get("as_of")
    if not law or not as_of:
        return None
    layers = provenance.get("layers") or []
    left_out = provenance.get("layers_not_in_force") or []
    total = len(layers) + len(left_out)
    zh = lang == "zh"

    def dated(rows: list[dict]) -> str:
        return ", ".join(
            f"{lay['id']} ({'' if zh else 'valid '}"
            f"{_days(lay.get('valid_from'), lay.get('valid_to'), zh)})"
            for lay in rows
            if lay.get("valid_from") or lay.get("valid_to")
        )

    used, unused = dated(layers), dated(left_out)
    if zh:
        n_rules = len(law.get("rules") or ())
        n_all = n_rules + len(law.get("not_in_force") or ())
        docs = "；".join(
            dict.fromkeys(  # a document's text and its reports share a short name: said once
                f"{d['label']} {_days(d.get('in_force_from'), d.get('in_force_to'), True)}"
                for d in law.get("documents") or ()
                if d.get("in_force_from") or d.get("in_force_to")
            )
        )
        text = f"{as_of}：施行中的规则 {n_rules}/{n_all} 条" + (f"（{docs}）" if docs else "")
        text += f"；图层 {len(layers)}/{total} 个在用"
        text += f"，有期限的图层：{used}" if used else ""
        return text + (f"；未在用：{unused}" if unused else "")
    text = f"as of {as_of}: {in_force_summary(law)}; layers: {len(layers)} of {total} in force"
    text += f", dated: {used}" if used else ""
    return text + (f"; not in force: {unused}" if unused else "")


def _days(start: str | None, end: str | None, zh: bool = False) -> str:
    """``from X``, ``to Y`` or ``from X to Y`` (zh: ``X起``, ``至Y``)."""
    if zh:
        return (f"{start}起" if start else "") + (f"至{end}" if end else "")
    return " ".join(p for p in (f"from {start}" if start else "", f"to {end}" if end else "") if p)
