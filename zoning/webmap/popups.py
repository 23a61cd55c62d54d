"""The site popups of the screening map: verdict words and colours, and the reasons table.

Each reason text is written into the page once (:class:`_PopupTable`); a site's popup refers
to its reasons by index and is assembled in the page when opened.  Every text is escaped here
for HTML.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..labels import REASON_STATUS_WORDS, VERDICT_LABELS
from ..schema import SEVERITY
from .escape import html_attr, html_text

__all__ = ["MAX_POPUP_REASONS", "POPUP_LABELS", "STATUS_TEXT", "VERDICT_COLORS", "VERDICT_TEXT"]

#: Colour of each verdict (most severe darkest).
VERDICT_COLORS = {
    "prohibited": "#b2182b",
    "unknown": "#7b4fa8",
    "restricted": "#f46d43",
    "conditional": "#e6b400",
    "permitted": "#1a9850",
}
#: Verdict labels (zh, en): the shared words of :mod:`zoning.labels`, as in the HTML report.
VERDICT_TEXT = VERDICT_LABELS
#: Reasons listed in a popup (the report page has all of them).
MAX_POPUP_REASONS = 5
#: A reason without a rule id is listed by its status, in words (:mod:`zoning.labels`).
STATUS_TEXT = REASON_STATUS_WORDS
#: Words of the popups (assembled in the page).
POPUP_LABELS = {
    "zh": {
        "site_id": "场址编号",
        "feature": "要素",
        "more_before": "另有 ",
        "more_after": " 条理由见报告",
        "open_report": "打开场址报告",
    },
    "en": {
        "site_id": "Site id",
        "feature": "Feature",
        "more_before": "",
        "more_after": " more reasons in the report",
        "open_report": "Open the site report",
    },
}


def _str(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _verdict(v: Any) -> str:
    v = _str(v)
    return v if v in SEVERITY else "unknown"


def _verdict_badge(v: str) -> str:
    zh, en = VERDICT_TEXT[v]
    return (
        f'<span class="zp-verdict" style="{html_attr("background:" + VERDICT_COLORS[v])}">'
        f"{html_text(zh)} {html_text(en)}</span>"
    )


class _PopupTable:
    """The reason texts of the popups, each written once; sites refer to them by index.

    A reason item is its rule (or, without a rule id, its status in words), verdict, message
    and citation, as escaped HTML; the feature a reason is about is a separate plain-text
    table.  Popups are assembled in the page from these when opened.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self.items: list[str] = []
        self.features: list[str] = []
        self._item_index: dict[tuple, int] = {}
        self._feature_index: dict[str, int] = {}

    def item(self, rec: dict) -> int:
        msg_key = "message_zh" if self.lang == "zh" else "message_en"
        v = _verdict(rec.get("verdict"))
        rule = _str(rec.get("rule_id"))
        if not rule:
            status = _str(rec.get("status"))
            pair = STATUS_TEXT.get(status)
            rule = (pair[0] if self.lang == "zh" else pair[1]) if pair else (status or "—")
        key = (rule, v, _str(rec.get(msg_key)), _str(rec.get("citation")))
        idx = self._item_index.get(key)
        if idx is None:
            vz, ve = VERDICT_TEXT[v]
            cite = key[3]
            self.items.append(
                f"<b>{html_text(rule)}</b> ({html_text(vz if self.lang == 'zh' else ve)}): "
                f"{html_text(key[2])}"
                + (f'<br><span class="zp-cite">{html_text(cite)}</span>' if cite else "")
            )
            idx = self._item_index[key] = len(self.items) - 1
        return idx

    def feature(self, rec: dict) -> int | None:
        name = _str(rec.get("feature_name")) or _str(rec.get("feature_id"))
        if not name:
            return None
        idx = self._feature_index.get(name)
        if idx is None:
            self.features.append(name)
            idx = self._feature_index[name] = len(self.features) - 1
        return idx


def _reasons_of_sites(
    reasons: pd.DataFrame, keys: list, by_position: bool, table: _PopupTable
) -> dict[Any, tuple[list[list[int]], int]]:
    """Per site key: the popup's reason references (most severe first) and how many are left.

    Every reason row of the site counts, as in the report: rows without a rule id (the site
    outside a layer's coverage, a missing layer) are listed by their status.
    """
    if reasons is None or not len(reasons):
        return {}
    col = "site" if by_position else "site_id"
    if col not in reasons.columns:
        return {}
    wanted = set(keys)
    r = reasons
    site_key = r[col].map(lambda v: int(v) if by_position else _str(v))
    r = r[site_key.isin(wanted)].assign(_key=site_key)
    if not len(r):
        return {}
    r = r.assign(_sev=r["verdict"].map(lambda v: SEVERITY.get(_verdict(v), 0)))
    r = r.sort_values(["_sev"], ascending=False, kind="stable")
    wanted_cols = ("_key", "rule_id", "status", "verdict", "message_zh", "message_en")
    wanted_cols += ("citation", "feature_name", "feature_id")
    cols = [c for c in wanted_cols if c in r.columns]
    refs: dict[Any, list[list[int]]] = {}
    total: dict[Any, int] = {}
    for rec in r[cols].to_dict("records"):
        key = rec["_key"]
        total[key] = total.get(key, 0) + 1
        mine = refs.setdefault(key, [])
        if len(mine) >= MAX_POPUP_REASONS:
            continue
        ref = [table.item(rec)]
        f = table.feature(rec)
        if f is not None:
            ref.append(f)
        mine.append(ref)
    return {k: (v, total[k] - len(v)) for k, v in refs.items()}


def _popup_data(table: _PopupTable, lang: str, report_prefix: str | None) -> dict:
    """What the page assembles the site popups from."""
    return {
        "reasons_html": table.items,
        "features": table.features,
        "labels": POPUP_LABELS[lang],
        "verdicts": {v: f"{zh} {en}" for v, (zh, en) in VERDICT_TEXT.items()},
        "colors": VERDICT_COLORS,
        "report_prefix": report_prefix,
    }
