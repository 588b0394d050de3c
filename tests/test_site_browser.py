"""The built site in headless Chromium (Debian's package, driven by Playwright): it works and stays inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cotbench.site.build import build_site
from tests.test_site_build import make_site_runs

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    build_site([make_site_runs(root)], root / "site", title="Browser board")
    return root / "site"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.problems = []  # console errors, page errors and dialogs: none may happen
    pg.on("console", lambda m: pg.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.on("dialog", lambda d: (pg.problems.append(f"dialog: {d.message}"), d.dismiss()))
    # Nothing may leave the machine: any non-file request is recorded and aborted.
    pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
             else (pg.problems.append(f"request: {r.request.url}"), r.abort()))
    yield pg
    ctx.close()


def _open(page, site: Path, rel: str) -> None:
    page.goto((site / rel).as_uri())
    page.wait_for_load_state("load")


def _names(page) -> list[str]:
    return page.eval_on_selector_all("table.board:not(.plain) tbody tr:not([hidden]) th a", "els => els.map(e => e.textContent)")


def test_index_loads_sorts_and_filters(page, site: Path, tmp_path: Path) -> None:
    _open(page, site, "index.html")
    assert page.evaluate("document.body.dataset.ready") == "1"  # site.js ran under the CSP from file://
    assert page.locator("#row-count").text_content() == "6 of 6 rows shown"
    # Sort by in-domain score: descending first, missing values last, then ascending.
    header = page.locator("table.board").first.locator("th[data-domain=in_domain] button").first
    header.click()
    col = page.eval_on_selector_all("table.board:not(.plain) tbody tr td[data-domain=in_domain]:nth-of-type(3)",
                                    "els => els.map(e => e.getAttribute('data-sort'))")
    values = [float(v) for v in col if v]
    assert values == sorted(values, reverse=True) and len(values) >= 5
    header.click()
    col = page.eval_on_selector_all("table.board:not(.plain) tbody tr td[data-domain=in_domain]:nth-of-type(3)",
                                    "els => els.map(e => e.getAttribute('data-sort'))")
    assert [float(v) for v in col if v] == sorted(values)
    # Filter by family, then by name.
    page.select_option("#f-family", "acme")
    assert sorted(set(_names(page))) == ["acme/base-7b", "acme/reasoner-7b"]
    assert page.locator("#row-count").text_content() == "4 of 6 rows shown"
    page.select_option("#f-family", "")
    page.fill("#f-search", "tuned")
    assert _names(page) == ["other/tuned-7b"]
    page.fill("#f-search", "")
    # Domain filter hides the other domains' columns.
    page.select_option("#f-domain", "transfer")
    assert page.locator("th[data-domain=in_domain]").first.is_hidden()
    assert page.locator("th[data-domain=transfer]").first.is_visible()
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'index.png'}")
    assert page.problems == []


def test_links_charts_and_sample_pages(page, site: Path, tmp_path: Path) -> None:
    _open(page, site, "index.html")
    page.locator("table.board th a", has_text="other/tuned-7b").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(".html") and "/models/" in page.url
    assert page.locator("h1").text_content() == "other/tuned-7b"
    box = page.locator("figure.chart svg").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100
    assert page.locator("figure.chart svg").first.get_attribute("role") == "img"
    page.screenshot(path=str(tmp_path / "model.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'model.png'}")
    page.locator("a", has_text="samples").first.click()
    page.wait_for_load_state("load")
    assert "/samples/" in page.url and page.locator("article.sample").count() == 20
    page.locator(".crumbs a").nth(2).click()
    page.wait_for_load_state("load")
    assert "/tasks/" in page.url and page.locator("#task-table tbody tr").count() == 6
    _open(page, site, "plane.html")
    points = page.locator("figure.chart svg a")
    assert points.count() == 2  # the two later checkpoints: the only runs with a reference here
    points.first.click()
    page.wait_for_load_state("load")
    assert "/models/" in page.url
    assert page.problems == []


def test_xss_payloads_stay_inert(page, site: Path) -> None:
    rels = ["index.html", "plane.html", "methodology.html"]
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("models/hostile-*.html"))]
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("samples/hostile-*/*/1.html"))]
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("tasks/*.html"))]
    assert len(rels) > 8
    for rel in rels:
        _open(page, site, rel)
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        assert page.evaluate("window.__xss") is None, rel
        assert page.locator("img").count() == 0, rel
        assert page.locator("script:not([src])").count() == 0, rel
    # The payload is visible as text on the sample page, not executed.
    sample = next(site.glob("samples/hostile-*/*/1.html"))
    _open(page, site, str(sample.relative_to(site)))
    assert "<script>window.__xss=3</script>" in page.locator("article.sample pre").first.text_content()
    assert page.problems == []


def test_csp_blocks_an_injected_inline_script(page, site: Path, tmp_path: Path) -> None:
    """Were escaping ever to fail, the CSP would still stop inline script; and it allows site.js on file://."""
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    index = copy / "index.html"
    index.write_text(index.read_text().replace("</main>", "<script>window.__xss=9</script></main>"))
    _open(page, copy, "index.html")
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert any("Content Security Policy" in p for p in page.problems)
