"""Site codes and chunk helpers: the same answers whatever the storage or order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from zoning.sites.raw import _all_blank
from zoning.tables.codes import site_codes

EN = ["a.rule (prohibited): no building here", "b.rule (conditional): ask first | c (unknown): x"]
ZH = ["此处禁止建设", "须先征询 | 未知"]


def _texts(rows: list[int | None], words: list[str]) -> list[str | None]:
    # equal texts as distinct objects (as a screening builds them row by row)
    return [None if k is None else "".join(list(words[k])) for k in rows]


def _frame(storage: str) -> pd.DataFrame:
    rows = [0, 1, None, 1, 0, 0, None, 1]
    en, zh = _texts(rows, EN), _texts(rows, ZH)
    if storage == "arrow":
        return pd.DataFrame(
            {
                "reasons_en": pd.array(en, dtype="string[pyarrow]"),
                "reasons_zh": pd.array(zh, dtype="string[pyarrow]"),
            }
        )
    if storage == "python":
        return pd.DataFrame(
            {
                "reasons_en": pd.array(en, dtype="string[python]"),
                "reasons_zh": pd.array(zh, dtype="string[python]"),
            }
        )
    zh_obj = np.array(zh, dtype=object)
    zh_obj[2] = np.nan  # missing as NaN and as NA in the same column
    zh_obj[6] = pd.NA
    return pd.DataFrame({"reasons_en": np.array(en, dtype=object), "reasons_zh": zh_obj})


def test_codes_are_the_same_whatever_the_storage():
    conc = (
        np.array(_texts([0, 0, None, 1, 1, 0, None, 1], ["结论甲", "结论乙"]), dtype=object),
        np.array(_texts([0, 0, None, 1, 1, 0, None, 1], ["verdict A", "verdict B"]), dtype=object),
    )
    arrow_conc = (pa.array(conc[0], type=pa.string()), pa.array(conc[1], type=pa.string()))
    oracle = site_codes(_frame("arrow"), None, arrow_conc)  # Arrow's dictionary encoding
    assert oracle.reason_codes.null_count == 2
    assert len(set(oracle.reason_codes.to_pylist())) == 3
    for storage in ("python", "object"):
        got = site_codes(_frame(storage), None, conc)
        assert got.rule_ids.equals(oracle.rule_ids)
        assert got.reason_codes.equals(oracle.reason_codes)
        assert got.conclusion_code.equals(oracle.conclusion_code)
        pd.testing.assert_frame_equal(got.codes, oracle.codes)


def test_codes_of_other_values_fall_back_to_text():
    en = np.array([EN[0], None, EN[0]], dtype=object)
    frame = pd.DataFrame({"reasons_en": en, "reasons_zh": np.array(["x", 1, "x"], dtype=object)})
    got = site_codes(frame).reason_codes.to_pylist()
    assert got[0] == got[2] and got[0].startswith("a.rule:prohibited~")
    assert got[1] is None


def test_all_blank():
    assert _all_blank(pd.Series(["", " ", None, np.nan], dtype=object))
    assert _all_blank(pd.Series([], dtype=object))
    assert not _all_blank(pd.Series(["", " ", "7"], dtype=object))
    assert not _all_blank(pd.Series(["1", ""], dtype=object))
    assert _all_blank(pd.Series([None, pd.NA], dtype="string"))


def test_ids_seen_in_earlier_chunks():
    from zoning.sites.chunks import _Ids

    ids = _Ids()
    assert ids.add(np.array(["b", "a", "c"], dtype=object)).tolist() == []
    assert ids.add(np.array(["d", "c", "e", "a"], dtype=object)).tolist() == [1, 3]
    assert ids.add(np.array(["x", "e", "y", "b"], dtype=object)).tolist() == [1, 3]
    assert np.all(np.diff(ids.hashes.astype(np.float64)) >= 0) and len(ids.hashes) == 11
