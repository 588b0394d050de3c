"""Errors that reach the user as one clear line (the CLI turns them into exit code 2)."""

from __future__ import annotations


class CotbenchError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class SpecError(CotbenchError):
    """A model spec that cannot be parsed or resolved."""


class MissingDependencyError(CotbenchError):
    """An optional dependency needed for the requested feature is not installed."""

    def __init__(self, package: str, feature: str, extra: str | None = None) -> None:
        hint = f"pip install 'cotbench[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the optional package '{package}', which is not installed ({hint})")


class ModelLoadError(CotbenchError):
    """The model could not be loaded or reached; no task of the run can proceed."""


class ResultsError(CotbenchError):
    """A results directory or file that is missing, malformed or incompatible."""


class DataError(CotbenchError):
    """Benchmark data that cannot be found, downloaded or read."""
