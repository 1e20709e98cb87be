"""A PNG of an HTML report, taken by a real headless Chromium (for the README and CI artifacts).

    python -m orchestra.reports.screenshot REPORT.json|REPORT.html -o report.png [--open-failure]

A `.json` report (from `orchestra report --format json`) is rendered to HTML first. It needs
Playwright's Python client (a dev dependency) and Debian's Chromium at /usr/bin/chromium (or
`--chromium PATH`); no browser is downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from orchestra.errors import ConfigurationError, InputRefused, OrchestraError, UsageError
from orchestra.reports.html import render_html
from orchestra.reports.model import RunReport

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.asynccontextmanager
async def chromium(executable: Path = CHROMIUM) -> AsyncIterator[Any]:
    """A Playwright `Browser` on the system's Chromium."""
    _require(executable)
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        raise ConfigurationError(
            "Playwright's Python client is missing: pip install -e '.[dev]'"
        ) from exc
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


_OPEN_FIRST_FAILURE = """() => {
  const run = document.querySelector("#runs > details.is-failure");
  if (!run) return;
  run.open = true;
  run.querySelectorAll("details.step.FAILED, details.step.ERROR").forEach(s => { s.open = true; });
}"""


async def screenshot(
    html_file: Path,
    png_file: Path,
    *,
    width: int = 1400,
    open_failure: bool = False,
    executable: Path = CHROMIUM,
) -> Path:
    """Open `html_file` from file:// and save a full-page PNG of it.

    `open_failure` first unfolds the first failed run and its failed steps.
    """
    async with chromium(executable) as browser:
        page = await browser.new_page(viewport={"width": width, "height": 900})
        await page.goto(file_url(html_file))
        if open_failure:
            await page.evaluate(_OPEN_FIRST_FAILURE)
        await page.screenshot(path=str(png_file), full_page=True)
    return png_file


def _require(executable: Path) -> None:
    if not executable.exists():
        raise ConfigurationError(
            f"no Chromium at {executable}: install it with `apt-get install -y chromium`"
        )


def file_url(path: Path) -> str:
    return path.absolute().as_uri()


def html_for(source: Path) -> Path:
    """`source` if it is HTML; for a JSON report, the HTML rendered next to it."""
    if not source.is_file():
        raise UsageError(f"{source}: no such file")
    if source.suffix.lower() in (".html", ".htm"):
        return source
    if source.suffix.lower() != ".json":
        raise UsageError(f"{source}: give a .json or .html report")
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        report = RunReport.model_validate(document["report"])
    except OSError as exc:
        raise UsageError(f"{source}: cannot read it: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not a report
        raise InputRefused(
            f"{source}: not a JSON report (`orchestra report SUITE_RUN --format json` writes one)"
        ) from exc
    target = source.with_suffix(".html")
    target.write_text(render_html(report), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Take a PNG screenshot of a report.")
    parser.add_argument("report", type=Path, help="a JSON or HTML report")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument(
        "--open-failure", action="store_true", help="unfold the first failed run and its steps"
    )
    args = parser.parse_args(argv)
    try:
        html_file = html_for(args.report)
        taking = screenshot(
            html_file,
            args.output,
            width=args.width,
            open_failure=args.open_failure,
            executable=args.chromium,
        )
        asyncio.run(taking)
    except OrchestraError as exc:  # exit 2 usage or configuration, 1 a refused report
        parser.exit(exc.exit_code, f"error: {exc.message}\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
