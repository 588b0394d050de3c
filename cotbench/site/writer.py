"""Write the site's pages under its output folder, counting them; paths are always built from slugs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2


class PageWriter:
    def __init__(self, out: Path, env: jinja2.Environment) -> None:
        self.out, self.env, self.pages = out, env, 0
        self.globals: dict[str, Any] = {}  # context every page of the sample browser shares
        self._templates: dict[str, jinja2.Template] = {}

    def page(self, rel: str, template: str, **ctx: Any) -> None:
        depth = rel.count("/")
        tpl = self._templates.get(template) or self._templates.setdefault(template, self.env.get_template(template))
        self.text(rel, tpl.render(root="../" * depth, **ctx))
        self.pages += 1

    def text(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
