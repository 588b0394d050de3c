"""Which runs are one checkpoint series, and which run is its reference (cotbench.site.series)."""

from __future__ import annotations

import pytest

from cotbench.results.schema import ModelInfo
from cotbench.site.series import base_folder, is_local, series_key


def _model(model: str, step: int | None, **kw: object) -> ModelInfo:
    return ModelInfo(spec=f"hf:{model}", backend="hf", model=model, step=step, label=model, identity="x", **kw)


@pytest.mark.parametrize(("model", "step", "key", "name"), [
    ("/ckpts/run1/checkpoint-640", 640, "hf:/ckpts/run1/checkpoint-*", "run1/checkpoint-*"),
    ("/ckpts/run1/global_step20", 20, "hf:/ckpts/run1/global_step*", "run1/global_step*"),
    ("/ckpts/run1/ckpt-0020", 20, "hf:/ckpts/run1/ckpt-*", "run1/ckpt-*"),  # "0020" spells 20
    ("/ckpts/a-step100", 100, "hf:/ckpts/a-step*", "ckpts/a-step*"),
    ("/ckpts/run1/final", 900, "hf:/ckpts/run1/*", "run1/*"),  # --steps gave it: any checkpoint of the folder
    (r"C:\ckpts\run1\checkpoint-5", 5, r"hf:C:\ckpts\run1\checkpoint-*", "run1/checkpoint-*"),
])
def test_local_checkpoints_are_keyed_on_folder_and_name_pattern(model: str, step: int, key: str, name: str) -> None:
    k = series_key(_model(model, step))
    assert k is not None and (k.key, k.name) == (key, name)
    assert "/ckpts" not in k.name and "C:" not in k.name  # the published name holds no absolute path


def test_one_folder_two_runs_are_two_series() -> None:
    a, b = series_key(_model("/ckpts/llama-step100", 100)), series_key(_model("/ckpts/qwen-step100", 100))
    assert a is not None and b is not None and a.key != b.key and a.folder == b.folder


def test_hub_revisions_and_subfolders() -> None:
    rev = series_key(_model("org/model", 640, revision="step-640"))
    assert rev is not None and rev.key == "hf:org/model" and rev.folder is None
    sub = series_key(_model("org/model", 20, subfolder="ckpt/step20"))
    assert sub is not None and sub.key == "hf:org/model/ckpt/step*"
    assert series_key(_model("org/model", None)) is None


def test_local_and_base_folders() -> None:
    assert is_local(_model("/x/y", None)) and is_local(_model("~/x", None)) and is_local(_model("./x", None))
    assert not is_local(_model("org/name", None))
    assert base_folder(_model("/ckpts/run1/base", None)) == "hf:/ckpts/run1"
    assert base_folder(_model("/ckpts/run1/checkpoint-5", 5)) is None  # a checkpoint, not a base
    assert base_folder(_model("org/name", None)) is None  # a Hub repo's main branch is not taken as the base
