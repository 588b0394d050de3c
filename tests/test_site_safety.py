"""Slugs, link schemes, SVG sanitising and path redaction for the static site."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cotbench.redact import redact_paths, redactor
from cotbench.site.assets import leaderboard_dir, static_dir, templates_dir
from cotbench.site.sanitize import safe_url, sanitize_svg, slugify


@pytest.mark.parametrize("text", ["org/model", "../../etc/passwd", "<script>alert(1)</script>", "名前", "", "a" * 300])
def test_slugify_is_file_name_safe(text: str) -> None:
    slug = slugify(text)
    assert slug and len(slug) <= 60
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not slug.startswith("-")


def test_slugify_keeps_distinct_inputs_distinct_and_is_stable() -> None:
    assert slugify("Model A") != slugify("model-a")
    assert slugify("Model A") == slugify("Model A")


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html,<script>", "vbscript:x", "//evil.example/x", "\\\\evil", "file:///etc",
                                 "http:evil", None, ""])
def test_safe_url_rejects_unsafe(url: str | None) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["https://huggingface.co/datasets/x", "http://example.org/a?b=c", "models/a.html",
                                 "../tasks/t.html"])
def test_safe_url_accepts_web_and_relative(url: str) -> None:
    assert safe_url(url) == url


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" '
    'onload="alert(1)"><defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs>'
    '<g clip-path="url(#clip1)" style="fill:red"><path aria-label="pt:0" d="M0,0"/>'
    '<text>&lt;script&gt;alert(1)&lt;/script&gt;</text>'
    '<a xlink:href="javascript:alert(1)"><path d="M1,1"/></a></g>'
    '<script>alert(1)</script><foreignObject><div>x</div></foreignObject></svg>'
)


def test_sanitize_svg_drops_active_content_and_prefixes_ids() -> None:
    out = sanitize_svg(SVG, "c-x", "A <b> title", "desc & more", {"pt:0": ("models/a.html", "model <one>")})
    root = ET.fromstring(out)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert "script" not in tags and "foreignObject" not in tags
    attrs = {k.rsplit("}", 1)[-1].lower(): v for el in root.iter() for k, v in el.attrib.items()}
    assert "onload" not in attrs and "style" not in attrs
    assert "javascript" not in out
    assert 'id="c-x-clip1"' in out and "url(#c-x-clip1)" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    # The titled, linked mark.
    links = [el for el in root.iter() if el.tag.endswith("}a") and el.get("href")]
    assert [a.get("href") for a in links] == ["models/a.html"]
    assert "model &lt;one&gt;" in out
    assert root.get("role") == "img" and root.find("{http://www.w3.org/2000/svg}title").text == "A <b> title"


def test_assets_resolve_from_the_source_checkout() -> None:
    assert (templates_dir() / "base.html").is_file()
    assert (static_dir() / "site.js").is_file() and (static_dir() / "site.css").is_file()
    assert leaderboard_dir().name == "leaderboard"


@pytest.mark.parametrize(("text", "published"), [
    ("hf:/home/alice/ckpts/run1/checkpoint-640", "hf:…/run1/checkpoint-640"),
    ("/home/alice/secret", "…/alice/secret"),
    ("~/ckpts/x/y", "…/x/y"),
    (r"C:\Users\alice\model", "C:…/alice/model"),
    ("file:///home/alice/a/b.json", "file://…/a/b.json"),
    ("step 3 appears twice (/a/b/c/d and /e/f/g)", "step 3 appears twice (…/c/d and …/f/g)"),
    ("chat template '/srv/tpl/chat.jinja'", "chat template '…/tpl/chat.jinja'"),
])
def test_redact_paths_cuts_local_paths(text: str, published: str) -> None:
    assert redact_paths(text) == published


@pytest.mark.parametrize("text", ["https://huggingface.co/org/model", "org/name@main", "run1/checkpoint-640",
                                  "hf:./runs/sft/checkpoint-640", "ratio 1/2", "plain text", ""])
def test_redact_paths_keeps_urls_repo_ids_and_relative_paths(text: str) -> None:
    assert redact_paths(text) == text


def test_redactor_off_keeps_everything() -> None:
    assert redactor(False)("/home/alice/x") == "/home/alice/x" and redactor(True)("/home/alice/x") == "…/alice/x"
    assert redactor(True)(None) == ""
