"""Safety evaluation helpers: calibrating the offline refusal classifier against human labels."""

from __future__ import annotations

from cotbench.safety.calibrate import CalibrationReport, calibrate

__all__ = ["CalibrationReport", "calibrate"]
