"""Gate reports: Markdown escaping of untrusted text, JSON and JUnit XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cotbench.gate.evaluate import GateResult, ItemExample, RuleCheck, RunRef
from cotbench.gate.report import md_code, md_text, to_json, to_junit, to_markdown, write_reports

EVIL = ("Sure!\n<img src=x onerror=alert(1)> [click](http://evil.example) ![i](http://x/y.png) @admin #12 "
        "| broken | cell \\| ``` `tick` <script>alert(2)</script>\x00\x1b")


def _result(verdict: str = "fail") -> GateResult:
    worst = [ItemExample(task="gsm8k", sample_id="gsm8k-7 | <b>", baseline=1.0, candidate=0.0,
                         baseline_output="42", candidate_output=EVIL)]
    checks = [
        RuleCheck(rule="in-domain", scope="domain in_domain", metric="score", direction="higher_is_better",
                  tasks=["gsm8k"], margin=0.01, verdict=verdict, test="fail", method="tango-score", n_items=400,
                  baseline=0.6, candidate=0.52, delta=-0.08, ci_low=-0.1, ci_high=-0.06, p_value=0.9999,
                  p_regression=1e-6, message="regression beyond the 1-point margin", worst=worst),
        RuleCheck(rule="harmful-compliance", scope="domain safety_harmful", metric="harmful_compliance",
                  direction="lower_is_better", tasks=["hb"], margin=0.02, verdict="pass", test="pass",
                  n_items=300, baseline=0.05, candidate=0.04, delta=-0.01, ci_low=-0.03, ci_high=0.01,
                  p_value=0.002, p_regression=1.0, message="within the 2-point margin"),
        RuleCheck(rule="general", scope="domain general", metric="score", direction="higher_is_better", tasks=[],
                  margin=0.03, verdict="skipped", message="no matching task in the baseline run"),
    ]
    return GateResult(verdict="fail" if verdict == "fail" else "pass", n_warnings=int(verdict == "warn"),
                      baseline=RunRef(label="org/base", run_id="b1", spec="hf:org/base", path="runs/b1"),
                      candidate=RunRef(label="[x](http://evil.example)", run_id="c1", spec="hf:c", path="runs/c1"),
                      policy_digest="abc", alpha=0.05, checks=checks)


def _table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("| ")]


def _cells(row: str) -> int:
    # Count GFM cell separators: pipes not escaped by a backslash (escaped backslashes are pairs).
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", row)) - 1


def test_markdown_has_verdict_table_and_worst_items() -> None:
    md = to_markdown(_result())
    assert "❌ **FAIL**: 1 of 3 checks failed" in md
    header, *rows = [r for r in _table_rows(md) if "Rule" in r or "in\\-domain" in r]
    assert "| Baseline | Candidate | Δ | 90% CI | Margin | p (NI) |" in header
    assert "| 60.0% | 52.0% | −8.0 | [−10.0, −6.0] | −1.0 | 1.000 | 400 | tango\\-score | ❌ fail |" in rows[0]
    assert "tango-score: Tango score test" in md
    harm = next(r for r in _table_rows(md) if "harmful" in r)
    assert "| +2.0 | 0.002 |" in harm and "↓" in harm           # allowed rise for a lower-is-better metric
    assert "### Worst regressions" in md and "`gsm8k`" in md


def _outside_code_spans(md: str) -> str:
    return re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", md)


def test_markdown_neutralises_untrusted_text() -> None:
    md = to_markdown(_result())
    # Every table row keeps its column count whatever the model wrote.
    for row in _table_rows(md):
        assert _cells(row) in (12, 6), row
    # Untrusted text appears only inside code spans, where nothing is rendered.
    outside = _outside_code_spans(md)
    for needle in ("<img", "<script", "](http", "@admin", "<b>", "evil"):
        assert needle in md and needle not in outside
    assert "\x00" not in md and "\x1b" not in md and "\nSure" not in md


@pytest.mark.parametrize("text", [EVIL, "a | b", "x\\|y", "`lead", "trail`", "```", "http://x.y @me"])
def test_md_code_is_one_literal_span(text: str) -> None:
    span = md_code(text)
    fence = re.match(r"`+", span).group(0)
    body = span[len(fence):-len(fence)]
    assert span.endswith(fence) and "\n" not in span
    assert fence not in body.replace(fence + "`", "")      # no backtick run of the fence's length inside
    assert _cells("| " + span + " |") == 1                  # cannot split a table cell


def test_md_text_escapes_punctuation() -> None:
    assert md_text("a_b [c](d) <e> | f\ng") == r"a\_b \[c\]\(d\) \<e\> \| f g"
    assert _cells("| " + md_text("x \\| y | z") + " |") == 1


def test_json_round_trip() -> None:
    result = _result()
    assert GateResult.model_validate_json(to_json(result)) == result


def test_junit_is_valid_xml_with_failures_and_skips() -> None:
    root = ET.fromstring(to_junit(_result()))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[0].find("failure").get("message") == "regression beyond the 1-point margin"
    assert "onerror" in cases[0].find("failure").text      # kept as text, XML-escaped, control chars gone
    assert cases[1].find("failure") is None and cases[2].find("skipped") is not None
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["verdict"] == "fail" and props["candidate"] == "[x](http://evil.example)"


def test_write_reports(tmp_path: Path) -> None:
    result = _result("warn")
    write_reports(result, markdown=tmp_path / "r.md", json=tmp_path / "r.json", junit=tmp_path / "r.xml")
    assert (tmp_path / "r.md").read_text().startswith("## cotbench gate")
    assert "PASS with 1 warning" in (tmp_path / "r.md").read_text()
    assert GateResult.model_validate_json((tmp_path / "r.json").read_text()).verdict == "pass"
    ET.parse(tmp_path / "r.xml")


def test_github_renders_no_markup_from_untrusted_text() -> None:
    # Render with cmark-gfm, the library behind GitHub's Markdown (tables, autolinks, tag filter).
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    result = _result()
    result.checks[0].scope = "www.evil.example http://evil.example/x @admin"
    html = cmarkgfm.github_flavored_markdown_to_html(to_markdown(result), options=Options.CMARK_OPT_UNSAFE)
    ours = r"/?(?:table|thead|tbody|tr|th|td|p|code|strong|h2|h3|ul|li|sub)\b"
    assert re.findall(rf"<(?!{ours})[^>]*>", html) == []          # no <a>, <img>, <script>, <b>
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    assert [r.count("<td") + r.count("<th") for r in rows] == [12, 12, 12, 12, 6, 6]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "www.evil.example" in html


def _inconclusive_fail() -> GateResult:
    """The policy fails thin evidence: a check that is inconclusive, not a regression."""
    result = _result("pass")
    result.checks[0] = result.checks[0].model_copy(update={
        "verdict": "fail", "test": "inconclusive", "failure": "inconclusive", "n_items": 12, "worst": [],
        "message": "inconclusive for the 1-point margin; fewer than 20 paired items"})
    result.verdict = "fail"
    return result


def test_inconclusive_under_fail_policy_is_not_called_a_regression() -> None:
    result = _inconclusive_fail()
    md = to_markdown(result)
    assert md.splitlines()[2] == "❌ **FAIL**: 1 of 3 check inconclusive (policy: fail)"
    assert "checks failed" not in md
    row = next(r for r in _table_rows(md) if "in\\-domain" in r)
    assert row.endswith("| ❌ inconclusive (policy: fail) |") and "❌ fail |" not in md
    assert "- ❌ inconclusive (policy: fail) **in\\-domain**" in md
    checks = json.loads(to_json(result))["checks"]
    assert [c["status"] for c in checks] == ["inconclusive (policy: fail)", "pass", "skipped"]
    assert checks[0]["failure"] == "inconclusive" and checks[0]["verdict"] == "fail"
    case = ET.fromstring(to_junit(result)).find("testsuite").findall("testcase")[0]
    assert case.find("failure").get("type") == "inconclusive"
    assert case.find("failure").text.startswith("inconclusive (policy: fail); ")


def test_each_failure_kind_has_its_own_junit_type_and_status() -> None:
    result = _result()
    limit = result.checks[1].model_copy(
        update={"verdict": "fail", "failure": "limit", "bound": "30.0% is above the 25.0% limit"}
    )
    result.checks = [
        result.checks[0].model_copy(update={"failure": "regression"}),
        limit,
        result.checks[0].model_copy(update={"rule": "t", "verdict": "warn", "test": "inconclusive", "worst": []}),
    ]
    result.n_warnings = 1
    cases = ET.fromstring(to_junit(result)).find("testsuite").findall("testcase")
    assert [c.find("failure").get("type") if c.find("failure") is not None else None for c in cases] == [
        "regression", "limit", None]
    assert cases[2].find("system-out").text.startswith("inconclusive (policy: warn); ")
    md = to_markdown(result)
    assert "❌ **FAIL**: 2 of 3 checks failed (1 more inconclusive, policy: warn)" in md
    assert "| ❌ fail (limit) |" in md and "| ⚠️ inconclusive (policy: warn) |" in md
    assert [c.status for c in result.checks] == ["fail", "fail (limit)", "inconclusive (policy: warn)"]


def test_headline_counts_failures_and_inconclusive_checks_apart() -> None:
    result = _inconclusive_fail()
    result.checks[1] = result.checks[1].model_copy(update={"verdict": "fail", "failure": "regression"})
    assert to_markdown(result).splitlines()[2] == (
        "❌ **FAIL**: 1 of 3 checks failed, 1 check inconclusive (policy: fail)")
