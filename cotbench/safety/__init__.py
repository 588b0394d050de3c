"""Safety evaluation helpers: calibrating the offline refusal classifier, or a judge, against human labels."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CalibrationReport", "calibrate"]


def __getattr__(name: str) -> Any:
    # On first use: calibration needs scikit-learn and pandas, and `cotbench safety --help` imports this package.
    if name in __all__:
        value = getattr(importlib.import_module("cotbench.safety.calibrate"), name)
        globals()[name] = value  # the function, not the submodule of the same name, from now on
        return value
    raise AttributeError(f"module 'cotbench.safety' has no attribute {name!r}")
