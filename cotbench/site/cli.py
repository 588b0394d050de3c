"""``cotbench leaderboard``: build the static site, or preview it locally."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Annotated

import typer

from cotbench.analysis.comparability import FLAG_HELP
from cotbench.errors import CotbenchError

app = typer.Typer(help="Build and preview the static leaderboard site.", no_args_is_help=True)


@app.command()
def build(
    results: Annotated[list[Path], typer.Argument(help="run directories, or directories of them")],
    output: Annotated[Path, typer.Option("--output", "-o", help="site folder to (re)write")] = Path("site"),
    reference_map: Annotated[Path | None, typer.Option("--reference-map", help="YAML: model label or run id -> reference")] = None,
    title: Annotated[str, typer.Option("--title", help="site title")] = "cotbench leaderboard",
    samples: Annotated[bool, typer.Option("--samples/--no-samples", help="write the sample browser")] = True,
    strict: Annotated[bool, typer.Option("--strict", help="fail on any malformed or partial result")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="worker processes (0: none; default: per core)")] = None,
    allow_mismatch: Annotated[list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", help=FLAG_HELP)] = None,
) -> None:
    """Build the site from RESULTS into --output."""
    from cotbench.site.build import build_site

    report = build_site(list(results), output, reference_map=reference_map, title=title, samples=samples, strict=strict,
                        workers=workers, allow_mismatch=allow_mismatch or ())
    for problem in report.problems:
        typer.echo(f"skipped: {problem}", err=True)
    typer.echo(f"wrote {report.pages} pages for {report.models} run(s) and {report.tasks} task(s) to {report.output}")


def make_server(site: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A static file server for ``site`` on 127.0.0.1 only (port 0: any free port)."""
    if not (site / "index.html").is_file():
        raise CotbenchError(f"{site}: no index.html; build the site first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise CotbenchError(f"cannot serve on 127.0.0.1:{port} ({exc.strerror})") from None


@app.command()
def serve(
    site: Annotated[Path, typer.Argument(help="a built site folder")] = Path("site"),
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8000,
) -> None:
    """Preview a built site at http://127.0.0.1:PORT/ (local only)."""
    with make_server(site, port) as server:
        typer.echo(f"serving {site} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
