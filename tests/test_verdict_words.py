"""The verdict words a Chinese reviewer reads (issue: "需专项论证/审批", "未发现不符合项").

The codes stay (``restricted``, ``permitted``); the words change everywhere they are shown.
限制 must not be the word for ``restricted``: in the 产业结构调整指导目录 "限制类" means new
investment is forbidden.
"""

from __future__ import annotations

import pandas as pd

from zoning.labels import VERDICT_LABELS

RESTRICTED_ZH = "需专项论证/审批"
PERMITTED_ZH = "未发现不符合项（限于已编码的规则与图层）"


def test_verdict_words_are_the_reviewer_words():
    assert VERDICT_LABELS["restricted"][0] == RESTRICTED_ZH
    assert VERDICT_LABELS["permitted"][0] == PERMITTED_ZH
    assert "限制" not in {zh for zh, _ in VERDICT_LABELS.values()}


def test_sites_csv_has_verdict_zh(demo_screening, tmp_path):
    demo_screening.to_file(tmp_path, ["csv"])
    table = pd.read_csv(tmp_path / "sites.csv", dtype=str, encoding="utf-8-sig")
    cols = list(table.columns)
    assert cols[cols.index("verdict") + 1] == "verdict_zh"
    want = table["verdict"].map({k: zh for k, (zh, _) in VERDICT_LABELS.items()})
    assert (table["verdict_zh"] == want).all()
    assert "restricted" in set(table["verdict"])
    assert RESTRICTED_ZH in set(table["verdict_zh"])


def test_report_and_console_use_the_words(demo_screening, tmp_path):
    demo_screening.to_html(tmp_path / "report")
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "report").rglob("*.html"))
    assert RESTRICTED_ZH in text
    assert "“允许”" not in text and "› 限制 ›" not in text
