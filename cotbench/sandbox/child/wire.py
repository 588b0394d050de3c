"""The values and messages that cross between the judge and the candidate.

Plain data (None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset,
nested) is serialised as tagged JSON and rebuilt as fresh objects of exactly those types; any
other value becomes an opaque handle. Separate because both children speak it and neither may
trust the other's encoder: the decoder is the one place that decides what can come out.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any

MAX_MESSAGE = 16 << 20  # bytes in one reply the judge accepts
_MAX_DEPTH = 200  # nesting of a serialised value
INT_DIGITS = 100_000  # int <-> str conversions both children allow

# Plain JSON for None/bool/int/float/str and lists; {"$t": tag, "v": payload} for the rest.

_SCALARS = (type(None), bool, int, float, str)


def encode(value: Any, other: Any, depth: int = 0) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if kind is list:
        return [encode(v, other, depth + 1) for v in value]
    if kind in (tuple, set, frozenset):
        return {"$t": kind.__name__, "v": [encode(v, other, depth + 1) for v in value]}
    if kind is dict:
        return {"$t": "dict", "v": [[encode(k, other, depth + 1), encode(v, other, depth + 1)]
                                    for k, v in value.items()]}
    if kind in (bytes, bytearray):
        return {"$t": kind.__name__, "v": bytes(value).decode("latin-1")}
    if kind is complex:
        return {"$t": "complex", "v": [value.real, value.imag]}
    return other(value, depth)


_PLAIN: tuple[type[Any], ...] = (bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, set, frozenset)


def plain_base(value: Any) -> Any:
    """A subclass of a plain type (namedtuple, Counter, IntEnum, numpy scalar) as its base value."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    for base in _PLAIN:
        if isinstance(value, base):
            return str.__str__(value) if base is str else base(value)
    return None


_DECODERS = {"tuple": tuple, "set": set, "frozenset": frozenset}


def decode(value: Any, ref: Any, depth: int = 0) -> Any:
    """Rebuild a value from parsed JSON; only plain types (and ``ref(n)``'s handles) come out."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if kind is list:
        return [decode(v, ref, depth + 1) for v in value]
    if kind is not dict or value.keys() != {"$t", "v"}:
        raise ValueError("not a plain value")
    tag, payload = value["$t"], value["v"]
    if tag in _DECODERS and type(payload) is list:
        return _DECODERS[tag](decode(v, ref, depth + 1) for v in payload)
    if tag == "dict" and type(payload) is list:
        out = {}
        for pair in payload:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("bad dict item")
            out[decode(pair[0], ref, depth + 1)] = decode(pair[1], ref, depth + 1)
        return out
    if tag in ("bytes", "bytearray") and type(payload) is str:
        return (bytes if tag == "bytes" else bytearray)(payload.encode("latin-1"))
    if tag == "complex" and type(payload) is list and len(payload) == 2 \
            and all(type(p) in (int, float) for p in payload):
        return complex(payload[0], payload[1])
    if tag == "ref" and type(payload) is int:
        return ref(payload)
    raise ValueError("not a plain value")


class Channel:
    """One JSON object per line over a pipe pair."""

    def __init__(self, read_fd: int, write_fd: int, limit: int = 1 << 62) -> None:
        self._reader = open(read_fd, "rb", buffering=1 << 16)  # noqa: SIM115 - lives as long as the process
        self._write_fd = write_fd
        self._limit = limit

    def send(self, message: Any) -> None:
        data = memoryview(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        while data:
            data = data[os.write(self._write_fd, data):]

    def recv(self) -> Any:
        line = self._reader.readline(self._limit + 1)
        if not line:
            raise EOFError
        if len(line) > self._limit or not line.endswith(b"\n"):
            raise ValueError("reply too long")
        return json.loads(line)
