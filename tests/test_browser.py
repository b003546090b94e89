"""The report opens in a real browser: headless Debian Chromium driven by Playwright.

Checks index.html, every notebook page and every figure it links to: no console error, no page
error, every image loads, every local link points to an existing file, and no request leaves
the machine (every request that is not file:, data: or about: is recorded and aborted).

What a reader sees is checked too, on the rendered text of every page: no ``nan``/``NaT``/
``<NA>``, no Python dict dump, no traceback, no pandas row-number column (0, 1, 2, ...), no
unrounded float (``21.3559322``, ``4.881890e-01``); index.html has a headline table whose
estimates are spelled "21.4 % (16.8–26.5)" / "15.2 months (13.3–16.6)" / "NR", no raw metric path
(``01_cohort``, ``km.OS.median``) and no number with 4 or more decimals; every notebook page links
back to index.html.

Every page is kept as a full-page screenshot for review, in ``reports/_screenshots/<test>/``
(gitignored; ``SIRTSTATS_SCREENSHOTS`` sets another folder); the path is printed.

Locally the test is skipped when /usr/bin/chromium is absent; in CI (CI=true) it fails instead,
since .ci/run installs Debian's chromium package.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report_helpers import (  # noqa: E402
    FIGURE_CELL,
    build_demo_report,
    install_fake_registry,
    make_notebook,
)

from sirtstats.report import run_report, validate_parameters

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
REPO = Path(__file__).resolve().parents[1]

#: Text a reader must never see on a page (rendered text, case-sensitive where it matters).
BAD_TEXT = {
    "nan": re.compile(r"\b(?:nan|NaN|NaT)\b|<NA>"),
    "dict dump": re.compile(r"\{\s*['\"][^'\"\n]{1,60}['\"]\s*:"),
    "traceback": re.compile(r"Traceback \(most recent call last\)|\w+Error: .*\n.*line \d+"),
    "unrounded float": re.compile(r"(?<![\w.])\d+\.\d{6,}(?![\w.])|\b\d\.\d+e[-+]\d{2}\b"),
}
#: Estimates of the index's headline table.
HEADLINE_VALUE = re.compile(
    r"^(?:\d+\.\d %(?: \(\d+\.\d\u2013\d+\.\d\))?"
    r"|(?:\d+\.\d months|NR)(?: \(\d+\.\d\u2013(?:\d+\.\d|NR)\))?"
    r"|\d[\d\u2009]*(?: \(\d+\.\d %\))?|\u2014)$")

# Rendered text, with <code>, <pre> and links left out where raw names are legitimate.
_JS_PAGE = """() => {
  const text = document.body ? document.body.innerText : "";
  const parts = [];
  if (document.body) {
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.parentElement.closest("code, pre, a, summary, style, .settings")) {
        parts.push(n.textContent);
      }
    }
  }
  const prose = parts.join(" ");
  const indexCols = [];
  document.querySelectorAll("table").forEach((t, k) => {
    const heads = Array.from(t.querySelectorAll("tbody tr")).map(
      r => r.firstElementChild && r.firstElementChild.tagName === "TH"
           ? r.firstElementChild.textContent.trim() : null);
    if (heads.length >= 2 && heads.every((h, i) => h === String(i))) indexCols.push(k);
  });
  const headline = Array.from(document.querySelectorAll("table.headline td.value"))
    .map(td => td.textContent.trim());
  const errorOutputs = document.querySelectorAll(
    "[data-mime-type='application/vnd.jupyter.error'], .jp-OutputArea-output.jp-mod-error"
  ).length;
  return {text, prose, indexCols, headline, errorOutputs};
}"""


def _screenshot_dir(name: str) -> Path:
    root = Path(os.environ.get("SIRTSTATS_SCREENSHOTS") or REPO / "reports" / "_screenshots")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of {name}: {folder}")
    return folder


def content_problems(result: dict) -> list[str]:
    """What a reader should not see on a page (see the module docstring)."""
    problems = []
    for name, pattern in BAD_TEXT.items():
        match = pattern.search(result["text"])
        if match:
            start = max(match.start() - 40, 0)
            problems.append(f"{name}: ...{result['text'][start:match.end() + 40]!r}")
    if result["index_cols"]:
        problems.append(f"pandas index column in table(s) {result['index_cols']}")
    if result["error_outputs"]:
        problems.append(f"{result['error_outputs']} error output(s)")
    return problems


def index_problems(result: dict, *, headline: bool = True) -> list[str]:
    """What index.html must look like beyond :func:`content_problems` (``headline``: the
    notebooks record the headline numbers, so the table must be there)."""
    problems = []
    if headline and not result["headline"]:
        problems.append("no headline table (table.headline)")
    problems += [f"headline estimate {v!r}" for v in result["headline"]
                 if not HEADLINE_VALUE.match(v)]
    prose = result["prose"]
    raw = sorted(set(re.findall(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b", prose)))
    if raw:
        problems.append(f"raw names in the text: {raw[:8]}")
    long = sorted(set(re.findall(r"(?<![\w.])\d+\.\d{4,}(?![\w.])", prose)))
    if long:
        problems.append(f"unrounded numbers: {long[:8]}")
    return problems


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


#: A tiny notebook cell: a table shown without its row numbers, and key numbers.
CLEAN_TABLE_CELL = '''import pandas as pd
from IPython.display import HTML, display
from sirtstats.outputs import save_metrics, save_table
month = int(cutoff_date[5:7])
table = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "value": [1.5, 2.25, month / 3]})
save_metrics({"n_patients": month, "mean_value": table["value"].mean(), "cutoff": cutoff_date},
             notebook=NAME, output_dir=output_dir)
save_table(table, NAME, output_dir=output_dir)
display(HTML(table.round(1).to_html(index=False)))'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report with a previous quarter, from tiny notebooks (a table, metrics and a figure)."""
    base = tmp_path_factory.mktemp("browser")
    nb_dir = base / "notebooks"
    make_notebook(nb_dir / "01_tiny.ipynb", CLEAN_TABLE_CELL, title="Tiny cohort")
    make_notebook(nb_dir / "02_plot.ipynb", CLEAN_TABLE_CELL, FIGURE_CELL, title="Tiny plot")
    with pytest.MonkeyPatch.context() as mp:
        install_fake_registry(mp)
        for period in ("2026Q2", "2026Q3"):
            result = run_report(validate_parameters({"period": period}),
                                output_root=base / "reports", notebooks_dir=nb_dir, echo=None)
    return result.path


def _visit(context, url: str, shot: Path | None = None) -> dict:
    """Open ``url``; return console errors, page errors, broken images, local links and the
    rendered text; with ``shot``, save a full-page screenshot there."""
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
    seen = page.evaluate(_JS_PAGE)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    return {"console": console, "errors": errors, "images": images, "links": links,
            "title": title, "url": url, "text": seen["text"], "prose": seen["prose"],
            "index_cols": seen["indexCols"], "headline": seen["headline"],
            "error_outputs": seen["errorOutputs"]}


def _check_report_in_browser(browser, report: Path, shots: Path, *,
                             headline: bool = True) -> list[dict]:
    """Open index.html and everything it links to; screenshot each page into ``shots``; assert
    the checks; return the page results."""
    outside = []
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1280,
                                                                      "height": 900})

    def guard(route):
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    index = _visit(context, report.joinpath("index.html").as_uri(), shots / "index.png")
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
        shot = path.stem if path.parent == report / "notebooks" else "__".join(
            path.relative_to(report.parent).with_suffix("").parts)  # e.g. 2026Q2__index
        pages.append(_visit(context, path.as_uri(), shots / f"{shot}.png"))
    for path in sorted(p for p in local_targets if p.suffix in (".png", ".svg")):
        pages.append(_visit(context, path.as_uri()))
    context.close()

    assert outside == [], f"requests left the machine: {outside}"
    problems = {}
    for result in pages:
        found = [f"console: {m}" for m in result["console"]] + result["errors"]
        found += [f"broken image {src}" for src, ok in result["images"] if not ok]
        if result["url"].endswith(".html"):
            found += content_problems(result)
        if result is index:
            found += index_problems(result, headline=headline)
        elif result["url"].startswith((report / "notebooks").as_uri()):
            index_uri = report.joinpath("index.html").as_uri()
            if index_uri not in [h.split("#")[0] for h in result["links"]]:
                found.append("no link back to index.html")
        if found:
            problems[result["title"]] = found
    assert problems == {}, f"screenshots in {shots}; problems: {problems}"
    return pages


def test_report_pages_load_cleanly_and_offline(browser, report):
    pages = _check_report_in_browser(browser, report, _screenshot_dir("tiny"),
                                     headline=False)  # tiny notebooks: no response, survival
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
    pages = _check_report_in_browser(browser, report, _screenshot_dir("demo"))
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


def test_content_checks_catch_what_a_reader_must_not_see(browser, tmp_path):
    """The checks are not vacuous: a page with each problem, and a flat metric dump as index
    (today's index before the headline table: "KM · OS · median 15.18", "01_cohort"), fail."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body><p>median nan months</p>"
        "<p>{'criteria': ['RECIST_1_1']}</p><pre>Traceback (most recent call last)</pre>"
        "<table class=dataframe><thead><tr><th></th><th>n</th></tr></thead><tbody>"
        "<tr><th>0</th><td>21.3559322</td></tr><tr><th>1</th><td>4.881890e-01</td></tr>"
        "</tbody></table></body></html>")
    flat = tmp_path / "flat.html"
    flat.write_text("<!DOCTYPE html><html><body><h3>01_cohort</h3><table><tr><td>KM · OS · "
                    "median</td><td>15.18</td></tr><tr><td>surv 12</td><td>0.5886</td></tr>"
                    "</table></body></html>")
    context = browser.new_context()
    result = _visit(context, bad.as_uri(), tmp_path / "bad.png")
    dump = _visit(context, flat.as_uri())
    context.close()
    found = " | ".join(content_problems(result))
    for name in ("nan", "dict dump", "traceback", "unrounded float", "pandas index column"):
        assert name in found
    assert (tmp_path / "bad.png").stat().st_size > 0
    found = " | ".join(index_problems(dump))
    assert "no headline table" in found
    assert "01_cohort" in found
    assert "0.5886" in found
