"""Gate reports: Markdown (PR comment, GitHub job summary), JSON and JUnit XML.

Model outputs, model names and sample ids are untrusted: in Markdown they are shown as
code spans (no links, images, HTML or mentions can form inside one) with table pipes
escaped; other text has every ASCII punctuation character backslash-escaped.
"""

from __future__ import annotations

import math
import re
import string
import xml.etree.ElementTree as ET
from pathlib import Path

from cotbench.gate.evaluate import GateResult, RuleCheck
from cotbench.gate.stat_tests import METHOD_TEXT
from cotbench.results.store import atomic_write_text

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_BACKTICKS = re.compile(r"`+")
_MARK = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skipped": "➖"}


def _icon(c: RuleCheck) -> str:
    """Mark and status of a check: ``❌ inconclusive (policy: fail)``, never a bare "fail" for it.
    The status is one of a few fixed phrases (no untrusted text), so it is not escaped."""
    return f"{_MARK[c.verdict]} {c.status}"


# -- escaping ------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


def md_text(text: str) -> str:
    """Plain Markdown text on one line, every punctuation mark escaped (safe in table cells)."""
    return _PUNCT.sub(r"\\\1", _one_line(text))


def md_code(text: str, limit: int = 200) -> str:
    """An inline code span holding ``text`` literally, on one line, safe inside a table cell."""
    body = _one_line(text)
    if len(body) > limit:
        body = body[:limit] + "…"
    if not body:
        return "*(empty)*"
    # GFM splits table cells on unescaped pipes before parsing code spans; a zero-width space
    # stops backslashes in the output from escaping our escape.
    body = re.sub(r"(\\*)\|", lambda m: m.group(1) + ("\u200b" if m.group(1) else "") + r"\|", body)
    fence = "`" * (max((len(r) for r in _BACKTICKS.findall(body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


# -- numbers -------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _pts(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}".replace("-", "−")


def _p(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _margin(c: RuleCheck) -> str:
    # The allowed regression, signed in the metric's own direction.
    allowed = -c.margin if c.direction == "higher_is_better" else c.margin
    return _pts(allowed)


def _arrow(c: RuleCheck) -> str:
    return "↑" if c.direction == "higher_is_better" else "↓"


# -- Markdown ------------------------------------------------------------------------------------


def headline(result: GateResult) -> str:
    if result.verdict == "fail":
        n = len(result.checks)
        failed = sum(c.verdict == "fail" and c.failure != "inconclusive" for c in result.checks)
        blocked = sum(c.failure == "inconclusive" for c in result.checks)
        parts = [f"{failed} of {n} checks failed"] if failed else []
        if blocked:
            parts.append(f"{blocked}{'' if failed else f' of {n}'} check{'s' * (blocked > 1)} "
                         "inconclusive (policy: fail)")
        warned = f" ({result.n_warnings} more inconclusive, policy: warn)" if result.n_warnings else ""
        return f"❌ **FAIL**: {', '.join(parts)}{warned}"
    if result.n_warnings:
        return f"⚠️ **PASS with {result.n_warnings} warning{'s' * (result.n_warnings > 1)}** (inconclusive checks)"
    return "✅ **PASS**: no regression beyond the policy margins"


def to_markdown(result: GateResult) -> str:
    ci = round(100 * (1 - 2 * result.alpha))
    lines = [
        "## cotbench gate",
        "",
        headline(result),
        "",
        f"Candidate {md_code(result.candidate.label)} (run {md_code(result.candidate.run_id)}) vs baseline "
        f"{md_code(result.baseline.label)} (run {md_code(result.baseline.run_id)}); policy "
        f"{md_code(result.policy_digest)}. Paired per-item non-inferiority tests, one-sided at "
        f"α = {result.alpha:g}; Δ and margins in percentage points.",
        "",
        *([f"⚠️ Mismatches allowed: {md_text(', '.join(result.mismatches_allowed))} (the runs' settings may "
           "differ in these; see the notes)", ""] if result.mismatches_allowed else []),
        f"| Rule | Scope | Metric | Baseline | Candidate | Δ | {ci}% CI | Margin | p (NI) | n | Test | Verdict |",
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for c in result.checks:
        ci_cell = "–" if c.ci_low is None else f"[{_pts(c.ci_low)}, {_pts(c.ci_high)}]"
        lines.append(
            f"| {md_text(c.rule)} | {md_text(c.scope)} | {md_text(c.metric)} {_arrow(c)} | {_pct(c.baseline)} | "
            f"{_pct(c.candidate)} | {_pts(c.delta)} | {ci_cell} | {_margin(c)} | {_p(c.p_value)} | "
            f"{c.n_items} | {md_text(c.method or '–')} | {_icon(c)} |")
    notes = [c for c in result.checks if c.verdict != "pass"]
    if notes:
        lines += ["", "**Details**", ""]
        for c in notes:
            extra = f" ({c.n_unpaired} items scored in one run only were left out)" if c.n_unpaired else ""
            lines.append(f"- {_icon(c)} **{md_text(c.rule)}** ({md_text(c.scope)}): "
                         f"{md_text(c.message)}{extra}")
    for note in result.notes:
        lines.append(f"- {md_text(note)}")
    worst, shown = [], set()
    for c in result.checks:
        # A per-task rule often repeats the items of its domain rule; show each set once.
        key = (c.metric, frozenset((w.task, w.sample_id) for w in c.worst))
        if c.worst and key not in shown:
            shown.add(key)
            worst.append(c)
    if worst:
        lines += ["", "### Worst regressions", ""]
        for c in worst:
            lines += [f"**{md_text(c.rule)}** ({md_text(c.scope)}, {md_text(c.metric)} {_arrow(c)})", "",
                      "| Task | Sample | Baseline | Candidate | Candidate answer | Baseline answer |",
                      "|---|---|---:|---:|---|---|"]
            for w in c.worst:
                lines.append(f"| {md_code(w.task)} | {md_code(w.sample_id)} | {_pct(w.baseline)} | "
                             f"{_pct(w.candidate)} | {md_code(w.candidate_output)} | {md_code(w.baseline_output)} |")
            lines.append("")
    lines += ["", "<sub>p (NI): non-inferiority test (H0: worse by at least the margin). A check fails when the "
              "estimate is beyond the margin and the drop is significant; otherwise it is inconclusive "
              "when non-inferiority is not shown. Tests: "
              + "; ".join(f"{name}: {METHOD_TEXT[name]}" for name in sorted({c.method for c in result.checks
                                                                            if c.method in METHOD_TEXT}))
              + ". The CI is the set of differences neither one-sided test rejects.</sub>", ""]
    return "\n".join(lines)


# -- JSON and JUnit ------------------------------------------------------------------------------


def to_json(result: GateResult) -> str:
    return result.model_dump_json(indent=2) + "\n"


def _xml_safe(text: str) -> str:
    return _CONTROL.sub("", text)


def to_junit(result: GateResult) -> str:
    """One testcase per check: failures for failed checks, typed by why (``regression``, ``limit``
    or ``inconclusive``, the last when the policy fails thin evidence), skipped for skipped ones."""
    suites = ET.Element("testsuites", name="cotbench gate")
    suite = ET.SubElement(suites, "testsuite", name="cotbench-gate", tests=str(len(result.checks)),
                          failures=str(sum(c.verdict == "fail" for c in result.checks)), errors="0",
                          skipped=str(sum(c.verdict == "skipped" for c in result.checks)))
    props = ET.SubElement(suite, "properties")
    for name, value in (("baseline", result.baseline.label), ("candidate", result.candidate.label),
                        ("baseline_run", result.baseline.run_id), ("candidate_run", result.candidate.run_id),
                        ("policy", result.policy_digest), ("verdict", result.verdict),
                        *([("mismatches_allowed", ",".join(result.mismatches_allowed))]
                          if result.mismatches_allowed else [])):
        ET.SubElement(props, "property", name=name, value=_xml_safe(value))
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"cotbench.gate.{_xml_safe(c.rule)}",
                             name=_xml_safe(f"{c.metric} {c.scope}"))
        summary = (f"baseline {_pct(c.baseline)}, candidate {_pct(c.candidate)}, delta {_pts(c.delta)} pts, "
                   f"margin {_margin(c)} pts, p={_p(c.p_value)}, n={c.n_items}: {c.message}")
        if c.verdict == "fail":
            fail = ET.SubElement(case, "failure", message=_xml_safe(c.message), type=c.failure or "regression")
            fail.text = _xml_safe("\n".join([f"{c.status}; {summary}"] + [
                f"{w.task} {w.sample_id}: baseline {_pct(w.baseline)} -> candidate {_pct(w.candidate)}: "
                f"{w.candidate_output}" for w in c.worst]))
        elif c.verdict == "skipped":
            ET.SubElement(case, "skipped", message=_xml_safe(c.message))
        else:
            ET.SubElement(case, "system-out").text = _xml_safe(f"{c.status}; {summary}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(result: GateResult, *, markdown: Path | None = None, json: Path | None = None,
                  junit: Path | None = None) -> None:
    for path, render in ((markdown, to_markdown), (json, to_json), (junit, to_junit)):
        if path is not None:
            atomic_write_text(Path(path), render(result))
