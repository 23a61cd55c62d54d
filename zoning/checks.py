"""Layer checks: official totals, control-unit tiling, and the three control lines.

Every check is measured in the equal-area working CRS, so areas agree with
geodesic areas; unions of layers, areas and the tolerance on official totals come from
:mod:`zoning.measure`, shared with the indicators.  A check passes, fails, or is skipped
(with the reason) when the catalog lacks a layer it needs; a skipped check never counts as
a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np
import pyproj
import shapely

from .crs import WGS84, WORKING_CRS
from .errors import quote
from .layerset import Layer, LayerSet, load_catalog
from .measure import SLIVER_M2, TOTAL_TOLERANCE_KM2, area_m2, union_of, union_of_layers

# SLIVER_M2 and TOTAL_TOLERANCE_KM2 live in zoning.measure; re-exported for old import paths.

__all__ = [
    "SLIVER_M2",
    "TOTAL_TOLERANCE_KM2",
    "Check",
    "CheckResult",
    "LayerSummary",
    "Pieces",
    "check_layers",
    "coverage_problems",
    "overlap_pieces",
]

Status = Literal["pass", "fail", "skip"]

_TO_WGS84 = pyproj.Transformer.from_crs(WORKING_CRS, WGS84, always_xy=True)
_MAX_PLACES = 10
#: The three control lines of 三区三线, pairwise.
THREE_LINES = ("red_line", "development_boundary", "basic_farmland")


@dataclass
class Place:
    """Where a problem is: a representative point (lon/lat) and the area of the piece.

    Attributes
    ----------
    lon, lat : float
        A point on the piece's surface, WGS 84 degrees (6 decimals).
    area_m2 : float
        Area of the piece, m² (2 decimals).
    features : list of str
        Feature ids involved (the two units of an overlap), else empty.
    """

    lon: float
    lat: float
    area_m2: float
    features: list[str] = field(default_factory=list)


@dataclass
class Check:
    """The outcome of one check.

    Attributes
    ----------
    check : str
        ``official_total``, ``official_subtotal``, ``official_count``, ``coverage_gaps``,
        ``coverage_overlaps``, ``coverage_outside``, ``coverage`` or ``three_lines``.
    status : {'pass', 'fail', 'skip'}
        A skipped check (a layer it needs is missing) never counts as a pass.
    message : str
        One line for people.
    layer : str or None
        The layer(s) checked.
    measured, expected, difference : float or None
        In ``unit``.
    unit : str or None
        ``km2`` or ``features``.
    source : str or None
        Where the official value comes from.
    places : list of Place
        The largest problem pieces (at most 10).
    """

    check: str
    status: Status
    message: str
    layer: str | None = None
    measured: float | None = None
    expected: float | None = None
    difference: float | None = None
    unit: str | None = None
    source: str | None = None
    places: list[Place] = field(default_factory=list)


@dataclass
class LayerSummary:
    """Per-layer facts shown by ``zoning layers check``.

    Attributes
    ----------
    id, kind, title_en, title_zh, status : str
        From the catalog entry (``status``: its provenance status).
    features : int
        Features read.
    area_km2 : float or None
        Area of the union of the features (polygon layers), km².
    repaired, dropped : int
        Features repaired and dropped while reading.
    input_crs, encoding : str or None
        As read.
    bounds_wgs84 : (float, float, float, float) or None
        Extent in WGS 84 degrees.
    load_report : dict
        The full load report.
    """

    id: str
    kind: str
    title_en: str
    title_zh: str
    status: str
    features: int
    area_km2: float | None
    repaired: int
    dropped: int
    input_crs: str | None
    encoding: str | None
    bounds_wgs84: tuple[float, float, float, float] | None
    load_report: dict


@dataclass
class CheckResult:
    """All layer summaries and checks of one run.

    Attributes
    ----------
    layers : list of LayerSummary
    checks : list of Check
    catalog : str
        The catalog file.
    demonstration : bool
        True when any layer is demonstration data.
    tolerance_km2 : float
        Tolerance used on official totals.
    sliver_m2 : float
        Pieces smaller than this were ignored.
    """

    layers: list[LayerSummary]
    checks: list[Check]
    catalog: str
    demonstration: bool
    tolerance_km2: float
    sliver_m2: float

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return all(c.status != "fail" for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if c.status == "fail"]

    def to_dict(self) -> dict:
        """The result as JSON-ready data (``zoning layers check --json``)."""
        return {
            "catalog": self.catalog,
            "demonstration_data": self.demonstration,
            "ok": self.ok,
            "tolerance_km2": self.tolerance_km2,
            "sliver_m2": self.sliver_m2,
            "layers": [asdict(s) for s in self.layers],
            "checks": [asdict(c) for c in self.checks],
        }


def _places(pieces: np.ndarray, labels: list[list[str]] | None = None) -> list[Place]:
    if len(pieces) == 0:
        return []
    areas = shapely.area(pieces)
    order = np.argsort(-areas)[:_MAX_PLACES]
    points = shapely.point_on_surface(pieces[order])
    lon, lat = _TO_WGS84.transform(shapely.get_x(points), shapely.get_y(points))
    return [
        Place(
            lon=round(float(x), 6),
            lat=round(float(y), 6),
            area_m2=round(float(areas[i]), 2),
            features=labels[i] if labels else [],
        )
        for x, y, i in zip(np.atleast_1d(lon), np.atleast_1d(lat), order, strict=True)
    ]


@dataclass
class Pieces:
    """Polygon pieces at or above the sliver size, and what was ignored below it.

    Attributes
    ----------
    kept : numpy.ndarray of shapely polygons
        The pieces of at least the sliver size.
    labels : list of list of str
        Feature ids per kept piece (overlaps), else empty.
    ignored : int
        Pieces under the sliver size.
    ignored_m2 : float
        Their total area, m².
    """

    kept: np.ndarray
    labels: list[list[str]]
    ignored: int = 0
    ignored_m2: float = 0.0

    @property
    def area_m2(self) -> float:
        """Area of the union of the kept pieces (a place covered three times counts once)."""
        return area_m2(union_of(self.kept))

    def describe(self, label: str, sliver_m2: float) -> str:
        """One phrase: ``"2 gap piece(s), 0.0123 km²; 1 piece(s) under 10 m² ignored, ..."``.

        Parameters
        ----------
        label : str
            What the pieces are (``"gap"``, ``"overlap"``, ``"outside"``).
        sliver_m2 : float
            The size below which pieces were ignored, m², as named in the phrase.

        Returns
        -------
        str
        """
        ignored = (
            f"; {self.ignored} piece(s) under {sliver_m2:g} m² ignored, "
            f"{self.ignored_m2:.1f} m² in all"
            if self.ignored
            else ""
        )
        return f"{len(self.kept)} {label} piece(s), {self.area_m2 / 1e6:.4f} km²{ignored}"


def _pieces(geoms, sliver_m2: float, labels: list[list[str]] | None = None) -> Pieces:
    """Split geometries into polygonal parts and separate the slivers."""
    geoms = np.atleast_1d(np.asarray(geoms, dtype=object))
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    parts, index = shapely.get_parts(geoms, return_index=True) if len(geoms) else ([], [])
    parts = np.asarray(parts, dtype=object)
    poly = np.isin(shapely.get_type_id(parts), [3, 6])
    parts, index = parts[poly], np.asarray(index)[poly]
    areas = shapely.area(parts)
    big = areas >= sliver_m2
    return Pieces(
        kept=parts[big],
        labels=[labels[i] for i in index[big]] if labels else [],
        ignored=int((~big).sum()),
        ignored_m2=float(areas[~big].sum()),
    )


def overlap_pieces(geoms: np.ndarray, ids: np.ndarray, sliver_m2: float = SLIVER_M2) -> Pieces:
    """Pairwise overlaps inside one layer, labelled with both feature ids; slivers set apart.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        The layer's features, in the equal-area working CRS.
    ids : numpy.ndarray
        Their feature ids, in the same order.
    sliver_m2 : float
        Pieces smaller than this (m²) are set apart as slivers.

    Returns
    -------
    Pieces
        One piece per polygonal part of each overlapping pair, labelled ``[id_a, id_b]``.

    Notes
    -----
    Uses an STRtree, so the cost grows with the number of touching pairs, not n².
    """
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inter = shapely.intersection(geoms[left], geoms[right])
    labels = [[str(ids[a]), str(ids[b])] for a, b in zip(left, right, strict=True)]
    return _pieces(inter, sliver_m2, labels)


def coverage_problems(units: Layer, territory, sliver_m2: float = SLIVER_M2) -> dict[str, Pieces]:
    """Gaps, overlaps and spill-over of a unit layer against its territory (polygon).

    Parameters
    ----------
    units : Layer
        The control units, in the equal-area working CRS.
    territory : shapely.Geometry
        The polygon they must tile (districts ∪ sea area), same CRS.
    sliver_m2 : float
        Pieces smaller than this (m²) are set apart as slivers.

    Returns
    -------
    dict of str to Pieces
        ``gaps`` (territory not covered), ``overlaps`` (units overlapping each other) and
        ``outside`` (units beyond the territory).

    Notes
    -----
    One union of the units (cached on the layer), two differences with the territory and
    the pairwise overlaps of :func:`overlap_pieces`.
    """
    geoms = units.gdf.geometry.to_numpy()
    ids = units.gdf["feature_id"].to_numpy()
    covered = units.union()
    return {
        "gaps": _pieces(shapely.difference(territory, covered), sliver_m2),
        "overlaps": overlap_pieces(geoms, ids, sliver_m2),
        "outside": _pieces(shapely.difference(covered, territory), sliver_m2),
    }


def _summary(layer: Layer) -> LayerSummary:
    e, r = layer.entry, layer.report
    area = layer.area_km2() if layer.entry.kind_info.geometry == "polygon" else None
    return LayerSummary(
        id=e.id,
        kind=e.kind,
        title_en=e.title("en"),
        title_zh=e.title("zh"),
        status=e.provenance.status if e.provenance else "unknown",
        features=r.features,
        area_km2=None if area is None else round(area, 4),
        repaired=r.repaired,
        dropped=r.dropped,
        input_crs=r.input_crs,
        encoding=r.encoding,
        bounds_wgs84=r.bounds_wgs84,
        load_report=r.to_dict(),
    )


def _total_checks(layer: Layer, tol: float) -> list[Check]:
    e = layer.entry
    out: list[Check] = []
    if e.official_total_km2 is not None:
        measured = layer.area_km2()
        out.append(
            _compare(
                "official_total",
                e.id,
                "total",
                measured,
                e.official_total_km2,
                tol,
                e.official_total_source,
            )
        )
    if e.official_subtotals_km2 is not None:
        by = e.official_subtotals_km2.by
        col = _column(layer, by)
        for value, expected in e.official_subtotals_km2.values.items():
            sel = layer.gdf.geometry[layer.gdf[col].astype(str) == value].to_numpy()
            measured = area_m2(union_of(sel)) / 1e6
            out.append(
                _compare(
                    "official_subtotal",
                    e.id,
                    f"{by}={value}",
                    measured,
                    expected,
                    tol,
                    e.official_total_source,
                )
            )
    if e.official_count is not None:
        n = len(layer.gdf)
        out.append(_count_check(e.id, "count", n, e.official_count, e.official_count_source))
    if e.official_subcounts is not None:
        by = e.official_subcounts.by
        col = _column(layer, by)
        for value, expected in e.official_subcounts.values.items():
            n = int((layer.gdf[col].astype(str) == value).sum())
            out.append(
                _count_check(e.id, f"count {by}={value}", n, expected, e.official_count_source)
            )
    return out


def _column(layer: Layer, name: str) -> str:
    from .errors import LayerDataError

    if name in layer.gdf.columns:
        return name
    raise LayerDataError(
        f"layer {quote(layer.id)}: official subtotals are by {quote(name)}, a column the layer "
        f"does not have"
    )


def _compare(check, layer_id, what, measured, expected, tol, source) -> Check:
    diff = round(measured - expected, 4) + 0.0  # no "-0.000"
    ok = abs(diff) <= tol
    return Check(
        check=check,
        status="pass" if ok else "fail",
        layer=layer_id,
        measured=round(measured, 4),
        expected=expected,
        difference=round(diff, 4),
        unit="km2",
        source=source,
        message=f"{layer_id} {what}: {measured:.2f} km² vs official {expected:.2f} km² "
        f"(difference {diff:+.3f} km², tolerance ±{tol} km²)",
    )


def _count_check(layer_id, what, n, expected, source) -> Check:
    return Check(
        check="official_count",
        status="pass" if n == expected else "fail",
        layer=layer_id,
        measured=n,
        expected=expected,
        difference=n - expected,
        unit="features",
        source=source,
        message=f"{layer_id} {what}: {n} vs official {expected}",
    )


def _area_check(check, layer, pieces: Pieces, message: str, places_labels=False) -> Check:
    km2 = round(pieces.area_m2 / 1e6, 6)
    return Check(
        check=check,
        status="fail" if len(pieces.kept) else "pass",
        layer=layer,
        measured=km2,
        expected=0.0,
        difference=km2,
        unit="km2",
        message=message,
        places=_places(pieces.kept, pieces.labels if places_labels else None),
    )


def _coverage_checks(ls: LayerSet, sliver_m2: float) -> list[Check]:
    out: list[Check] = []
    territory_layers = ls.of_kind("district") + ls.of_kind("sea_area")
    names = "+".join(t.id for t in territory_layers)
    territory = union_of_layers(territory_layers)
    for units in ls.of_kind("control_unit"):
        if territory is None:
            why = "is empty" if territory_layers else "is missing (no district or sea_area layer)"
            out.append(
                Check(
                    "coverage", "skip", f"{units.id}: the territory to tile {why}", layer=units.id
                )
            )
            continue
        if len(units.gdf) == 0:
            out.append(
                Check("coverage", "fail", f"{units.id}: no units to tile {names}", layer=units.id)
            )
            continue
        problems = coverage_problems(units, territory, sliver_m2)
        for key, label in (
            ("gaps", "gap"),
            ("overlaps", "overlap"),
            ("outside", "outside-territory"),
        ):
            pieces = problems[key]
            message = f"{units.id} vs {names}: {pieces.describe(label, sliver_m2)}"
            out.append(_area_check(f"coverage_{key}", units.id, pieces, message, key == "overlaps"))
    return out


def _three_line_checks(ls: LayerSet, sliver_m2: float) -> list[Check]:
    out: list[Check] = []
    unions: dict[str, tuple[object, str] | None] = {}
    for kind in THREE_LINES:
        layers = ls.of_kind(kind)
        union = union_of_layers(layers)
        unions[kind] = (union, "+".join(x.id for x in layers)) if union is not None else None
    for a, b in combinations(THREE_LINES, 2):
        if unions[a] is None or unions[b] is None:
            missing = a if unions[a] is None else b
            out.append(
                Check("three_lines", "skip", f"{a} ∩ {b}: no {missing} features in the catalog")
            )
            continue
        pieces = _pieces(shapely.intersection(unions[a][0], unions[b][0]), sliver_m2)
        message = (
            f"{a} ∩ {b}: {pieces.describe('overlap', sliver_m2)} "
            "(the three control lines must not overlap)"
        )
        out.append(_area_check("three_lines", f"{unions[a][1]} ∩ {unions[b][1]}", pieces, message))
    return out


def check_layers(
    layers: LayerSet | None = None,
    *,
    tolerance_km2: float = TOTAL_TOLERANCE_KM2,
    sliver_m2: float = SLIVER_M2,
) -> CheckResult:
    """Check every layer of a catalog, as ``zoning layers check`` does.

    Parameters
    ----------
    layers : LayerSet, optional
        From :func:`zoning.load_catalog`; the demonstration catalog by default.
    tolerance_km2 : float
        Allowed difference from an official total (default 0.05 km²).
    sliver_m2 : float
        Gap and overlap pieces smaller than this are ignored (default 10 m²).

    Returns
    -------
    CheckResult
        ``.ok`` is False when any check failed.

    Notes
    -----
    Reads every layer.  The tiling check unions the unit layer and its
    territory once and finds overlaps with an STRtree, so it scales with the
    number of neighbouring pairs.
    """
    ls = layers if layers is not None else load_catalog()
    summaries = [_summary(layer) for layer in ls]
    checks: list[Check] = []
    for layer in ls:
        checks.extend(_total_checks(layer, tolerance_km2))
    checks.extend(_coverage_checks(ls, sliver_m2))
    checks.extend(_three_line_checks(ls, sliver_m2))
    return CheckResult(
        layers=summaries,
        checks=checks,
        catalog=str(ls.catalog.path) if ls.catalog.path else "catalog",
        demonstration=ls.is_demonstration,
        tolerance_km2=tolerance_km2,
        sliver_m2=sliver_m2,
    )
