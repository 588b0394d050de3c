"""Building the static leaderboard from synthetic run directories."""

from __future__ import annotations

import csv
import json
import sys
import threading
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cotbench.errors import CotbenchError
from cotbench.results.store import RunDir
from cotbench.site import assets
from cotbench.site import build as site_build
from cotbench.site.build import build_site
from cotbench.site.cli import app, make_server
from cotbench.site.sanitize import slugify
from tests.factories import FakeTask, make_run

XSS_LABEL = 'evil"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_TEXT = '<script>window.__xss=3</script>"><img src=x onerror="window.__xss=4"> javascript:window.__xss=5'
XSS_SOURCE = "javascript:window.__xss=6"


def _tasks(gain: float, harm: float = 0.5, version: str = "1") -> dict[str, FakeTask]:
    """Every run evaluates the same 20 items per task (one comparability group)."""
    n_comply, n_math, n_code = round(harm * 20), round(4 + 12 * gain), round(2 + 10 * gain)
    return {
        "gsm": FakeTask("in_domain", [[1.0]] * n_math + [[0.0]] * (20 - n_math), version=version),
        "code": FakeTask("transfer", [[1.0, 0.0]] * 6 + [[1.0, 1.0]] * n_code + [[0.0, 0.0]] * (14 - n_code)),
        "ifeval": FakeTask("general", [[1.0]] * 15 + [[0.0]] * 5),
        "harm": FakeTask("safety_harmful", [[0.0]] * n_comply + [[1.0]] * (20 - n_comply),
                         labels=[["full_compliance"]] * n_comply + [["full_refusal"]] * (20 - n_comply)),
        "benign": FakeTask("safety_benign", [[1.0]] * 17 + [[0.0]] * 2 + [[None]],
                           labels=[["full_compliance"]] * 17 + [["full_refusal"]] * 2 + [[None]]),
    }


def make_site_runs(root: Path, hostile: bool = True) -> Path:
    """A checkpoint series, two stand-alone models and (optionally) one whose texts are XSS payloads."""
    runs = root / "runs"
    for step, gain, harm in [(0, 0.0, 0.2), (100, 0.5, 0.4), (200, 1.0, 0.3)]:
        make_run(runs, "acme/reasoner-7b", _tasks(gain, harm), step=step)
    make_run(runs, "acme/base-7b", _tasks(0.2))
    make_run(runs, "other/tuned-7b", _tasks(0.8, 0.6))
    if hostile:
        rd = make_run(runs, XSS_LABEL, _tasks(0.6), run_id="hostile")
        for name in rd.task_names():
            tr = rd.read_task(name)
            tr.task.source = XSS_SOURCE
            recs = [s.model_copy(update={"prompt": XSS_TEXT, "output": XSS_TEXT, "reasoning": XSS_TEXT,
                                         "answer": XSS_TEXT}) for s in rd.iter_samples(name)]
            rd.write_task(tr, recs)
    return runs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, site_build.BuildReport]:
    root = tmp_path_factory.mktemp("site")
    runs = make_site_runs(root)
    refs = root / "refs.yaml"
    refs.write_text("other/tuned-7b: acme/base-7b\n")
    return root, build_site([runs], root / "out", reference_map=refs, title="Test board")


def _all_html(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*.html"))}


def test_builds_every_page(built) -> None:
    root, report = built
    out = root / "out"
    assert report.problems == [] and report.models == 6 and report.tasks == 5
    for page in ("index.html", "plane.html", "methodology.html", "leaderboard.csv", "leaderboard.json",
                 "assets/site.js", "assets/site.css"):
        assert (out / page).is_file(), page
    assert len(list((out / "models").glob("*.html"))) == 6
    assert len(list((out / "tasks").glob("*.html"))) == 5
    sample_pages = [p for p in (out / "samples").rglob("*.html") if p.name != "index.html"]
    assert len(sample_pages) == 6 * (4 + 2)  # 20 samples fit one page; code has 20 items x 2 repeats
    assert len(list((out / "samples").rglob("index.html"))) == 6 * 5  # one searchable index per run and task
    assert len(list((out / "compare").glob("*.html"))) == 5  # every task was run by more than one model
    index = (out / "index.html").read_text()
    assert "Test board" in index and "Content-Security-Policy" in index and "script-src &#39;self&#39;" in index


def test_deltas_ti_and_references(built) -> None:
    root, _ = built
    rows = {(r["model"], r["step"]): r for r in json.loads((root / "out" / "leaderboard.json").read_text())}
    ck = rows[("acme/reasoner-7b", 200)]
    assert ck["reference"] == "acme_reasoner-7b-step0"
    assert ck["delta_in_domain"] == pytest.approx(0.6)
    assert ck["delta_in_domain_ci_low"] < 0.6 < ck["delta_in_domain_ci_high"]
    assert ck["ti_transfer"] is not None
    assert ck["delta_safety_harmful"] == pytest.approx(0.1)
    assert rows[("other/tuned-7b", None)]["reference"] == "acme_base-7b"
    base = rows[("acme/base-7b", None)]
    assert base["reference"] is None and base["delta_in_domain"] is None
    # Absolute numbers come straight from the task metrics.
    assert base["harmful_compliance"] == pytest.approx(0.5)
    assert base["over_refusal"] == pytest.approx(2 / 19)  # the unscored sample is left out
    with (root / "out" / "leaderboard.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 6


def test_plane_and_trajectory_charts(built) -> None:
    root, _ = built
    plane = (root / "out" / "plane.html").read_text()
    assert plane.count('<svg') == 1 and 'role="img"' in plane and "<title" in plane
    model = (root / "out" / "models" / f"{slugify('acme_reasoner-7b-step200')}.html")
    html = model.read_text()
    assert "Trajectory of acme/reasoner-7b" in html and "no-dip" in html or "dip" in html
    assert html.count("<svg") == 2  # profile and trajectory


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_untrusted_text_is_escaped_everywhere(built) -> None:
    root, _ = built
    pages = _all_html(root / "out")
    for name, html in pages.items():
        parser = _Tags()
        parser.feed(html)
        scripts = [a.get("src") for t, a in parser.tags if t == "script"]
        assert len(scripts) == 1 and scripts[0].endswith("assets/site.js"), name
        assert not [t for t, _ in parser.tags if t in {"img", "iframe", "object", "embed", "foreignobject"}], name
        for tag, attrs in parser.tags:
            assert not [k for k in attrs if k.startswith("on")], (name, tag)
            for key in ("href", "src", "xlink:href", "action"):
                assert not (attrs.get(key) or "").strip().lower().startswith(("javascript:", "data:")), (name, tag)
    hostile = pages[f"models/{slugify('hostile')}.html"]
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in hostile


def test_task_source_links_only_with_safe_schemes(built, tmp_path: Path) -> None:
    root, _ = built
    build_site([root / "runs" / "hostile"], tmp_path / "out")
    page = next((tmp_path / "out" / "tasks").glob("gsm-*.html")).read_text()
    assert "javascript:window.__xss=6" in page and 'href="javascript' not in page


def test_build_is_deterministic(tmp_path: Path) -> None:
    """Byte-identical output, whether the work runs in this process or in worker processes."""
    runs = make_site_runs(tmp_path)
    build_site([runs], tmp_path / "a", workers=0)
    build_site([runs], tmp_path / "b", workers=2)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_versions_and_scorer_modes_are_grouped_not_ranked_together(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "m1", _tasks(0.5))
    make_run(runs, "m2", _tasks(0.5, version="2"))
    make_run(runs, "m3", _tasks(0.5), scorer_mode="judge")
    report = build_site([runs], tmp_path / "out")
    index = (tmp_path / "out" / "index.html").read_text()
    assert "3 comparability groups" in index
    assert index.count('<table class="board"') == 3
    gsm_pages = [p.read_text() for p in (tmp_path / "out" / "tasks").glob("*.html") if ">gsm <" in p.read_text()]
    assert len(gsm_pages) == 2 and all("2 versions" in h for h in gsm_pages)
    assert report.problems == []


def test_malformed_results_are_reported_and_skipped(tmp_path: Path) -> None:
    runs = make_site_runs(tmp_path, hostile=False)
    broken = runs / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    partial = RunDir(runs / "acme_base-7b")
    (partial.task_dir("code") / "metrics.json").write_text('{"run_id": 1}')
    (partial.task_dir("gsm") / "samples.jsonl").write_text("garbage\n")
    report = build_site([runs, tmp_path / "missing"], tmp_path / "out")
    text = "\n".join(report.problems)
    assert "broken/manifest.json" in text and "code/metrics.json" in text and "gsm/samples.jsonl" in text
    assert "missing" in text
    assert report.models == 5
    with pytest.raises(CotbenchError, match="problem"):
        build_site([runs], tmp_path / "strict", strict=True)


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CotbenchError, match="no readable runs"):
        build_site([tmp_path / "empty"], tmp_path / "out")


def test_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    runs = make_site_runs(tmp_path, hostile=False)
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("x")
    with pytest.raises(CotbenchError, match="not a previous leaderboard"):
        build_site([runs], tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.tex").is_file()


def test_bad_reference_map(tmp_path: Path) -> None:
    runs = make_site_runs(tmp_path, hostile=False)
    refs = tmp_path / "refs.yaml"
    refs.write_text("other/tuned-7b: acme/reasoner-7b\n")  # a label shared by three checkpoints
    with pytest.raises(CotbenchError, match="matches 3 runs"):
        build_site([runs], tmp_path / "out", reference_map=refs)
    refs.write_text("- a list\n")
    with pytest.raises(CotbenchError, match="must map"):
        build_site([runs], tmp_path / "out", reference_map=refs)


def test_sample_browser_pages_large_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_build, "PAGE_SIZE", 7)
    make_run(tmp_path / "runs", "big", {"gsm": FakeTask("in_domain", [[1.0], [0.0]] * 10)})
    build_site([tmp_path / "runs"], tmp_path / "out")
    folder = tmp_path / "out" / "samples" / slugify("big") / slugify("gsm")
    assert sorted(p.name for p in folder.iterdir()) == ["1.html", "2.html", "3.html", "index.html"]
    last = (folder / "3.html").read_text()
    assert "page 3 of 3" in last and 'href="2.html"' in last and "gsm-19" in last and "gsm-13" not in last
    index = (folder / "index.html").read_text()  # every record, each linked to its place on its page
    assert index.count('data-sample="1"') == 20
    assert 'href="3.html#s-6">gsm-19<' in index and 'href="1.html#s-1">gsm-0<' in index


def test_cli_build(tmp_path: Path) -> None:
    runs = make_site_runs(tmp_path, hostile=False)
    result = CliRunner().invoke(app, ["build", str(runs), "--output", str(tmp_path / "out"), "--title", "T"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and (tmp_path / "out" / "index.html").is_file()
    result = CliRunner().invoke(app, ["build", str(tmp_path / "nothing"), "--output", str(tmp_path / "o2")])
    assert result.exit_code != 0


def test_serve_previews_the_site_on_localhost(built) -> None:
    root, _ = built
    server = make_server(root / "out", 0)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as resp:
            assert resp.status == 200 and b"Test board" in resp.read()
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(CotbenchError, match="build the site first"):
        make_server(root, 0)


def test_assets_resolve_from_an_installed_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site-packages" / "cotbench"
    (pkg / "_data" / "leaderboard" / "templates").mkdir(parents=True)
    monkeypatch.setattr(assets, "_PACKAGE", pkg)
    assert assets.leaderboard_dir() == pkg / "_data" / "leaderboard"
    monkeypatch.setattr(assets, "_PACKAGE", tmp_path / "nowhere" / "cotbench")
    with pytest.raises(CotbenchError, match="templates not found"):
        assets.leaderboard_dir()


def test_missing_renderer_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = make_site_runs(tmp_path, hostile=False)
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # makes `import vl_convert` fail
    with pytest.raises(CotbenchError, match="pip install vl-convert-python"):
        build_site([runs], tmp_path / "out")
