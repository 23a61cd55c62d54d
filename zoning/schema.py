"""Stage contracts: the names every stage, writer, page, map and test agrees on.

One home for the vocabulary of the data that flows between the stages (see the package
docstring): verdict levels and their severity, reason statuses, the four dimensions of an
access list, the relations the overlay engine reports, the standard feature attributes, the
project attributes, and the columns (with their dtypes) of the tables a screening produces.

This is a leaf module: it imports nothing from the package, so every stage may import it.
Words shown to people (Chinese and English labels) live in :mod:`zoning.labels`.
"""

from __future__ import annotations

__all__ = [
    "CHOICE_ATTRIBUTES",
    "CLAUSE_COLUMNS",
    "CLAUSE_OUTPUT_TYPES",
    "CLAUSE_RESULTS",
    "CLAUSE_SCOPES",
    "CODES_OUTPUT_TYPES",
    "CODE_KINDS",
    "CONTEXT_KINDS",
    "COVERAGE_KINDS",
    "DIMENSIONS",
    "DISCHARGES",
    "FACILITIES",
    "FLAGS",
    "HITS_CSV_COLUMNS",
    "HITS_OUTPUT_TYPES",
    "HIT_COLUMNS",
    "HIT_DTYPES",
    "INDUSTRY_SECTIONS",
    "INDUSTRY_SECTION_OF",
    "LAYER_STATUSES",
    "NATURES",
    "REASON_COLUMNS",
    "RED_LINE_ACTIVITIES",
    "RELATIONS",
    "RULE_RELATIONS",
    "SEVERITY",
    "SITES_CSV_COLUMNS",
    "SITES_OUTPUT_TYPES",
    "SITE_COLUMNS",
    "STANDARD_ATTRIBUTES",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "VERDICTS",
    "VERDICT_ORDER",
]

# --------------------------------------------------------------------------------------------
# Verdicts and reasons.

#: Verdict levels in ascending severity.  ``unknown`` (something needed is missing, so the site
#: cannot be cleared) ranks just below ``prohibited`` (a certain prohibition is still the
#: stronger statement).
VERDICTS = ("permitted", "conditional", "restricted", "unknown", "prohibited")
#: Severity rank of each verdict (higher is more severe).
SEVERITY = {v: i for i, v in enumerate(VERDICTS)}
#: Most severe first: the order of every list and count shown to people.
VERDICT_ORDER = tuple(reversed(VERDICTS))
#: Why a reason row exists.
STATUSES = ("applies", "needs_attribute", "layer_missing", "outside_coverage", "no_access_list")
#: Columns of the reasons frame (one row per rule that applies to a site, or cannot be
#: decided), in order.
REASON_COLUMNS = (
    "site",
    "site_id",
    "rule_id",
    "list_id",
    "layer_id",
    "kind",
    "feature_id",
    "feature_name",
    "verdict",
    "status",
    "dimension",
    "citation",
    "document",
    "article",
    "message_zh",
    "message_en",
    "next_step_zh",
    "next_step_en",
    "assumptions",
)
#: The four dimensions of a 生态环境准入清单, with their English names.
DIMENSIONS = {
    "空间布局约束": "spatial layout constraints",
    "污染物排放管控": "pollutant discharge control",
    "环境风险防控": "environmental risk prevention",
    "资源开发效率要求": "resource-use efficiency",
}

# --------------------------------------------------------------------------------------------
# Layers, features and the overlay engine's hits.

#: Status of a layer in a screening: screened, missing from the catalog, failed to load, or
#: not covering the site.
LAYER_STATUSES = ("ok", "missing", "failed", "outside_coverage")
#: Layer kinds whose union is the territory the layers cover (the overlay's default coverage).
COVERAGE_KINDS = ("district", "sea_area")
#: Layer kinds that frame the screening (territory, population, zoning units, the development
#: boundary) rather than protect something: they are not counted as constraints hit, and their
#: overlap is not added to a site's constrained area (rules still apply to them).
CONTEXT_KINDS = frozenset(
    {
        "district",
        "sea_area",
        "population",
        "control_unit",
        "development_boundary",
        "industrial_park",
    }
)
#: Relation of a site to a feature in the hits table: the interiors overlap, they share only
#: boundary, or the feature lies within the search radius.
RELATIONS = ("intersects", "touches", "nearby")
#: Relations a rule may require of a site and a layer.
RULE_RELATIONS = ("intersects", "within", "outside")
#: Feature attributes copied into the hits table (None where a layer lacks them); a rule's
#: ``where`` may test exactly these.
STANDARD_ATTRIBUTES = (
    "name",
    "name_en",
    "category",
    "unit_code",
    "level",
    "realm",
    "district",
    "access_list",
    "stream",
)
#: What the overlay engine measures of a site and a feature: the hits table's columns between
#: the feature and its attributes (``hits.csv`` has them in the same order).
_HIT_MEASURES = (
    "relation",
    "overlap_m2",
    "overlap_ha",
    "share_of_site",
    "share_of_feature",
    "overlap_length_m",
    "distance_m",
    "ring_m",
    "boundary_distance_m",
    "boundary_sensitive",
)
#: Columns of the overlay engine's hits table, in order (``OverlayResult.hits``).
HIT_COLUMNS = (
    "site",
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    *_HIT_MEASURES,
    *STANDARD_ATTRIBUTES,
)
#: Columns of the overlay engine's per-site, per-layer summary (``OverlayResult.summary``).
SUMMARY_COLUMNS = (
    "site",
    "site_id",
    "layer_id",
    "kind",
    "status",
    "hit",
    "overlap_m2",
    "share_of_site",
    "overlap_length_m",
    "distance_m",
    "nearest_feature_id",
    "ring_m",
    "boundary_sensitive",
)
#: dtype of each numeric or flag column of the hits table (the others are ``object``).
HIT_DTYPES = {
    "site": "int64",
    "overlap_m2": "float64",
    "overlap_ha": "float64",
    "share_of_site": "float64",
    "share_of_feature": "float64",
    "overlap_length_m": "float64",
    "distance_m": "float64",
    "ring_m": "float64",
    "boundary_distance_m": "float64",
    "boundary_sensitive": "bool",
}
#: Columns of ``hits.csv``, in order (a layer's data status is appended by the writer): the
#: hits table's, the feature's name after its id, then the rules and verdict of each hit.
HITS_CSV_COLUMNS = (
    "site_id",
    *HIT_COLUMNS[2:4],  # layer_id, kind
    "feature_id",
    "name",
    *_HIT_MEASURES,
    "rule_ids",
    "verdict",
    "category",
    "unit_code",
    "level",
    "access_list",
)

# --------------------------------------------------------------------------------------------
# Project attributes.

#: Yes/no project attributes.  ``wastewater``: the project produces waste water (where it
#: goes is ``discharge``); ``key_project``: a 重大建设项目 of the kinds listed in
#: 自然资规〔2018〕3号; ``residential_building``: catering in a residential or mixed
#: residential building; ``noise``: the project emits industrial noise.
FLAGS = (
    "linear",
    "wastewater",
    "air",
    "hazardous",
    "two_high",
    "key_project",
    "residential_building",
    "noise",
)
#: Project natures (建设性质).
NATURES = ("new", "expansion", "rebuild", "relocation")
#: Where the project's waste water goes: nowhere, to the sewer (a treatment plant outside the
#: zone) or directly (an outfall in or into the zone).
DISCHARGES = ("none", "sewer", "direct")
#: The limited human activity of 自然资发〔2022〕142号 a project claims in the ecological red
#: line: none, or its number 1-10 (codes are strings).
RED_LINE_ACTIVITIES = ("none", *(str(i) for i in range(1, 11)))
#: Facilities a project may have (repeatable); a site declares none, or one or more of these.
FACILITIES = (
    "waste_storage",
    "livestock",
    "dangerous_goods_wharf",
    "slag_yard",
    "tailings_pond",
    "outfall",
    "reclamation",
)
#: Project attributes taking one of a list of values, with their allowed values.  In the
#: sites table: a str, or None (not declared); ``facility`` is ``"none"`` or its codes sorted
#: and joined with ``;``.
CHOICE_ATTRIBUTES = {
    "discharge": DISCHARGES,
    "red_line_activity": RED_LINE_ACTIVITIES,
    "facility": FACILITIES,
}
#: Columns of :attr:`zoning.Sites.gdf` (the sites a screening reads), in order.
SITE_COLUMNS = (
    "site_id",
    "name",
    "industry",
    "industry_division",
    "nature",
    *FLAGS,
    *CHOICE_ATTRIBUTES,
    "two_high_source",
    "linear_source",
    "input_crs",
    "datum_shift_m",
    "uncertainty_m",
    "geometry",
)

#: GB/T 4754-2017 sections (门类) and the range of their major divisions (大类), inclusive.
INDUSTRY_SECTIONS = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}
#: The section letter of each major division (two-digit code as a number).
INDUSTRY_SECTION_OF = {d: s for s, (lo, hi) in INDUSTRY_SECTIONS.items() for d in range(lo, hi + 1)}
#: Columns of ``sites.csv``, in order, where the sites table has them (the writer adds
#: ``verdict_zh``, the Chinese verdict words, then ``lon`` and ``lat`` after ``verdict``, and
#: ``data_status`` and ``conclusion_code`` at the end: :data:`SITES_OUTPUT_TYPES`).
#: ``rule_ids`` and ``reason_codes`` are the labels and codes of the (at most three) most
#: severe reasons, joined with ``;``: their texts are in the codes table
#: (:data:`CODES_OUTPUT_TYPES`), once per code, not repeated on every row.
SITES_CSV_COLUMNS = (
    "site_id",
    "name",
    "verdict",
    "n_constraints",
    "n_hits",
    "n_reasons",
    "boundary_sensitive",
    "boundary_rules",
    "overlap_m2_total",
    "overlap_length_m_total",
    "nearest_m",
    "area_m2",
    "length_m",
    "industry",
    "nature",
    "linear",
    "linear_source",
    "wastewater",
    "discharge",
    "air",
    "hazardous",
    "two_high",
    "two_high_source",
    "key_project",
    "red_line_activity",
    "facility",
    "residential_building",
    "noise",
    "input_crs",
    "datum_shift_m",
    "uncertainty_m",
    "rule_ids",
    "reason_codes",
)

# --------------------------------------------------------------------------------------------
# The clause table (符合性分析).

#: Result of a clause for a site, in ascending severity: the site is not in the clause's layer
#: or beyond its distance; it is, but the clause's conditions do not hold (or its exception is
#: granted); a restricted or conditional clause applies; it cannot be decided; a prohibition
#: applies.
CLAUSE_RESULTS = ("not_applicable", "complies", "needs_review", "undecided", "violates")
#: Where a clause comes from: a city-wide rule keyed on a layer kind (a statutory floor), or a
#: clause of an access list of the control units.
CLAUSE_SCOPES = ("floor", "list")
#: Columns of the clause table (``ScreeningResult.clauses``, ``clauses.csv``), in order.
CLAUSE_COLUMNS = (
    "site",
    "site_id",
    "scope",
    "list_id",
    "rule_id",
    "dimension",
    "clause_zh",
    "citation",
    "quote",
    "reads",
    "result",
    "result_zh",
    "explanation_zh",
    "explanation_en",
)


# --------------------------------------------------------------------------------------------
# The tables every tabular output writes (CSV, Parquet, GeoPackage, JSON, XLSX), with the
# Arrow type of each column ("string", "bool", "int64", "float64"; "wkb": a geometry as WKB,
# EPSG:4326).  The types never depend on the data: an all-null column keeps its type, so a
# chunked run appends chunk after chunk to one Parquet file.

_FLAG_TYPES = {flag: "bool" for flag in FLAGS}
#: Columns of the sites table (``sites.csv``, ``sites.parquet``, the ``sites`` layer of
#: ``screening.gpkg``), in order, with their Arrow types.  ``lon`` / ``lat``: a point on the
#: site (EPSG:4326); ``rule_ids`` / ``reason_codes``: the most severe reasons (``;``-joined,
#: texts in the codes table); ``conclusion_code``: the site's clause conclusion (its text in
#: the codes table; null above the clause table's size limit).  ``sites.parquet`` adds
#: ``geometry`` (WKB, EPSG:4326).
SITES_OUTPUT_TYPES = {
    "site_id": "string",
    "name": "string",
    "verdict": "string",
    "verdict_zh": "string",
    "lon": "float64",
    "lat": "float64",
    "n_constraints": "int64",
    "n_hits": "int64",
    "n_reasons": "int64",
    "boundary_sensitive": "bool",
    "boundary_rules": "string",
    "overlap_m2_total": "float64",
    "overlap_length_m_total": "float64",
    "nearest_m": "float64",
    "area_m2": "float64",
    "length_m": "float64",
    "industry": "string",
    "nature": "string",
    "linear": "bool",
    "linear_source": "string",
    "wastewater": "bool",
    "discharge": "string",
    "air": "bool",
    "hazardous": "bool",
    "two_high": "bool",
    "two_high_source": "string",
    "key_project": "bool",
    "red_line_activity": "string",
    "facility": "string",
    "residential_building": "bool",
    "noise": "bool",
    "input_crs": "string",
    "datum_shift_m": "float64",
    "uncertainty_m": "float64",
    "rule_ids": "string",
    "reason_codes": "string",
    "data_status": "string",
    "conclusion_code": "string",
}
#: Columns of the hits table (``hits.csv``, ``hits.parquet``), in order, with their Arrow
#: types: :data:`HITS_CSV_COLUMNS` and ``layer_status``.
HITS_OUTPUT_TYPES = {
    **{c: "string" for c in HITS_CSV_COLUMNS},
    **{c: HIT_DTYPES[c] for c in HITS_CSV_COLUMNS if c in HIT_DTYPES},
    "layer_status": "string",
}
#: Columns of the clause table as written (``clauses.csv``, ``clauses.parquet``), in order,
#: with their Arrow types: :data:`CLAUSE_COLUMNS` and ``data_status``.
CLAUSE_OUTPUT_TYPES = {
    **{c: "string" for c in CLAUSE_COLUMNS},
    "site": "int64",
    "data_status": "string",
}
#: Kinds of rows of the codes table: a reason of a site (``reason_codes``) or a site's clause
#: conclusion (``conclusion_code``).
CODE_KINDS = ("reason", "conclusion")
#: Columns of the codes table (``codes.csv``, ``codes.parquet``, the ``codes`` member, layer
#: or sheet), one row per code a table of the run uses, with their Arrow types: ``code``;
#: ``kind`` (:data:`CODE_KINDS`); ``rule_id`` (None for a reason without a rule: a layer
#: missing, a site outside the coverage, a control unit without an access list);
#: ``outcome`` (the reason's verdict); ``text_en`` / ``text_zh`` (the reason's or the
#: conclusion's words); ``citation`` (the rule's document and article).
CODES_OUTPUT_TYPES = {
    "code": "string",
    "kind": "string",
    "rule_id": "string",
    "outcome": "string",
    "text_en": "string",
    "text_zh": "string",
    "citation": "string",
}
