"""The report opens in a real browser: headless Debian Chromium driven by Playwright.

Checks index.html, every notebook page and every figure it links to: no console error, no page
error, every image loads, every local link points to an existing file, and no request leaves
the machine (every request that is not file:, data: or about: is recorded and aborted).

Locally the test is skipped when /usr/bin/chromium is absent; in CI (CI=true) it fails instead,
since .ci/run installs Debian's chromium package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import (  # noqa: E402
    build_demo_report,
    install_fake_registry,
    make_tiny_notebooks,
)

from sirtstats.report import run_report, validate_parameters

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _require_chromium():
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright (Python) is not installed"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report with a previous quarter, from tiny notebooks (a table, metrics and a figure)."""
    base = tmp_path_factory.mktemp("browser")
    nb_dir = make_tiny_notebooks(base / "notebooks")
    with pytest.MonkeyPatch.context() as mp:
        install_fake_registry(mp)
        for period in ("2026Q2", "2026Q3"):
            result = run_report(validate_parameters({"period": period}),
                                output_root=base / "reports", notebooks_dir=nb_dir, echo=None)
    return result.path


def _visit(context, url: str) -> dict:
    """Open ``url``; return console errors, page errors, broken images and local links."""
    page = context.new_page()
    console, errors = [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url[:80]}")
            if r.url.startswith(LOCAL_SCHEMES) else None)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    images = page.evaluate(
        "() => Array.from(document.images).map(i => [i.src.slice(0, 60), "
        "i.complete && i.naturalWidth > 0])")
    links = page.evaluate(
        "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    title = page.title()
    page.close()
    return {"console": console, "errors": errors, "images": images, "links": links,
            "title": title}


def _check_report_in_browser(browser, report: Path) -> list[dict]:
    """Open index.html and everything it links to; assert the checks; return the page results."""
    outside = []
    context = browser.new_context(java_script_enabled=True)

    def guard(route):
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    index = _visit(context, report.joinpath("index.html").as_uri())
    assert index["title"].startswith("SIRT registry report ")
    pages = [index]
    local_targets = set()
    for href in index["links"]:
        parsed = urlparse(href)
        if parsed.scheme != "file":
            continue
        path = Path(unquote(parsed.path))
        assert path.exists(), f"index.html links to a missing file: {path}"
        local_targets.add(path)
    html_pages = sorted(p for p in local_targets
                        if p.suffix == ".html" and p != report / "index.html")
    notebook_pages = {p.name for p in (report / "notebooks").glob("*.html")}
    assert notebook_pages <= {p.name for p in html_pages}, "every notebook page is linked"
    for path in html_pages:
        pages.append(_visit(context, path.as_uri()))
    for path in sorted(p for p in local_targets if p.suffix in (".png", ".svg")):
        pages.append(_visit(context, path.as_uri()))
    context.close()

    assert outside == [], f"requests left the machine: {outside}"
    for result in pages:
        assert result["console"] == [], result["title"]
        assert result["errors"] == [], result["title"]
        broken = [src for src, ok in result["images"] if not ok]
        assert broken == [], (result["title"], broken)
    return pages


def test_report_pages_load_cleanly_and_offline(browser, report):
    pages = _check_report_in_browser(browser, report)
    titles = {p["title"] for p in pages}
    assert {"SIRT registry report 2026Q3", "Tiny cohort", "Tiny plot"} <= titles
    plot_page = next(p for p in pages if p["title"] == "Tiny plot")
    assert plot_page["images"], "the figure is embedded in the notebook page"


@pytest.mark.notebooks
def test_demo_report_pages_load_cleanly_and_offline(browser):
    """The real notebooks on the demo registry (the report shared with test_notebooks)."""
    pytest.importorskip("sirtstats.demo", reason="the demo registry is not available yet")
    if not list((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        pytest.skip("no notebook yet")
    report = build_demo_report("2026Q3").path
    pages = _check_report_in_browser(browser, report)
    n_images = sum(len(p["images"]) for p in pages)
    assert n_images >= len(list((report / "figures").glob("*.png")))


def test_guard_would_catch_an_external_request(browser, tmp_path):
    """The offline guard is not vacuous: a page loading a CDN script is recorded."""
    page_path = tmp_path / "bad.html"
    page_path.write_text("<!DOCTYPE html><html><head><script "
                         "src='https://cdn.example.org/x.js'></script></head><body>x</body></html>")
    outside = []
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        LOCAL_SCHEMES) else (outside.append(route.request.url), route.abort()))
    page = context.new_page()
    page.goto(page_path.as_uri(), wait_until="load")
    context.close()
    assert outside == ["https://cdn.example.org/x.js"]
