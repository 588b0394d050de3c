"""Facts about a local model read from its files at run time, for the manifest's model record:
the parameter count from the tensor shapes in safetensors headers or a GGUF file's tensor table,
the stored precision and the model it was made from from ``config.json``.

Only headers are read, never tensor data: a safetensors file starts with an 8-byte length and a
JSON header of every tensor's dtype and shape; a GGUF file starts with its key-value metadata and
tensor table. GGUF's layout is read here directly (``gguf.GGUFReader`` parses every metadata array,
the whole vocabulary included, which takes seconds for a small model). A file that cannot be read
gives no facts, never an error: the run does not depend on them.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from cotbench.results.schema import ModelFacts

if TYPE_CHECKING:
    from cotbench.models.resolve import ResolvedModel

SAFETENSORS = "safetensors header"
GGUF = "gguf metadata"
_MAX_HEADER = 100 * 2**20  # a safetensors header past this is no header (the format caps it at 100 MB)
_MAX_COUNT = 2**24  # GGUF arrays, tensors and keys: more than any model has
# GGUF value types: scalar sizes, 8 string, 9 array
_GGUF_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_UINTS = {0: "<B", 2: "<H", 4: "<I", 10: "<Q"}
# llama.cpp's file types (``general.file_type``), as the quantisation is usually spelled
_GGUF_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
                    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
                    17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}


def safetensors_parameters(files: Iterable[Path]) -> int | None:
    """Elements of every tensor in ``files`` (shards of one checkpoint), from their headers."""
    total, seen = 0, False
    for path in files:
        with path.open("rb") as fh:
            raw = fh.read(8)
            if len(raw) != 8:
                return None
            (length,) = struct.unpack("<Q", raw)
            if length > _MAX_HEADER:
                return None
            header = json.loads(fh.read(length))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            shape = info["shape"]
            if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
                return None
            total += math.prod(shape)
            seen = True
    return total if seen else None


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ValueError("truncated GGUF header")
    return data


def _u64(fh: BinaryIO) -> int:
    return int(struct.unpack("<Q", _read(fh, 8))[0])


def _string(fh: BinaryIO) -> str:
    n = _u64(fh)
    if n > _MAX_HEADER:
        raise ValueError("GGUF string too long")
    return _read(fh, n).decode("utf-8", "replace")


def _value(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    """A metadata value; arrays are skipped over (their contents are never needed here)."""
    if vtype == 8:
        return _string(fh)
    if vtype == 9:
        (etype,) = struct.unpack("<I", _read(fh, 4))
        count = _u64(fh)
        if count > _MAX_COUNT:
            raise ValueError("GGUF array too long")
        if etype in _GGUF_SCALARS:
            fh.seek(count * _GGUF_SCALARS[etype], 1)
        else:
            for _ in range(count):
                _value(fh, etype, False)
        return None
    size = _GGUF_SCALARS.get(vtype)
    if size is None:
        raise ValueError(f"unknown GGUF value type {vtype}")
    raw = _read(fh, size)
    return struct.unpack(_GGUF_UINTS[vtype], raw)[0] if keep and vtype in _GGUF_UINTS else None


def gguf_facts(path: Path) -> tuple[int, dict[str, Any]]:
    """(parameter count from the tensor table, the file's scalar and string metadata)."""
    with path.open("rb") as fh:
        if _read(fh, 4) != b"GGUF":
            raise ValueError("not a GGUF file")
        (version,) = struct.unpack("<I", _read(fh, 4))
        if version < 2:
            raise ValueError(f"GGUF version {version} is not read")
        n_tensors, n_kv = _u64(fh), _u64(fh)
        if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
            raise ValueError("implausible GGUF header")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = _string(fh)
            (vtype,) = struct.unpack("<I", _read(fh, 4))
            value = _value(fh, vtype, True)
            if value is not None:
                meta[key] = value
        total = 0
        for _ in range(n_tensors):
            _string(fh)
            (n_dims,) = struct.unpack("<I", _read(fh, 4))
            if n_dims > 8:
                raise ValueError("implausible GGUF tensor")
            total += math.prod(_u64(fh) for _ in range(n_dims))
            _read(fh, 12)  # tensor type (u32) and data offset (u64)
    return total, meta


def _config(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_facts(folder: Path | None, gguf: Path | None = None) -> ModelFacts | None:
    """What the files of a local model say about it: ``gguf`` is the GGUF file evaluated, if one
    is; else the safetensors files in ``folder``. None when nothing could be read."""
    params: int | None = None
    source = quant = None
    config = _config(folder) if folder is not None else {}
    try:
        if gguf is not None:
            params, meta = gguf_facts(gguf)
            source = GGUF
            quant = _GGUF_FILE_TYPES.get(meta.get("general.file_type", -1))
        elif folder is not None and not config.get("quantization_config"):
            # A quantised checkpoint's tensors hold packed values: their shapes do not count parameters.
            params = safetensors_parameters(sorted(folder.glob("*.safetensors")))
            source = SAFETENSORS if params else None
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        params, source = None, None
    facts = ModelFacts(parameters=params or None, parameters_source=source if params else None,
                       torch_dtype=_text(config.get("torch_dtype") or config.get("dtype")),
                       base_model=_text(config.get("_name_or_path")), quantization=quant)
    return facts if facts.model_dump(exclude_none=True) else None


def model_facts(rm: ResolvedModel) -> ModelFacts | None:
    """The facts of a resolved model whose files are on this machine (a local folder, a Hub
    snapshot, a GGUF file); None for a served or API model."""
    from cotbench.models import embedded
    from cotbench.models.servers import gguf_file

    spec = rm.spec
    if rm.path is None:
        return None
    if spec.backend == "embedded":
        return read_facts(None, embedded.gguf_path())
    if spec.backend == "llamacpp":
        return read_facts(None, gguf_file(spec))
    folder = rm.path / spec.subfolder if spec.subfolder else rm.path
    return read_facts(folder, folder / spec.gguf_file if spec.gguf_file else None)
