"""Turn a ModelSpec into something loadable, and give it a stable identity.

The identity hashes everything that changes what the model outputs (weights revision,
subfolder, GGUF file, dtype, chat template, system prompt, backend). It keys the
generation cache, so one model's answers are never served for another.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cotbench.errors import CotbenchError, SpecError
from cotbench.models import embedded
from cotbench.models.spec import ModelSpec

_SMALL_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "chat_template.jinja")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


@dataclass(frozen=True)
class ResolvedModel:
    spec: ModelSpec
    path: Path | None  # local directory holding the weights (None for API backends)
    resolved_revision: str | None
    chat_template: str | None  # the override's text, if any
    identity: str


def resolve(spec: ModelSpec, *, download: bool = True) -> ResolvedModel:
    template = _read_template(spec.chat_template) if spec.chat_template else None
    if spec.backend == "embedded":
        path = embedded.gguf_path()
        revision = f"sha256:{_file_sha256(str(path))[:16]}"
        return _finish(spec, path.parent, revision, template, fingerprint=revision)
    if spec.backend == "openai":
        return _finish(spec, None, None, template, fingerprint=f"{spec.model}@{spec.base_url or 'default'}")
    if spec.local:
        root = Path(spec.model)
        if not root.exists():
            raise SpecError(f"model path {root} does not exist")
        if not root.is_dir():
            raise SpecError(f"model path {root} is not a directory")
        folder = root / spec.subfolder if spec.subfolder else root
        _check_model_dir(folder, spec)
        return _finish(spec, root, None, template, fingerprint=_dir_fingerprint(folder))
    if not download:
        return _finish(spec, None, spec.revision, template, fingerprint=f"{spec.model}@{spec.revision or 'main'}")
    path, sha = _snapshot(spec)
    folder = path / spec.subfolder if spec.subfolder else path
    _check_model_dir(folder, spec)
    return _finish(spec, path, sha, template, fingerprint=f"{spec.model}@{sha}")


def _finish(spec: ModelSpec, path: Path | None, revision: str | None, template: str | None,
            fingerprint: str) -> ResolvedModel:
    payload = {
        "backend": spec.backend,
        "fingerprint": fingerprint,
        "subfolder": spec.subfolder,
        "gguf_file": spec.gguf_file,
        "dtype": spec.dtype,
        "chat_template": template,
        "system_prompt": spec.system_prompt,
    }
    identity = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]
    return ResolvedModel(spec, path, revision, template, identity)


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


def _dir_fingerprint(folder: Path) -> str:
    """Cheap but content-sensitive: small config files hashed whole, weights by size and head."""
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if p.name in _SMALL_FILES:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        elif p.suffix in _WEIGHT_SUFFIXES:
            st = p.stat()
            with p.open("rb") as fh:
                head = fh.read(1 << 20)
            h.update(f"{p.name}\0{st.st_size}\0".encode() + hashlib.sha256(head).digest())
    return "dir:" + h.hexdigest()


@functools.lru_cache(maxsize=8)
def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
