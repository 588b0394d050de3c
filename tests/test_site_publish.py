"""The leaderboard defects users reported, each reproduced end to end through ``build_site``:
local checkpoint globs as one series, runs on other items ranked apart, local paths redacted,
intervals on the plane, the Transferability Index as a table, one interval method, model
metadata and the item-by-item comparison."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from cotbench.analysis.stats import value_score
from cotbench.results.store import RunDir
from cotbench.site.build import build_site
from tests.factories import FakeTask, make_run


def _tasks(gain: float, harm: float = 0.3, n: int = 20) -> dict[str, FakeTask]:
    k_math, k_code, k_harm = round(n * (0.2 + 0.6 * gain)), round(n * (0.2 + 0.5 * gain)), round(n * harm)
    return {
        "gsm": FakeTask("in_domain", [[1.0]] * k_math + [[0.0]] * (n - k_math)),
        "code": FakeTask("transfer", [[1.0]] * k_code + [[0.0]] * (n - k_code)),
        "ifeval": FakeTask("general", [[1.0]] * (n // 2) + [[0.0]] * (n - n // 2)),
        "harm": FakeTask("safety_harmful", [[0.0]] * k_harm + [[1.0]] * (n - k_harm),
                         labels=[["full_compliance"]] * k_harm + [["full_refusal"]] * (n - k_harm)),
    }


def local_run(runs: Path, path: Path, tasks: dict[str, FakeTask], step: int | None, limit: int | None = None,
              dtype: str | None = None, chat_template: Path | None = None) -> RunDir:
    """A run of the local checkpoint at ``path`` as `cotbench run --model hf:<path>` records it."""
    label = f"{path.parent.name}/{path.name}"
    rd = make_run(
        runs, label, tasks, step=step, run_id=f"{path.parent.name}_{path.name}{'' if limit is None else f'-l{limit}'}"
    )
    m = rd.read_manifest()
    m.model = m.model.model_copy(update={"model": str(path), "spec": f"hf:{path}", "dtype": dtype,
                                         "chat_template": str(chat_template) if chat_template else None})
    m.limit = limit
    rd.write_manifest(m)
    return rd


@pytest.fixture
def glob_runs(tmp_path: Path) -> tuple[Path, Path]:
    """``cotbench run --model 'hf:<ckpts>/run1/checkpoint-*'`` plus the base model saved beside them."""
    ckpts = tmp_path / "home" / "alice" / "private-project" / "ckpts" / "run1"
    runs = tmp_path / "results"
    for step, gain, harm in [(100, 0.2, 0.3), (200, 0.6, 0.4), (300, 1.0, 0.35)]:
        local_run(runs, ckpts / f"checkpoint-{step}", _tasks(gain, harm), step=step, dtype="bfloat16",
                  chat_template=ckpts / "chat.jinja")
    local_run(runs, ckpts / "base", _tasks(0.0, 0.2), step=None, dtype="bfloat16", chat_template=ckpts / "chat.jinja")
    return runs, tmp_path / "home"


def _rows(out: Path) -> dict[str, dict]:
    return {r["run_id"]: r for r in json.loads((out / "leaderboard.json").read_text())}


def test_a_local_checkpoint_glob_is_one_series_against_its_base_model(glob_runs, tmp_path: Path) -> None:
    runs, _ = glob_runs
    report = build_site([runs], tmp_path / "out", workers=0)
    assert report.problems == []
    rows = _rows(tmp_path / "out")
    for step in (100, 200, 300):
        assert rows[f"run1_checkpoint-{step}"]["reference"] == "run1_base"  # no reference map needed
    assert rows["run1_checkpoint-300"]["delta_in_domain"] == pytest.approx(0.6)  # 16/20 vs 4/20
    assert rows["run1_base"]["reference"] is None
    page = next((tmp_path / "out" / "models").glob("run1-checkpoint-300-*.html")).read_text()
    assert "Trajectory of run1/checkpoint-*" in page and page.count("<svg") == 2
    assert "the base model" in page and ">base model</a>" in page  # the base is plotted as the series' start


def test_step_zero_is_the_reference_when_there_is_one(tmp_path: Path) -> None:
    ckpts = tmp_path / "ckpts" / "run2"
    for step, gain in [(0, 0.0), (50, 0.5)]:
        local_run(tmp_path / "results", ckpts / f"step_{step}", _tasks(gain), step=step)
    local_run(tmp_path / "results", tmp_path / "elsewhere" / "model", _tasks(0.1), step=None)  # another folder
    build_site([tmp_path / "results"], tmp_path / "out", workers=0)
    rows = _rows(tmp_path / "out")
    assert rows["run2_step_50"]["reference"] == "run2_step_0"
    assert rows["elsewhere_model"]["reference"] is None


def test_runs_on_other_items_are_ranked_apart_and_say_why(tmp_path: Path) -> None:
    runs = tmp_path / "results"
    ckpts = tmp_path / "ckpts" / "run1"
    local_run(runs, ckpts / "checkpoint-100", _tasks(0.5), step=100)
    local_run(runs, ckpts / "checkpoint-200", _tasks(0.6), step=200)
    local_run(runs, ckpts / "checkpoint-200", _tasks(0.9, n=10), step=200, limit=10)  # the same checkpoint, --limit 10
    build_site([runs], tmp_path / "out", workers=0)
    rows = _rows(tmp_path / "out")
    assert rows["run1_checkpoint-200-l10"]["group"] != rows["run1_checkpoint-200"]["group"]
    assert rows["run1_checkpoint-200"]["group"] == rows["run1_checkpoint-100"]["group"]
    index = (tmp_path / "out" / "index.html").read_text()
    assert "2 comparability groups" in index
    assert "Not ranked with Group A:" in index and "--limit: first 10 (vs all items)" in index
    assert "items: code 10 (vs 20), gsm 10 (vs 20), harm 10 (vs 20) and 1 more" in index
    task = next(p.read_text() for p in (tmp_path / "out" / "tasks").glob("gsm-*.html"))
    assert task.count('<table class="board"') == 2 and "Not ranked with the table above: 10 items (vs 20)" in task


def _published(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".html", ".json", ".csv"))


def test_local_paths_are_redacted_by_default(glob_runs, tmp_path: Path) -> None:
    runs, home = glob_runs
    build_site([runs], tmp_path / "out", workers=0)
    text = _published(tmp_path / "out")
    assert str(home) not in text and "private-project" not in text and "alice" not in text
    model = next((tmp_path / "out" / "models").glob("run1-checkpoint-300-*.html")).read_text()
    assert "hf:…/run1/checkpoint-300" in model and "…/run1/chat.jinja" in model
    with (tmp_path / "out" / "leaderboard.csv").open() as fh:
        specs = {r["run_id"]: r["spec"] for r in csv.DictReader(fh)}
    assert specs["run1_checkpoint-300"] == "hf:…/run1/checkpoint-300"
    build_site([runs], tmp_path / "kept", workers=0, redact_paths=False)
    assert str(home / "alice" / "private-project" / "ckpts" / "run1" / "checkpoint-300") in _published(
        tmp_path / "kept"
    )


def test_the_plane_draws_intervals_and_places_every_label(glob_runs, tmp_path: Path) -> None:
    runs, _ = glob_runs
    build_site([runs], tmp_path / "out", workers=0)
    svg = (tmp_path / "out" / "plane.html").read_text()
    rules = re.findall(r'<g class="mark-rule role-mark[^"]*"', svg)
    assert len(rules) >= 4  # the two zero lines and the horizontal and vertical whiskers
    for step in (100, 200, 300):
        assert f">run1/checkpoint-{step} @ step {step}<" in svg  # three labels, placed
    page = (tmp_path / "out" / "plane.html").read_text()
    assert re.search(r"\+0\.600 <span class=\"muted\">\[\+0\.\d\d, \+0\.\d\d\]</span>", page)


def test_transferability_notes_are_a_table(glob_runs, tmp_path: Path) -> None:
    runs, _ = glob_runs
    build_site([runs], tmp_path / "out", workers=0)
    page = next((tmp_path / "out" / "models").glob("run1-checkpoint-100-*.html")).read_text()
    table = page[page.index('id="ti-table"'):page.index("</table>", page.index('id="ti-table"'))]
    assert table.count("<tr><th scope=\"row\">") == 3  # math, transfer, general
    assert "gsm <span class=\"muted\">0.200 → 0.300</span>" in table
    assert "ΔR_" not in page and "<br><span class=\"muted\">" not in page  # no raw note lines


def test_every_interval_is_the_score_interval_of_the_item_values(glob_runs, tmp_path: Path) -> None:
    runs, _ = glob_runs
    build_site([runs], tmp_path / "out", workers=0)
    row = _rows(tmp_path / "out")["run1_checkpoint-200"]
    gsm = np.array([1.0] * 11 + [0.0] * 9)  # step 200: 11 of 20 math items right
    r = value_score([gsm])
    assert (row["in_domain"], row["in_domain_ci_low"], row["in_domain_ci_high"]) == pytest.approx(
        (r.estimate, r.low, r.high)
    )
    harm = np.array([1.0] * 8 + [0.0] * 12)  # compliance of 8 of 20 harmful prompts
    h = value_score([harm])
    assert (row["harmful_compliance"], row["harmful_compliance_ci_low"]) == pytest.approx((h.estimate, h.low))
    # the trajectory draws its reference with the same interval as the base model's own page
    base = _rows(tmp_path / "out")["run1_base"]
    b = value_score([np.array([1.0] * 4 + [0.0] * 16)])
    assert (base["in_domain_ci_low"], base["in_domain_ci_high"]) == pytest.approx((b.low, b.high))


def test_model_metadata_is_shown_where_known(tmp_path: Path) -> None:
    runs = tmp_path / "results"
    rd = make_run(runs, "Qwen/Qwen2.5-Math-1.5B-Instruct", _tasks(0.5))
    m = rd.read_manifest()
    m.model = m.model.model_copy(update={"dtype": "bfloat16", "resolved_revision": "a" * 40})
    rd.write_manifest(m)
    make_run(runs, "acme/base", _tasks(0.1))
    refs = tmp_path / "refs.yaml"
    refs.write_text("Qwen/Qwen2.5-Math-1.5B-Instruct: acme/base\n")
    build_site([runs], tmp_path / "out", reference_map=refs, workers=0)
    row = _rows(tmp_path / "out")["Qwen_Qwen2.5-Math-1.5B-Instruct"]
    assert (row["parameters"], row["precision"], row["base_model"]) == ("1.5B", "bfloat16", "acme/base")
    assert row["model_card"] == "https://huggingface.co/Qwen/Qwen2.5-Math-1.5B-Instruct"
    page = next((tmp_path / "out" / "models").glob("qwen-qwen2-5-math-1-5b-instruct-*.html")).read_text()
    assert "1.5B <span class=\"muted\">(read from the model name)</span>" in page
    assert f'href="https://huggingface.co/Qwen/Qwen2.5-Math-1.5B-Instruct/tree/{"a" * 40}"' in page
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'data-sort="1.5">1.5B</td>' in index and 'data-col-toggle="params"' in index


def test_items_that_changed_against_the_reference(tmp_path: Path) -> None:
    runs = tmp_path / "results"
    make_run(runs, "m/ref", {"gsm": FakeTask("in_domain", [[1.0], [1.0], [0.0], [0.0], [1.0]])})
    make_run(runs, "m/new", {"gsm": FakeTask("in_domain", [[1.0], [0.0], [1.0], [1.0], [1.0]])})
    refs = tmp_path / "refs.yaml"
    refs.write_text("m/new: m/ref\n")
    build_site([runs], tmp_path / "out", reference_map=refs, workers=0)
    page = next((tmp_path / "out" / "models").glob("m-new-*.html")).read_text()
    assert "3 of 5 <span class=\"muted\">(+2 / −1)</span>" in page
    compare = next((tmp_path / "out" / "compare").glob("gsm-*.html")).read_text()
    rows = dict(re.findall(r'<tr data-item="([^"]+)" data-v="([^"]*)"', compare))
    order = re.findall(r'<option value="([^"]+)"', compare)[:2]
    new_first = order[0].startswith("m-new")
    expected = {"gsm-0": (1, 1), "gsm-1": (0, 1), "gsm-2": (1, 0), "gsm-3": (1, 0), "gsm-4": (1, 1)}
    for item, (new, ref) in expected.items():
        assert rows[item] == (f"{new},{ref}" if new_first else f"{ref},{new}")


def test_a_checkpoint_with_nothing_scored_stays_in_the_trajectory(tmp_path: Path) -> None:
    ckpts = tmp_path / "ckpts" / "run3"
    local_run(tmp_path / "results", ckpts / "checkpoint-0", {"gsm": FakeTask("in_domain", [[1.0], [0.0]] * 5)}, step=0)
    local_run(tmp_path / "results", ckpts / "checkpoint-10", {"gsm": FakeTask("in_domain", [[None]] * 10)}, step=10)
    local_run(tmp_path / "results", ckpts / "checkpoint-20", {"gsm": FakeTask("in_domain", [[1.0]] * 10)}, step=20)
    report = build_site([tmp_path / "results"], tmp_path / "out", workers=0)
    page = next((tmp_path / "out" / "models").glob("run3-checkpoint-20-*.html")).read_text()
    assert "Trajectory of run3/checkpoint-*" in page, report.problems
    assert "in-domain (math) at step 20" in page and "in-domain (math) at step 10" not in page  # no point, no crash
