"""Path redaction for the site: the functions live in :mod:`cotbench.redact` (``cotbench push``
uses them too, and hub sits below site); re-exported here for the site's modules."""

from __future__ import annotations

from cotbench.redact import ELLIPSIS, KEEP, redact_paths, redactor

__all__ = ["ELLIPSIS", "KEEP", "redact_paths", "redactor"]
