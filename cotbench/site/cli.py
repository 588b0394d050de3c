"""``cotbench leaderboard``: build the static site, or preview it locally."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Annotated, Any

import typer

from cotbench.analysis.comparability import FLAG_HELP
from cotbench.errors import CotbenchError, name_value, path_value, printable, text_value

app = typer.Typer(help="Build and preview the static leaderboard site.", no_args_is_help=True)


def _title_value(value: object) -> str:
    text = text_value(value)
    if printable(text) != text:
        raise typer.BadParameter(f"'{printable(text)}' contains control characters")
    return text


@app.command()
def build(
    results: Annotated[list[Path], typer.Argument(parser=path_value, help="run directories, or directories of them")],
    output: Annotated[Path, typer.Option("--output", "-o", parser=path_value, help="site folder to (re)write")] = Path(
        "site"
    ),
    reference_map: Annotated[
        Path | None, typer.Option("--reference-map", parser=path_value, help="YAML: model label or run id -> reference")
    ] = None,
    title: Annotated[str, typer.Option("--title", parser=_title_value, help="site title")] = "cotbench leaderboard",
    samples: Annotated[bool, typer.Option("--samples/--no-samples", help="write the sample browser")] = True,
    strict: Annotated[bool, typer.Option("--strict", help="fail on any malformed or partial result")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="worker processes (0: none; default: per core)")
    ] = None,
    allow_mismatch: Annotated[
        list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", parser=name_value, help=FLAG_HELP)
    ] = None,
    redact_paths: Annotated[
        bool,
        typer.Option(
            "--redact-paths/--no-redact-paths",
            help="cut absolute local paths in provenance (pages, CSV, JSON) to their last two parts",
        ),
    ] = True,
) -> None:
    """Build the site from RESULTS into --output. A run that cannot be read is skipped, by name."""
    from cotbench.site.build import build_site

    if workers is not None and workers < 0:
        raise CotbenchError(f"--workers must be 0 (no worker processes) or more, got {workers}")
    if reference_map is not None and not reference_map.is_file():
        what = "is a folder" if reference_map.is_dir() else "does not exist"
        raise CotbenchError(f"--reference-map {reference_map} {what}; give a YAML file")
    report = build_site(list(results), output, reference_map=reference_map, title=title, samples=samples, strict=strict,
                        workers=workers, allow_mismatch=allow_mismatch or (), redact_paths=redact_paths)
    for problem in report.problems:
        typer.echo(f"skipped: {printable(problem)}", err=True)
    typer.echo(f"wrote {report.pages} pages for {report.models} run(s) and {report.tasks} task(s) to "
               f"{printable(report.output)}")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the built site only: no directory listings, and the site's own strict CSP as a header."""

    def end_headers(self) -> None:
        from cotbench.site.build import CSP

        self.send_header("Content-Security-Policy", f"{CSP}; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        super().end_headers()

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "No such page")
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        # request lines carry client-chosen text: keep control characters off the terminal
        super().log_message("%s", printable(format % args))


def make_server(site: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A static file server for ``site`` on 127.0.0.1 only (port 0: any free port)."""
    if not 0 <= port <= 65535:
        raise CotbenchError(f"--port must be between 0 (any free port) and 65535, got {port}")
    if not (site / "index.html").is_file():
        raise CotbenchError(f"{site}: no index.html; build the site first")
    handler = functools.partial(_SiteHandler, directory=str(site))
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CotbenchError(f"cannot serve on 127.0.0.1:{port} ({reason}); try another --port") from None


@app.command()
def serve(
    site: Annotated[Path, typer.Argument(parser=path_value, help="a built site folder")] = Path("site"),
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1 (0: any free port)")] = 8000,
) -> None:
    """Preview a built site at http://127.0.0.1:PORT/ (local only)."""
    with make_server(site, port) as server:
        typer.echo(f"serving {printable(site)} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
