"""A task's ``scorer:``: a registered scorer's name, with arguments for its factory.

In a task YAML, ``scorer: exact`` or ``scorer: {name: exact, args: {bbh: true}}``. A
``ScorerSpec`` is a ``str``: its canonical form, the name alone without arguments, else
``name(arg=value, ...)`` with the arguments sorted and written as Python literals
(``refusal(prompts='harmful')``), which is also accepted as input. That string is what
records and results carry (``TaskInfo.scorer``), so a scorer without arguments reads as its
name, as it always did.

In a pydantic model a spec without arguments dumps as its name and one with arguments as
``{"name": ..., "args": {...}}``, so a task's content hash does not depend on how the spec was
spelled. Checking the name and arguments against the registry is ``cotbench.scoring.base``'s.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

_CALL_RE = re.compile(r"(?s)\s*([^\s()]+)\((.*)\)\s*")


class ScorerSpec(str):
    """A scorer name and its arguments; the string value is the canonical form (see module doc)."""

    name: str
    args: Mapping[str, Any]

    def __new__(cls, name: str, args: Mapping[str, Any] | None = None) -> ScorerSpec:
        if not isinstance(name, str) or not name.strip() or name != name.strip() or "(" in name or ")" in name:
            raise ValueError(f"{name!r} is not a scorer name, nor name(arg=value, ...)")
        if args is not None and not isinstance(args, Mapping):
            raise ValueError(f"scorer '{name}': args must be a mapping of argument names to values, got {args!r}")
        frozen = dict(args or {})
        bad = [k for k in frozen if not isinstance(k, str) or not k.isidentifier()]
        if bad:
            raise ValueError(f"scorer '{name}': argument names must be identifiers, got {bad[0]!r}")
        text = name if not frozen else f"{name}({', '.join(f'{k}={v!r}' for k, v in sorted(frozen.items()))})"
        self = super().__new__(cls, text)
        self.name = name
        self.args = MappingProxyType(frozen)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (ScorerSpec, (self.name, dict(self.args)))

    def __repr__(self) -> str:
        return f"ScorerSpec({str(self)!r})"

    @classmethod
    def parse(cls, value: object) -> ScorerSpec:
        """A spec from a name, the canonical string, ``{name, args}``, or a spec (returned as is)."""
        if isinstance(value, ScorerSpec):
            return value
        if isinstance(value, str):
            m = _CALL_RE.fullmatch(value)
            return cls(m.group(1), _call_args(m.group(1), m.group(2))) if m else cls(value)
        if isinstance(value, Mapping):
            extra = sorted(set(map(str, value)) - {"name", "args"})
            if extra:
                raise ValueError(f"unexpected key '{extra[0]}' (a scorer is a name or {{name, args}})")
            if "name" not in value:
                raise ValueError("a scorer given as a mapping needs a 'name'")
            return cls(value["name"], value.get("args"))
        raise ValueError(f"a scorer is a name or {{name, args}}, got {value!r}")

    def dump(self) -> str | dict[str, Any]:
        """The form a task dump (and so its content hash) holds."""
        return self.name if not self.args else {"name": self.name, "args": dict(self.args)}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            # A plain value may be put in by model_copy(update=...): dumped the same way.
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: cls.parse(v).dump()),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [
            {"type": "string", "description": "a registered scorer's name"},
            {"type": "object", "required": ["name"], "additionalProperties": False,
             "properties": {"name": {"type": "string"}, "args": {"type": "object"}}},
        ]}


def _call_args(name: str, text: str) -> dict[str, Any]:
    """The keyword arguments of ``name(...)``, each a Python literal."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call) or call.args or any(kw.arg is None for kw in call.keywords):
            raise ValueError("not keyword arguments")
        return {str(kw.arg): ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise ValueError(f"scorer '{name}({text})': arguments must be keyword=literal pairs") from None
