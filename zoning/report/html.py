"""Screening reports: a static HTML report (one index page plus one page per site) and a
plain-text console summary.

The HTML is rendered with jinja2 templates (``zoning/templates/report/``) with autoescaping
on: every string that comes from data (site ids, names, feature names, messages, citations)
is escaped, and no data-derived string is marked safe.  Pages are pure HTML with inline CSS:
no JavaScript, no external requests, so they open from ``file://`` on an offline machine.

Writers never compute: verdicts, areas and distances come from the
:class:`~zoning.screening.ScreeningResult`; this module only selects, sorts and formats them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from .._optional import require
from .._version import __version__
from ..catalog import KINDS
from ..errors import CatalogError
from ..rules import DIMENSIONS as _DIMENSIONS
from ..rules import SEVERITY as _SEVERITY

if TYPE_CHECKING:  # pragma: no cover
    from ..screening import ScreeningResult

__all__ = ["console_summary", "write_report"]

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "report"

#: Most severe first: the order of every list and count in the report.
_ORDER = sorted(_SEVERITY, key=_SEVERITY.__getitem__, reverse=True)

VERDICT_LABELS = {
    "prohibited": ("禁止", "prohibited"),
    "restricted": ("限制", "restricted"),
    "conditional": ("有条件", "conditional"),
    "permitted": ("允许", "permitted"),
    "unknown": ("未知", "unknown"),
}

_NATURE = {
    "new": ("新建", "new"),
    "expansion": ("扩建", "expansion"),
    "rebuild": ("改建", "rebuild"),
    "relocation": ("迁建", "relocation"),
}

_FLAGS = (
    ("linear", "线性基础设施", "linear infrastructure"),
    ("wastewater", "排放废水", "discharges waste water"),
    ("air", "排放大气污染物", "emits air pollutants"),
    ("hazardous", "涉及危险化学品", "hazardous chemicals"),
    ("two_high", "“两高”项目", '"two-high" (两高) project'),
)

#: Plain-words explanation of each reason status.
_REASON_STATUS = {
    "applies": ("规则适用于本场址。", "The rule applies to this site."),
    "needs_attribute": (
        "规则取决于未申报的项目属性；申报该属性后才能判定，在此之前不能视为通过。",
        "The rule depends on a project attribute that was not declared; it cannot be settled "
        "(and the site cannot be cleared) until the attribute is declared.",
    ),
    "layer_missing": (
        "规则所需的图层缺失或加载失败，缺少数据不等于没有约束。",
        "A layer this rule needs is missing from the catalog or failed to load: missing data "
        "is not the same as no constraint.",
    ),
    "outside_coverage": (
        "场址全部或部分位于该图层覆盖范围之外：范围外的部分没有数据，这些规则在那里无法检查"
        "（在范围内部分发现的禁止性要求仍然有效）。",
        "The site lies wholly or partly outside the area this layer covers: the part outside "
        "has no data, so these rules cannot be checked there (a prohibition found on the part "
        "inside still stands).",
    ),
    "no_access_list": (
        "该管控单元在规则集中没有准入清单，需查阅官方清单。",
        "The rule set holds no access list for this control unit; consult the official list.",
    ),
}

_LAYER_STATUS = {
    "ok": ("已筛查", "screened"),
    "missing": ("图层缺失", "layer missing"),
    "failed": ("加载失败", "failed to load"),
    "outside_coverage": ("超出覆盖范围", "site outside the layer's coverage"),
}

#: What to do about a rule that carries no next step of its own, by its verdict; ``{cite}``
#: is the clause (short document name and article), ``{dim_zh}`` / ``{dim_en}`` its dimension.
_FALLBACK_STEPS = {
    "prohibited": (
        "重新选址：{cite}（{dim_zh}）禁止本项目在此建设。",
        "Re-site the project: {cite} ({dim_en}) prohibits it here.",
    ),
    "restricted": (
        "{cite}（{dim_zh}）限制本项目：只有取得该条款要求的审批或论证后方可建设，"
        "请向主管部门确认具体程序。",
        "{cite} ({dim_en}) restricts this project: it may proceed only with the approval or "
        "demonstration that clause requires; confirm the procedure with the competent authority.",
    ),
    "conditional": (
        "满足{cite}（{dim_zh}）的要求后方可建设，并在环评中说明落实情况。",
        "Meet the requirements of {cite} ({dim_en}) before construction and show how in the EIA.",
    ),
    "permitted": (
        "{cite}（{dim_zh}）：按该条款执行。",
        "{cite} ({dim_en}): follow that clause.",
    ),
}

_PROHIBITED_GENERIC = (
    "重新选址：场址触及禁止性要求，原址不能通过准入。",
    "Re-site the project: the site meets a prohibition and cannot pass the access review "
    "where it is.",
)
_PERMITTED_GENERIC = (
    "已筛查图层中未发现约束；仍需按常规程序办理环评与准入审查。",
    "No constraint found in the screened layers; the usual EIA and access-review "
    "procedures still apply.",
)

#: Project attributes a rule may test: label (zh, en) and how to declare them.
_ATTRIBUTES = {
    "industry": (
        "行业代码（GB/T 4754-2017）",
        "the industry code (GB/T 4754-2017)",
        "--industry CODE",
    ),
    "nature": (
        "建设性质（新建、扩建、改建、迁建）",
        "the nature of the project (new, expansion, rebuild, relocation)",
        "--nature new|expansion|rebuild|relocation",
    ),
    "linear": (
        "是否为线性基础设施",
        "whether it is linear infrastructure",
        "--linear / --no-linear",
    ),
    "wastewater": (
        "是否排放废水",
        "whether it discharges waste water",
        "--wastewater / --no-wastewater",
    ),
    "air": ("是否排放大气污染物", "whether it emits air pollutants", "--air / --no-air"),
    "hazardous": (
        "是否涉及危险化学品",
        "whether it handles hazardous chemicals",
        "--hazardous / --no-hazardous",
    ),
    "two_high": (
        "是否为“两高”项目",
        'whether it is a "两高" (high energy use, high emission) project',
        "--two-high / --no-two-high",
    ),
}
_UNDECLARED_RE = re.compile(r"\b([a-z_]+(?:, [a-z_]+)*) not declared")

#: Layer kinds whose union is the territory the layers cover (zoning.overlay.screen_layers'
#: default ``coverage``).
_COVERAGE_KINDS = ("district", "sea_area")

_LANGS = ("both", "zh", "en")


# --------------------------------------------------------------------------------------------
# Formatting helpers: every number a page shows goes through one of these.


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        res = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(res) if isinstance(res, bool | np.bool_) else False


def _str(value: Any) -> str | None:
    """A non-empty string, or None for None/NaN/empty."""
    if _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _float(value: Any) -> float | None:
    if _missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def fmt_number(value: Any, digits: int = 0) -> str:
    """``1234.5 -> "1,235"``; NaN/None -> ``"—"``."""
    v = _float(value)
    return "—" if v is None else f"{v:,.{digits}f}"


def fmt_area(m2: Any) -> str:
    """Square metres; hectares too from 10,000 m² up.  NaN -> ``"—"``."""
    v = _float(m2)
    if v is None:
        return "—"
    if v < 10_000:
        return f"{v:,.1f} m²" if 0 < v < 10 else f"{v:,.0f} m²"
    return f"{v:,.0f} m² ({v / 1e4:,.2f} ha)"


def fmt_ha(m2: Any) -> str:
    v = _float(m2)
    return "—" if v is None else f"{v / 1e4:,.2f}"


def fmt_share(share: Any) -> str:
    """A fraction as a percentage: ``0.1234 -> "12.3 %"``; tiny non-zero shares stay visible."""
    v = _float(share)
    if v is None:
        return "—"
    if v == 0:
        return "0 %"
    if 0 < v < 0.001:
        return "< 0.1 %"
    if 0.999 < v < 1:
        return "> 99.9 %"
    return f"{100 * v:,.1f} %"


def fmt_m(value: Any) -> str:
    """A distance or length in metres: ``1234.4 -> "1,234 m"``."""
    v = _float(value)
    if v is None:
        return "—"
    return f"{v:,.1f} m" if 0 < abs(v) < 10 else f"{v:,.0f} m"


def _bool(value: Any) -> bool | None:
    if _missing(value):
        return None
    return bool(value)


def _short_hash(value: Any, n: int = 12) -> str | None:
    text = _str(value)
    if text is None:
        return None
    return text.split(":", 1)[1][:n] if text.startswith("sha256:") else text[:n]


def _verdict(value: Any) -> str:
    text = _str(value)
    return text if text in _SEVERITY else "unknown"


# --------------------------------------------------------------------------------------------
# Safe, unique page names.

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def page_name(site_id: Any) -> str:
    """A file name for a site's page: ASCII slug of the id plus a short hash of the exact id.

    The slug keeps names readable (``"Plant A/2" -> "plant-a-2-…"``); the hash keeps ids that
    slug alike apart (``"a/b"`` and ``"a-b"``) and gives ids with no ASCII letters (Chinese
    names, ``"../"``) a name.  Only ``[a-z0-9-]`` appear, so no path traversal, no case
    collisions and no URL quoting issues.
    """
    text = "" if site_id is None else str(site_id)
    slug = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_RE.sub("-", slug.lower()).strip("-")[:40].strip("-") or "site"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}"


def _page_names(ids: Iterable[tuple[int, Any]]) -> dict[int, str]:
    out: dict[int, str] = {}
    used: set[str] = set()
    for pos, site_id in ids:
        base = page_name(site_id)
        name, k = base, 1
        while name in used:  # duplicate ids (the contract says unique; do not rely on it)
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        out[pos] = f"{name}.html"
    return out


# --------------------------------------------------------------------------------------------
# Provenance, layers, rule set.


def _pick(prov: dict, *keys: str) -> Any:
    for key in keys:
        if key in prov and not _missing(prov[key]):
            return prov[key]
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)
    return str(value)


def _is_demonstration(result: Any) -> bool:
    prov = result.provenance or {}
    if "demonstration" in prov:
        return bool(prov["demonstration"])
    return bool(getattr(result.layers, "is_demonstration", False))


def _prov_layers(prov: dict) -> dict[str, dict]:
    """Provenance of each layer, keyed by layer id (list of dicts or dict of dicts)."""
    raw = prov.get("layers")
    out: dict[str, dict] = {}
    if isinstance(raw, dict):
        for key, val in raw.items():
            if isinstance(val, dict):
                out[str(val.get("id", key))] = val
    elif isinstance(raw, list | tuple):
        for val in raw:
            if isinstance(val, dict) and val.get("id") is not None:
                out[str(val["id"])] = val
    return out


class _Catalog:
    """Layer titles, tolerances and data status looked up once per layer id."""

    def __init__(self, layers: Any):
        self.catalog = getattr(layers, "catalog", None)
        self._entries: dict[str, Any] = {}

    def entry(self, layer_id: Any) -> Any:
        key = _str(layer_id)
        if key is None or self.catalog is None:
            return None
        if key not in self._entries:
            try:
                self._entries[key] = self.catalog.by_id(key)
            except (CatalogError, KeyError, LookupError):
                self._entries[key] = None
        return self._entries[key]

    def title(self, layer_id: Any, kind: Any) -> tuple[str, str]:
        entry = self.entry(layer_id)
        if entry is not None:
            return entry.title("zh"), entry.title("en")
        info = KINDS.get(_str(kind) or "")
        if info is not None:
            return info.title_zh, info.title_en
        text = _str(layer_id) or _str(kind) or "?"
        return text, text

    def tolerance(self, layer_id: Any) -> float | None:
        entry = self.entry(layer_id)
        return None if entry is None else entry.positional_tolerance_m


class _Rules:
    """Documents and rules of the screening's rule set, looked up by id.

    A rule set without ``documents`` or ``rule()`` (a result read back from JSON, a
    hand-made one) gives None everywhere: citations then fall back to the reason's own
    ``citation`` text.
    """

    def __init__(self, rule_set: Any):
        docs = getattr(rule_set, "documents", None)
        self.documents: dict = docs if isinstance(docs, dict) else {}
        self._rule = getattr(rule_set, "rule", None)
        self._rules: dict[str, Any] = {}
        rule_list = getattr(rule_set, "rules", None)
        kinds = getattr(rule_set, "kinds", None)
        #: Layer kinds some rule reads (``RuleSet.kinds`` plus the kinds named by
        #: ``applies_to.except_inside``), as the screening's ``boundary_sensitive`` uses them;
        #: None for a rule set that does not say (a hand-made one): every layer then counts.
        self.read: set[str] | None = None
        #: ``within`` rules per layer kind: ``[(distance_m, rule), ...]``.
        self.within: dict[str, list[tuple[float, Any]]] = {}
        if isinstance(rule_list, (list, tuple)) and kinds is not None:
            read = getattr(rule_set, "read_kinds", None)
            self.read = {str(k) for k in (read if read is not None else kinds)}
            for r in rule_list:
                at = getattr(r, "applies_to", None)
                if at is None:
                    continue
                dist = _float(getattr(at, "distance_m", None))
                if getattr(at, "relation", None) == "within" and dist is not None:
                    self.within.setdefault(str(at.kind), []).append((dist, r))

    def document(self, doc_id: Any) -> Any:
        key = _str(doc_id)
        return None if key is None else self.documents.get(key)

    def rule(self, rule_id: Any) -> Any:
        key = _str(rule_id)
        if key is None or not callable(self._rule):
            return None
        if key not in self._rules:
            try:
                self._rules[key] = self._rule(key)
            except (KeyError, LookupError):
                self._rules[key] = None
        return self._rules[key]

    def reads(self, kind: Any) -> bool:
        """Whether some rule reads layers of ``kind`` (True when the rule set does not say)."""
        k = _str(kind)
        return self.read is None or k is None or k in self.read

    def distance(self, rule_id: Any) -> float | None:
        """The distance of a ``within`` rule (None for other rules or an unknown rule)."""
        at = getattr(self.rule(rule_id), "applies_to", None)
        return _float(getattr(at, "distance_m", None)) if at is not None else None

    def cite(self, rec: dict) -> tuple[str | None, str | None]:
        """``(citation, full title)`` of a reason: the document's short name and the article.

        The rule set's document gives the short name (``长江保护法``) and the full title;
        without it the reason's ``citation`` text is used, then the bare document and article.
        """
        doc_id, art = _str(rec.get("document")), _str(rec.get("article"))
        doc = self.document(doc_id)
        if doc is not None:
            label = _str(getattr(doc, "label", None)) or doc_id
            title = _str(getattr(doc, "title", None))
            title_en = _str(getattr(doc, "title_en", None))
            full = " / ".join(x for x in (title, title_en) if x and x != label) or None
            return ", ".join(x for x in (label, art) if x), full
        cite = _str(rec.get("citation"))
        if cite:
            return cite, None
        return ", ".join(x for x in (doc_id, art) if x) or None, None


class _LayerState:
    """How the layers fared for one site: each layer's status, the kinds with a loaded layer,
    and the screening's search radius (to tell a short distance search from a missing layer).
    """

    def __init__(self, summary: list[dict] | None, radius: Any = None):
        self.status: dict[str, str] = {}
        self.loaded_kinds: set[str] = set()
        for r in summary or []:
            status = _str(r.get("status")) or "ok"
            lid = _str(r.get("layer_id"))
            if lid is not None:
                self.status[lid] = status
            kind = _str(r.get("kind"))
            if kind is not None and status in ("ok", "outside_coverage"):
                self.loaded_kinds.add(kind)
        self.radius = _float(radius)

    def load(self, r: dict) -> str | None:
        """``missing``/``failed`` for a reason whose layer is missing or failed to load,
        ``short`` for one whose kind has a loaded layer that the distance search did not
        reach far enough, else the layer's status."""
        if r["layer_id"] is None:
            return "short" if r["kind"] in self.loaded_kinds else "missing"
        return self.status.get(r["layer_id"])


#: The status text of a ``layer_missing`` reason whose layer loaded but was not searched as
#: far as the rule needs (an explicit short ``--search-radius``).
_SHORT_SEARCH = (
    "图层已加载，但距离检索未达到该规则所需的距离：未找到要素不等于没有约束。",
    "The layer loaded, but the distance search stopped short of the distance this rule needs: "
    "nothing found is not the same as no constraint.",
)


def _short_search_texts(
    ids: list[str], state: _LayerState, rules: _Rules
) -> tuple[str, str, str, str]:
    """``(searched zh, searched en, re-run zh, re-run en)`` for rules left undecided because
    the distance search stopped short of their distance."""
    need = max((d for i in ids if (d := rules.distance(i)) is not None), default=None)
    rule = ", ".join(ids)
    if state.radius is not None:
        got_zh = f"只检索到 {fmt_m(state.radius)}（规则 {rule}）"
        got_en = f"searched only to {fmt_m(state.radius)} (rule {rule})"
    else:
        got_zh, got_en = f"检索距离不足（规则 {rule}）", f"not searched far enough (rule {rule})"
    at_least = fmt_m(need) if need is not None else None
    return (
        got_zh,
        got_en,
        f"请不带 --search-radius 或以至少 {at_least or '规则所需距离'} 的搜索半径重新筛查",
        f"re-run without --search-radius or with at least {at_least or 'the rule distance'}",
    )


def _rule_set_info(result: Any) -> dict[str, str | None]:
    rs = result.rule_set
    prov_rs = (result.provenance or {}).get("rule_set")
    prov_rs = prov_rs if isinstance(prov_rs, dict) else {}

    def get(attr: str) -> str | None:
        value = getattr(rs, attr, None) if rs is not None else None
        return _str(value) if not _missing(value) else _str(prov_rs.get(attr))

    return {
        "id": get("id"),
        "version": get("version"),
        "hash": get("hash"),
        "hash_short": _short_hash(get("hash")),
        "status": get("status"),
    }


_DATA_STATUS = ("authoritative", "demonstration", "unknown")


def _layer_rows(result: Any, cat: _Catalog) -> list[dict]:
    """Data vintage, status and file hash of every catalog layer (plus provenance-only ones)."""
    prov_layers = _prov_layers(result.provenance or {})
    rows = []
    ids = [e.id for e in cat.catalog.layers] if cat.catalog is not None else []
    ids += [k for k in prov_layers if k not in ids]
    for layer_id in ids:
        entry = cat.entry(layer_id)
        p = prov_layers.get(layer_id, {})
        eprov = getattr(entry, "provenance", None)
        zh, en = cat.title(layer_id, p.get("kind") or getattr(entry, "kind", None))
        # screening records the data status as "status" and the load result as "load"
        raw_status = _str(p.get("status"))
        data_status = _str(getattr(eprov, "status", None)) if eprov is not None else None
        if data_status is None and raw_status in _DATA_STATUS:
            data_status = raw_status
        status = _str(p.get("load")) or (raw_status if raw_status not in _DATA_STATUS else None)
        rows.append(
            {
                "id": layer_id,
                "kind": _str(p.get("kind")) or _str(getattr(entry, "kind", None)),
                "title_zh": zh,
                "title_en": en,
                "data_status": data_status or "—",
                "load_status": status or "—",
                "vintage": _str(p.get("vintage"))
                or (_str(getattr(eprov, "vintage", None)) if eprov else None)
                or "not stated",
                "sha256": _short_hash(p.get("sha256")) or "—",
                "source": _str(p.get("source")) or "—",
                "demonstration": data_status == "demonstration",
            }
        )
    return rows


def _coverage_checked(result: Any) -> bool:
    """Whether the screening tested the sites against the layers' coverage.

    It did when a layer of a coverage kind (districts, sea area) loaded: from the
    provenance's per-layer load status, else from the layer summary's statuses.
    """
    prov = _prov_layers(result.provenance or {})
    loads = [(_str(p.get("kind")), _str(p.get("load"))) for p in prov.values()]
    if any(load is not None for _, load in loads):
        return any(k in _COVERAGE_KINDS and load == "ok" for k, load in loads)
    summary = getattr(result, "layer_summary", None)
    if summary is not None and len(summary) and {"kind", "status"} <= set(summary.columns):
        sel = summary.loc[summary["kind"].isin(_COVERAGE_KINDS), "status"]
        return bool(sel.isin(["ok", "outside_coverage"]).any())
    return False


_COVERAGE_NOT_CHECKED = (
    "未检查覆盖范围：本次筛查没有成功加载行政区或海域图层，无法判断场址是否位于图层覆盖范围内。"
    "覆盖范围以外的场址会被当作该处没有约束来筛查——“允许”不代表已经核查。",
    "Coverage NOT checked: no district or sea-area layer loaded, so whether each site lies "
    "inside the area the layers cover was not tested. A site outside that area is screened "
    "as if nothing constrained it there: a permitted verdict does not mean it was checked.",
)


def _limits(result: Any, sites: pd.DataFrame, layer_rows: list[dict]) -> dict:
    """The facts the "what this result does not tell you" section states for a screening."""
    undeclared = []
    for attr, (zh, en, _how) in _ATTRIBUTES.items():
        n = len(sites) if attr not in sites.columns else int(sites[attr].isna().sum())
        if n:
            undeclared.append({"zh": zh, "en": en, "count": f"{n:,}"})
    return {
        "coverage_checked": _coverage_checked(result),
        "coverage_text": _COVERAGE_NOT_CHECKED,
        "shoreline_demo": any(r["kind"] == "shoreline" and r["demonstration"] for r in layer_rows),
        "no_vintage": [r["id"] for r in layer_rows if r["vintage"] == "not stated"],
        "undeclared": undeclared,
        "n_sites": f"{len(sites):,}",
    }


_PROV_FIELDS = (
    ("tool", ("tool_version", "version", "zoning_version")),
    ("created", ("created", "created_at", "time")),
    ("catalog", ("catalog", "catalog_path")),
    ("catalog_sha256", ("catalog_sha256", "catalog_hash")),
    ("working_crs", ("working_crs",)),
    ("input_crs", ("input_crs", "input_crss")),
    ("conversions", ("conversions", "conversions_applied", "crs_conversions")),
    ("input_source", ("input_source",)),
    ("search_radius_m", ("search_radius_m", "search_radius")),
)


def _crs_label(crs: dict) -> str | None:
    """A short label for a CRS recorded as ``{"name", "wkt"}`` (PROJ string if unnamed)."""
    name = _str(crs.get("name"))
    if name and name.lower() != "unknown":
        return name
    wkt = _str(crs.get("wkt"))
    if wkt is None:
        return name
    try:
        import pyproj

        with warnings.catch_warnings():  # "you will likely lose projection information"
            warnings.simplefilter("ignore", UserWarning)
            return pyproj.CRS.from_wkt(wkt).to_proj4() or name
    except Exception:  # an unreadable WKT is shown by name only
        return name


def _search_radius(result: Any) -> float | None:
    """The screening's search radius in metres, from its provenance (None if not recorded)."""
    return _float(_pick(dict(result.provenance or {}), "search_radius_m", "search_radius"))


def _radius_text(value: Any) -> str | None:
    """The search radius as the report prints it (``"1,000 m"``); unreadable text as is."""
    v = _float(value)
    return fmt_m(v) if v is not None else _str(value)


def _footer(result: Any) -> dict:
    prov = dict(result.provenance or {})
    used = {"layers", "demonstration", "rule_set", "tool", "notes"}
    inp = prov.get("input")
    if isinstance(inp, dict):  # screening's shape: {"source", "crs", "conversion", "sites"}
        used.add("input")
        prov.setdefault("input_crs", inp.get("crs"))
        prov.setdefault("conversions", inp.get("conversion") or "none")
        prov.setdefault("input_source", inp.get("source"))
    out: dict[str, Any] = {}
    for name, keys in _PROV_FIELDS:
        value = _pick(prov, *keys)
        used.update(keys)
        if name == "catalog" and isinstance(value, dict):
            out["catalog_sha256"] = _short_hash(value.get("sha256"))
            value = value.get("path") or value.get("name")
        if name == "working_crs" and isinstance(value, dict):  # {"name", "wkt"}: WKT is long
            value = _crs_label(value)
        if name == "catalog_sha256":
            value = _short_hash(value) or out.get("catalog_sha256")
        out[name] = None if value is None else _as_text(value)
    out["tool"] = out["tool"] or __version__
    out["other"] = [
        (str(k), _as_text(v)) for k, v in prov.items() if k not in used and not _missing(v)
    ]
    return out


# --------------------------------------------------------------------------------------------
# Selecting and ordering sites.


def _verdicts(verdicts: pd.Series) -> pd.Series:
    """Verdict strings, anything unrecognised read as ``unknown`` (never as a pass)."""
    return verdicts.where(verdicts.isin(list(_SEVERITY)), "unknown").astype(object)


def _severity(verdicts: pd.Series) -> np.ndarray:
    return _verdicts(verdicts).map(_SEVERITY).to_numpy(dtype=np.int8)


def _site_order(sites: pd.DataFrame) -> np.ndarray:
    """Positions of the sites, most severe first, input order within a level."""
    sev = _severity(sites["verdict"])
    return np.argsort(-sev, kind="stable")


def _verdict_counts(sites: pd.DataFrame) -> dict[str, int]:
    counts = _verdicts(sites["verdict"]).value_counts()
    return {v: int(counts.get(v, 0)) for v in _ORDER}


def _n_boundary_sensitive(sites: pd.DataFrame) -> int:
    if "boundary_sensitive" not in sites.columns:
        return 0
    return int(sites["boundary_sensitive"].eq(True).sum())


def _top_reasons(reasons: pd.DataFrame, positions: Iterable[int]) -> dict[int, dict]:
    """The most severe reason of each listed site (first in rule order among ties)."""
    pos = list(positions)
    if reasons is None or not len(reasons) or not pos:
        return {}
    sel = reasons[reasons["site"].isin(pos)]
    if not len(sel):
        return {}
    sev = _severity(sel["verdict"])
    sel = sel.iloc[np.argsort(-sev, kind="stable")].drop_duplicates("site")
    return {int(r["site"]): r for r in sel.to_dict("records")}


def _group(frame: pd.DataFrame | None, positions: set[int]) -> dict[int, list[dict]]:
    """The rows of ``frame`` for the listed sites, as records grouped by site position."""
    if frame is None or not len(frame) or not positions:
        return {}
    sel = frame[frame["site"].isin(positions)]
    out: dict[int, list[dict]] = {}
    for rec in sel.to_dict("records"):
        out.setdefault(int(rec["site"]), []).append(rec)
    return out


# --------------------------------------------------------------------------------------------
# Page models (plain dicts of formatted strings; the templates only escape and lay out).


def _verdict_model(verdict: Any) -> dict:
    v = _verdict(verdict)
    zh, en = VERDICT_LABELS[v]
    return {"key": v, "zh": zh, "en": en}


def _site_row(
    pos: int, rec: dict, page: str | None, top: dict | None, unknown: tuple | None = None
) -> dict:
    if unknown is not None:  # why the site is unknown says more than one rule's message
        top = {"message_zh": unknown[0], "message_en": unknown[1], "citation": None}
    return {
        "pos": pos,
        "site_id": _str(rec.get("site_id")) or f"#{pos}",
        "name": _str(rec.get("name")),
        "verdict": _verdict_model(rec.get("verdict")),
        "n_constraints": fmt_number(rec.get("n_constraints")),
        "overlap": fmt_area(rec.get("overlap_m2_total")),
        "nearest": fmt_m(rec.get("nearest_m")),
        "boundary_sensitive": bool(_bool(rec.get("boundary_sensitive"))),
        "href": None if page is None else "sites/" + quote(page),
        "top_zh": _str(top.get("message_zh")) if top else None,
        "top_en": _str(top.get("message_en")) if top else None,
        "top_citation": _str(top.get("citation")) if top else None,
    }


def _feature_name(rec: dict) -> tuple[str | None, str | None]:
    name = _str(rec.get("name"))
    name_en = _str(rec.get("name_en"))
    fid = _str(rec.get("feature_id"))
    return name or name_en or fid, name_en if name else None


def _constraint_groups(summary: list[dict] | None, hits: list[dict] | None, cat: _Catalog):
    """Per-layer rows of the site's constraint table, each with its feature rows."""
    hit_by_layer: dict[str, list[dict]] = {}
    if hits:
        for rec in hits:
            hit_by_layer.setdefault(_str(rec.get("layer_id")) or "", []).append(rec)
    groups = []
    seen: set[str] = set()
    for rec in summary or []:
        lid = _str(rec.get("layer_id"))
        seen.add(lid or "")
        feats = hit_by_layer.get(lid or "", []) if lid else []
        groups.append(_constraint_group(rec, feats, cat))
    for lid, feats in hit_by_layer.items():  # hits whose layer has no summary row
        if lid not in seen:
            first = feats[0]
            rec = {"layer_id": lid or None, "kind": first.get("kind"), "status": "ok"}
            groups.append(_constraint_group(rec, feats, cat))

    def key(g: dict) -> tuple:
        dist = g["_distance"]
        return (
            0 if g["hit"] else 1 if dist is not None else 2 if g["status_key"] == "ok" else 3,
            dist if dist is not None else math.inf,
        )

    groups.sort(key=key)
    return groups


def _constraint_group(rec: dict, feats: list[dict], cat: _Catalog) -> dict:
    zh, en = cat.title(rec.get("layer_id"), rec.get("kind"))
    status = _str(rec.get("status")) or "ok"
    hit = bool(_bool(rec.get("hit")))
    dist = _float(rec.get("distance_m"))
    if status not in ("ok", "outside_coverage"):
        res_zh, res_en = _LAYER_STATUS.get(status, (status, status))
    elif hit:
        res_zh, res_en = "相交", "overlaps"
    elif dist == 0:
        res_zh, res_en = "相接（未占用）", "touches (not occupied)"
    elif dist is not None:
        res_zh, res_en = "邻近", "nearby"
    elif status == "outside_coverage":
        res_zh, res_en = _LAYER_STATUS[status]
    else:
        res_zh, res_en = "未涉及", "clear"
    if status == "outside_coverage" and (hit or dist is not None):
        # measured on the part inside the coverage; the part outside was not screened
        res_zh += "（场址部分位于覆盖范围外）"
        res_en += " (site partly outside the coverage)"
    nearest = _str(rec.get("nearest_feature_id"))
    if nearest and feats:
        for f in feats:
            if _str(f.get("feature_id")) == nearest:
                nearest = _feature_name(f)[0]
                break
    features = []
    for f in sorted(feats, key=lambda f: _float(f.get("distance_m")) or 0.0):
        name, name_en = _feature_name(f)
        features.append(
            {
                "name": name or "—",
                "name_en": name_en,
                "feature_id": _str(f.get("feature_id")),
                "relation": _str(f.get("relation")),
                "overlap": fmt_area(f.get("overlap_m2")),
                "ha": fmt_ha(f.get("overlap_m2")),
                "share_of_site": fmt_share(f.get("share_of_site")),
                "share_of_feature": fmt_share(f.get("share_of_feature")),
                "length": fmt_m(f.get("overlap_length_m")),
                "distance": fmt_m(f.get("distance_m")),
                "ring": _ring(f.get("ring_m")),
                "boundary_sensitive": bool(_bool(f.get("boundary_sensitive"))),
                "verdict": _verdict_model(f["verdict"]) if _str(f.get("verdict")) else None,
                "_distance": _float(f.get("distance_m")),
            }
        )
    return {
        "layer_id": _str(rec.get("layer_id")),
        "kind": _str(rec.get("kind"))
        or next((k for f in feats if (k := _str(f.get("kind"))) is not None), None),
        "title_zh": zh,
        "title_en": en,
        "status_key": status,
        "result_zh": res_zh,
        "result_en": res_en,
        "hit": hit,
        "nearest": nearest,
        "overlap": fmt_area(rec.get("overlap_m2")),
        "ha": fmt_ha(rec.get("overlap_m2")),
        "share_of_site": fmt_share(rec.get("share_of_site")),
        "length": fmt_m(rec.get("overlap_length_m")),
        "distance": fmt_m(rec.get("distance_m")),
        "ring": _ring(rec.get("ring_m")),
        "boundary_sensitive": bool(_bool(rec.get("boundary_sensitive"))),
        "features": features,
        "_distance": dist,
        "_boundary_distance": min(
            (d for f in feats if (d := _float(f.get("boundary_distance_m"))) is not None),
            default=None,
        ),
    }


def _ring(value: Any) -> str:
    v = _float(value)
    return "—" if v is None else f"≤ {v:,.0f} m"


def _reason_rows(reasons: list[dict] | None, cat: _Catalog, rules: _Rules) -> list[dict]:
    if not reasons:
        return []
    ordered = sorted(reasons, key=lambda r: -_SEVERITY[_verdict(r.get("verdict"))])  # stable
    rows = []
    for rec in ordered:
        status = _str(rec.get("status")) or "applies"
        st_zh, st_en = _REASON_STATUS.get(status, (status, status))
        lzh, len_ = cat.title(rec.get("layer_id"), rec.get("kind"))
        cite, doc_title = rules.cite(rec)
        rows.append(
            {
                "verdict": _verdict_model(rec.get("verdict")),
                "rule_id": _str(rec.get("rule_id")) or "—",
                "list_id": _str(rec.get("list_id")),
                "layer_zh": lzh,
                "layer_en": len_,
                "feature": _str(rec.get("feature_name")) or _str(rec.get("feature_id")),
                "dimension": _str(rec.get("dimension")) or "—",
                "cite": cite,
                "doc_title": doc_title,
                "message_zh": _str(rec.get("message_zh")),
                "message_en": _str(rec.get("message_en")),
                "status": status,
                "status_zh": st_zh,
                "status_en": st_en,
                "assumptions": _str(rec.get("assumptions")),
                "next_zh": _str(rec.get("next_step_zh")),
                "next_en": _str(rec.get("next_step_en")),
                "kind": _str(rec.get("kind")),
                "layer_id": _str(rec.get("layer_id")),
            }
        )
    return rows


def _undeclared(rec: dict) -> list[str]:
    """The project attributes of a site that were not declared, in a fixed order."""
    return [a for a in _ATTRIBUTES if _missing(rec.get(a))]


def _rule_attributes(r: dict, rec: dict, rules: _Rules) -> tuple[list[str], list[str]]:
    """Undeclared attributes a reason's rule tests: (in its conditions, in its exception).

    From the rule set's rule when there is one; otherwise read from the reason's
    assumptions (``"wastewater not declared ..."``).
    """
    missing = set(_undeclared(rec))
    rule = rules.rule(r["rule_id"])
    if rule is not None:
        when = [a for c in getattr(rule, "when", []) for a in c.keys()]
        unless = [a for c in getattr(rule, "unless", []) for a in c.keys()]
        return (
            list(dict.fromkeys(a for a in when if a in missing)),
            list(dict.fromkeys(a for a in unless if a in missing)),
        )
    found: list[str] = []
    for m in _UNDECLARED_RE.finditer(r["assumptions"] or ""):
        found += [a for a in m.group(1).split(", ") if a in _ATTRIBUTES and a not in found]
    return (found, []) if r["status"] == "needs_attribute" else ([], found)


def _rule_label(r: dict) -> str:
    return f"{r['rule_id']} ({r['cite']})" if r["cite"] else r["rule_id"]


def _declare_steps(rows: list[dict], rec: dict, rules: _Rules) -> list[tuple[str, str]]:
    """One "declare X to decide rule Y" line per undeclared attribute some rule needs."""
    decide: dict[str, list[str]] = {}
    exception: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    for r in rows:
        if r["status"] not in ("needs_attribute", "applies"):
            continue
        when, unless = _rule_attributes(r, rec, rules)
        label = _rule_label(r)
        if r["status"] == "needs_attribute":
            for a in when:
                if label not in decide.setdefault(a, []):
                    decide[a].append(label)
            if not when and not unless:
                why = r["assumptions"] or r["message_en"] or ""
                other.append(
                    (
                        f"规则 {label} 无法判定（见原因表中的“假设”）：{why}",
                        f"Rule {label} cannot be decided: {why}",
                    )
                )
        for a in unless:
            if label not in exception.setdefault(a, []):
                exception[a].append(label)
    out = []
    for a, (lzh, len_, how) in _ATTRIBUTES.items():
        if a not in decide and a not in exception:
            continue
        zh = f"申报{lzh}（{how}，或在场址文件中填写 {a} 列）"
        en = f"Declare {len_} ({how}, or a {a} column in the sites file)"
        if a in decide:
            zh += f"，以判定规则 {'、'.join(decide[a])}"
            en += f" to decide rule {', '.join(decide[a])}"
        if a in exception:
            zh += f"；规则 {'、'.join(exception[a])} 因此项未申报而未考虑其例外情形"
            en += (
                f"{';' if a in decide else ':'} rule {', '.join(exception[a])} was applied "
                "without its exception, which depends on it"
            )
        out.append((zh + "。", en + "."))
    return out + other


def _layer_steps(rows: list[dict], state: _LayerState, rules: _Rules) -> list[tuple[str, str]]:
    """What to do about layers that are missing, failed, do not cover the site, or were not
    searched as far as a rule needs."""
    outside: list[tuple[str, str]] = []
    broken: dict[tuple, list[str]] = {}
    short: dict[tuple[str, str], list[str]] = {}
    out: list[tuple[str, str]] = []
    for r in rows:
        status = r["status"]
        title = (r["layer_zh"], r["layer_en"])
        if status == "outside_coverage":
            if title not in outside:
                outside.append(title)
        elif status == "layer_missing":
            load = state.load(r)
            if load == "short":
                ids = short.setdefault(title, [])
                if r["rule_id"] not in ids:
                    ids.append(r["rule_id"])
            elif load in ("missing", "failed"):
                ids = broken.setdefault((*title, load), [])
                if r["rule_id"] not in ids:
                    ids.append(r["rule_id"])
            else:  # the layer loaded: a feature value or the search radius is the problem
                out.append(
                    (
                        f"规则 {_rule_label(r)} 无法检查：{r['message_zh'] or r['message_en']}",
                        f"Rule {_rule_label(r)} cannot be checked: "
                        f"{r['message_en'] or r['message_zh']}",
                    )
                )
        elif status == "no_access_list":
            unit = r["feature"] or "—"
            out.append(
                (
                    f"规则集中没有管控单元 {unit} 的准入清单：请查阅该单元的官方生态环境准入清单。",
                    f"The rule set holds no access list for control unit {unit}: consult the "
                    "unit's official access list (生态环境准入清单).",
                )
            )
    for (zh, en), ids in reversed(short.items()):
        got_zh, got_en, rerun_zh, rerun_en = _short_search_texts(ids, state, rules)
        out.insert(
            0,
            (
                f"{zh}图层{got_zh}，无法检查：{rerun_zh}。",
                f"The {en} layer was {got_en}, which cannot be checked: {rerun_en}.",
            ),
        )
    for (zh, en, load), ids in broken.items():
        what_zh = "缺失" if load == "missing" else "加载失败"
        what_en = "is missing from the catalog" if load == "missing" else "failed to load"
        out.insert(
            0,
            (
                f"{zh}图层{what_zh}：规则 {'、'.join(ids)} 无法检查。补充或修复该图层后重新筛查。",
                f"The {en} layer {what_en}: rule {', '.join(ids)} cannot be checked. Add or "
                "repair the layer and screen again.",
            ),
        )
    if outside:
        zh = "、".join(t[0] for t in outside)
        en = "; ".join(t[1] for t in outside)
        out.insert(
            0,
            (
                f"场址全部或部分位于以下图层的覆盖范围之外：{zh}。范围外的部分没有经过筛查；"
                "请用覆盖该处的权威数据重新筛查（上海市以外的场址须使用所在地的数据）。",
                f"The site lies wholly or partly outside the area these layers cover: {en}. "
                "The part outside was not screened; screen it again with authoritative data "
                "that cover it (for a site outside Shanghai, that place's own data).",
            ),
        )
    return out


def _unknown_text(rows: list[dict], rec: dict, rules: _Rules, state: _LayerState):
    """Why a site is unknown, in one line: what was not declared, which layer is missing or
    failed to load, which layers do not cover it.  ``(zh, en)``, or None without such reasons.
    """
    undeclared: dict[str, list[str]] = {}
    broken: dict[tuple[str, str], list[str]] = {}
    short: dict[str, list[str]] = {}
    outside: list[str] = []
    other_zh: list[str] = []
    other_en: list[str] = []
    for r in rows:
        if r["verdict"]["key"] != "unknown":
            continue
        status = r["status"]
        layer = r["layer_id"] or r["kind"] or "?"
        if status == "needs_attribute":
            when, unless = _rule_attributes(r, rec, rules)
            for a in when or unless:
                if r["rule_id"] not in undeclared.setdefault(a, []):
                    undeclared[a].append(r["rule_id"])
            if not when and not unless:
                other_zh.append(f"规则 {r['rule_id']} 无法判定")
                other_en.append(f"rule {r['rule_id']} undecided ({r['assumptions'] or '—'})")
        elif status == "outside_coverage":
            if layer not in outside:
                outside.append(layer)
        elif status == "layer_missing":
            load = state.load(r)
            if load == "short":
                if r["rule_id"] not in short.setdefault(layer, []):
                    short[layer].append(r["rule_id"])
            elif load in ("missing", "failed"):
                ids = broken.setdefault((layer, load), [])
                if r["rule_id"] not in ids:
                    ids.append(r["rule_id"])
            else:
                other_zh.append(r["message_zh"] or r["message_en"] or r["rule_id"])
                other_en.append(r["message_en"] or r["message_zh"] or r["rule_id"])
        else:
            other_zh.append(r["message_zh"] or r["status_zh"])
            other_en.append(r["message_en"] or r["status_en"])
    zh: list[str] = []
    en: list[str] = []
    if undeclared:
        zh.append(
            "未申报 " + "、".join(f"{a}（规则 {', '.join(ids)}）" for a, ids in undeclared.items())
        )
        en.append(
            "not declared: "
            + "; ".join(f"{a} (rule {', '.join(ids)})" for a, ids in undeclared.items())
        )
    for (layer, load), ids in broken.items():
        what = "缺失" if load == "missing" else "加载失败"
        zh.append(f"图层 {layer} {what}（规则 {', '.join(ids)}）")
        en.append(
            f"layer {layer} {'missing' if load == 'missing' else 'failed to load'} "
            f"(rule {', '.join(ids)})"
        )
    for layer, ids in short.items():
        got_zh, got_en, rerun_zh, rerun_en = _short_search_texts(ids, state, rules)
        zh.append(f"图层 {layer} {got_zh}；{rerun_zh}")
        en.append(f"layer {layer} {got_en}; {rerun_en}")
    if outside:
        zh.append(f"位于图层 {', '.join(outside)} 的覆盖范围之外（范围外未筛查）")
        en.append(f"outside the coverage of {', '.join(outside)} (not screened there)")
    zh += other_zh
    en += other_en
    if not en:
        return None
    return "无法判定：" + "；".join(zh), "undecided: " + "; ".join(en)


def _unknown_texts(result: Any, positions: Iterable[int], cat: _Catalog, rules: _Rules):
    """``_unknown_text`` for each listed site whose verdict is unknown, keyed by position."""
    sites = result.sites
    pos = [p for p in positions if _verdict(sites["verdict"].iat[p]) == "unknown"]
    if not pos:
        return {}
    reasons = _group(result.reasons, set(pos))
    summaries = _group(getattr(result, "layer_summary", None), set(pos))
    radius = _search_radius(result)
    out = {}
    for p in pos:
        rec = sites.iloc[p].to_dict()
        state = _LayerState(summaries.get(p), radius)
        text = _unknown_text(_reason_rows(reasons.get(p), cat, rules), rec, rules, state)
        if text is not None:
            out[p] = text
    return out


def _rule_steps(rows: list[dict]) -> list[tuple[str, str]]:
    """Each applying rule's own next step; a clause-specific line for rules without one."""
    out = []
    for r in rows:
        if r["next_zh"] or r["next_en"]:
            out.append((r["next_zh"], r["next_en"]))
            continue
        level = r["verdict"]["key"]
        if level not in _FALLBACK_STEPS:
            continue
        dim_zh = r["dimension"] if r["dimension"] != "—" else "约束"
        dim_en = _DIMENSIONS.get(r["dimension"], "constraint")
        cite = r["cite"] or r["rule_id"]
        zh, en = _FALLBACK_STEPS[level]
        fill = {"cite": cite, "dim_zh": dim_zh, "dim_en": dim_en}
        out.append((zh.format(**fill), en.format(**fill)))
    return out


def _next_steps(
    rows: list[dict], verdict: str, rec: dict, rules: _Rules, state: _LayerState
) -> tuple[list[dict], tuple[str, str] | None]:
    """The next steps of a site, from the reasons that decide its verdict; and a note.

    A prohibited site gets the steps of its prohibitions only (and the declarations that
    could grant an exception to them): permits and conditions do not matter where the
    project cannot be built.  Otherwise what is undecided comes first (one line per
    undeclared attribute, per broken layer, for the coverage), then every applying rule's
    step, most severe first.  Undecided rules never contribute their own next steps.
    """
    steps: list[dict] = []
    seen: set[tuple] = set()

    def add(lines: Iterable[tuple[str | None, str | None]]) -> None:
        for zh, en in lines:
            if (zh, en) in seen or (zh is None and en is None):
                continue
            seen.add((zh, en))
            steps.append({"zh": zh, "en": en})

    applies = [r for r in rows if r["status"] == "applies"]
    if verdict == "prohibited":
        decisive = [r for r in applies if r["verdict"]["key"] == "prohibited"]
        add(_rule_steps(decisive))
        if not steps:
            add([_PROHIBITED_GENERIC])
        add(_declare_steps(decisive, rec, rules))
        others = len(rows) - len(decisive)
        note = None
        if others:
            note = (
                f"其余 {others} 条原因（限制、有条件或无法判定的规则）只有在项目可以在此建设时"
                "才有意义，不能解除上述禁止；如另行选址，请对新场址重新筛查。",
                f"The other {others} reason{'s' if others != 1 else ''} (restricted, "
                "conditional or undecided rules) would matter only if the project could be built "
                "here; they cannot lift the prohibition. If you re-site it, screen the new site.",
            )
        return steps, note
    add(_declare_steps(rows, rec, rules))
    add(_layer_steps(rows, state, rules))
    add(_rule_steps(applies))
    if not steps:
        if verdict == "unknown":
            add(
                [
                    (
                        "结论未知：请按原因表消除未知项后重新筛查。",
                        "The verdict is unknown: resolve the reasons listed above and screen "
                        "again.",
                    )
                ]
            )
        else:
            add([_PERMITTED_GENERIC])
    return steps, None


def _attributes(rec: dict) -> list[dict]:
    nd = ("未申报", "not declared")
    rows = []

    def add(zh: str, en: str, value: tuple[str, str] | str | None, note: str | None = None):
        if value is None:
            value = nd
        if isinstance(value, str):
            value = (value, value)
        rows.append({"label_zh": zh, "label_en": en, "zh": value[0], "en": value[1], "note": note})

    industry = _str(rec.get("industry"))
    division = _str(rec.get("industry_division"))
    add(
        "行业代码（GB/T 4754-2017）",
        "industry code (GB/T 4754-2017)",
        industry,
        f"major division {division}" if industry and division else None,
    )
    nature = _str(rec.get("nature"))
    add("建设性质", "nature", _NATURE.get(nature, nature) if nature else None)
    for col, zh, en in _FLAGS:
        val = _bool(rec.get(col))
        note = None
        if col in ("two_high", "linear") and val is not None:
            src = _str(rec.get(f"{col}_source"))
            derived = (
                "derived from the industry code"
                if col == "two_high"
                else "derived from the geometry (a line site)"
            )
            note = {"derived": derived, "declared": "declared"}.get(src or "", src)
        add(zh, en, None if val is None else (("是", "yes") if val else ("否", "no")), note)
    return rows


def _rules_for(rules: list[Any], rec: dict) -> list[Any]:
    """The rules whose ``when`` can hold for the site's declared nature (all of them when
    none can, or the nature is not declared)."""
    nature = _str(rec.get("nature"))
    if nature is None:
        return rules
    out = [
        r
        for r in rules
        if not getattr(r, "when", None)
        or any(getattr(c, "nature", None) is None or nature in c.nature for c in r.when)
    ]
    return out or rules


def _boundary_warnings(
    groups: list[dict], cat: _Catalog, rules: _Rules, rec: dict, unc: float
) -> tuple[list[dict], list[dict]]:
    """The site page's boundary-sensitive warnings: ``(near a layer boundary, near a rule
    distance)``.

    Only layers of kinds some rule reads are listed (as the site's ``boundary_sensitive``
    flag counts them): a layer no rule reads, such as ``water``, cannot change the verdict.
    For a kind some ``within`` rule reads (the shoreline), a distance within the layer's
    tolerance plus the site's conversion uncertainty of a rule distance is a band warning —
    whether or not the rule fired — and a feature flagged for that reason alone gives no
    warning of lying near the layer's boundary.
    """
    warnings: list[dict] = []
    bands: list[dict] = []
    for g in groups:
        if not rules.reads(g["kind"]):
            continue
        tol = cat.tolerance(g["layer_id"])
        flagged = [f for f in g["features"] if f["boundary_sensitive"]]
        near_boundary = bool(g["boundary_sensitive"])
        within = rules.within.get(g["kind"] or "", []) if tol is not None else []
        if within:
            reach = tol + unc
            thresholds: dict[float, list[Any]] = {}
            for dist, rule in within:
                thresholds.setdefault(dist, []).append(rule)
            found = (g["_distance"], *(f["_distance"] for f in g["features"]))
            dists = sorted(d for d in found if d is not None)
            for limit, limit_rules in sorted(thresholds.items()):
                d = next((d for d in dists if abs(d - limit) <= reach), None)
                if d is None:
                    continue
                ids = [str(r.id) for r in _rules_for(limit_rules, rec)]
                bands.append(
                    {
                        "title_zh": g["title_zh"],
                        "title_en": g["title_en"],
                        "distance": fmt_m(d),
                        "tolerance": fmt_m(tol),
                        "rules": ", ".join(ids),
                        "threshold": fmt_m(limit),
                    }
                )
            near_boundary |= any(
                (d := f["_distance"]) is None or all(abs(d - lim) > reach for lim in thresholds)
                for f in flagged
            )
        else:
            near_boundary |= bool(flagged)
        if near_boundary:
            warnings.append(
                {
                    "title_zh": g["title_zh"],
                    "title_en": g["title_en"],
                    "tolerance": fmt_m(tol) if tol is not None else "not stated",
                    "boundary_distance": fmt_m(g["_boundary_distance"]),
                }
            )
    return warnings, bands


def _site_context(
    pos: int,
    rec: dict,
    summary: list[dict] | None,
    hits: list[dict] | None,
    reasons: list[dict] | None,
    cat: _Catalog,
    common: dict,
    rules: _Rules,
) -> dict:
    verdict = _verdict_model(rec.get("verdict"))
    groups = _constraint_groups(summary, hits, cat)
    reason_rows = _reason_rows(reasons, cat, rules)
    state = _LayerState(summary, common.get("search_radius_m"))
    for r in reason_rows:
        if r["status"] == "layer_missing" and state.load(r) == "short":
            r["status_zh"], r["status_en"] = _SHORT_SEARCH
    outside = "outside_coverage" in state.status.values() or any(
        r["status"] == "outside_coverage" for r in reason_rows
    )
    next_steps, steps_note = _next_steps(reason_rows, verdict["key"], rec, rules, state)
    input_crs = _str(rec.get("input_crs"))
    shift = _float(rec.get("datum_shift_m")) or 0.0
    unc = _float(rec.get("uncertainty_m")) or 0.0
    warnings, bands = _boundary_warnings(groups, cat, rules, rec, unc)
    return {
        **common,
        "root": "../",
        "page_title": f"{rec.get('site_id')}",
        "site": {
            "site_id": _str(rec.get("site_id")) or f"#{pos}",
            "name": _str(rec.get("name")),
            "verdict": verdict,
            "n_constraints": fmt_number(rec.get("n_constraints")),
            "n_hits": fmt_number(rec.get("n_hits")),
            "overlap": fmt_area(rec.get("overlap_m2_total")),
            "nearest": fmt_m(rec.get("nearest_m")),
            "area": fmt_area(rec.get("area_m2")) if _float(rec.get("area_m2")) else None,
            "length": fmt_m(rec.get("length_m")) if _float(rec.get("length_m")) else None,
            "boundary_sensitive": bool(_bool(rec.get("boundary_sensitive"))),
            "input_crs": input_crs or "—",
            "datum_shift": fmt_m(shift) if shift else None,
            "uncertainty": fmt_m(unc) if unc else None,
        },
        "attributes": _attributes(rec),
        "constraints": groups,
        "reasons": reason_rows,
        "warnings": warnings,
        "bands": bands,
        "outside_coverage": outside,
        "next_steps": next_steps,
        "steps_note": steps_note,
        "site_undeclared": [_ATTRIBUTES[a][:2] for a in _undeclared(rec)],
    }


# --------------------------------------------------------------------------------------------
# Ranking of alternatives (zoning compare).

#: What put an alternative below the one ranked above it (``decided_by`` of the ranking).
DECIDED_BY = {
    "": ("最优", "best"),
    "verdict": ("结论", "verdict"),
    "area": ("重叠约束面积", "constrained area"),
    "length": ("重叠约束长度", "constrained length"),
    "distance": ("与最近约束的距离", "distance to the nearest constraint"),
    "tie": ("并列", "tie"),
}


def _ranking_rows(
    ranking: pd.DataFrame | None,
    sites: pd.DataFrame,
    pages: dict[int, str],
    reasons: pd.DataFrame | None,
) -> list[dict]:
    """Rows of the ranking section, best first, as ranked (never re-sorted here)."""
    if ranking is None or not len(ranking):
        return []
    ids = sites["site_id"].astype(str).tolist() if "site_id" in sites.columns else []
    position = {}
    for pos, sid in enumerate(ids):
        position.setdefault(sid, pos)
    ranked_pos = [position.get(str(r)) for r in ranking["site_id"]]
    tops = _top_reasons(reasons, [p for p in ranked_pos if p is not None])
    rows = []
    for rec, pos in zip(ranking.to_dict("records"), ranked_pos, strict=True):
        top = tops.get(pos) if pos is not None else None
        decided = _str(rec.get("decided_by")) or ""
        dzh, den = DECIDED_BY.get(decided, (decided, decided))
        page = pages.get(pos) if pos is not None else None
        rows.append(
            {
                "rank": fmt_number(rec.get("rank")),
                "site_id": _str(rec.get("site_id")) or "—",
                "name": _str(rec.get("name")),
                "href": None if page is None else "sites/" + quote(page),
                "verdict": _verdict_model(rec.get("verdict")),
                "area": fmt_area(rec.get("constrained_m2")),
                "length": fmt_m(rec.get("constrained_length_m")),
                "nearest": fmt_m(rec.get("nearest_m")),
                "decided_zh": dzh,
                "decided_en": den,
                "boundary_sensitive": bool(_bool(rec.get("boundary_sensitive"))),
                "top_zh": _str(top.get("message_zh")) if top else None,
                "top_en": _str(top.get("message_en")) if top else None,
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# Rendering and the atomic write.


def _environment(jinja2: Any) -> Any:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _render(env: Any, name: str, context: dict) -> str:
    return env.get_template(name).render(**context)


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"lang must be one of {', '.join(_LANGS)}, not {lang!r}")


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an existing ``target`` is replaced only on success."""
    if not target.exists() and not target.is_symlink():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:12]}")
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


#: The largest screening drawn on the report's map (and the default of ``zoning map
#: --screening --max-sites``).  Measured with ``benchmarks/map_size.py --screening 5000,8000
#: --polygons`` (offline pages, headless Chromium, 2 CPUs, median of 7 loads): 5,000 random
#: points on the demonstration layers 3.26 MB, 1.58 s; 5,000 squares of ~100 m 4.19 MB,
#: 2.35 s; 8,000 squares 5.24 MB, 2.82 s (max 3.55 s) — past the 5 MB / 3 s budget.
MAX_MAP_SITES = 5000


def write_report(
    result: ScreeningResult,
    out_dir: str | Path,
    *,
    lang: str = "both",
    max_site_pages: int = 1000,
    map: bool = True,
    offline: bool = False,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    max_map_sites: int = MAX_MAP_SITES,
) -> Path:
    """Write the HTML screening report to ``OUT/report/``, with its map.

    Parameters
    ----------
    result : ScreeningResult
        The output of :func:`zoning.screen`.  Only the attributes of the shared contract are
        read: ``sites``, ``hits``, ``layer_summary``, ``reasons``, ``provenance``, ``layers``
        (for layer titles and positional tolerances) and ``rule_set``; ``ranking`` and
        ``notes`` when present.
    out_dir : path
        The output directory; the report goes to ``out_dir/report/`` (created if needed).
    lang : {"both", "zh", "en"}
        Language of labels and messages; ``"both"`` shows Chinese and English side by side.
    max_site_pages : int
        At most this many site pages.  With more sites than this, pages are written only for
        the non-permitted sites, most severe first, up to the limit, and the index says so.
    map : bool
        Also write the interactive screening map ``report/map.html``
        (:func:`zoning.webmap.screening_map`: sites coloured by verdict, overlap pieces,
        buffer rings, constraint layers, popups linking to the site pages); needs the
        ``maps`` extra.  Skipped, with a note on the index, above ``max_map_sites`` sites.
    offline, basemap, tianditu_key
        The map's basemap; ``offline=True`` opens it on the built-in vector basemap so that
        nothing at all is requested from the network (a report archived as evidence).
    max_map_sites : int
        The largest screening drawn on a map (a page must stay small enough to open).

    Returns
    -------
    Path
        ``out_dir/report/index.html``.

    Notes
    -----
    Layout: ``index.html`` (verdict counts, for a comparison the ranking of the alternatives
    in the order :func:`zoning.compare.rank_alternatives` gave, the table of sites, the
    screening's notes) and ``sites/<name>.html`` per site, where ``<name>`` is an ASCII slug
    of the site id plus a short hash of the exact id (see :func:`page_name`), so any id a user
    typed gives a safe, unique file name.

    The report is built in a temporary directory beside ``out_dir/report`` and renamed into
    place only when every page has been written; an existing report is replaced only then.
    A failure leaves no partial report and any older report intact.

    Cost: one pass over ``sites`` (sorting by severity) plus rendering of at most
    ``max_site_pages + 1`` pages; hits and reasons are filtered to the paged sites first,
    so a million-site run writes at most ``max_site_pages`` site pages.

    Report pages are static HTML with inline CSS: no JavaScript and no external requests.
    Every data-derived string is escaped by jinja2's autoescaping (the map escapes its own
    data, see :mod:`zoning.webmap`).  The map carries Leaflet and its plugins inline, so it
    works from ``file://`` with no network when ``offline`` is set.
    """
    jinja2 = require("jinja2")
    _check_lang(lang)
    if isinstance(max_site_pages, bool) or not isinstance(max_site_pages, int | np.integer):
        raise TypeError(f"max_site_pages must be an integer, not {max_site_pages!r}")
    if max_site_pages < 0:
        raise ValueError(f"max_site_pages must be >= 0, not {max_site_pages}")
    env = _environment(jinja2)
    out_dir = Path(out_dir)
    target = out_dir / "report"

    sites = pd.DataFrame(result.sites.drop(columns=result.sites.geometry.name, errors="ignore"))
    sites = sites.reset_index(drop=True)
    n = len(sites)
    counts = _verdict_counts(sites)
    order = _site_order(sites)
    capped = n > max_site_pages
    if capped:
        non_permitted = order[_verdicts(sites["verdict"]).to_numpy()[order] != "permitted"]
        paged = non_permitted[:max_site_pages]
        listed = paged
        n_non_permitted = len(non_permitted)
    else:
        paged = order
        listed = order
        n_non_permitted = n - counts["permitted"]
    paged_set = {int(p) for p in paged}
    site_ids = sites["site_id"] if "site_id" in sites.columns else pd.Series([None] * n)
    pages = _page_names((int(p), site_ids.iat[int(p)]) for p in paged)

    ranking = getattr(result, "ranking", None)
    notes = [n for n in (getattr(result, "notes", None) or []) if _str(n)]
    cat = _Catalog(result.layers)
    rules = _Rules(result.rule_set)
    rule_set = _rule_set_info(result)
    demonstration = _is_demonstration(result)
    layer_rows = _layer_rows(result, cat)
    footer = _footer(result)
    common = {
        "lang": lang,
        "html_lang": "en" if lang == "en" else "zh-CN",
        "demonstration": demonstration,
        "rule_set": rule_set,
        "layers": layer_rows,
        "footer": footer,
        "search_radius": _radius_text(footer["search_radius_m"]),
        "search_radius_m": _search_radius(result),
        "labels": VERDICT_LABELS,
        "limits": _limits(result, sites, layer_rows),
        "site_undeclared": None,
        "outside_coverage": False,
    }

    # Site pages link back to the map when the report has one.
    common["map_href"] = "map.html" if map and n <= max_map_sites else None
    summaries = _group(result.layer_summary, paged_set)
    hits = _group(result.hits, paged_set)
    reasons = _group(result.reasons, paged_set)
    listed_records = sites.iloc[listed].to_dict("records")
    tops = _top_reasons(result.reasons, [int(p) for p in listed])

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".report.", suffix=".partial", dir=out_dir))
    try:
        (tmp / "sites").mkdir()
        for pos in paged:
            pos = int(pos)
            rec = sites.iloc[pos].to_dict()
            ctx = _site_context(
                pos, rec, summaries.get(pos), hits.get(pos), reasons.get(pos), cat, common, rules
            )
            html = _render(env, "site.html", ctx)
            (tmp / "sites" / pages[pos]).write_text(html, encoding="utf-8")
        unknown = _unknown_texts(result, [int(p) for p in listed], cat, rules)
        rows = [
            _site_row(int(p), rec, pages.get(int(p)), tops.get(int(p)), unknown.get(int(p)))
            for p, rec in zip(listed, listed_records, strict=True)
        ]
        map_href, map_note = None, None
        if map and n > max_map_sites:
            map_note = (
                f"未生成地图：场址 {n:,} 个，超过地图上限 {max_map_sites:,} 个。"
                f"绘制最严重的 {max_map_sites:,} 个场址：zoning map --screening DIR "
                f"--max-sites {max_map_sites}（DIR 为本次筛选的输出目录，"
                "须含 --format gpkg,json 写出的 screening.gpkg 与 screening.json）。",
                f"No map: {n:,} sites exceed the map limit of {max_map_sites:,}. For a map of "
                f"the {max_map_sites:,} most severe: zoning map --screening DIR --max-sites "
                f"{max_map_sites} (DIR: this screening's output folder, with the "
                "screening.gpkg and screening.json that --format gpkg,json writes).",
            )
        elif map:
            require("folium")
            from ..webmap import screening_map

            page = screening_map(
                result,
                lang="en" if lang == "en" else "zh",
                basemap=basemap,
                offline=offline,
                tianditu_key=tianditu_key,
                report_dir=tmp,
                report_href=".",
            )
            page.save(tmp / "map.html")
            map_href = "map.html"
        index = _render(
            env,
            "index.html",
            {
                **common,
                "root": "",
                "n_sites": n,
                "map_href": map_href,
                "map_note": map_note,
                "offline": offline,
                "counts": [
                    {**_verdict_model(v), "count": counts[v], "count_text": f"{counts[v]:,}"}
                    for v in _ORDER
                ],
                "n_sites_text": f"{n:,}",
                "n_boundary_sensitive": f"{_n_boundary_sensitive(sites):,}",
                "rows": rows,
                "ranking": _ranking_rows(ranking, sites, pages, result.reasons),
                "notes": [_plain(n) for n in notes],
                "capped": capped,
                "capped_zh": (
                    f"场址数量（{n:,}）超过每份报告 {max_site_pages:,} 个场址页面的上限："
                    f"仅为非“允许”场址按严重程度写出页面，共 {len(pages):,} 页"
                    f"（非“允许”场址 {n_non_permitted:,} 个）。下表未列出的场址 "
                    f"{n - len(rows):,} 个；完整结果见 sites.csv 与 JSON 输出。"
                ),
                "capped_en": (
                    f"{n:,} sites exceed the limit of {max_site_pages:,} site pages per report: "
                    f"pages were written only for the non-permitted sites, most severe first "
                    f"({len(pages):,} pages of {n_non_permitted:,} non-permitted sites). "
                    f"Sites not listed below: {n - len(rows):,}. The full results are in "
                    "sites.csv and the JSON output."
                ),
            },
        )
        (tmp / "index.html").write_text(index, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp creates 0700; give the usual mode
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %s (%d site pages of %d sites)", target, len(pages), n)
    return target / "index.html"


# --------------------------------------------------------------------------------------------
# Console summary.

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _plain(value: Any, limit: int | None = None) -> str:
    """A one-line, control-free rendering of a data string for a terminal."""
    text = "" if _missing(value) else str(value)
    text = _CONTROL.sub("?", " ".join(text.split()))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def console_summary(result: ScreeningResult, *, lang: str = "en", max_rows: int = 20) -> str:
    """A plain-text summary of a screening for the terminal.

    Parameters
    ----------
    result : ScreeningResult
    lang : {"en", "zh", "both"}
        Language of verdict labels and reason messages.
    max_rows : int
        How many of the most severe (non-permitted) sites to list.

    Returns
    -------
    str
        Lines: the demonstration warning (when the data are demonstration data), verdict
        counts, the most severe sites with their top reason and its citation, the ranking
        of a comparison (``result.ranking``) and the notes (``result.notes``).  Data
        strings are flattened to one line and control characters replaced; columns are
        aligned in terminal cells (CJK characters take two).
    """
    _check_lang(lang)
    if max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, not {max_rows}")

    def label(v: str) -> str:
        zh, en = VERDICT_LABELS[v]
        return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")

    sites = pd.DataFrame(result.sites.drop(columns=result.sites.geometry.name, errors="ignore"))
    sites = sites.reset_index(drop=True)
    n = len(sites)
    counts = _verdict_counts(sites)
    lines: list[str] = []
    if _is_demonstration(result):
        lines.append(
            "WARNING: DEMONSTRATION DATA — not the official ecological protection red line "
            "or control units (演示数据，非官方生态保护红线与管控单元)."
        )
    if not _coverage_checked(result):
        lines.append(f"WARNING: {_COVERAGE_NOT_CHECKED[1]} ({_COVERAGE_NOT_CHECKED[0]})")
    rules = _Rules(result.rule_set)
    rs = _rule_set_info(result)
    rs_text = " ".join(x for x in (rs["id"], rs["version"]) if x) or "rules"
    if rs["hash_short"]:
        rs_text += f" ({rs['hash_short']})"
    if rs["status"]:
        rs_text += f", {rs['status']}"
    lines.append(f"Screened {n:,} site{'s' if n != 1 else ''} · rule set {_plain(rs_text)}")
    width = max(_width(label(v)) for v in _ORDER)
    for v in _ORDER:
        lines.append(f"  {_pad(label(v), width)}  {counts[v]:>{len(f'{n:,}')},}")
    nb = _n_boundary_sensitive(sites)
    if nb:
        lines.append(
            f"  {nb:,} site{'s' if nb != 1 else ''} near a layer boundary "
            "(boundary-sensitive): check against authoritative data."
        )
    order = _site_order(sites)
    verdicts = _verdicts(sites["verdict"]).to_numpy()
    severe = order[verdicts[order] != "permitted"]
    if not len(severe):
        lines.append("No site hits a constraint in the screened layers.")
        return "\n".join(lines + _ranking_lines(result, label) + _note_lines(result)) + "\n"
    shown = severe[:max_rows]
    tops = _top_reasons(result.reasons, [int(p) for p in shown])
    unknown = _unknown_texts(result, [int(p) for p in shown], _Catalog(result.layers), rules)
    lines.append(
        f"Most severe sites ({len(shown):,} of {len(severe):,} not permitted):"
        if len(shown)
        else f"{len(severe):,} sites not permitted."
    )
    ids = [_plain(sites["site_id"].iat[int(p)], 32) for p in shown]
    id_w = max((_width(s) for s in ids), default=0)
    for p, sid in zip(shown, ids, strict=True):
        p = int(p)
        v = verdicts[p]
        top = tops.get(p)
        msg = ""
        if p in unknown:
            zh, en = unknown[p]
            msg = _plain({"zh": zh, "en": en}.get(lang) or f"{zh} / {en}", 200)
        elif top is not None:
            zh, en = _str(top.get("message_zh")), _str(top.get("message_en"))
            msg = {"zh": zh or en, "en": en or zh}.get(lang) or " / ".join(x for x in (zh, en) if x)
            msg = _plain(msg, 110)
            cite = _str(top.get("citation")) or " ".join(
                x for x in (_str(top.get("document")), _str(top.get("article"))) if x
            )
            if cite:
                msg += f" [{_plain(cite, 80)}]"
        flag = ""
        if "boundary_sensitive" in sites.columns and _bool(sites["boundary_sensitive"].iat[p]):
            flag = " ⚠ boundary-sensitive"
        lines.append(f"  {_pad(sid, id_w)}  {_pad(label(v), width)}  {msg}{flag}".rstrip())
    if len(severe) > len(shown):
        lines.append(f"  … and {len(severe) - len(shown):,} more not permitted")
    return "\n".join(lines + _ranking_lines(result, label) + _note_lines(result)) + "\n"


def _width(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _ranking_lines(result: Any, label: Any, max_rows: int = 50) -> list[str]:
    """The ranking of a comparison as an aligned table (empty for a plain screening)."""
    ranking = getattr(result, "ranking", None)
    if ranking is None or not len(ranking):
        return []
    head = ["rank", "alternative", "verdict", "area", "length", "nearest", "decided by"]
    rows = [
        [
            fmt_number(r.get("rank")),
            _plain(r.get("site_id"), 32),
            label(_verdict(r.get("verdict"))),
            fmt_area(r.get("constrained_m2")),
            fmt_m(r.get("constrained_length_m")),
            fmt_m(r.get("nearest_m")),
            DECIDED_BY.get(_str(r.get("decided_by")) or "", ("", ""))[1]
            or _plain(r.get("decided_by")),
        ]
        for r in ranking.head(max_rows).to_dict("records")
    ]
    widths = [max(_width(x) for x in col) for col in zip(head, *rows, strict=True)]
    out = [
        "",
        "Ranking of alternatives (verdict, then constrained area or length, then distance to "
        "the nearest constraint; — = none within the search radius):",
    ]
    for row in [head, *rows]:
        out.append("  " + "  ".join(_pad(x, w) for x, w in zip(row, widths, strict=True)).rstrip())
    if len(ranking) > max_rows:
        out.append(f"  … and {len(ranking) - max_rows:,} more (ranking.csv)")
    return out


def _note_lines(result: Any, max_notes: int = 10) -> list[str]:
    notes = [n for n in (getattr(result, "notes", None) or []) if _str(n)]
    if not notes:
        return []
    out = ["", "Notes:"]
    out += [f"  - {_plain(n, 300)}" for n in notes[:max_notes]]
    if len(notes) > max_notes:
        out.append(f"  … and {len(notes) - max_notes:,} more (screening.json)")
    return out
