"""The children's entry point: ``python -I .../child/__main__.py candidate|judge|probe`` reads a
JSON job on stdin.

Run by path in isolated mode: no user site-packages, no ``PYTHON*`` variables, and neither the
working directory nor this script's directory on ``sys.path``. This file registers the
``cotbench.sandbox.child`` package from its own directory (adding nothing to ``sys.path``, so no
name of the standard library can be shadowed) and imports only the role's module, so a child
never imports ``cotbench`` itself or the host side (the host always starts it this way).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

_PACKAGE = "cotbench.sandbox.child"
_ROLES = ("candidate", "judge", "probe")  # each a module of the package with a main()


def _register_package() -> None:
    """Make ``cotbench.sandbox.child`` importable from this directory, without its parents."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(_PACKAGE, os.path.join(here, "__init__.py"),
                                                  submodule_search_locations=[here])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_PACKAGE} from {here}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = package
    spec.loader.exec_module(package)


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role not in _ROLES:
        sys.exit(f"usage: python -I {__file__} {'|'.join(_ROLES)} < job.json")
    if _PACKAGE not in sys.modules:  # run by path; under ``python -m`` the package is already there
        _register_package()
    importlib.import_module(f"{_PACKAGE}.{role}").main()
    sys.exit(0)
