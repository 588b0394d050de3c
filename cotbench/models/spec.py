"""Model specs: the strings users pass to ``--model``.

Grammar (options may follow a ``?`` as ``key=value`` pairs joined by ``&``)::

    hf:org/name                      a Hub repo (default branch)
    hf:org/name@REVISION             branch, tag, commit or PR ref (refs/pr/3)
    hf:org/name/sub/folder[@REV]     a checkpoint stored in a subfolder of a repo
    hf:/local/dir  hf:./dir  hf:~/d  a local checkpoint directory
    vllm:<any hf form>               the same, served by a vLLM server cotbench starts
    vllm:http://HOST:PORT            a vLLM server that is already running
    llamacpp:/path/model.gguf        a GGUF file served by llama.cpp's llama-server (started
    llamacpp:default                 by cotbench); ``default`` is the embedded model's GGUF
    openai:MODEL[@BASE_URL]          an OpenAI-compatible server (key from OPENAI_API_KEY)
    smollm2-135m | default           the embedded default model (SmolLM2-135M-Instruct, GGUF)

Options: dtype, gguf_file, chat_template (a file path or a Jinja string), system_prompt,
step (training step of a checkpoint), label (display name), opens_reasoning (whether the
rendered prompt opens a reasoning block the output never opens itself: ``true`` (``<think>``),
``false``, or the marker, e.g. ``[THINK]``; by default hf:/vllm: read it off the rendered chat
template and openai: assume not, since a server's template is not visible).

Served backends: concurrency (requests in flight; default 64, vllm: 256, llamacpp: its slots),
tries (per request, with exponential backoff on 429/5xx/timeouts; default 6).
vllm: tp (tensor_parallel_size), dp (data_parallel_size), max_model_len,
gpu_memory_utilization, prefix_caching (true/false), reasoning_parser. llamacpp: parallel
(server slots, default 16), ctx_size, threads, gpu_layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypedDict, TypeGuard, get_args, overload
from urllib.parse import parse_qsl

from cotbench.errors import SpecError
from cotbench.scoring.thinking import opening_marker

EMBEDDED_ALIASES = ("smollm2-135m", "default", "embedded")
BACKENDS = ("hf", "vllm", "openai", "llamacpp", "embedded")
# Options of served backends: name -> (parser, backends it applies to).
SERVER_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "concurrency": ("int", ("openai", "vllm", "llamacpp")),
    "tries": ("int", ("openai", "vllm", "llamacpp")),
    "tp": ("int", ("vllm",)),
    "dp": ("int", ("vllm",)),
    "max_model_len": ("int", ("vllm",)),
    "gpu_memory_utilization": ("fraction", ("vllm",)),
    "prefix_caching": ("bool", ("vllm",)),
    "reasoning_parser": ("name", ("vllm",)),
    "parallel": ("int", ("llamacpp",)),
    "ctx_size": ("int", ("llamacpp",)),
    "threads": ("int", ("llamacpp",)),
    "gpu_layers": ("count", ("llamacpp",)),
}
OPTION_KEYS = ("dtype", "gguf_file", "chat_template", "system_prompt", "step", "label", "opens_reasoning",
               *SERVER_OPTIONS)
DTYPES = ("auto", "float32", "float16", "bfloat16")
# Options whose value is kept as given.
TextOption = Literal["gguf_file", "chat_template", "system_prompt", "label"]
_TEXT_OPTIONS: frozenset[str] = frozenset(get_args(TextOption))

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SEGMENT = re.compile(r"^[\w.-]+$")
_STEP = re.compile(r"(?:global[_-]?step|checkpoint|ckpt|step|iter(?:ation)?)[_-]?(\d+)", re.IGNORECASE)

# A served-backend option's value, as _server_value parses it (int, float, bool or name).
ServerValue = int | float | bool | str


class SpecOptions(TypedDict, total=False):
    """The ``?key=value`` options of a spec, parsed: ModelSpec's keyword arguments of the same names."""

    dtype: str
    gguf_file: str
    chat_template: str
    system_prompt: str
    step: int
    label: str
    opens_reasoning: str
    server: tuple[tuple[str, ServerValue], ...]


@dataclass(frozen=True)
class ModelSpec:
    backend: str
    model: str  # Hub repo id, local directory, or served model name
    revision: str | None = None
    subfolder: str | None = None
    local: bool = False
    base_url: str | None = None
    dtype: str | None = None
    gguf_file: str | None = None
    chat_template: str | None = None
    system_prompt: str | None = None
    step: int | None = None
    label: str | None = None
    opens_reasoning: str | None = None  # as given; None: detect from the template (hf, vllm)
    server: tuple[tuple[str, ServerValue], ...] = ()  # served-backend options (SERVER_OPTIONS), sorted
    raw: str = field(default="", compare=False)

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        if self.backend == "embedded":
            return "SmolLM2-135M-Instruct (embedded)"
        if self.backend == "llamacpp" and self.model == "embedded":
            return "SmolLM2-135M-Instruct (embedded, llama.cpp)"
        name = _local_display(self.model) if self.local else self.model
        if self.subfolder:
            name = f"{name}/{self.subfolder}"
        if self.revision:
            name = f"{name}@{self.revision}"
        return name

    def server_option(self, name: str, default: ServerValue | None = None) -> ServerValue | None:
        return dict(self.server).get(name, default)

    def _bad_server_value(self, name: str, value: ServerValue) -> SpecError:
        return SpecError(f"model spec '{self.raw}': {name} must be {_KINDS[SERVER_OPTIONS[name][0]]}, got '{value}'")

    @overload
    def server_int(self, name: str, default: int) -> int: ...
    @overload
    def server_int(self, name: str, default: None = None) -> int | None: ...

    def server_int(self, name: str, default: int | None = None) -> int | None:
        """An integer option (``int`` or ``count`` in SERVER_OPTIONS), ``default`` where not given."""
        value = self.server_option(name)
        if value is None:
            return default
        # bool is an int subclass, but "true" is no count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad_server_value(name, value)
        return value

    def server_float(self, name: str, default: float) -> float:
        """A number option (``fraction`` in SERVER_OPTIONS), ``default`` where not given."""
        value = self.server_option(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad_server_value(name, value)
        return float(value)

    def server_bool(self, name: str, default: bool) -> bool:
        """A true/false option, ``default`` where not given."""
        value = self.server_option(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._bad_server_value(name, value)
        return value

    def server_str(self, name: str) -> str | None:
        """A name option, None where not given."""
        value = self.server_option(name)
        if value is not None and not isinstance(value, str):
            raise self._bad_server_value(name, value)
        return value

    @property
    def reasoning_marker(self) -> str | None:
        """The marker the ``opens_reasoning`` option names (None: not opened, or not said)."""
        return opening_marker(self.opens_reasoning) if self.opens_reasoning is not None else None

    def with_options(self, *, system_prompt: str | None = None, chat_template: str | None = None) -> ModelSpec:
        """This spec with the options given replaced (None: keep the spec's own)."""
        return replace(self, system_prompt=self.system_prompt if system_prompt is None else system_prompt,
                       chat_template=self.chat_template if chat_template is None else chat_template)


def _local_display(path: str) -> str:
    p = Path(path)
    # "run1/checkpoint-640" reads better than "checkpoint-640" alone.
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def parse_step(name: str) -> int | None:
    """Training step from names like step-640, checkpoint-640, global_step640, iter_0000640."""
    matches = _STEP.findall(name)
    return int(matches[-1]) if matches else None


def _is_text_option(key: str) -> TypeGuard[TextOption]:
    return key in _TEXT_OPTIONS


def _parse_options(text: str, spec: str) -> SpecOptions:
    opts: SpecOptions = {}
    server: dict[str, ServerValue] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=False):
        if key not in OPTION_KEYS:
            raise SpecError(f"model spec '{spec}': unknown option '{key}' (known: {', '.join(OPTION_KEYS)})")
        if key == "step":
            if not value.isdigit():
                raise SpecError(f"model spec '{spec}': step must be a non-negative integer, got '{value}'")
            opts["step"] = int(value)
        elif key == "dtype":
            if value not in DTYPES:
                raise SpecError(f"model spec '{spec}': dtype must be one of {', '.join(DTYPES)}, got '{value}'")
            opts["dtype"] = value
        elif key in SERVER_OPTIONS:
            server[key] = _server_value(key, value, spec)
        elif key == "opens_reasoning":
            try:
                opening_marker(value)
            except ValueError as exc:
                raise SpecError(f"model spec '{spec}': opens_reasoning: {exc}, got '{value}'") from None
            opts["opens_reasoning"] = value
        elif _is_text_option(key):
            opts[key] = value
    if server:
        opts["server"] = tuple(sorted(server.items()))
    return opts


def _server_value(key: str, value: str, spec: str) -> ServerValue:
    kind = SERVER_OPTIONS[key][0]
    bad = SpecError(f"model spec '{spec}': {key} must be {_KINDS[kind]}, got '{value}'")
    if kind in ("int", "count"):
        if not value.isdigit() or (kind == "int" and int(value) < 1):
            raise bad
        return int(value)
    if kind == "fraction":
        try:
            number = float(value)
        except ValueError:
            raise bad from None
        if not 0 < number <= 1:
            raise bad
        return number
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            raise bad
        return value.lower() == "true"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        raise bad
    return value


_KINDS = {"int": "a positive integer", "count": "a non-negative integer", "fraction": "a number in (0, 1]",
          "bool": "true or false", "name": "a name (letters, digits, _ . -)"}


def _check_server_options(spec: ModelSpec) -> ModelSpec:
    for key, _ in spec.server:
        backends = SERVER_OPTIONS[key][1]
        if spec.backend not in backends:
            raise SpecError(f"model spec '{spec.raw}': option {key} applies to {', '.join(b + ':' for b in backends)} "
                            f"only, not {spec.backend}:")
    return spec


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec string; raises SpecError with one clear line when malformed."""
    return _check_server_options(_parse_spec(spec))


def _parse_spec(spec: str) -> ModelSpec:
    raw = spec
    spec = spec.strip()
    if not spec:
        raise SpecError("empty model spec (try 'hf:org/name', 'hf:/path/to/checkpoint' or 'smollm2-135m')")
    body, _, query = spec.partition("?")
    opts = _parse_options(query, raw) if query else {}
    if body.lower() in EMBEDDED_ALIASES:
        return ModelSpec(backend="embedded", model="smollm2-135m", raw=raw, **opts)
    backend, sep, rest = body.partition(":")
    if not sep or backend not in BACKENDS or backend == "embedded":
        raise SpecError(
            f"model spec '{raw}': expected a prefix hf:, vllm:, llamacpp: or openai: "
            "(or 'smollm2-135m' for the embedded model)"
        )
    if not rest:
        raise SpecError(f"model spec '{raw}': nothing after '{backend}:'")
    if backend == "openai":
        return _parse_openai(rest, raw, opts)
    if backend == "llamacpp":
        return _parse_llamacpp(rest, raw, opts)
    if backend == "vllm" and re.match(r"^https?://", rest):
        if not re.match(r"^https?://[^\s/]+", rest):
            raise SpecError(f"model spec '{raw}': invalid server URL '{rest}'")
        url = rest.rstrip("/")
        return ModelSpec(backend="vllm", model="", base_url=url if url.endswith("/v1") else url + "/v1",
                         raw=raw, **opts)
    return _parse_hf_like(backend, rest, raw, opts)


def _parse_openai(rest: str, raw: str, opts: SpecOptions) -> ModelSpec:
    model, sep, base_url = rest.partition("@")
    if not model:
        raise SpecError(f"model spec '{raw}': missing model name before '@'")
    if sep and not re.match(r"^https?://[^\s/]+", base_url):
        raise SpecError(f"model spec '{raw}': base URL must start with http:// or https://, got '{base_url}'")
    return ModelSpec(backend="openai", model=model, base_url=base_url or None, raw=raw, **opts)


def _parse_llamacpp(rest: str, raw: str, opts: SpecOptions) -> ModelSpec:
    if rest.lower() in EMBEDDED_ALIASES:
        return ModelSpec(backend="llamacpp", model="embedded", local=True, raw=raw, **opts)
    path = Path(rest).expanduser()
    if not rest.startswith(("/", "./", "../", "~")):
        raise SpecError(f"model spec '{raw}': llamacpp: takes a local .gguf path (or 'default' for the embedded model)")
    return ModelSpec(backend="llamacpp", model=str(path.resolve()), local=True, raw=raw,
                     **_with_step(opts, parse_step(path.stem)))


def _parse_hf_like(backend: str, rest: str, raw: str, opts: SpecOptions) -> ModelSpec:
    if rest.startswith(("/", "./", "../", "~")) or rest in (".", ".."):
        path = Path(rest).expanduser()
        return ModelSpec(backend=backend, model=str(path.resolve()), local=True, raw=raw,
                         **_with_step(opts, parse_step(path.name)))
    ident, _, revision = rest.partition("@")
    if "@" in rest and not revision:
        raise SpecError(f"model spec '{raw}': empty revision after '@'")
    parts = ident.split("/")
    if len(parts) < 2 or not _REPO_ID.match("/".join(parts[:2])):
        raise SpecError(
            f"model spec '{raw}': '{ident}' is not a Hub repo id (org/name) nor a local path "
            "(local paths start with /, ./ or ~)"
        )
    subfolder = "/".join(parts[2:]) or None
    if subfolder and not all(_SEGMENT.match(p) for p in parts[2:]):
        raise SpecError(f"model spec '{raw}': invalid subfolder '{subfolder}'")
    if revision and not re.match(r"^[\w./-]+$", revision):
        raise SpecError(f"model spec '{raw}': invalid revision '{revision}'")
    named = parse_step(subfolder) if subfolder else parse_step(revision or "")
    return ModelSpec(backend=backend, model="/".join(parts[:2]), revision=revision or None,
                     subfolder=subfolder, raw=raw, **_with_step(opts, named))


def _with_step(opts: SpecOptions, named: int | None) -> SpecOptions:
    """``opts`` with a ``step``: the one the options give, else ``named`` (read off the checkpoint's name)."""
    if "step" in opts or named is None:
        return opts
    return {**opts, "step": named}
