"""The bundled example projects and the outcomes they are documented to get.

``layers/examples/`` (installed as ``share/zoning/layers/examples/``) holds three screening
inputs, each carrying its expected outcome:

* ``projects.geojson``: about twenty projects, one per situation the demonstration rules
  distinguish, with ``expected_verdict``, ``expected_rules`` (rule ids that must appear among
  the site's reasons), ``absent_rules`` (rule ids that must not), ``expected_status`` (reason
  statuses that must appear, e.g. ``outside_coverage``) and ``why_zh`` / ``why_en``;
* ``amap_gcj02.csv``: a site copied from Amap in GCJ-02, with the outcome of the right reading
  (``crs="gcj02"``) and of the wrong one (the same numbers declared ``crs="EPSG:4326"``);
* ``route_alternatives.geojson``: four alignments of one pipeline with ``expected_rank``.

:func:`run_examples` screens all three against a layer set (the demonstration catalog by
default) and lists every departure from the documented outcome; ``zoning demo`` prints them and
exits 1 when there is any.  The files are built by ``layers/examples/build_examples.py`` and
described in ``layers/examples/README.md``.

>>> from zoning.examples import load_examples
>>> [e.id for e in load_examples()][:2]                     # doctest: +SKIP
['yangtze-chemical', 'yangtze-chemical-rebuild']

All of it is DEMONSTRATION material: example projects screened against demonstration layers and
a demonstration rule set, not official verdicts.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._paths import data_dir
from .errors import ZoningError, quote
from .rules import STATUSES, VERDICTS

if TYPE_CHECKING:
    import pandas as pd

    from .layerset import LayerSet
    from .rules import RuleSet
    from .screening import ScreeningResult

__all__ = [
    "AMAP_GCJ02",
    "EXAMPLES_DIR",
    "OUTCOME_MISMATCHES",
    "PROJECTS",
    "ROUTES",
    "AmapExample",
    "Example",
    "ExampleRun",
    "ExamplesError",
    "Mismatch",
    "RouteExample",
    "check_ranking",
    "check_result",
    "load_amap_example",
    "load_examples",
    "load_route_examples",
    "run_examples",
]

log = logging.getLogger(__name__)

#: The folder of the bundled examples (the source tree's, else the installed copy).
EXAMPLES_DIR = data_dir("layers") / "examples"
#: The example projects.
PROJECTS = EXAMPLES_DIR / "projects.geojson"
#: The site copied from Amap (GCJ-02).
AMAP_GCJ02 = EXAMPLES_DIR / "amap_gcj02.csv"
#: The alternative alignments of one pipeline.
ROUTES = EXAMPLES_DIR / "route_alternatives.geojson"


class ExamplesError(ZoningError, ValueError):
    """An example file that is missing, unreadable or lacks its expectations."""


@dataclass(frozen=True)
class Example:
    """One example project and the outcome it is documented to get.

    Attributes
    ----------
    id, name, name_en : str
        Site id (as screening reports it), Chinese and English names.
    expected_verdict : str
        One of :data:`zoning.rules.VERDICTS`.
    expected_rules : tuple of str
        Rule ids that must appear among the site's reasons.
    absent_rules : tuple of str
        Rule ids that must not appear among them.
    expected_status : tuple of str
        Reason statuses that must appear (e.g. ``outside_coverage``).
    why_zh, why_en : str
        Which layer, unit and rules decide it, and why.
    """

    id: str
    name: str
    name_en: str
    expected_verdict: str
    expected_rules: tuple[str, ...]
    absent_rules: tuple[str, ...] = ()
    expected_status: tuple[str, ...] = ()
    why_zh: str = ""
    why_en: str = ""


@dataclass(frozen=True)
class AmapExample:
    """The GCJ-02 example: one site, two readings of its coordinates.

    ``gcj02`` is the right reading (``crs="gcj02"``); ``as_wgs84`` the wrong one (the same
    numbers taken as WGS84).  Each is an :class:`Example` for that reading.
    """

    id: str
    lon: float
    lat: float
    gcj02: Example
    as_wgs84: Example


@dataclass(frozen=True)
class RouteExample:
    """One alternative alignment and its documented rank (1 = best)."""

    example: Example
    expected_rank: int

    @property
    def id(self) -> str:
        """The id of the alternative (that of its :class:`Example`)."""
        return self.example.id


#: Mismatches that change an outcome (a verdict, a rank, a site not screened).
OUTCOME_MISMATCHES = ("verdict", "rank", "missing site")


@dataclass(frozen=True)
class Mismatch:
    """A departure from the documented outcome.

    ``what`` is ``verdict``, ``rank`` or ``missing site`` (the outcome differs: see
    :attr:`changes_outcome`), or ``missing rule``, ``unexpected rule``, ``missing status`` (the
    outcome holds but the reasons given for it differ from the documentation).
    """

    file: str
    id: str
    what: str
    expected: str
    got: str

    @property
    def changes_outcome(self) -> bool:
        """Whether ``what`` is one of :data:`OUTCOME_MISMATCHES` (verdict, rank, missing site)."""
        return self.what in OUTCOME_MISMATCHES

    def __str__(self) -> str:
        return f"{self.file}: {self.id}: {self.what}: expected {self.expected}, got {self.got}"


@dataclass
class ExampleRun:
    """What :func:`run_examples` screened and how it compares with the documentation.

    Attributes
    ----------
    projects : ScreeningResult
        The example projects.
    amap : ScreeningResult
        The GCJ-02 site, read as GCJ-02 (the right reading).
    amap_as_wgs84 : ScreeningResult
        The same numbers read as WGS84 (the mistake the example warns about).
    routes : ScreeningResult
        The alternatives, with ``ranking`` set (:func:`zoning.compare_alternatives`).
    mismatches : list of Mismatch
        Every departure from the documentation; empty when all hold.
    """

    projects: ScreeningResult
    amap: ScreeningResult
    amap_as_wgs84: ScreeningResult
    routes: ScreeningResult
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def outcome_mismatches(self) -> list[Mismatch]:
        """Examples whose verdict or rank differs from the documentation."""
        return [m for m in self.mismatches if m.changes_outcome]

    @property
    def reason_mismatches(self) -> list[Mismatch]:
        """Examples with the documented outcome but other reasons than documented."""
        return [m for m in self.mismatches if not m.changes_outcome]

    @property
    def ok(self) -> bool:
        """Every verdict and rank is the documented one (reasons may still differ)."""
        return not self.outcome_mismatches


# --------------------------------------------------------------------------- reading


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ExamplesError(f"{path}: examples file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExamplesError(f"{path}: cannot read the examples file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise ExamplesError(f"{path}: expected a GeoJSON FeatureCollection")
    return data


def _text(props: dict, key: str, where: str) -> str:
    value = props.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ExamplesError(f"{where}: field {quote(key)} must be a non-empty text")
    return value


def _ids(props: dict, key: str, where: str, *, required: bool) -> tuple[str, ...]:
    if key not in props:
        if required:
            raise ExamplesError(f"{where}: field {quote(key)} is missing")
        return ()
    value = props[key]
    if isinstance(value, str):  # CSV cells hold ';'-separated ids
        value = [v.strip() for v in value.split(";") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ExamplesError(f"{where}: field {quote(key)} must be a list of rule ids")
    return tuple(value)


def _verdict(props: dict, key: str, where: str) -> str:
    value = props.get(key)
    if value not in VERDICTS:
        raise ExamplesError(
            f"{where}: field {quote(key)} is {quote(value)}, not a verdict ({', '.join(VERDICTS)})"
        )
    return value


def _example(props: dict, where: str, *, suffix: str = "") -> Example:
    statuses = _ids(props, "expected_status" + suffix, where, required=False)
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise ExamplesError(
            f"{where}: expected_status {', '.join(bad)} not among {', '.join(STATUSES)}"
        )
    return Example(
        id=_text(props, "id", where),
        name=_text(props, "name", where),
        name_en=_text(props, "name_en", where),
        expected_verdict=_verdict(props, "expected_verdict" + suffix, where),
        expected_rules=_ids(props, "expected_rules" + suffix, where, required=True),
        absent_rules=_ids(props, "absent_rules" + suffix, where, required=False),
        expected_status=statuses,
        why_zh=_text(props, "why_zh", where),
        why_en=_text(props, "why_en", where),
    )


def _unique(items: Sequence[Example], path: Path) -> None:
    seen: set[str] = set()
    for e in items:
        if e.id in seen:
            raise ExamplesError(f"{path}: duplicate example id {quote(e.id)}")
        seen.add(e.id)


def load_examples(path: str | Path | None = None) -> list[Example]:
    """The example projects of ``projects.geojson`` with their expectations.

    Parameters
    ----------
    path : str or Path, optional
        A GeoJSON FeatureCollection whose features carry the example fields; default the
        bundled :data:`PROJECTS`.  Geometries are not read here.

    Returns
    -------
    list of Example
        One per feature, in file order.

    Raises
    ------
    ExamplesError
        A missing or unreadable file, a feature without an expectation field, a verdict that is
        not one of :data:`zoning.rules.VERDICTS`, or a duplicate id (the message names the
        file and the feature).
    """
    path = Path(path) if path is not None else PROJECTS
    data = _read_json(path)
    out = []
    for i, feat in enumerate(data["features"], 1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            raise ExamplesError(f"{path}: feature {i}: no properties")
        out.append(_example(props, f"{path}: feature {i}"))
    _unique(out, path)
    return out


def load_route_examples(path: str | Path | None = None) -> list[RouteExample]:
    """The alternatives of ``route_alternatives.geojson`` with their expected ranks.

    Parameters
    ----------
    path : str or Path, optional
        A GeoJSON FeatureCollection; default the bundled :data:`ROUTES`.  Geometries are not
        read here.

    Returns
    -------
    list of RouteExample
        One per feature, in file order.

    Raises
    ------
    ExamplesError
        As :func:`load_examples`, and an ``expected_rank`` that is not an integer >= 1.
    """
    path = Path(path) if path is not None else ROUTES
    data = _read_json(path)
    out = []
    for i, feat in enumerate(data["features"], 1):
        where = f"{path}: feature {i}"
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            raise ExamplesError(f"{where}: no properties")
        rank = props.get("expected_rank")
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise ExamplesError(f"{where}: field 'expected_rank' must be an integer >= 1")
        out.append(RouteExample(_example(props, where), rank))
    _unique([r.example for r in out], path)
    return out


def load_amap_example(path: str | Path | None = None) -> AmapExample:
    """The GCJ-02 site of ``amap_gcj02.csv`` and the outcomes of both readings.

    Parameters
    ----------
    path : str or Path, optional
        A UTF-8 CSV with a header and exactly one site row (``id``, ``lon``, ``lat`` and the
        expectation fields suffixed ``_gcj02`` and ``_as_wgs84``); default the bundled
        :data:`AMAP_GCJ02`.  Rule-id fields hold ids separated by ``;``.

    Returns
    -------
    AmapExample

    Raises
    ------
    ExamplesError
        A missing or unreadable file, not exactly one row, a ``lon`` or ``lat`` that is not a
        number, or an expectation field missing or invalid (as in :func:`load_examples`).
    """
    path = Path(path) if path is not None else AMAP_GCJ02
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise ExamplesError(f"{path}: examples file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExamplesError(f"{path}: cannot read the examples file ({exc})") from None
    if len(rows) != 1:
        raise ExamplesError(f"{path}: expected exactly one site, found {len(rows)}")
    row = rows[0]
    where = f"{path}, row 2"
    try:
        lon, lat = float(row["lon"]), float(row["lat"])
    except (KeyError, TypeError, ValueError):
        raise ExamplesError(f"{where}: 'lon' and 'lat' must be numbers") from None
    return AmapExample(
        id=_text(row, "id", where),
        lon=lon,
        lat=lat,
        gcj02=_example(row, where, suffix="_gcj02"),
        as_wgs84=_example(row, where, suffix="_as_wgs84"),
    )


# --------------------------------------------------------------------------- checking


def check_result(
    result: ScreeningResult, examples: Iterable[Example], *, file: str = ""
) -> list[Mismatch]:
    """Compare a screening with the documented outcomes of its sites.

    Parameters
    ----------
    result : ScreeningResult
    examples : iterable of Example
        Matched to the result's sites by id.
    file : str
        Named in the mismatches.

    Returns
    -------
    list of Mismatch
        A site missing from the result, a different verdict, an expected rule that did not
        fire, an absent rule that did, an expected reason status that is not there.
    """
    sites = result.sites.set_index("site_id")
    reasons = result.reasons
    out: list[Mismatch] = []
    for e in examples:
        if e.id not in sites.index:
            out.append(Mismatch(file, e.id, "missing site", "a screened site", "none"))
            continue
        verdict = str(sites.at[e.id, "verdict"])
        if verdict != e.expected_verdict:
            out.append(Mismatch(file, e.id, "verdict", e.expected_verdict, verdict))
        mine = reasons[reasons["site_id"] == e.id]
        fired = {str(r) for r in mine["rule_id"].dropna()}
        statuses = {str(s) for s in mine["status"].dropna()}
        for rule in e.expected_rules:
            if rule not in fired:
                shown = ", ".join(sorted(fired)) or "no rule"
                out.append(Mismatch(file, e.id, "missing rule", rule, shown))
        for rule in e.absent_rules:
            if rule in fired:
                out.append(Mismatch(file, e.id, "unexpected rule", f"no {rule}", rule))
        for status in e.expected_status:
            if status not in statuses:
                shown = ", ".join(sorted(statuses)) or "no reason"
                out.append(Mismatch(file, e.id, "missing status", status, shown))
    return out


def check_ranking(
    ranking: pd.DataFrame, routes: Iterable[RouteExample], *, file: str = ""
) -> list[Mismatch]:
    """Compare a ranking (:func:`zoning.compare.rank_alternatives`) with the documented ranks.

    Parameters
    ----------
    ranking : pandas.DataFrame
        With columns ``site_id`` and ``rank`` (integers).
    routes : iterable of RouteExample
        Matched to the ranking's rows by id.
    file : str
        Named in the mismatches.

    Returns
    -------
    list of Mismatch
        An alternative missing from the ranking (``missing site``) or ranked otherwise than
        documented (``rank``), in the order of ``routes``.
    """
    got = dict(zip(ranking["site_id"].astype(str), ranking["rank"].astype(int), strict=True))
    out = []
    for r in routes:
        rank = got.get(r.id)
        if rank is None:
            out.append(Mismatch(file, r.id, "missing site", "a ranked alternative", "none"))
        elif rank != r.expected_rank:
            out.append(Mismatch(file, r.id, "rank", str(r.expected_rank), str(rank)))
    return out


# --------------------------------------------------------------------------- running


def run_examples(
    layers: LayerSet | str | Path | None = None,
    *,
    rules: RuleSet | str | Path | None = None,
    folder: str | Path | None = None,
) -> ExampleRun:
    """Screen every bundled example and compare the outcomes with their documentation.

    Parameters
    ----------
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog (the examples are placed on it; another
        catalog gives other outcomes, which show up as mismatches).
    rules : RuleSet or path, keyword-only
        Default: the bundled demonstration rule set.
    folder : path, keyword-only
        Where the three example files are (default :data:`EXAMPLES_DIR`).

    Returns
    -------
    ExampleRun

    Notes
    -----
    Four screenings: the projects, the GCJ-02 site read correctly and read as WGS84, and the
    alternatives (with their ranking).  Each layer is indexed once per :class:`LayerSet`, so
    pass one loaded layer set when calling this repeatedly.  Writes nothing.
    """
    from .compare import compare_alternatives
    from .layerset import LayerSet, load_catalog
    from .rules import RuleSet, load_rules
    from .screening import screen

    base = Path(folder) if folder is not None else EXAMPLES_DIR
    projects_path = base / PROJECTS.name
    amap_path = base / AMAP_GCJ02.name
    routes_path = base / ROUTES.name
    examples = load_examples(projects_path)
    amap = load_amap_example(amap_path)
    routes = load_route_examples(routes_path)
    if not isinstance(layers, LayerSet):
        layers = load_catalog(layers)
    rule_set = rules if isinstance(rules, RuleSet) else load_rules(rules)

    projects = screen(projects_path, layers, rules=rule_set)
    amap_result = screen(amap_path, layers, rules=rule_set, crs="gcj02")
    # The mistake the example warns about: GCJ-02 numbers declared as WGS84 (a declaration is
    # needed either way -- longitude/latitude without a CRS is an error).
    amap_wrong = screen(amap_path, layers, rules=rule_set, crs="EPSG:4326")
    route_result = compare_alternatives(routes_path, layers, rules=rule_set)

    mismatches = [
        *check_result(projects, examples, file=projects_path.name),
        *check_result(amap_result, [amap.gcj02], file=f"{amap_path.name} (--crs gcj02)"),
        *check_result(amap_wrong, [amap.as_wgs84], file=f"{amap_path.name} (read as WGS84)"),
        *check_result(route_result, [r.example for r in routes], file=routes_path.name),
        *check_ranking(route_result.ranking, routes, file=routes_path.name),
    ]
    for m in mismatches:
        log.info("example outcome differs from its documentation: %s", m)
    return ExampleRun(projects, amap_result, amap_wrong, route_result, mismatches)
