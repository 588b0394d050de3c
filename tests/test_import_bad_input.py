"""`cotbench import` of lm-eval files a hand (or another tool) wrote wrong: one line naming the
file, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_errors import error_line, invoke


def lm_eval_dir(root: Path, gen_kwargs: object) -> Path:
    """The smallest output lm-eval writes for a task cotbench does not know (its scores kept)."""
    folder = root / "org__model"
    folder.mkdir(parents=True)
    stamp = "2026-01-01T12-00-00.000000"
    results = {"results": {"mytask": {"alias": "mytask", "acc,none": 1.0, "acc_stderr,none": 0.0}},
               "configs": {"mytask": {"task": "mytask", "output_type": "generate_until",
                                      "metric_list": [{"metric": "acc", "higher_is_better": True}]}},
               "higher_is_better": {"mytask": {"acc": True}}, "n-samples": {"mytask": {"effective": 1}},
               "config": {"model": "hf", "model_args": "pretrained=org/model"}, "model_name": "org/model",
               "lm_eval_version": "0.4.9", "date": 1767268800.0}
    (folder / f"results_{stamp}.json").write_text(json.dumps(results))
    sample = {"doc_id": 0, "doc": {"q": "1+1"}, "target": "2", "filter": "none", "acc": 1.0,
              "arguments": {"gen_args_0": {"arg_0": "1+1=", "arg_1": gen_kwargs}}, "resps": [["2"]],
              "filtered_resps": ["2"]}
    (folder / f"samples_mytask_{stamp}.jsonl").write_text(json.dumps(sample) + "\n")
    return folder


def test_a_well_formed_file_imports(tmp_path: Path) -> None:
    folder = lm_eval_dir(tmp_path / "in", {"until": ["\n"], "do_sample": False, "max_gen_toks": 16})
    res = invoke("import", str(folder), "-o", str(tmp_path / "out"))
    assert res.rc == 0, res.err


@pytest.mark.parametrize("kwargs", [
    {"do_sample": True, "temperature": "hot"},
    {"max_gen_toks": "many"},
    {"top_p": [0.9]},
])
def test_generation_kwargs_that_are_not_lm_evals_are_one_line(kwargs: dict, tmp_path: Path) -> None:
    folder = lm_eval_dir(tmp_path / "in", kwargs)
    error_line(invoke("import", str(folder), "-o", str(tmp_path / "out")), "samples_mytask_", "generation kwargs")
    assert not (tmp_path / "out").exists()
