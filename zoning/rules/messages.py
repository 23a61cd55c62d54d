"""The texts of reasons: conditions in words, undeclared attributes, unusable layers.

Every reason a rule emits carries the rule's own message and citation (assembled in
:mod:`zoning.rules.reasons`); the texts here say why a rule could not be decided, or what to
watch for (Chinese and English, as the reasons frame carries them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import KINDS
from ..labels import ATTRIBUTE_LABELS, CHOICE_LABELS, NATURE_LABELS

if TYPE_CHECKING:
    from .model import Conditions

__all__ = [
    "LOAD_TEXT",
    "conditional_texts",
    "describe_alternatives",
    "describe_condition",
    "describe_condition_zh",
    "layer_missing_texts",
    "threshold_note",
    "undeclared",
    "unless_missing_text",
    "when_missing_text",
]

_FLAG_TEXT = {
    "linear": ("is linear infrastructure", "is not linear infrastructure"),
    "wastewater": ("produces waste water", "produces no waste water"),
    "air": ("emits air pollutants", "does not emit air pollutants"),
    "hazardous": ("handles hazardous chemicals", "does not handle hazardous chemicals"),
    "two_high": ("is a 两高 (high energy use, high emission) project", "is not a 两高 project"),
    "key_project": (
        "is a key project (重大建设项目 listed in 自然资规〔2018〕3号)",
        "is not a listed key project",
    ),
    "residential_building": (
        "is catering in a residential or mixed residential building",
        "is not in a residential building",
    ),
    "noise": ("emits industrial noise", "emits no industrial noise"),
    "industrial_park_unit": (
        "lies only in industrial-park control units",
        "lies outside industrial-park control units",
    ),
    "chemical_park_unit": (
        "lies only in recognised chemical-park control units",
        "lies outside recognised chemical-park control units",
    ),
}
#: Yes/no conditions in Chinese: (holds, fails).
_FLAG_TEXT_ZH = {
    "linear": ("为线性基础设施", "不是线性基础设施"),
    "wastewater": ("产生废水", "不产生废水"),
    "air": ("排放大气污染物", "不排放大气污染物"),
    "hazardous": ("涉及危险化学品", "不涉及危险化学品"),
    "two_high": ("为“两高”项目", "不是“两高”项目"),
    "key_project": ("为重大建设项目（自然资规〔2018〕3号所列）", "不是所列重大建设项目"),
    "residential_building": ("为居民楼或商住综合楼内的餐饮", "不在居民楼内"),
    "noise": ("产生工业噪声", "不产生工业噪声"),
    "industrial_park_unit": ("仅位于产业园区管控单元", "位于产业园区管控单元以外"),
    "chemical_park_unit": ("仅位于认定的化工园区管控单元", "位于认定的化工园区管控单元以外"),
}
#: Choice conditions in Chinese: the words before the listed values.
_CHOICE_TEXT_ZH = {"discharge": "废水排放去向为", "red_line_activity": "属于", "facility": "设有"}
#: Choice attributes in words: what the project "has" for the listed values.
_CHOICE_TEXT = {
    "discharge": "discharges its waste water",
    "red_line_activity": "claims the red-line limited human activity (自然资发〔2022〕142号)",
    "facility": "has a facility",
}
_DECLARE = {
    "industry": "--industry CODE, or an industry column",
    "nature": "--nature new|expansion|rebuild|relocation, or a nature column",
    "linear": "--linear / --no-linear, or a linear column",
    "wastewater": "--wastewater / --no-wastewater, or a wastewater column",
    "air": "--air / --no-air, or an air column",
    "hazardous": "--hazardous / --no-hazardous, or a hazardous column",
    "two_high": "--two-high / --no-two-high, or a two_high column",
    "key_project": "--key-project / --no-key-project, or a key_project (重大建设项目) column",
    "discharge": "--discharge none|sewer|direct, or a discharge (排放去向) column",
    "red_line_activity": (
        "--red-line-activity none|1..10, or a red_line_activity (红线有限人为活动) column"
    ),
    "facility": "--facility CODE (repeatable; none for none), or a facility (设施) column",
    "residential_building": (
        "--residential-building / --no-residential-building, or a residential_building "
        "(居民楼) column"
    ),
    "noise": "--noise / --no-noise, or a noise (工业噪声) column",
    "industrial_park_unit": "a loaded control-unit layer",
    "chemical_park_unit": "a loaded control-unit layer",
}

#: How a layer that is not usable is described, per load status.
LOAD_TEXT = {"missing": "is missing", "failed": "failed to load"}


def undeclared(attr: str) -> str:
    """Why a project attribute is unknown, and how to declare it.

    Parameters
    ----------
    attr : str
        A condition key.

    Returns
    -------
    str
    """
    if attr in ("industrial_park_unit", "chemical_park_unit"):
        return "the control-unit layer is not available"
    return f"{attr} not declared (declare {_DECLARE[attr]})"


def describe_condition(c: Conditions) -> str:
    """One condition in words ("has an industry code starting with C26 and ...").

    Parameters
    ----------
    c : Conditions

    Returns
    -------
    str
    """
    parts = []
    for k in c.keys():
        v = getattr(c, k)
        if k == "industry":
            parts.append("has an industry code starting with " + " or ".join(v))
        elif k == "nature":
            parts.append("is a " + " or ".join(v) + " project")
        elif k in _CHOICE_TEXT:
            parts.append(f"{_CHOICE_TEXT[k]}: " + " or ".join(v))
        else:
            parts.append(_FLAG_TEXT[k][0 if v else 1])
    return " and ".join(parts)


def describe_condition_zh(c: Conditions) -> str:
    """One condition in Chinese (``"行业代码以 C26 开头且为新建、扩建项目"``).

    Parameters
    ----------
    c : Conditions

    Returns
    -------
    str
    """
    parts = []
    for k in c.keys():
        v = getattr(c, k)
        if k == "industry":
            parts.append("行业代码以 " + "、".join(v) + " 开头")
        elif k == "nature":
            parts.append("为" + "、".join(NATURE_LABELS.get(x, (x, x))[0] for x in v) + "项目")
        elif k in _CHOICE_TEXT_ZH:
            words = next(w for code, _zh, _en, w in CHOICE_LABELS if code == k)
            parts.append(_CHOICE_TEXT_ZH[k] + "、".join(words.get(x, (x, x))[0] for x in v))
        else:
            parts.append(_FLAG_TEXT_ZH[k][0 if v else 1])
    return "且".join(parts)


def conditional_texts(when: list[Conditions], missing: list[str]) -> tuple[str, str]:
    """(zh, en) of a rule that applies only if undeclared attributes say so: the rule as a
    condition, never as a fact ("applies if the project discharges its waste water: direct
    (not declared: discharge)").

    Parameters
    ----------
    when : list of Conditions
        The rule's ``when`` alternatives.
    missing : list of str
        The attributes the site did not declare.

    Returns
    -------
    (zh, en) : tuple of str
    """
    en_attrs = ", ".join(missing)
    zh_attrs = "、".join(
        ATTRIBUTE_LABELS[a][0].split("（")[0] if a in ATTRIBUTE_LABELS else a for a in missing
    )
    zh_alts = [describe_condition_zh(c) for c in when]
    zh = "或".join(zh_alts) if zh_alts else "满足规则条件"
    en = describe_alternatives(when) if when else "meets the rule's conditions"
    return (
        f"如项目{zh}则适用（未声明：{zh_attrs}）",
        f"applies if the project {en} (not declared: {en_attrs})",
    )


def describe_alternatives(alts: list[Conditions]) -> str:
    """Alternatives in words, joined with "or" (parenthesised when they hold an "and").

    Parameters
    ----------
    alts : list of Conditions

    Returns
    -------
    str
    """
    texts = [describe_condition(c) for c in alts]
    return " or ".join(f"({t})" if len(alts) > 1 and " and " in t else t for t in texts)


def when_missing_text(when_desc: str, verdict: str, missing: list[str]) -> str:
    """The assumption of a rule that may apply but whose ``when`` tests undeclared attributes.

    Parameters
    ----------
    when_desc : str
        The rule's ``when`` in words (:func:`describe_alternatives`).
    verdict : str
        The rule's verdict.
    missing : list of str
        The undeclared attributes.

    Returns
    -------
    str
    """
    return f"applies if the project {when_desc} ({verdict}); " + "; ".join(
        undeclared(a) for a in missing
    )


def unless_missing_text(unless_desc: str, missing: list[str]) -> str:
    """The assumption of a rule whose exception could not be granted for lack of attributes.

    Parameters
    ----------
    unless_desc : str
        The rule's ``unless`` in words.
    missing : list of str
        The undeclared attributes.

    Returns
    -------
    str
    """
    return (
        f"{', '.join(missing)} not declared: exception not granted "
        f"(it applies when the project {unless_desc})"
    )


def layer_missing_texts(kind: str, status: str, rule_id: str, label: str) -> tuple[str, str]:
    """(zh, en) message of a rule that cannot be checked: its layer is missing or failed.

    Parameters
    ----------
    kind : str
        The layer kind.
    status : {'missing', 'failed'}
    rule_id, label : str
        The rule and how its layer is named in Chinese messages.

    Returns
    -------
    (message_zh, message_en) : tuple of str
    """
    info = KINDS[kind]
    return (
        f"{info.title_zh}图层{'缺失' if status == 'missing' else '加载失败'}，"
        f"无法检查规则 {rule_id}（{label}）",
        f"the {kind} layer {LOAD_TEXT[status]}: rule {rule_id} ({label}) cannot be checked",
    )


def threshold_note(layer: str, tolerance: float, uncertain: bool, distance_m: float) -> str:
    """The note of a ``within`` reason whose distance lies within tolerance of the threshold.

    Parameters
    ----------
    layer : str
        The layer id of the feature.
    tolerance : float
        The layer's positional tolerance (m).
    uncertain : bool
        The site's coordinates carry a conversion uncertainty too.
    distance_m : float
        The rule's distance.

    Returns
    -------
    str
    """
    extra = " plus the coordinate conversion's uncertainty" if uncertain else ""
    return (
        f"the distance to the {layer} feature is within the layer's positional "
        f"tolerance ({tolerance:g} m{extra}) of the rule's {distance_m:g} m threshold: the "
        "rule may not apply; check the distance on authoritative data"
    )
