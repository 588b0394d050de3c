"""What cotbench looks up by name: scorers, data loaders, engines, judge rubrics and judges.

Each kind has one ``Registry``. A module registers its entries with the registry's decorator;
the first lookup in a registry imports cotbench's own modules of that kind and then every
plugin: a module named by an entry point of the ``cotbench`` group, whose import runs its
registrations. A separate package adds a scorer (or anything else) with, in its pyproject::

    [project.entry-points.cotbench]
    my_scorers = "my_package.scorers"

This module imports nothing from cotbench but its errors: every other module may use it.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cotbench.errors import CotbenchError, one_line

if TYPE_CHECKING:
    from cotbench.engines.base import Engine
    from cotbench.judge.grade import Rubric
    from cotbench.judge.judges import JudgeDef
    from cotbench.scoring.base import ScorerDef
    from cotbench.tasks.loaders import Loader

ENTRY_POINT_GROUP = "cotbench"
T = TypeVar("T")

# Plugin discovery is process-wide (one plugin module may register into several registries).
_plugins_lock = threading.RLock()
_plugins_loaded: set[tuple[str, str]] = set()
_plugins_done = False
_plugins_loading = False  # a plugin being imported may look names up: it sees what is there
_REGISTRIES: weakref.WeakSet[Registry[Any]] = weakref.WeakSet()


def load_plugins() -> None:
    """Import every module named by a ``cotbench`` entry point not imported yet. A module that
    fails to import is a one-line error naming its entry point (and is tried again next time)."""
    global _plugins_done, _plugins_loading
    if _plugins_done:
        return
    with _plugins_lock:
        if _plugins_done or _plugins_loading:
            return
        _plugins_loading = True
        try:
            # Built-ins first, so that a plugin reusing a built-in's name is the one that fails.
            for registry in list(_REGISTRIES):
                registry._import_builtins()
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                key = (ep.name, ep.value)
                if key in _plugins_loaded:
                    continue
                try:
                    ep.load()
                except Exception as exc:  # noqa: BLE001 - whatever a plugin raises, the user gets one line
                    dist = getattr(ep, "dist", None)
                    where = f" from {dist.name}" if dist is not None else ""
                    raise CotbenchError(f"cotbench plugin '{ep.name}' ({ep.value}{where}) failed to load: "
                                        f"{type(exc).__name__}: {one_line(exc)}") from None
                _plugins_loaded.add(key)
            _plugins_done = True
        finally:
            _plugins_loading = False


def _import_builtin(spec: str) -> None:
    """``pkg.*``: every direct submodule of ``pkg``; otherwise the module itself."""
    if not spec.endswith(".*"):
        importlib.import_module(spec)
        return
    package = importlib.import_module(spec[:-2])
    for mod in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{mod.name}")


class Registry(Generic[T]):
    """Entries of one kind by name.

    ``kind`` names the kind in messages; ``builtin`` lists the modules whose import registers
    cotbench's own entries (``pkg.*`` for every submodule of a package). A name belongs to the
    module that registered it: registering it again from the same module replaces the entry (a
    reload), from another module is an error, so a plugin cannot silently shadow a built-in.
    """

    def __init__(self, kind: str, builtin: Sequence[str] = ()) -> None:
        self.kind = kind
        self._builtin = tuple(builtin)
        self._entries: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        # Two locks: registering never waits for discovery, which imports modules that register
        # (a thread importing one of them holds its import lock while it registers).
        self._entries_lock = threading.Lock()
        self._discovery_lock = threading.RLock()
        self._builtin_done = False
        self._importing = False
        _REGISTRIES.add(self)

    def add(self, name: str, value: T, origin: str) -> None:
        """Register ``value`` as ``name``; ``origin`` is the registering module."""
        if not name or not isinstance(name, str):
            raise CotbenchError(f"a {self.kind} needs a non-empty name (got {name!r} from {origin})")
        with self._entries_lock:
            known = self._origins.get(name)
            if known is not None and known != origin:
                raise CotbenchError(f"{self.kind} '{name}' is registered twice: by {known} and by {origin}")
            self._entries[name] = value
            self._origins[name] = origin

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object as ``name``."""

        def deco(value: T) -> T:
            self.add(name, value, origin=str(getattr(value, "__module__", None) or "?"))
            return value

        return deco

    def get(self, name: str) -> T:
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise CotbenchError(f"unknown {self.kind} '{name}' (known: {known})") from None

    def origin(self, name: str) -> str:
        """The module that registered ``name``."""
        self.get(name)
        return self._origins[name]

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        self._discover()
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def _discover(self) -> None:
        self._import_builtins()
        load_plugins()

    def _import_builtins(self) -> None:
        if self._builtin_done:
            return
        with self._discovery_lock:
            # The importing thread may look its own kind up while a module is imported: it sees
            # what is registered so far; other threads wait for the imports to finish.
            if self._builtin_done or self._importing:
                return
            self._importing = True
            try:
                for spec in self._builtin:
                    _import_builtin(spec)
            finally:
                self._importing = False
            self._builtin_done = True


EngineFactory = Callable[["Path | None"], "Engine"]  # (the run directory, where a harness keeps logs, or None)

scorers: Registry[ScorerDef] = Registry("scorer", builtin=("cotbench.scoring.*",))
loaders: Registry[Loader] = Registry("data loader", builtin=("cotbench.tasks.probes.*", "cotbench.tasks.benchmarks.*"))
engines: Registry[EngineFactory] = Registry("engine", builtin=("cotbench.engines",))
rubrics: Registry[Rubric] = Registry("judge rubric", builtin=("cotbench.judge.*",))
judges: Registry[JudgeDef] = Registry("judge", builtin=("cotbench.judge.*",))
