"""The diff as people read it: the report section ``diff.html`` and the console summary.

The page is static HTML with inline CSS (the screening report's stylesheet, read from its
template so both look alike), no JavaScript and no external requests; every string from the
runs is escaped.  Verdict words come from :mod:`zoning.labels`.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .. import labels
from ..report.format import check_lang

if TYPE_CHECKING:  # pragma: no cover
    from .result import DiffResult

__all__ = ["CAUSE_LABELS", "MAX_HTML_CHANGES", "WHAT_LABELS", "render_diff", "summary_lines"]

#: Words of each cause kind (zh, en).
CAUSE_LABELS = {
    "document": ("法律文件", "document"),
    "rule": ("规则", "rule"),
    "layer": ("图层版本", "layer vintage"),
    "attributes": ("项目属性", "project attributes"),
    "geometry": ("场址几何", "site geometry"),
    "input": ("输入与选项", "input and options"),
    "rule_set": ("规则集文件", "rule-set file"),
    "catalog": ("图层目录文件", "catalog file"),
    "tool": ("工具版本", "tool version"),
    "undetermined": ("原因未确定", "cause not determined"),
}
#: Words of what changed (zh, en).
WHAT_LABELS = {
    "site": ("场址", "site"),
    "verdict": ("结论", "verdict"),
    "reason": ("理由", "reason"),
    "clause": ("条款", "clause"),
}
#: Words of a site's status in the diff (zh, en).
STATUS_LABELS = {
    "changed": ("有变化", "changed"),
    "unchanged": ("无变化", "unchanged"),
    "added": ("仅在新结果中", "only after"),
    "removed": ("仅在原结果中", "only before"),
}
_DEMO = (
    "DEMONSTRATION DATA — not the official ecological protection red line or control units "
    "(演示数据，非官方生态保护红线)"
)
_FALLBACK_CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#222}main,header,footer{padding:1rem "
    "2rem}table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #ccd;padding:"
    ".25rem .5rem;text-align:left;vertical-align:top}.demo{background:#b00020;color:#fff;"
    "padding:.6rem 2rem;font-weight:600}.en{color:#555}"
)
#: At most this many changes are listed on ``diff.html`` (``diff.csv`` holds them all).
MAX_HTML_CHANGES = 2000
_EXTRA_CSS = ".arrow{color:#666;padding:0 .3rem}td.cause{max-width:40rem}"


def _report_css() -> str:
    """The screening report's stylesheet (its base template), or a plain fallback."""
    try:
        from ..report.html import TEMPLATE_DIR

        text = (TEMPLATE_DIR / "_base.html").read_text(encoding="utf-8")
    except (ImportError, OSError, UnicodeDecodeError):
        return _FALLBACK_CSS
    m = re.search(r"<style>(.*?)</style>", text, re.S)
    return m[1].strip() if m and "{%" not in m[1] else _FALLBACK_CSS


class _Page:
    """Bilingual text helpers for one language setting."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def tr(self, zh: str, en: str) -> str:
        """Escaped text in the page's language(s)."""
        zh, en = html.escape(zh), html.escape(en)
        if self.lang == "zh":
            return zh
        if self.lang == "en" or zh == en:
            return en
        return f'{zh} <span class="en">{en}</span>'

    def pair(self, words: tuple[str, str]) -> str:
        """A ``(zh, en)`` pair."""
        return self.tr(*words)

    def verdict(self, code: str) -> str:
        """A verdict code as a badge (plain text when it is not a verdict)."""
        if code not in labels.VERDICT_LABELS:
            return html.escape(code or "—")
        words = self.pair(labels.VERDICT_LABELS[code])
        return f'<span class="badge v-{html.escape(code)}">{words}</span>'

    def value(self, what: str, text: str) -> str:
        """A before/after cell."""
        if what in ("verdict", "site") and text in labels.VERDICT_LABELS:
            return self.verdict(text)
        code, _, rest = text.partition(" ")
        words = getattr(labels, "CLAUSE_RESULT_LABELS", {}) if what == "clause" else {}
        if what == "reason":
            words = labels.VERDICT_LABELS
        if code in words:
            return self.pair(words[code]) + (f" {html.escape(rest)}" if rest else "")
        return html.escape(text or "—")

    def kinds(self, kinds: str) -> str:
        """Cause kinds joined by ``;`` in words."""
        parts = [k for k in (kinds or "").split(";") if k]
        return "<br>".join(self.pair(CAUSE_LABELS.get(k, (k, k))) for k in parts) or "—"


def _run_block(p: _Page, title: tuple[str, str], run: Any) -> str:
    prov = run.provenance
    rs, cat = prov.get("rule_set") or {}, prov.get("catalog") or {}
    rows = [
        (("文件夹", "folder"), f"<code>{html.escape(run.label)}</code>"),
        (("适用日期", "as of"), html.escape(run.as_of or "—")),
        (("生成时间", "created"), html.escape(str(prov.get("created") or "—"))),
        (
            ("规则集", "rule set"),
            html.escape(f"{rs.get('id') or '—'} {rs.get('version') or ''}")
            + (
                f" · <code>{html.escape(str(rs.get('hash'))[:12])}</code>" if rs.get("hash") else ""
            ),
        ),
        (
            ("图层目录", "catalog"),
            html.escape(str(cat.get("version") or cat.get("path") or "—"))
            + (
                f" · <code>{html.escape(str(cat.get('sha256'))[:12])}</code>"
                if cat.get("sha256")
                else ""
            ),
        ),
        (("工具", "tool"), html.escape(f"zoning {prov.get('tool_version') or '—'}")),
    ]
    body = "".join(f"<dt>{p.pair(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<div class="count"><strong>{p.pair(title)}</strong><dl class="prov">{body}</dl></div>'


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(rows_i) + "</tr>" for rows_i in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _counts(p: _Page, d: DiffResult) -> str:
    c = d.counts()
    items = [
        (("两次均筛查的场址", "sites in both"), c["both"]),
        (("有变化的场址", "sites changed"), c["changed"]),
        (("结论变化", "verdicts changed"), c["verdicts"]),
        (("变化条目", "changes"), c["changes"]),
        (("仅在原结果中", "only before"), c["removed"]),
        (("仅在新结果中", "only after"), c["added"]),
    ]
    return (
        '<div class="counts">'
        + "".join(
            f'<div class="count"><span class="n">{n:,}</span>{p.pair(w)}</div>' for w, n in items
        )
        + "</div>"
    )


_SITE_HEAD = [
    ("场址", "site"),
    ("名称", "name"),
    ("状态", "status"),
    ("结论", "verdict"),
    ("变化", "changes"),
    ("原因类别", "cause"),
]
_CHANGE_HEAD = [
    ("场址", "site"),
    ("项目", "what"),
    ("规则", "rule"),
    ("原", "before"),
    ("新", "after"),
    ("原因类别", "cause kind"),
    ("原因", "cause"),
]
_NO_CHANGE = (
    "没有场址的结论、理由或条款结果发生变化。",
    "No site changed verdict, reasons or clause results.",
)


def _site_table(p: _Page, changed: Any) -> str:
    arrow = '<span class="arrow">→</span>'
    rows = [
        [
            f'<td class="id">{html.escape(str(s.site_id))}</td>',
            f"<td>{html.escape(str(s.name or ''))}</td>",
            f"<td>{p.pair(STATUS_LABELS.get(s.status, (s.status, s.status)))}</td>",
            f"<td>{p.verdict(s.verdict_before)}{arrow}{p.verdict(s.verdict_after)}</td>",
            f'<td class="num">{s.n_changes}</td>',
            f"<td>{p.kinds(s.cause_kind)}</td>",
        ]
        for s in changed.itertuples()
    ]
    return _table([p.pair(h) for h in _SITE_HEAD], rows)


def _change_table(p: _Page, changes: Any) -> str:
    rows = [
        [
            f'<td class="id">{html.escape(str(c.site_id))}</td>',
            f"<td>{p.pair(WHAT_LABELS.get(c.what, (c.what, c.what)))}</td>",
            f"<td><code>{html.escape(str(c.rule_id or ''))}</code></td>",
            f"<td>{p.value(c.what, str(c.before))}</td>",
            f"<td>{p.value(c.what, str(c.after))}</td>",
            f"<td>{p.kinds(c.cause_kind)}</td>",
            '<td class="cause">'
            + "<br>".join(html.escape(t) for t in str(c.cause).split(" | "))
            + "</td>",
        ]
        for c in changes.itertuples()
    ]
    return _table([p.pair(h) for h in _CHANGE_HEAD], rows)


def _sections(p: _Page, d: DiffResult) -> list[str]:
    out = ['<div class="counts">', _run_block(p, ("原结果", "before"), d.a)]
    out += [_run_block(p, ("新结果", "after"), d.b), "</div>", _counts(p, d)]
    out += [f'<p class="note">{html.escape(n)}</p>' for n in d.notes]
    out.append(f"<h2>{p.tr('两次运行的差异', 'What differs between the runs')}</h2>")
    if d.run_differences:
        rows = [
            [f"<td>{p.kinds(c.kind)}</td>", f"<td>{html.escape(c.text)}</td>"]
            for c in d.run_differences
        ]
        out.append(_table([p.tr("类别", "kind"), p.tr("差异", "difference")], rows))
    else:
        out.append(f"<p>{p.tr('未发现差异。', 'None found.')}</p>")
    changed = d.sites[d.sites["status"] != "unchanged"]
    out.append(f"<h2>{p.tr('有变化的场址', 'Sites that changed')}</h2>")
    out.append(_site_table(p, changed) if len(changed) else f"<p>{p.pair(_NO_CHANGE)}</p>")
    if len(d.changes):
        out.append(f"<h2>{p.tr('变化及其原因', 'Changes and their causes')}</h2>")
        if len(d.changes) > MAX_HTML_CHANGES:
            n = len(d.changes)
            out.append(
                '<p class="warn">'
                + p.tr(
                    f"共 {n:,} 条变化，此处列出前 {MAX_HTML_CHANGES:,} 条；完整列表见 diff.csv。",
                    f"{n:,} changes: the first {MAX_HTML_CHANGES:,} are listed here; diff.csv "
                    "holds them all.",
                )
                + "</p>"
            )
        out.append(_change_table(p, d.changes.head(MAX_HTML_CHANGES)))
    n_same = int((d.sites["status"] == "unchanged").sum())
    same = p.tr(f"{n_same:,} 个场址无变化。", f"{n_same:,} sites unchanged.")
    out.append(f'<p class="muted">{same}</p>')
    return out


def render_diff(d: DiffResult, lang: str = "both") -> str:
    """The diff as a standalone HTML page.

    Parameters
    ----------
    d : DiffResult
    lang : {"both", "zh", "en"}

    Returns
    -------
    str
        The page (UTF-8 text), with a demonstration banner when either run used
        demonstration data or rules.
    """
    check_lang(lang)
    p = _Page(lang)
    html_lang = "en" if lang == "en" else "zh-CN"
    title = {"zh": "筛查结果对比", "en": "Screening diff"}.get(
        lang, "筛查结果对比 · Screening diff"
    )
    demo = (
        '<div class="demo" role="alert" id="demo-banner">DEMONSTRATION DATA — not the official '
        "ecological protection red line or control units · 演示数据，非官方生态保护红线与管控单元。"
        "</div>"
        if d.demonstration
        else ""
    )
    head = (
        f'<!doctype html>\n<html lang="{html_lang}"><head><meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} · zoning</title>\n"
        f"<style>\n{_report_css()}\n{_EXTRA_CSS}\n</style></head><body>\n"
    )
    header = (
        f"<header><h1>{p.tr('筛查结果对比', 'Screening diff')}</h1>"
        f'<p>{html.escape(d.a.describe())} <span class="arrow">→</span> '
        f"{html.escape(d.b.describe())}</p></header>\n"
    )
    body = "<main>\n" + "\n".join(_sections(p, d)) + "\n</main>\n"
    footer = (
        "<footer><p>"
        + p.tr(
            "按 site_id 匹配场址；理由按规则与准入清单比较（按图层类别与要素编号，不比较措辞）；"
            "原因取自两次筛查的来源记录（screening.json）。本页为静态页面，不加载任何外部资源。",
            "Sites matched by site_id; reasons compared by rule and access list (by layer kind "
            "and feature id, not wording); causes from the two runs' provenance "
            "(screening.json). Static page; loads nothing from the network.",
        )
        + "</p></footer>\n</body></html>\n"
    )
    return head + demo + header + body + footer


def _verdict_words(code: str) -> str:
    zh, en = labels.VERDICT_LABELS.get(code, (code, code))
    return f"{zh} {en}" if zh != en else en


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def summary_lines(d: DiffResult, limit: int = 10) -> list[str]:
    """The console summary of a diff, as lines.

    Parameters
    ----------
    d : DiffResult
    limit : int
        How many changes to list.

    Returns
    -------
    list of str
    """
    c = d.counts()
    lines = [f"zoning diff: {d.a.describe()} → {d.b.describe()}"]
    if d.demonstration:
        lines.append(_DEMO)
    lines.append(
        f"Sites: {c['both']:,} in both, {c['changed']:,} changed ({c['verdicts']:,} verdicts); "
        f"{c['removed']:,} only before, {c['added']:,} only after"
    )
    lines.append(
        f"Changes 变化: {c['changes']:,} (reasons {c['reasons']:,}, clauses {c['clauses']:,})"
    )
    if d.run_differences:
        lines.append("What differs between the runs:")
        lines += [f"  [{x.kind}] {_clip(x.text, 150)}" for x in d.run_differences]
    lines += [f"Note: {n}" for n in d.notes]
    if len(d.changes):
        shown = d.changes.head(limit)
        lines.append(f"First changes ({len(shown)} of {len(d.changes):,}):")
        for r in shown.itertuples():
            before, after = str(r.before), str(r.after)
            if r.what in ("verdict", "site"):
                before = _verdict_words(before) if before in labels.VERDICT_LABELS else before
                after = _verdict_words(after) if after in labels.VERDICT_LABELS else after
            rule = f" {r.rule_id}" if r.rule_id else ""
            lines.append(f"  {r.site_id} {r.what}{rule}: {before} → {after}")
            lines.append(f"      [{r.cause_kind}] {_clip(str(r.cause), 200)}")
    else:
        lines.append("No site changed verdict, reasons or clause results.")
    return lines
