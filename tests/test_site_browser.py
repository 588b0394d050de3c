"""The built site in headless Chromium (Debian's package, driven by Playwright): it works and stays inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cotbench.site.build import build_site
from cotbench.site.sanitize import slugify
from tests.factories import FakeTask, make_run
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
    pg.on(
        "console",
        lambda m: pg.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.on("dialog", lambda d: (pg.problems.append(f"dialog: {d.message}"), d.dismiss()))
    # Nothing may leave the machine: any non-file request is recorded and aborted.
    pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
             else (pg.problems.append(f"request: {r.request.url}"), r.abort()))
    yield pg
    ctx.close()


def _open(page, site: Path, rel: str) -> None:
    path, _, fragment = rel.partition("#")
    page.goto((site / path).as_uri() + (f"#{fragment}" if fragment else ""))
    page.wait_for_load_state("load")


def _names(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.board:not(.plain) tbody tr:not([hidden]) th a", "els => els.map(e => e.textContent)"
    )


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
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("samples/hostile-*/*/index.html"))]
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("tasks/*.html"))]
    rels += [str(p.relative_to(site)) for p in sorted(site.glob("compare/*.html"))]
    assert len(rels) > 18
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


def _visible(page, selector: str, attr: str) -> list[str]:
    return page.eval_on_selector_all(selector, f"els => els.filter(e => !e.hidden && e.offsetParent !== null)"
                                               f".map(e => e.getAttribute('{attr}'))")


def _column(page, col: str) -> list[str]:
    """The visible cells of an index column, found by the position of its header."""
    return page.evaluate("""col => Array.from(document.querySelectorAll("table.board:not(.plain)")).flatMap(t => {
        const i = Array.from(t.tHead.rows[0].cells).findIndex(th => th.dataset.col === col);
        return Array.from(t.tBodies[0].rows).map(r => r.cells[i])
            .filter(c => c && !c.hidden && c.offsetParent !== null).map(c => c.textContent.trim()); })""", col)


def test_column_chooser_toggles_columns(page, site: Path) -> None:
    _open(page, site, "index.html")
    table = page.locator("table.board").first
    assert table.locator("th[data-col=params]").is_hidden()  # model metadata: off until chosen
    assert table.locator("th[data-col=family]").is_visible()
    page.locator("#column-chooser summary").click()
    page.check("input[data-col-toggle=params]")
    page.check("input[data-col-toggle=card]")
    assert table.locator("th[data-col=params]").is_visible()
    params = _column(page, "params")
    assert params.count("7B") == 5  # acme/..-7b and other/tuned-7b, read from their names; not the hostile label
    assert "acme/reasoner-7b" in _column(page, "card")
    cards = page.eval_on_selector_all(
        "table.board td a[href^='https://huggingface.co/']", "els => els.map(e => e.href)"
    )
    assert "https://huggingface.co/acme/reasoner-7b" in cards
    assert len(_column(page, "family")) == 6
    page.uncheck("input[data-col-toggle=family]")
    assert table.locator("th[data-col=family]").is_hidden()
    assert _column(page, "family") == []
    # the domain filter and the chooser together: a column hidden by either stays hidden
    page.select_option("#f-domain", "transfer")
    assert table.locator("th[data-col=in_domain]").is_hidden() and table.locator("th[data-col=transfer]").is_visible()
    page.uncheck("input[data-col-toggle=transfer]")
    assert table.locator("th[data-col=transfer]").is_hidden()
    page.select_option("#f-domain", "")
    assert table.locator("th[data-col=in_domain]").is_visible() and table.locator("th[data-col=transfer]").is_hidden()
    assert table.locator("th[data-col=params]").is_visible()
    assert page.problems == []


def test_sample_search_and_filters(page, site: Path) -> None:
    folder = f"samples/{slugify('acme_base-7b')}/{slugify('benign')}"
    _open(page, site, f"{folder}/index.html")
    assert page.locator("#s-count").text_content() == "20 of 20 shown"
    page.select_option("#s-correct", "incorrect")
    assert sorted(_visible(page, "#sample-index tbody tr", "data-item")) == ["benign-17", "benign-18"]
    page.select_option("#s-correct", "")
    page.select_option("#s-truncated", "yes")
    assert _visible(page, "#sample-index tbody tr", "data-item") == ["benign-19"]  # the unscored, truncated one
    page.select_option("#s-truncated", "")
    page.select_option("#s-label", "full_refusal")
    assert sorted(_visible(page, "#sample-index tbody tr", "data-item")) == ["benign-17", "benign-18"]
    page.select_option("#s-label", "")
    page.fill("#s-search", "prompt 3")
    assert _visible(page, "#sample-index tbody tr", "data-item") == ["benign-3"]
    assert page.locator("#s-count").text_content() == "1 of 20 shown"
    page.locator("#sample-index tbody tr:not([hidden]) th a").click()  # to the full sample on its page
    page.wait_for_load_state("load")
    assert page.url.endswith("1.html#s-4") and page.locator("article#s-4").is_visible()
    page.select_option("#s-correct", "correct")  # the same filters on a page of full samples
    assert page.locator("article.sample:not([hidden])").count() == 17
    _open(page, site, f"{folder}/index.html#q=benign-18")  # a link from the comparison page
    assert _visible(page, "#sample-index tbody tr", "data-item") == ["benign-18"]
    assert page.problems == []


def test_flipped_items_view_lists_the_right_items(page, site: Path) -> None:
    gsm = next(p for p in site.glob("compare/gsm-*.html"))
    late, first = slugify("acme_reasoner-7b-step200"), slugify("acme_reasoner-7b-step0")
    _open(page, site, f"{gsm.relative_to(site)}#a={late}&b={first}")
    assert page.locator("#cmp-a").input_value() == late and page.locator("#cmp-b").input_value() == first
    # step 0 answers items 0-3 and step 200 items 0-15: exactly items 4-15 flipped, all to A
    expected = [f"gsm-{i}" for i in range(4, 16)]
    assert _visible(page, "#compare-table tbody tr", "data-item") == expected
    assert (
        page.locator("#cmp-summary").text_content().startswith("20 items scored by both: 12 differ (12 better for A, 0")
    )
    page.select_option("#cmp-show", "b")
    assert _visible(page, "#compare-table tbody tr", "data-item") == []
    page.select_option("#cmp-a", first)  # swap the runs
    page.select_option("#cmp-b", late)
    assert _visible(page, "#compare-table tbody tr", "data-item") == expected
    row = page.locator("#compare-table tbody tr[data-item=gsm-4]")
    assert row.locator(".cmp-a").text_content() == "0" and row.locator(".cmp-b").text_content() == "1"
    row.locator(".cmp-link-b").click()  # to that item in B's samples
    page.wait_for_load_state("load")
    assert _visible(page, "#sample-index tbody tr", "data-item") == ["gsm-4"]
    # from a model page: the count of changed items links to this view
    _open(page, site, f"models/{late}.html")
    link = page.locator("#model-tasks a", has_text="12 of 20")
    assert link.count() == 1
    link.click()
    page.wait_for_load_state("load")
    assert _visible(page, "#compare-table tbody tr", "data-item") == expected
    assert page.problems == []


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve models against one base, their gains and costs close together: the plane is crowded."""
    root = tmp_path_factory.mktemp("crowded")
    runs = root / "runs"

    def tasks(k_math: int, k_harm: int) -> dict[str, FakeTask]:
        return {"gsm": FakeTask("in_domain", [[1.0]] * k_math + [[0.0]] * (20 - k_math)),
                "harm": FakeTask("safety_harmful", [[0.0]] * k_harm + [[1.0]] * (20 - k_harm),
                                 labels=[["full_compliance"]] * k_harm + [["full_refusal"]] * (20 - k_harm))}

    make_run(runs, "base/model", tasks(8, 4))
    refs = []
    for i in range(12):
        make_run(runs, f"fam{i % 4}/tuned-model-number-{i}", tasks(10 + i % 3, 5 + i % 2))
        refs.append(f"fam{i % 4}/tuned-model-number-{i}: base/model")
    (root / "refs.yaml").write_text("\n".join(refs) + "\n")
    build_site([runs], root / "site", reference_map=root / "refs.yaml", samples=False, workers=0)
    return root / "site"


def test_plane_labels_do_not_overlap(page, crowded: Path) -> None:
    _open(page, crowded, "plane.html")
    boxes = page.eval_on_selector_all(
        "figure.chart svg g.mark-text.role-mark text",
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [r.left, r.top, r.right, r.bottom, e.textContent]; })",
    )
    marks = page.eval_on_selector_all(
        "figure.chart svg g.mark-symbol.role-mark path",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
    plot = page.eval_on_selector_all("figure.chart svg", "els => els.map(e => e.getBoundingClientRect().width)")
    assert len(marks) == 12 and plot[0] > 300
    assert len(boxes) >= 6 and all(b[4].startswith("fam") for b in boxes)

    def overlap(a: list, b: list) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), (a, b)
        for m in marks:
            assert not overlap(a, m), (a, m)
    whiskers = page.locator("figure.chart svg g.mark-rule.role-mark line, figure.chart svg g.mark-rule.role-mark path")
    assert whiskers.count() >= 2 * 12  # an interval on each axis for every point
    assert page.problems == []


def test_new_pages_run_their_script_under_the_csp(page, site: Path) -> None:
    for rel in [str(next(site.glob("compare/*.html")).relative_to(site)),
                str(next(site.glob("samples/*/*/index.html")).relative_to(site))]:
        _open(page, site, rel)
        assert page.evaluate("document.body.dataset.ready") == "1", rel
        assert page.locator("script:not([src])").count() == 0
    assert page.problems == []
