"""Errors that reach the user as one clear line (the CLI turns them into exit code 2)."""

from __future__ import annotations

import re
from pathlib import Path


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


# -- text that reaches a terminal -------------------------------------------------------------------------

# C0/C1 controls (ESC starts terminal escape sequences, CR rewrites the line), DEL, and the
# Unicode line separators and bidirectional overrides that reorder what the reader sees.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_char(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep_lines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so that labels and
    paths from results files print as what they are and never drive the terminal.
    ``keep_lines``: line breaks and tabs of a multi-line report stay."""
    if keep_lines:
        return "\n".join(printable(line.replace("\t", "    ")) for line in str(text).split("\n"))
    return _UNPRINTABLE.sub(_escape_char, str(text))


def markup_safe(text: object) -> str:
    """``printable`` and escaped for rich markup: for untrusted text inside a rich markup string."""
    from rich.markup import escape

    return escape(printable(text))


def one_line(text: object) -> str:
    """An error message as one printable line (line breaks become spaces)."""
    return printable(" ".join(str(text).split("\n")).replace("\r", " ").strip())


# -- values of command-line options (typer ``parser=`` callbacks) ------------------------------------------

def _bad(message: str) -> Exception:
    import typer

    return typer.BadParameter(message)


def path_value(value: object) -> Path:
    """A path option or argument: an empty string would silently mean the current directory."""
    if isinstance(value, Path):  # a default
        return value
    text = str(value)
    if not text.strip():
        raise _bad("the path is empty; give a file or folder name")
    if "\x00" in text:
        raise _bad("the path contains a NUL character")
    return Path(text)


def text_value(value: object) -> str:
    """A text option that must say something (an empty value would silently mean 'not given')."""
    text = str(value)
    if not text.strip():
        raise _bad("the value is empty; leave the option out instead")
    return text


def name_value(value: object) -> str:
    """A name or comma list of names: non-empty and free of control characters."""
    text = text_value(value)
    if _UNPRINTABLE.search(text):
        raise _bad(f"'{printable(text)}' contains control characters")
    return text
