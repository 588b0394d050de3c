"""Turn a ModelSpec into something loadable, and give it a stable identity.

The identity hashes everything that changes what the model outputs (weights revision,
subfolder, GGUF file, dtype, chat template, system prompt, backend). It keys the
generation cache, so one model's answers are never served for another.

What stands for the weights:

* a Hub model: the commit the revision resolved to (the Hub pins its content);
* the embedded model: the full SHA-256 of its GGUF file and the converter's version;
* a local directory (the checkpoint folder: ``root/subfolder`` with a subfolder): the full
  SHA-256 of every file under it, recursively, with its relative path, except files no
  loader reads (``_skipped``): hidden names (``.git``, ``.cache``, ``.gitattributes``),
  README/LICENSE/NOTICE and ``*.md``, images, training-resume state (``optimizer.pt``,
  ``scheduler.pt``, ``scaler.pt``, ``rng_state*.pth``, ``trainer_state.json``,
  ``training_args.bin``, DeepSpeed ``global_step*`` folders), and with ``gguf_file``, the
  other ``*.gguf`` files. So weights, config.json, generation_config.json and every
  tokenizer file (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
  added_tokens.json, vocab/merges, tokenizer.model, ``*.tiktoken``, chat_template.jinja/json)
  count, as does a file added or removed. Hashes come from ``filehash``, which remembers
  them per file signature, so an unchanged checkpoint is not read again on every run.

The files are hashed when the model is resolved, but read when it loads (on the first cache
miss, maybe much later): ``verify_unchanged`` checks again right before and after loading.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cotbench.errors import CotbenchError, ModelLoadError, SpecError
from cotbench.models import embedded
from cotbench.models.filehash import file_sha256
from cotbench.models.servers import gguf_file, served_model_ids
from cotbench.models.spec import ModelSpec

# Never read by transformers or vLLM when loading a checkpoint folder (see the module doc).
_SKIP_FILES = ("readme*", "license*", "licence*", "notice*", "*.md", "*.png", "*.jpg", "*.jpeg", "*.gif",
               "*.svg", "*.webp", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt", "rng_state*.pth",
               "trainer_state.json", "training_args.bin")
_SKIP_DIRS = ("global_step*", "__pycache__")


@dataclass(frozen=True)
class ResolvedModel:
    spec: ModelSpec
    path: Path | None  # local directory holding the weights (None for API backends)
    resolved_revision: str | None
    chat_template: str | None  # the override's text, if any
    identity: str
    fingerprint: str = ""  # what stands for the weights in the identity (see the module doc)


def resolve(spec: ModelSpec, *, download: bool = True) -> ResolvedModel:
    template = _read_template(spec.chat_template) if spec.chat_template else None
    if spec.backend == "embedded":
        path = embedded.gguf_path()
        fingerprint = _embedded_fingerprint(path)
        revision = f"sha256:{file_sha256(path)[:16]}"
        return _finish(spec, path.parent, revision, template, fingerprint=fingerprint)
    if spec.backend == "openai":
        return _finish(spec, None, None, template, fingerprint=f"{spec.model}@{spec.base_url or 'default'}")
    if spec.backend == "vllm" and spec.base_url:  # a running server: whatever it serves, by name
        ids = ",".join(served_model_ids(spec.base_url))
        return _finish(spec, None, None, template, fingerprint=f"vllm-server:{ids}@{spec.base_url}")
    if spec.backend == "llamacpp":
        gguf = gguf_file(spec)
        if not gguf.is_file():
            raise SpecError(f"GGUF file {gguf} does not exist")
        return _finish(spec, gguf.parent, f"sha256:{file_sha256(gguf)[:16]}", template,
                       fingerprint=f"gguf:{file_sha256(gguf)}")
    if spec.local:
        root = Path(spec.model)
        if not root.exists():
            raise SpecError(f"model path {root} does not exist")
        if not root.is_dir():
            raise SpecError(f"model path {root} is not a directory")
        folder = root / spec.subfolder if spec.subfolder else root
        _check_model_dir(folder, spec)
        try:
            fingerprint = _dir_fingerprint(folder, spec.gguf_file)
        except OSError as exc:
            raise SpecError(f"cannot read the checkpoint {folder}: {exc}") from None
        return _finish(spec, root, None, template, fingerprint=fingerprint)
    if not download:
        return _finish(spec, None, spec.revision, template, fingerprint=f"{spec.model}@{spec.revision or 'main'}")
    path, sha = _snapshot(spec)
    folder = path / spec.subfolder if spec.subfolder else path
    _check_model_dir(folder, spec)
    return _finish(spec, path, sha, template, fingerprint=f"{spec.model}@{sha}")


def _finish(spec: ModelSpec, path: Path | None, revision: str | None, template: str | None,
            fingerprint: str) -> ResolvedModel:
    payload: dict[str, object] = {
        "backend": spec.backend,
        "fingerprint": fingerprint,
        "subfolder": spec.subfolder,
        "gguf_file": spec.gguf_file,
        "dtype": spec.dtype,
        "chat_template": template,
        "system_prompt": spec.system_prompt,
    }
    # Only when given, so existing identities stay as they were.
    if spec.opens_reasoning is not None:
        payload["opens_reasoning"] = spec.reasoning_marker or "none"
    # How many requests are in flight, and how often one is retried, change no output.
    output_options = [(k, v) for k, v in spec.server if k not in ("concurrency", "tries")]
    if output_options:
        payload["server"] = output_options
    identity = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]
    return ResolvedModel(spec, path, revision, template, identity, fingerprint)


def _read_template(value: str) -> str:
    path = Path(value).expanduser()
    if "{%" in value or "{{" in value:
        return value
    if path.is_file():
        return path.read_text(encoding="utf-8")
    raise SpecError(f"chat template '{value}' is neither a file nor a Jinja template string")


def _check_model_dir(folder: Path, spec: ModelSpec) -> None:
    if not folder.is_dir():
        raise SpecError(f"checkpoint folder {folder} does not exist")
    if spec.gguf_file:
        if not (folder / spec.gguf_file).is_file():
            raise SpecError(f"GGUF file {folder / spec.gguf_file} does not exist")
        return
    if not (folder / "config.json").is_file():
        ggufs = sorted(p.name for p in folder.glob("*.gguf"))
        hint = f" (it holds {ggufs[0]}: add ?gguf_file={ggufs[0]})" if ggufs else ""
        raise SpecError(f"{folder} is not a model directory: no config.json{hint}")


def verify_unchanged(rm: ResolvedModel) -> None:
    """Refuse to load weights other than those the identity was taken from: answers would
    be cached under the wrong model."""
    spec = rm.spec
    if spec.backend == "embedded":
        current = _embedded_fingerprint(embedded.gguf_path())
        what = "the embedded model's GGUF file"
    elif spec.backend == "llamacpp":
        current, what = f"gguf:{file_sha256(gguf_file(spec))}", f"the GGUF file {gguf_file(spec)}"
    elif spec.local and rm.path is not None:
        folder = rm.path / spec.subfolder if spec.subfolder else rm.path
        try:
            current = _dir_fingerprint(folder, spec.gguf_file)
        except OSError as exc:
            raise ModelLoadError(f"cannot read the checkpoint {folder}: {exc}") from None
        what = f"the checkpoint {folder}"
    else:
        return
    if current != rm.fingerprint:
        raise ModelLoadError(f"{what} changed since this run started (its files differ from those it was "
                             "identified by); run again to evaluate the new files")


def _embedded_fingerprint(gguf: Path) -> str:
    return f"gguf-sha256:{file_sha256(gguf)}+converter-v{embedded.CONVERTER_VERSION}"


def _skipped(name: str, is_dir: bool) -> bool:
    if name.startswith("."):
        return True
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, pat) for pat in (_SKIP_DIRS if is_dir else _SKIP_FILES))


def _model_files(folder: Path, gguf_file: str | None) -> list[tuple[str, str]]:
    """(relative posix path, absolute path) of every file that can change an output."""
    chosen = Path(gguf_file).as_posix() if gguf_file else None
    out: list[tuple[str, str]] = []
    seen_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen_dirs:  # a symlink loop
            dirnames[:] = []
            continue
        seen_dirs.add(real)
        dirnames[:] = sorted(d for d in dirnames if not _skipped(d, True))
        rel_dir = Path(dirpath).relative_to(folder)
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if _skipped(name, False) or (chosen and name.lower().endswith(".gguf") and rel != chosen):
                continue
            out.append((rel, os.path.join(dirpath, name)))
    return sorted(out)


def _dir_fingerprint(folder: Path, gguf_file: str | None = None) -> str:
    """Full content hash of the checkpoint folder's inputs, names included."""
    h = hashlib.sha256()
    for rel, path in _model_files(folder, gguf_file):
        try:
            st = os.stat(path)
        except FileNotFoundError:  # a dangling link: its absence is what the loader sees
            h.update(f"{rel}\0missing\n".encode("utf-8", "surrogateescape"))
            continue
        if not stat.S_ISREG(st.st_mode):  # a fifo or device is nothing a loader reads
            continue
        h.update(f"{rel}\0{file_sha256(path)}\n".encode("utf-8", "surrogateescape"))
    return "files-sha256:" + h.hexdigest()


def _snapshot(spec: ModelSpec) -> tuple[Path, str]:
    """Download (or find in the local HF cache) the repo at the revision; return path + commit."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    allow = [f"{spec.subfolder}/*", "*.json", "*.jinja", "*.model", "*.txt"] if spec.subfolder else None
    rev = spec.revision or "main"
    try:
        path = Path(snapshot_download(spec.model, revision=spec.revision, allow_patterns=allow))
    except GatedRepoError:
        raise CotbenchError(
            f"{spec.model} is gated: accept its terms on huggingface.co and log in (huggingface-cli login)"
        ) from None
    except RevisionNotFoundError:
        raise SpecError(f"{spec.model} has no revision '{rev}'") from None
    except RepositoryNotFoundError:
        raise SpecError(f"{spec.model}: no such model on the Hugging Face Hub (or it is private)") from None
    except LocalEntryNotFoundError:
        raise CotbenchError(
            f"cannot reach the Hugging Face Hub to fetch {spec.model}@{rev}, and it is not in the local cache "
            "(check the network, or pass a local directory as hf:/path/to/model)"
        ) from None
    except OSError as exc:
        raise CotbenchError(f"cannot fetch {spec.model}@{rev} from the Hugging Face Hub: {exc}") from None
    return path, path.name
