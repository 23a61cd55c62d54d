"""Citations verified against the stored text of their document (``zoning.rules.citations``).

A tiny rule set and its document texts are written to ``tmp_path``: a quote is found when,
with all whitespace removed from both, it is a substring of the stored text; a document
without a stored text must say where it was read (``read_at`` + ``read_on``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from zoning.rules import RuleSet, load_rules
from zoning.rules.citations import (
    citation_note,
    citation_status,
    quote_found,
    stored_text,
    verify_citations,
)

TEXT = """\
# 某某条例

第一条　为了保护生态环境，
制定本条例。

第二条　禁止在饮用水水源
保护区内设置排污口。
"""

RULES = """\
id: cited
version: "1"
title: cited rules
status: draft
documents:
  reg:
    title: 某某条例
    issuer: 某机关
    date: "2020-01-01"
    text: texts/reg.md
  notice:
    title: 某通知
    issuer: 某部
    date: "2022-08-16"
    read_at: https://example.org/notice.html
    read_on: "2026-12-05"
  bare:
    title: 无文本
    issuer: 某部
    date: "2022-08-16"
rules:
  - id: r.found
    applies_to: {kind: red_line}
    dimension: 空间布局约束
    verdict: prohibited
    citation: {document: reg, article: "第二条", quote: "禁止在饮用水水源保护区内设置排污口。"}
    message: {zh: 禁止, en: prohibited}
  - id: r.spaced
    applies_to: {kind: red_line}
    dimension: 空间布局约束
    verdict: prohibited
    citation: {document: reg, article: "第一条", quote: "为了保护 生态环境，制定\\n本条例"}
    message: {zh: 禁止, en: prohibited}
  - id: r.read
    applies_to: {kind: red_line}
    dimension: 空间布局约束
    verdict: restricted
    citation: {document: notice, article: "二", quote: "有限人为活动"}
    message: {zh: 限制, en: restricted}
"""


def write(folder: Path, rules: str = RULES, text: str = TEXT) -> Path:
    (folder / "texts").mkdir(exist_ok=True)
    (folder / "texts" / "reg.md").write_text(text, encoding="utf-8")
    path = folder / "rules.yml"
    path.write_text(textwrap.dedent(rules), encoding="utf-8")
    return path


def add_rule(rules: str, rule_id: str, citation: str) -> str:
    return rules + (
        f"  - id: {rule_id}\n"
        "    applies_to: {kind: red_line}\n"
        "    dimension: 空间布局约束\n"
        "    verdict: prohibited\n"
        f"    citation: {citation}\n"
        "    message: {zh: 禁止, en: prohibited}\n"
    )


def test_quotes_found_with_whitespace_differences(tmp_path):
    rs = load_rules(write(tmp_path))
    assert "禁止在饮用水水源" in stored_text(rs, "reg")
    assert stored_text(rs, "notice") is None
    assert verify_citations(rs) == []
    assert citation_status(rs, "r.found") == "verified"
    assert citation_status(rs, "r.spaced") == "verified"
    assert citation_status(rs, "r.read") == "read_at"
    assert citation_note(rs, "r.read") == (
        "read at https://example.org/notice.html on 2026-12-05 (not verified against a stored text)"
    )
    assert citation_note(rs, "r.found") == "quote found in the stored text texts/reg.md"
    assert quote_found("第一条\u3000为了\n保护", "第一条为了 保护")
    assert not quote_found("第一条", " \n")


def test_a_quote_not_in_the_text_is_a_problem_line(tmp_path):
    rules = add_rule(
        RULES, "r.wrong", '{document: reg, article: "第二条", quote: "禁止在保护区内建设"}'
    )
    rs = load_rules(write(tmp_path, rules))
    problems = verify_citations(rs)
    assert len(problems) == 1
    assert "r.wrong" in problems[0] and "not found" in problems[0] and "reg" in problems[0]
    assert "\n" not in problems[0]
    assert citation_status(rs, "r.wrong") == "not_found"


def test_a_missing_quote_and_a_document_without_text_or_address_are_problems(tmp_path):
    rules = add_rule(RULES, "r.noquote", '{document: reg, article: "第一条"}')
    rules = add_rule(rules, "r.bare", '{document: bare, article: "一", quote: "任何"}')
    rs = load_rules(write(tmp_path, rules))
    problems = verify_citations(rs)
    assert len(problems) == 2, problems
    assert "r.noquote" in problems[0] and "no quote" in problems[0]
    assert "r.bare" in problems[1] and "bare" in problems[1] and "read_at" in problems[1]


def test_a_rule_set_not_read_from_a_file_has_no_stored_texts(tmp_path):
    import yaml

    data = yaml.safe_load(RULES)
    rs = RuleSet.from_mapping(data, source="inline")
    assert stored_text(rs, "reg") is None
    problems = verify_citations(rs)
    assert any("r.found" in p and "texts/reg.md" in p for p in problems), problems


def test_read_on_needs_read_at_and_a_text_must_be_a_relative_path(tmp_path):
    from zoning.errors import RulesError

    bad = RULES.replace("    read_at: https://example.org/notice.html\n", "")
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, bad))
    assert "document 'notice'" in str(info.value) and "read_at" in str(info.value)
    bad = RULES.replace("text: texts/reg.md", "text: /etc/passwd")
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, bad))
    assert "document 'reg'" in str(info.value) and "relative" in str(info.value)
