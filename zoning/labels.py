"""The bilingual vocabulary: the Chinese and English words shown to people.

Every console line, report page, map popup and public page takes its verdict, nature, flag,
status and attribute words from here, as ``(zh, en)`` pairs keyed by the codes of
:mod:`zoning.schema`.  A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

__all__ = [
    "ATTRIBUTE_LABELS",
    "CLAUSE_RESULT_LABELS",
    "CLAUSE_SCOPE_LABELS",
    "DATA_STATUS_LABELS",
    "DECIDED_BY",
    "FLAG_LABELS",
    "INDICATOR_STATUS_LABELS",
    "LAYER_STATUS_LABELS",
    "NATURE_LABELS",
    "REASON_STATUS_LABELS",
    "REASON_STATUS_WORDS",
    "UNIT_LABELS",
    "VERDICT_LABELS",
    "label",
]

#: Verdict words (zh, en), by verdict code.  ``restricted`` is 需专项论证/审批, never 限制: in
#: the 产业结构调整指导目录 "限制类" means new investment is forbidden, so 限制 would mislead.
#: ``permitted`` says only that no non-compliance was found, and only in what was encoded.
VERDICT_LABELS = {
    "prohibited": ("禁止", "prohibited"),
    "restricted": ("需专项论证/审批", "restricted"),
    "conditional": ("有条件", "conditional"),
    "permitted": ("未发现不符合项（限于已编码的规则与图层）", "permitted"),
    "unknown": ("未知", "unknown"),
}

#: Project natures (建设性质), by code.
NATURE_LABELS = {
    "new": ("新建", "new"),
    "expansion": ("扩建", "expansion"),
    "rebuild": ("改建", "rebuild"),
    "relocation": ("迁建", "relocation"),
}

#: Yes/no project attributes: (code, zh, en), in the order they are listed.
FLAG_LABELS = (
    ("linear", "线性基础设施", "linear infrastructure"),
    ("wastewater", "排放废水", "discharges waste water"),
    ("air", "排放大气污染物", "emits air pollutants"),
    ("hazardous", "涉及危险化学品", "hazardous chemicals"),
    ("two_high", "“两高”项目", '"two-high" (两高) project'),
)

#: Plain-words explanation of each reason status (zh, en).
REASON_STATUS_LABELS = {
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

#: A reason status in a few words (zh, en): how a map popup lists a reason without a rule id.
REASON_STATUS_WORDS = {
    "outside_coverage": ("超出图层覆盖范围", "outside the layer's coverage"),
    "layer_missing": ("图层缺失", "layer missing"),
    "needs_attribute": ("缺少项目属性", "project attribute not declared"),
    "no_access_list": ("无准入清单", "no access list"),
    "applies": ("适用", "applies"),
}

#: Status of a layer for a site (zh, en).
LAYER_STATUS_LABELS = {
    "ok": ("已筛查", "screened"),
    "missing": ("图层缺失", "layer missing"),
    "failed": ("加载失败", "failed to load"),
    "outside_coverage": ("超出覆盖范围", "site outside the layer's coverage"),
}

#: What put an alternative below the one ranked above it (``decided_by`` of the ranking).
DECIDED_BY = {
    "": ("最优", "best"),
    "verdict": ("结论", "verdict"),
    "area": ("重叠约束面积", "constrained area"),
    "length": ("重叠约束长度", "constrained length"),
    "distance": ("与最近约束的距离", "distance to the nearest constraint"),
    "tie": ("并列", "tie"),
}

#: Status of a layer's data, from its provenance (zh, en).
DATA_STATUS_LABELS = {
    "demonstration": ("演示数据", "demonstration"),
    "authoritative": ("权威数据", "authoritative"),
    "unknown": ("未声明", "unknown"),
}

#: Status of a measured indicator against its target (zh, en), by the status the indicators
#: table gives (:func:`zoning.indicators`).
INDICATOR_STATUS_LABELS = {
    "met": ("达标", "met"),
    "not met": ("未达标", "not met"),
    "not measurable with these layers": ("现有图层无法测算", "not measurable with these layers"),
    "no target": ("无目标（仅测算）", "no target (measured only)"),
}

#: Units of measured values and targets (zh, en).
UNIT_LABELS = {
    "km2": ("km²", "km²"),
    "km": ("km", "km"),
    "m2": ("m²", "m²"),
    "ha": ("公顷", "ha"),
    "mu": ("亩", "mu"),
    "percent": ("%", "%"),
    "count": ("个", ""),
    "m2_per_person": ("m²/人", "m²/person"),
    "ug_m3": ("µg/m³", "µg/m³"),
    "t": ("吨", "t"),
}

#: Project attributes a rule may test: (zh, en, how to declare it on the command line).
ATTRIBUTE_LABELS = {
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


def label(pair: tuple[str, str], lang: str) -> str:
    """One label of a ``(zh, en)`` pair in a display language.

    Parameters
    ----------
    pair : tuple of str
        The Chinese and English words.
    lang : {"zh", "en", "both"}
        ``"both"`` joins them with a space, Chinese first.

    Returns
    -------
    str
    """
    zh, en = pair
    return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")


#: Result of a clause for a site in the clause table (符合性分析), (zh, en), by result code
#: (:data:`zoning.schema.CLAUSE_RESULTS`).
CLAUSE_RESULT_LABELS = {
    "violates": ("不符合", "does not comply"),
    "undecided": ("无法判定", "cannot be decided"),
    "needs_review": ("需论证", "needs a demonstration"),
    "complies": ("符合", "complies"),
    "not_applicable": ("不适用", "not applicable"),
}

#: Where a clause of the clause table comes from (zh, en), by scope code.
CLAUSE_SCOPE_LABELS = {
    "floor": ("全市法定底线", "city-wide statutory floor"),
    "list": ("准入清单", "access list"),
}
