"""The generation cache: keyed by model identity, survives restarts, never loads the model on hits."""

from __future__ import annotations

from pathlib import Path

from cotbench.models.cache import CachedGenerator, GenerationCache
from cotbench.models.generator import GenRequest, derive_seed
from cotbench.results.schema import GenerationSettings
from tests.fakes import FakeGenerator

GREEDY = GenerationSettings(max_tokens=32)
SAMPLED = GenerationSettings(temperature=0.6, top_p=0.95, max_tokens=32)


def _reqs(settings: GenerationSettings, n: int = 5) -> list[GenRequest]:
    return [GenRequest.build(f"Calculate ({i} + 1) * 2 - 1.\nx", settings, derive_seed(1, str(i), 0)) for i in range(n)]


def test_hits_do_not_load_the_model(tmp_path: Path) -> None:
    loads: list[int] = []

    def load() -> FakeGenerator:
        loads.append(1)
        return FakeGenerator()

    first = CachedGenerator("model-a", GenerationCache(tmp_path / "c.sqlite"), load)
    out1 = first.generate(_reqs(GREEDY))
    assert first.model_calls == 5 and loads == [1]
    first.cache.close()
    # A new process (new objects) over the same file: all hits, the model is never loaded.
    again = CachedGenerator("model-a", GenerationCache(tmp_path / "c.sqlite"), load)
    out2 = again.generate(_reqs(GREEDY))
    assert again.model_calls == 0 and not again.loaded and loads == [1]
    assert [o.text for o in out1] == [o.text for o in out2] and all(o.cached for o in out2)


def test_cache_is_keyed_by_model_identity_and_settings(tmp_path: Path) -> None:
    cache = GenerationCache(tmp_path / "c.sqlite")
    a = CachedGenerator("model-a", cache, FakeGenerator)
    a.generate(_reqs(GREEDY))
    b = CachedGenerator("model-b", cache, FakeGenerator)
    b.generate(_reqs(GREEDY))
    assert b.model_calls == 5  # another model's answers are never served
    a.generate(_reqs(GREEDY.model_copy(update={"max_tokens": 64})))
    assert a.model_calls == 10  # other settings, other requests


def test_seed_matters_only_when_sampling(tmp_path: Path) -> None:
    g = CachedGenerator("m", GenerationCache(tmp_path / "c.sqlite"), FakeGenerator)
    r1 = GenRequest.build("p", GREEDY, 1)
    r2 = GenRequest.build("p", GREEDY, 2)
    assert r1.cache_key("m") == r2.cache_key("m")
    s1 = GenRequest.build("p", SAMPLED, 1)
    s2 = GenRequest.build("p", SAMPLED, 2)
    assert s1.cache_key("m") != s2.cache_key("m")
    g.generate([s1, s2, s1])
    assert g.model_calls == 2  # duplicates within one call are generated once


def test_derive_seed_is_stable() -> None:
    # Fixed value: must not change across processes or Python versions.
    assert derive_seed(1234, "item-7", 2) == derive_seed(1234, "item-7", 2)
    assert derive_seed(1234, "item-7", 2) != derive_seed(1234, "item-7", 3)
    assert derive_seed(0, "a", 0) == 76302642
