"""Model spec parsing: every form, and one clear error for each kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cotbench.errors import SpecError
from cotbench.models.checkpoints import expand_checkpoints
from cotbench.models.spec import ModelSpec, parse_spec, parse_step


def test_hub_forms() -> None:
    s = parse_spec("hf:org/name")
    assert (s.backend, s.model, s.revision, s.subfolder, s.local) == ("hf", "org/name", None, None, False)
    s = parse_spec("hf:org/name@v1.0")
    assert s.revision == "v1.0"
    s = parse_spec("hf:org/name@refs/pr/3")
    assert s.revision == "refs/pr/3" and s.model == "org/name"
    s = parse_spec("hf:org/name/run1/checkpoint-640@abc123")
    assert (s.model, s.subfolder, s.revision, s.step) == ("org/name", "run1/checkpoint-640", "abc123", 640)
    s = parse_spec("vllm:org/name@main")
    assert s.backend == "vllm" and s.revision == "main"


def test_local_and_options(tmp_path: Path) -> None:
    s = parse_spec(f"hf:{tmp_path}/global_step120?dtype=bfloat16&gguf_file=m.gguf&label=mine")
    assert s.local and s.model == str(tmp_path / "global_step120")
    assert (s.step, s.dtype, s.gguf_file, s.display) == (120, "bfloat16", "m.gguf", "mine")
    assert parse_spec("hf:./ckpt?step=7").step == 7


def test_openai_and_embedded() -> None:
    s = parse_spec("openai:Qwen/Qwen3-8B@http://localhost:8000/v1")
    assert (s.backend, s.model, s.base_url) == ("openai", "Qwen/Qwen3-8B", "http://localhost:8000/v1")
    assert parse_spec("openai:gpt-4o-mini").base_url is None
    for alias in ("smollm2-135m", "default", "embedded"):
        assert parse_spec(alias).backend == "embedded"


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ("", "empty model spec"),
        ("org/name", "expected a prefix"),
        ("foo:org/name", "expected a prefix"),
        ("hf:", "nothing after"),
        ("hf:justaname", "not a Hub repo id"),
        ("hf:org/name@", "empty revision"),
        ("hf:org/name@bad rev", "invalid revision"),
        ("hf:org/name?color=red", "unknown option 'color'"),
        ("hf:org/name?dtype=int3", "dtype must be one of"),
        ("hf:org/name?step=x", "step must be a non-negative integer"),
        ("openai:@http://x", "missing model name"),
        ("openai:m@ftp://x", "base URL must start with"),
    ],
)
def test_bad_specs(bad: str, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        parse_spec(bad)


@pytest.mark.parametrize(
    "name, step",
    [("step-640", 640), ("checkpoint-640", 640), ("global_step640", 640), ("iter_0000640", 640),
     ("run/ckpt_12", 12), ("final", None), ("step-20/checkpoint-40", 40)],
)
def test_parse_step(name: str, step: int | None) -> None:
    assert parse_step(name) == step


def test_checkpoint_series(tmp_path: Path) -> None:
    for n in (640, 20, 100):
        (tmp_path / f"checkpoint-{n}").mkdir()
    specs = expand_checkpoints([f"hf:{tmp_path}/checkpoint-*"])
    assert [s.step for s in specs] == [20, 100, 640]
    revs = expand_checkpoints(["hf:org/name"], revisions=["step-10", "step-20"])
    assert [(s.revision, s.step) for s in revs] == [("step-10", 10), ("step-20", 20)]
    subs = expand_checkpoints(["hf:org/name"], subfolders=["a", "b"], steps=[5, 9])
    assert [(s.subfolder, s.step) for s in subs] == [("a", 5), ("b", 9)]
    with pytest.raises(SpecError, match="no checkpoint directory matches"):
        expand_checkpoints([f"hf:{tmp_path}/nothing-*"])
    with pytest.raises(SpecError, match="--steps gives 1 steps for 2"):
        expand_checkpoints(["hf:org/name"], revisions=["a", "b"], steps=[1])


def test_server_options_read_back_typed() -> None:
    s = parse_spec("vllm:org/name?tp=2&max_model_len=8192&gpu_memory_utilization=0.5&prefix_caching=false"
                   "&reasoning_parser=qwen3&concurrency=7")
    assert s.server == (("concurrency", 7), ("gpu_memory_utilization", 0.5), ("max_model_len", 8192),
                        ("prefix_caching", False), ("reasoning_parser", "qwen3"), ("tp", 2))
    assert (s.server_int("tp", 1), s.server_int("dp", 1), s.server_int("max_model_len")) == (2, 1, 8192)
    assert (s.server_float("gpu_memory_utilization", 0.9), s.server_bool("prefix_caching", True)) == (0.5, False)
    assert (s.server_str("reasoning_parser"), s.server_int("concurrency", 64)) == ("qwen3", 7)
    bare = parse_spec("llamacpp:default")
    assert (bare.server_int("ctx_size"), bare.server_int("parallel", 16), bare.server_str("x")) == (None, 16, None)
    assert bare.server_float("gpu_memory_utilization", 0.9) == 0.9 and bare.server_bool("prefix_caching", True)
    assert parse_spec("llamacpp:default?gpu_layers=0").server_int("gpu_layers") == 0


@pytest.mark.parametrize(
    "option, value, read",
    [("tp", "2", lambda s: s.server_int("tp", 1)), ("tp", True, lambda s: s.server_int("tp", 1)),
     ("gpu_memory_utilization", "0.5", lambda s: s.server_float("gpu_memory_utilization", 0.9)),
     ("prefix_caching", 1, lambda s: s.server_bool("prefix_caching", True)),
     ("reasoning_parser", 3, lambda s: s.server_str("reasoning_parser"))],
)
def test_a_mistyped_server_option_is_a_one_line_spec_error(option: str, value: object,
                                                           read: Callable[[ModelSpec], object]) -> None:
    # Built in code rather than parsed: the accessors check what parsing would have refused.
    s = ModelSpec(backend="vllm", model="org/name", server=((option, value),), raw="vllm:org/name")
    with pytest.raises(SpecError, match=f"model spec 'vllm:org/name': {option} must be .*, got '{value}'"):
        read(s)


def test_with_options_replaces_only_what_is_given() -> None:
    s = parse_spec("hf:org/name?system_prompt=be+brief&chat_template=t.jinja")
    assert s.with_options() == s
    assert s.with_options(system_prompt=None).system_prompt == "be brief"
    t = s.with_options(system_prompt="other", chat_template="u.jinja")
    assert (t.system_prompt, t.chat_template, t.model) == ("other", "u.jinja", "org/name")


def test_a_given_step_wins_over_the_one_in_the_name(tmp_path: Path) -> None:
    assert parse_spec(f"hf:{tmp_path}/checkpoint-40?step=7").step == 7
    assert parse_spec(f"llamacpp:{tmp_path}/step-12.gguf").step == 12
    assert parse_spec(f"llamacpp:{tmp_path}/step-12.gguf?step=0").step == 0
    assert parse_spec("hf:org/name/checkpoint-640@step-5").step == 640
    assert parse_spec("hf:org/name@step-5").step == 5 and parse_spec("hf:org/name@step-5?step=1").step == 1
    assert parse_spec("hf:org/name").step is None and parse_spec("openai:m?step=3").step == 3


def test_a_glob_is_ordered_by_step_only_when_every_name_has_one(tmp_path: Path) -> None:
    for name in ("checkpoint-100", "b-final", "checkpoint-20"):
        (tmp_path / name).mkdir()
    specs = expand_checkpoints([f"hf:{tmp_path}/*"])
    assert [Path(s.model).name for s in specs] == ["b-final", "checkpoint-100", "checkpoint-20"]
