"""The caches never serve the wrong model (issue 12): a local checkpoint's identity follows
every byte that can change an output, the embedded GGUF's conversion is keyed by content,
and a finished task is reused only for the very same items."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from cotbench.models import embedded, filehash
from cotbench.models.resolve import resolve
from cotbench.models.spec import parse_spec

MB = 1 << 20

# Every file a loader reads (or may read) from a checkpoint directory.
INPUT_FILES = {
    "config.json": '{"model_type": "llama", "vocab_size": 32, "hidden_size": 8}',
    "generation_config.json": '{"do_sample": false, "eos_token_id": 2}',
    "tokenizer.json": '{"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}}',
    "tokenizer_config.json": '{"add_bos_token": true, "model_max_length": 2048}',
    "special_tokens_map.json": '{"eos_token": "</s>", "bos_token": "<s>"}',
    "added_tokens.json": '{"<think>": 30, "</think>": 31}',
    "vocab.json": '{"a": 0, "b": 1}',
    "merges.txt": "#version: 0.2\na b\n",
    "chat_template.jinja": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
    "tokenizer.model": "sentencepiece-bytes",
    "cl100k.tiktoken": "YQ== 0\nYg== 1\n",
    "model.safetensors.index.json": '{"weight_map": {"w": "model-00001-of-00002.safetensors"}}',
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cotbench-cache"
    monkeypatch.setenv("COTBENCH_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full read of a file's content, by real path."""
    calls: list[str] = []
    real = filehash._hash_file

    def counting(path: str) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(filehash, "_hash_file", counting)
    return calls


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float = 3600) -> None:
    """Pretend the clock moved on, so files just written are past the racy window."""
    real = filehash._now_ns
    monkeypatch.setattr(filehash, "_now_ns", lambda: real() + int(seconds * 1e9))


def _checkpoint(root: Path, weight_mb: int = 3) -> Path:
    """A local HF-style checkpoint: real safetensors shards (one past the first MB) and
    every kind of config/tokenizer file."""
    import torch
    from safetensors.torch import save_file

    root.mkdir(parents=True)
    for name, text in INPUT_FILES.items():
        (root / name).write_text(text)
    gen = torch.Generator().manual_seed(0)
    save_file({"w": torch.randn(weight_mb * MB // 4, generator=gen)}, str(root / "model-00001-of-00002.safetensors"))
    save_file({"v": torch.randn(64, generator=gen)}, str(root / "model-00002-of-00002.safetensors"))
    return root


def _identity(path: Path, subfolder: str | None = None, **opts: str) -> str:
    from dataclasses import replace

    query = "&".join(f"{k}={v}" for k, v in opts.items())
    spec = parse_spec(f"hf:{path}" + (f"?{query}" if query else ""))
    return resolve(replace(spec, subfolder=subfolder) if subfolder else spec).identity


def _flip_byte(path: Path, offset: int, keep_mtime: bool = False) -> None:
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0xFF]))
    assert path.stat().st_size == st.st_size
    if keep_mtime:  # a tool that restores timestamps (rsync -t, cp -p, touch -r)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# --- 1. local checkpoint identity ---------------------------------------------------------------


def test_tensor_changed_in_place_past_the_first_mb_changes_identity(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    before = _identity(ckpt)
    shard = ckpt / "model-00001-of-00002.safetensors"
    _flip_byte(shard, 2 * MB + 12345)
    assert _identity(ckpt) != before


@pytest.mark.parametrize("name", sorted(INPUT_FILES) + ["model-00002-of-00002.safetensors"])
def test_every_input_file_is_in_the_identity(tmp_path: Path, name: str) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    before = _identity(ckpt)
    _flip_byte(ckpt / name, (ckpt / name).stat().st_size - 1)
    assert _identity(ckpt) != before, f"{name} changed but the identity did not"


def test_new_or_removed_file_changes_identity(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    before = _identity(ckpt)
    (ckpt / "chat_template.json").write_text('{"chat_template": "{{ messages }}"}')
    added = _identity(ckpt)
    assert added != before
    (ckpt / "tokenizer.model").unlink()
    assert _identity(ckpt) not in (before, added)


def test_tokenizer_and_generation_config_edits_change_identity(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    seen = {_identity(ckpt)}
    cfg = json.loads((ckpt / "tokenizer_config.json").read_text())
    (ckpt / "tokenizer_config.json").write_text(json.dumps({**cfg, "add_bos_token": False}))
    seen.add(_identity(ckpt))
    gen = json.loads((ckpt / "generation_config.json").read_text())
    (ckpt / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": [2, 31]}))
    seen.add(_identity(ckpt))
    assert len(seen) == 3


def test_non_inputs_do_not_change_identity(tmp_path: Path) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    before = _identity(ckpt)
    (ckpt / "README.md").write_text("# my model")
    (ckpt / ".git").mkdir()
    (ckpt / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (ckpt / ".gitattributes").write_text("*.safetensors filter=lfs")
    (ckpt / "optimizer.pt").write_bytes(os.urandom(4096))
    (ckpt / "rng_state_0.pth").write_bytes(os.urandom(64))
    (ckpt / "trainer_state.json").write_text('{"global_step": 640}')
    (ckpt / "global_step640").mkdir()
    (ckpt / "global_step640" / "zero_pp_rank_0_mp_rank_00_optim_states.pt").write_bytes(os.urandom(64))
    assert _identity(ckpt) == before


def test_subfolder_and_gguf_file_identity(tmp_path: Path) -> None:
    root = tmp_path / "run"
    _checkpoint(root / "checkpoint-10")
    b = _checkpoint(root / "checkpoint-20")
    ida, idb = _identity(root, subfolder="checkpoint-10"), _identity(root, subfolder="checkpoint-20")
    assert ida != idb  # the subfolder is part of the identity
    _flip_byte(b / "tokenizer.json", 3)
    assert _identity(root, subfolder="checkpoint-10") == ida
    assert _identity(root, subfolder="checkpoint-20") != idb
    # A GGUF folder: the chosen GGUF counts, the other quantizations next to it do not.
    g = tmp_path / "gguf"
    g.mkdir()
    (g / "m.Q4.gguf").write_bytes(b"GGUF" + os.urandom(2 * MB))
    (g / "m.Q8.gguf").write_bytes(b"GGUF" + os.urandom(2 * MB))
    q4 = _identity(g, gguf_file="m.Q4.gguf")
    _flip_byte(g / "m.Q8.gguf", MB + 7)
    assert _identity(g, gguf_file="m.Q4.gguf") == q4
    _flip_byte(g / "m.Q4.gguf", MB + 7)
    assert _identity(g, gguf_file="m.Q4.gguf") != q4


def test_untouched_checkpoint_is_not_rehashed(tmp_path: Path, hash_calls: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = _checkpoint(tmp_path / "ckpt")
    _later(monkeypatch)
    first = _identity(ckpt)
    assert len(hash_calls) == len(INPUT_FILES) + 2  # every input read once
    hash_calls.clear()
    assert _identity(ckpt) == first  # a new resolve (as in a new run): from the hash cache
    assert hash_calls == []
    time.sleep(0.05)  # the edit below lands in a later timestamp tick than the files' creation
    # An in-place edit, even with the mtime put back, is seen (ctime cannot be put back).
    shard = ckpt / "model-00001-of-00002.safetensors"
    _flip_byte(shard, 2 * MB + 1, keep_mtime=True)
    assert _identity(ckpt) != first
    assert hash_calls == [os.path.realpath(shard)]  # only the changed file is read again


def test_hash_cache_survives_processes_and_real_time(tmp_path: Path) -> None:
    """No clock tricks: a file older than the racy window is remembered on disk."""
    import subprocess
    import sys

    ckpt = _checkpoint(tmp_path / "ckpt")
    time.sleep(filehash.RACY_WINDOW_NS / 1e9 + 0.2)
    code = ("import sys; from cotbench.models import filehash; from cotbench.models.resolve import resolve; "
            "from cotbench.models.spec import parse_spec; n = []; real = filehash._hash_file; "
            "filehash._hash_file = lambda p: n.append(p) or real(p); "
            "print(resolve(parse_spec('hf:' + sys.argv[1])).identity, len(n))")
    env = {**os.environ}
    outs = [subprocess.run([sys.executable, "-c", code, str(ckpt)], capture_output=True, text=True, env=env,
                           check=True).stdout.split() for _ in range(2)]
    assert outs[0][0] == outs[1][0]
    assert outs[0][1] == str(len(INPUT_FILES) + 2) and outs[1][1] == "0"


def test_racy_files_are_not_remembered(tmp_path: Path, hash_calls: list[str]) -> None:
    """A file modified just now may change again within the same timestamp tick: its hash
    is used for this run but not stored."""
    f = tmp_path / "w.bin"
    f.write_bytes(b"x" * 100)
    filehash.file_sha256(f)
    filehash.file_sha256(f)
    assert len(hash_calls) == 2


def test_file_changing_while_hashed_is_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    f = tmp_path / "w.bin"
    f.write_bytes(b"a" * 1000)
    time.sleep(0.05)  # past any timestamp tick, so the writer below gets a new mtime
    _later(monkeypatch)
    real = filehash._hash_file
    calls: list[str] = []

    def writer_during_hash(path: str) -> str:
        calls.append(path)
        digest = real(path)
        if len(calls) == 1:
            f.write_bytes(b"b" * 1000)  # a concurrent writer finishes while we read
        return digest

    monkeypatch.setattr(filehash, "_hash_file", writer_during_hash)
    filehash.file_sha256(f)
    assert filehash.file_sha256(f) == hashlib.sha256(b"b" * 1000).hexdigest()
    assert len(calls) == 2


def test_hash_cache_writes_are_atomic_under_concurrency(tmp_path: Path, _own_cache: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    files = []
    for i in range(4):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(os.urandom(MB // 2))
        files.append(f)
    _later(monkeypatch)
    want = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    errors: list[BaseException] = []
    got: list[tuple[Path, str]] = []

    def worker() -> None:
        try:
            for _ in range(5):
                for f in files:
                    got.append((f, filehash.file_sha256(f)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(d == want[f] for f, d in got)
    entries = list((_own_cache / "file-hashes").rglob("*"))
    assert not [p for p in entries if ".tmp" in p.name]  # no temporary left behind
    assert len([p for p in entries if p.is_file()]) == len(files)  # one entry per file


def test_corrupt_or_foreign_hash_entries_are_misses(tmp_path: Path, _own_cache: Path, hash_calls: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    f = tmp_path / "w.bin"
    f.write_bytes(b"content")
    _later(monkeypatch)
    filehash.file_sha256(f)
    (entry,) = [p for p in (_own_cache / "file-hashes").rglob("*.json")]
    entry.write_text('{"sha256": "00')  # torn / truncated
    assert filehash.file_sha256(f) == hashlib.sha256(b"content").hexdigest()
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "ino": data["ino"] + 1, "sha256": "0" * 64}))  # another file's entry
    assert filehash.file_sha256(f) == hashlib.sha256(b"content").hexdigest()
    assert len(hash_calls) == 3


def test_unwritable_hash_cache_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "file-hashes").write_text("not a directory")
    monkeypatch.setenv("COTBENCH_CACHE_DIR", str(ro))
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    _later(monkeypatch)
    assert filehash.file_sha256(f) == hashlib.sha256(b"abc").hexdigest()


def test_checkpoint_changed_after_resolve_refuses_to_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The identity is taken when the run starts; the weights load later (on the first cache
    miss). If they changed in between, loading them under the old identity would file the
    new model's answers under the old one."""
    from cotbench.errors import ModelLoadError
    from cotbench.models import load

    ckpt = _checkpoint(tmp_path / "ckpt")
    rm = resolve(parse_spec(f"hf:{ckpt}"))
    loaded: list[Path] = []
    import cotbench.models.hf_generator as hf

    monkeypatch.setattr(hf, "TransformersGenerator", lambda path, **kw: loaded.append(path) or "gen")
    monkeypatch.setattr(hf, "load_tokenizer", lambda path, *a: loaded.append(path) or None)
    assert load.generator_factory(rm)() == "gen"
    _flip_byte(ckpt / "tokenizer_config.json", 2)
    with pytest.raises(ModelLoadError, match="changed"):
        load.generator_factory(rm)()
    with pytest.raises(ModelLoadError, match="changed"):
        load.token_counter(rm)("some text")
    assert loaded == [ckpt]


# --- 2. embedded GGUF conversion -----------------------------------------------------------------


def _fake_gguf(folder: Path, fill: bytes) -> Path:
    folder.mkdir(parents=True)
    path = folder / embedded.GGUF_NAME
    path.write_bytes(b"GGUF" + fill * (MB + 100))
    return path


@pytest.fixture
def fake_convert(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    converted: list[bytes] = []

    def convert(src: Path, out: Path) -> None:
        out.mkdir(parents=True)
        data = src.read_bytes()
        converted.append(data)
        (out / "weights.bin").write_bytes(data)

    monkeypatch.setattr(embedded, "_convert", convert)
    return converted


def test_same_name_and_size_gguf_gets_its_own_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         fake_convert: list[bytes]) -> None:
    a = _fake_gguf(tmp_path / "a", b"\x01")
    b = _fake_gguf(tmp_path / "b", b"\x02")
    assert a.name == b.name and a.stat().st_size == b.stat().st_size
    monkeypatch.setenv("COTBENCH_EMBEDDED_GGUF", str(a))
    da = embedded.converted_dir()
    id_a = resolve(parse_spec("embedded")).identity
    monkeypatch.setenv("COTBENCH_EMBEDDED_GGUF", str(b))
    db = embedded.converted_dir()
    id_b = resolve(parse_spec("embedded")).identity
    assert da != db and id_a != id_b
    assert (da / "weights.bin").read_bytes() == a.read_bytes()
    assert (db / "weights.bin").read_bytes() == b.read_bytes()
    # Each is converted once, then found again.
    monkeypatch.setenv("COTBENCH_EMBEDDED_GGUF", str(a))
    assert embedded.converted_dir() == da and len(fake_convert) == 2


def test_gguf_rewritten_in_place_is_converted_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   fake_convert: list[bytes]) -> None:
    a = _fake_gguf(tmp_path / "a", b"\x01")
    monkeypatch.setenv("COTBENCH_EMBEDDED_GGUF", str(a))
    rm = resolve(parse_spec("embedded"))
    first = embedded.converted_dir()
    _flip_byte(a, MB + 50)
    second = embedded.converted_dir()
    assert second != first and (second / "weights.bin").read_bytes() == a.read_bytes()
    assert resolve(parse_spec("embedded")).identity != rm.identity
    # The model resolved before the change is not loaded from the new file's conversion.
    from cotbench.errors import ModelLoadError
    from cotbench.models import load

    with pytest.raises(ModelLoadError, match="changed"):
        load.generator_factory(rm)()


def test_gguf_hash_uses_the_hash_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_calls: list[str],
                                       fake_convert: list[bytes]) -> None:
    a = _fake_gguf(tmp_path / "a", b"\x01")
    monkeypatch.setenv("COTBENCH_EMBEDDED_GGUF", str(a))
    _later(monkeypatch)
    resolve(parse_spec("embedded"))
    embedded.converted_dir()
    assert hash_calls == [os.path.realpath(a)]


# --- 3. finished tasks are reused only for the same items ----------------------------------------


@pytest.fixture
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The real runner with the fake model behind the real generation cache."""
    from cotbench import runner
    from tests.fakes import FakeGenerator

    loads: list[int] = []

    def factory(rm, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        return lambda: loads.append(1) or FakeGenerator()

    from cotbench.models import handle

    monkeypatch.setattr(handle, "generator_factory", factory)
    monkeypatch.setattr(handle, "token_counter", lambda rm: lambda t: len(t.split()))
    smoke = runner.get_suite("smoke")
    real_get_suite = runner.get_suite
    # The smoke suite cut down to its arithmetic subset, to keep the test fast.
    monkeypatch.setattr(runner, "get_suite", lambda name: smoke.model_copy(update={"tasks": ["arithmetic"]})
                        if name == "smoke" else real_get_suite(name))
    return loads


def _samples(rd, task: str) -> list[str]:  # noqa: ANN001
    return [r.sample_id for r in rd.iter_samples(task)]


def test_suite_subset_is_not_reused_for_limit(tmp_path: Path, fake_runner: list[int]) -> None:
    from cotbench.runner import RunOptions, run_one
    from cotbench.tasks.catalog import get_task
    from cotbench.tasks.items import build_items

    ckpt = _checkpoint(tmp_path / "ckpt", weight_mb=1)
    spec = parse_spec(f"hf:{ckpt}")
    out = tmp_path / "runs"
    rd = run_one(spec, RunOptions(suite="smoke", output=out))
    subset_ids = _samples(rd, "arithmetic")
    assert len(subset_ids) == 8
    # Same settings as the suite, same count, other items.
    opts = RunOptions(tasks=["arithmetic"], limit=8, preset="greedy", max_tokens=160, output=out)
    rd2 = run_one(spec, opts)
    assert rd2.path == rd.path
    first8 = [i.id for i in build_items(get_task("arithmetic"), limit=8)]
    assert sorted(first8) != sorted(subset_ids)
    assert sorted(_samples(rd2, "arithmetic")) == sorted(first8)
    assert rd2.read_manifest().invocations[-1].model_calls == len(set(first8) - set(subset_ids))
    # The same --limit 8 again: the task is reused as finished, nothing is asked for.
    rd3 = run_one(spec, opts)
    m3 = rd3.read_manifest().invocations[-1]
    assert m3.model_calls == 0 and m3.cache_hits == 0 and m3.evaluated == []
    # And the suite again: its subset is recomputed from the generation cache, not served as the first 8.
    rd4 = run_one(spec, RunOptions(suite="smoke", output=out))
    assert sorted(_samples(rd4, "arithmetic")) == sorted(subset_ids)
    m4 = rd4.read_manifest().invocations[-1]
    assert m4.model_calls == 0 and m4.cache_hits >= 8


def test_results_without_an_items_hash_are_recomputed(tmp_path: Path, fake_runner: list[int]) -> None:
    """Run directories written before items were hashed are not trusted: the task is redone
    from the generation cache (no model load)."""
    from cotbench.runner import RunOptions, run_one

    ckpt = _checkpoint(tmp_path / "ckpt", weight_mb=1)
    spec = parse_spec(f"hf:{ckpt}")
    opts = RunOptions(tasks=["arithmetic"], limit=4, output=tmp_path / "runs")
    rd = run_one(spec, opts)
    assert len(fake_runner) == 1
    metrics = rd.task_dir("arithmetic") / "metrics.json"
    data = json.loads(metrics.read_text())
    assert data["task"].pop("items_hash")
    data["task"].pop("model_identity", None)
    metrics.write_text(json.dumps(data))
    m = run_one(spec, opts).read_manifest().invocations[-1]
    assert m.model_calls == 0 and m.cache_hits >= 4 and len(fake_runner) == 1
    assert json.loads(metrics.read_text())["task"]["items_hash"]


def test_same_count_other_data_is_not_reused(tmp_path: Path, fake_runner: list[int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Items with the same ids but another prompt (e.g. a different --data-dir) are other items."""
    from cotbench import runner
    from cotbench.runner import RunOptions, run_one

    ckpt = _checkpoint(tmp_path / "ckpt", weight_mb=1)
    spec = parse_spec(f"hf:{ckpt}")
    opts = RunOptions(tasks=["arithmetic"], limit=3, output=tmp_path / "runs")
    run_one(spec, opts)
    real = runner.build_items

    def edited(task, **kw):  # noqa: ANN001, ANN202
        from dataclasses import replace

        return [replace(i, prompt=i.prompt.replace("Calculate", "Calculate  ")) for i in real(task, **kw)]

    monkeypatch.setattr(runner, "build_items", edited)
    rd = run_one(spec, opts)
    m = rd.read_manifest().invocations[-1]
    assert m.model_calls + m.cache_hits >= 3  # evaluated again, not served as finished
    assert [r.prompt for r in rd.iter_samples("arithmetic")][0].startswith("Calculate  ")


TRIALS = 60


def test_identity_trials_never_confuse_models(tmp_path: Path, hash_calls: list[str]) -> None:
    """Random in-place edits of one checkpoint (any file, any offset, timestamps put back or
    not), on the real clock and the persistent hash cache: every distinct content gets a
    distinct identity, equal content the same one, and untouched files are not read again."""
    import hashlib
    import random

    rng = random.Random(12)
    ckpt = _checkpoint(tmp_path / "ckpt", weight_mb=2)
    names = sorted(p.name for p in ckpt.iterdir())
    time.sleep(filehash.RACY_WINDOW_NS / 1e9 + 0.2)  # the untouched files become cacheable
    by_content: dict[str, str] = {}
    confusions = 0
    touched: set[str] = set()
    for trial in range(TRIALS):
        if trial % 4:
            name = rng.choice(names)
            path = ckpt / name
            _flip_byte(path, rng.randrange(path.stat().st_size), keep_mtime=rng.random() < 0.5)
            touched.add(os.path.realpath(path))
        hash_calls.clear()
        content = hashlib.sha256(b"".join(n.encode() + (ckpt / n).read_bytes() for n in names)).hexdigest()
        ident = _identity(ckpt)
        if by_content.setdefault(content, ident) != ident:
            confusions += 1
        confusions += sum(1 for c, i in by_content.items() if i == ident and c != content)
        if trial:
            assert set(hash_calls) <= touched  # files never edited come from the hash cache
    assert confusions == 0 and len(by_content) > TRIALS // 2
