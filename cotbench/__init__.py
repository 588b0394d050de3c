"""cotbench: capability-cost evaluation of reasoning models.

The Python API mirrors the CLI: ``run`` (``cotbench run``), ``profile`` and ``trajectory``
(pandas DataFrames), ``load_samples`` / ``load_metrics`` (finished runs into pandas).
Imports are lazy so that ``import cotbench`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real signatures for type checkers; at run time the names load lazily below
    from cotbench.analysis.profile import profile as profile
    from cotbench.analysis.trajectory import trajectory as trajectory
    from cotbench.results.load import load_metrics as load_metrics
    from cotbench.results.load import load_samples as load_samples
    from cotbench.runner import run_models as run

__version__ = "0.1.0"

_API = {
    "run": ("cotbench.runner", "run_models"),
    "profile": ("cotbench.analysis.profile", "profile"),
    "trajectory": ("cotbench.analysis.trajectory", "trajectory"),
    "load_samples": ("cotbench.results.load", "load_samples"),
    "load_metrics": ("cotbench.results.load", "load_metrics"),
}

__all__ = ["__version__", "run", "profile", "trajectory", "load_samples", "load_metrics"]  # the keys of _API


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        module, attr = _API[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'cotbench' has no attribute {name!r}")
