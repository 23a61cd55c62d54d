"""The bilingual vocabulary: the Chinese and English words shown to people.

Every console line, report page, map popup and public page takes its verdict, nature, flag,
status and attribute words from here, as ``(zh, en)`` pairs keyed by the codes of
:mod:`zoning.schema`.  A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

__all__ = [
    "ATTRIBUTE_LABELS",
    "CHOICE_LABELS",
    "CLAUSE_RESULT_LABELS",
    "CLAUSE_SCOPE_LABELS",
    "DATA_STATUS_LABELS",
    "DECIDED_BY",
    "DISCHARGE_LABELS",
    "FACILITY_LABELS",
    "FLAG_LABELS",
    "INDICATOR_STATUS_LABELS",
    "INPUT_ERROR_LABELS",
    "LAYER_STATUS_LABELS",
    "NATURE_LABELS",
    "REASON_STATUS_LABELS",
    "REASON_STATUS_WORDS",
    "RED_LINE_ACTIVITY_LABELS",
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
    ("wastewater", "产生废水", "produces waste water"),
    ("air", "排放大气污染物", "emits air pollutants"),
    ("hazardous", "涉及危险化学品", "hazardous chemicals"),
    ("two_high", "“两高”项目", '"two-high" (两高) project'),
    (
        "key_project",
        "重大建设项目（自然资规〔2018〕3号所列）",
        "key project (listed in 自然资规〔2018〕3号)",
    ),
    ("residential_building", "位于居民楼（餐饮）", "catering in a residential building"),
    ("noise", "产生工业噪声", "emits industrial noise"),
)

#: Where the waste water goes (``discharge``), by code.
DISCHARGE_LABELS = {
    "none": ("无废水排放", "no waste water discharged"),
    "sewer": (
        "纳管排放（进入区外污水处理厂）",
        "to the sewer (a treatment plant outside the zone)",
    ),
    "direct": (
        "直接排放（在区内设排污口或排入区内水体）",
        "direct (an outfall in or into the zone)",
    ),
}

#: The limited human activity of 自然资发〔2022〕142号 a project claims (``red_line_activity``).
RED_LINE_ACTIVITY_LABELS = {
    "none": ("不属于有限人为活动", "none of the limited human activities"),
    **{
        str(i): (
            f"自然资发〔2022〕142号第{i}类有限人为活动",
            f"limited human activity no. {i} of 自然资发〔2022〕142号",
        )
        for i in range(1, 11)
    },
}

#: Facilities a project may have (``facility``), by code; ``none``: declared none.
FACILITY_LABELS = {
    "none": ("无", "none"),
    "waste_storage": ("固体废物贮存场所", "solid-waste storage"),
    "livestock": ("畜禽养殖场", "livestock farm"),
    "dangerous_goods_wharf": ("危险品码头", "dangerous-goods wharf"),
    "slag_yard": ("冶炼渣库", "slag yard"),
    "tailings_pond": ("尾矿库", "tailings pond"),
    "outfall": ("排污口", "outfall"),
    "reclamation": ("围填海", "sea reclamation"),
}

#: Project attributes taking one of a list of values: (code, zh, en, value labels), in the
#: order they are listed.
CHOICE_LABELS = (
    ("discharge", "废水排放去向", "where the waste water goes", DISCHARGE_LABELS),
    (
        "red_line_activity",
        "生态保护红线有限人为活动",
        "red-line limited human activity",
        RED_LINE_ACTIVITY_LABELS,
    ),
    ("facility", "设施", "facilities", FACILITY_LABELS),
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
        "是否产生废水",
        "whether it produces waste water",
        "--wastewater / --no-wastewater",
    ),
    "discharge": (
        "废水排放去向（无、纳管、直排）",
        "where its waste water goes (none, sewer, direct)",
        "--discharge none|sewer|direct",
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
    "key_project": (
        "是否为重大建设项目（自然资规〔2018〕3号所列）",
        "whether it is a key project (重大建设项目 listed in 自然资规〔2018〕3号)",
        "--key-project / --no-key-project",
    ),
    "red_line_activity": (
        "所属生态保护红线有限人为活动（自然资发〔2022〕142号第1–10类，或无）",
        "the red-line limited human activity it claims (1-10 of 自然资发〔2022〕142号, or none)",
        "--red-line-activity none|1..10",
    ),
    "facility": (
        "设施（固体废物贮存、畜禽养殖、危险品码头、冶炼渣库、尾矿库、排污口、围填海，或无）",
        "its facilities (waste_storage, livestock, dangerous_goods_wharf, slag_yard, "
        "tailings_pond, outfall, reclamation, or none)",
        "--facility CODE, repeatable",
    ),
    "residential_building": (
        "是否为居民楼或商住综合楼内的餐饮",
        "whether it is catering in a residential or mixed residential building",
        "--residential-building / --no-residential-building",
    ),
    "noise": (
        "是否产生工业噪声",
        "whether it emits industrial noise",
        "--noise / --no-noise",
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

#: What an input row that did not parse shows instead of a verdict (``--on-row-error report``:
#: ``screening.xlsx`` marks the row; the code ``input_error`` is not a verdict).
INPUT_ERROR_LABELS = ("输入错误", "input error")
