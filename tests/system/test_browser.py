"""The dashboard in a real browser: `lossdb dashboard` served, headless Chromium through Playwright."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app as cli
from lossdb.core.store import open_store
from lossdb.core.judging.headlines import summary
from lossdb.core.judging.verdicts import evaluate

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOSSDB = Path(sys.executable).parent / "lossdb"
CHART = ".vega-embed svg, .vega-embed canvas"
TABLE = "[data-testid='stDataFrame']"
TIMEOUT_MS = 60_000

if not CHROMIUM.exists():
    pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (.ci/run installs it)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def quick_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding a real quick run of the convergence experiment."""
    db = tmp_path_factory.mktemp("browser") / "quick.db"
    result = CliRunner().invoke(cli, ["run", "convergence", "--seeds", "2", "--epochs", "5", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(quick_db: Path) -> Iterator[str]:
    """`lossdb dashboard` serving the quick database on a free port: its base URL."""
    port = free_port()
    log = server_log(quick_db).open("w")
    proc = subprocess.Popen([str(LOSSDB), "dashboard", "--db", str(quick_db), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"lossdb dashboard exited with {proc.returncode}: {server_log(quick_db).read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("lossdb dashboard did not answer within 60 s")
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def server_log(db: Path) -> Path:
    """Where the server fixture writes the dashboard's output (stdout and stderr)."""
    return db.parent / "dashboard.log"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


@contextmanager
def screenshot_on_failure(page, name: str) -> Iterator[None]:
    """Save the page as test-artifacts/<name>.png when the block fails."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def test_summary_shows_table_chart_and_verdict_then_convergence_its_chart(server, browser, quick_db):
    from playwright.sync_api import expect

    with open_store(str(quick_db), create=False, read_only=True) as store:
        first = summary(evaluate(store))[0]
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    with screenshot_on_failure(page, "browser-summary-convergence"):
        page.goto(server)
        page.wait_for_selector(TABLE, timeout=TIMEOUT_MS)
        page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        headline = page.locator("[data-testid='stMarkdownContainer']").filter(has_text=first.sentence).first
        expect(headline).to_contain_text(first.verdict, timeout=TIMEOUT_MS)
        page.get_by_role("link", name="Convergence").click()
        page.wait_for_url(re.compile(r"/convergence(\?|$)"), timeout=TIMEOUT_MS)  # the URL carries the view
        expect(page.get_by_role("heading", name="Convergence")).to_be_visible(timeout=TIMEOUT_MS)
        page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_a_concurrent_run_completes_while_the_dashboard_refreshes(server, browser, quick_db):
    page = browser.new_page()
    with screenshot_on_failure(page, "browser-concurrent-run"):
        page.goto(server)
        page.wait_for_selector(TABLE, timeout=TIMEOUT_MS)
        run = subprocess.Popen([str(LOSSDB), "run", "convergence", "--seeds", "2", "--epochs", "3",
                                "--db", str(quick_db)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        refreshes = 0
        while run.poll() is None or refreshes == 0:
            page.reload()
            page.wait_for_selector(TABLE, timeout=TIMEOUT_MS)
            refreshes += 1
        output = run.stdout.read()
        assert run.returncode == 0, output
        assert "0 failed" in output
        page.reload()
        page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stAlert']").filter(has_text="locked").count() == 0
    page.close()


# Issue 16: the toolbar, the start-up log and the charts in the browser's dark theme.

DARK_PAGES = ("convergence", "calibration", "runs")  # every kind of chart; gradients reuses them
# Every chart element's colour, its effective opacity and the page background, read from the DOM
# (Streamlit renders Vega as SVG).
CHART_COLOURS = """() => {
  const items = [];
  for (const svg of document.querySelectorAll('.vega-embed svg')) {
    for (const el of svg.querySelectorAll('text, path, line')) {
      let opacity = 1;
      for (let node = el; node && node !== svg; node = node.parentElement) {
        opacity *= parseFloat(getComputedStyle(node).opacity || '1');
      }
      const style = getComputedStyle(el);
      const group = el.closest('g[class]');
      items.push({tag: el.tagName, role: group ? group.getAttribute('class') : '', text: el.textContent,
                  fill: style.fill, stroke: style.stroke, opacity: opacity,
                  fillOpacity: parseFloat(style.fillOpacity), strokeOpacity: parseFloat(style.strokeOpacity)});
    }
  }
  return {background: getComputedStyle(document.querySelector('.stApp')).backgroundColor, items: items};
}"""


def rgba(css: str) -> tuple[float, float, float, float] | None:
    """"rgb(1, 2, 3)" or "rgba(1, 2, 3, 0.5)" as (r, g, b, alpha); None for "none"."""
    numbers = re.findall(r"[\d.]+", css)
    if css == "none" or len(numbers) < 3:
        return None
    r, g, b = (float(x) for x in numbers[:3])
    return r, g, b, float(numbers[3]) if len(numbers) > 3 else 1.0


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG contrast ratio of two RGB colours."""
    def luminance(c: tuple[float, ...]) -> float:
        lin = [x / 255 / 12.92 if x / 255 <= 0.03928 else ((x / 255 + 0.055) / 1.055) ** 2.4 for x in c[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def unreadable(colours: dict) -> list[str]:
    """Chart text with contrast under 3 against the page, legend swatches or marks drawn
    (opacity at least 0.5) in a colour with contrast under 1.5: described for the failure."""
    background = rgba(colours["background"])
    bad = []
    for item in colours["items"]:
        paints = [(rgba(item["fill"]), item["fillOpacity"]), (rgba(item["stroke"]), item["strokeOpacity"])]
        visible = [(c, item["opacity"] * o * c[3]) for c, o in paints if c is not None and c[3] > 0]
        if item["tag"] == "text" and item["text"].strip():
            if any(contrast(c, background) < 3 for c, alpha in visible if alpha > 0):
                bad.append(f"text {item['text']!r} in {item['fill']}")
        elif "role-legend-symbol" in item["role"]:
            if not any(alpha >= 0.5 and contrast(c, background) >= 1.5 for c, alpha in visible):
                bad.append(f"legend swatch {item['fill']}/{item['stroke']} at opacity {item['opacity']}")
        elif "role-mark" in item["role"]:
            bad += [f"mark in {c[:3]}" for c, alpha in visible if alpha >= 0.5 and contrast(c, background) < 1.5]
    return bad


@pytest.fixture(scope="module")
def dark_page(browser) -> Iterator[object]:
    """A page in a browser that prefers the dark colour scheme (Streamlit follows it)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, color_scheme="dark")
    yield page
    page.close()


@pytest.fixture(scope="module")
def light_page(browser) -> Iterator[object]:
    """A page in a browser that prefers the light colour scheme."""
    page = browser.new_page(viewport={"width": 1400, "height": 1600}, color_scheme="light")
    yield page
    page.close()


def visit(page, server: str, name: str) -> None:
    """Open dashboard page `name`: through the sidebar when the dashboard is open (no reload)."""
    link = page.get_by_role("link", name=name.capitalize(), exact=True)
    if page.url.startswith(server) and link.count():
        link.click()
        page.wait_for_function(f"location.pathname.endsWith('/{name}')", timeout=TIMEOUT_MS)
        page.get_by_role("heading", name=name.capitalize(), exact=True).wait_for(timeout=TIMEOUT_MS)
    else:
        page.goto(f"{server}/{name}")


@pytest.mark.parametrize("name", DARK_PAGES)
def test_charts_read_on_the_dark_theme(server, dark_page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    with screenshot_on_failure(dark_page, f"browser-dark-{name}"):
        visit(dark_page, server, name)
        dark_page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        dark_page.wait_for_timeout(800)  # the page's other charts finish drawing
        dark_page.screenshot(path=str(ARTIFACTS / f"dark-{name}.png"), full_page=True)
        colours = dark_page.evaluate(CHART_COLOURS)
        assert rgba(colours["background"])[:3] != (255.0, 255.0, 255.0), "the page is not in the dark theme"
        assert colours["items"] and unreadable(colours) == []


def test_charts_read_on_the_light_theme(server, light_page):
    ARTIFACTS.mkdir(exist_ok=True)
    with screenshot_on_failure(light_page, "browser-light-convergence"):
        visit(light_page, server, "convergence")
        light_page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        light_page.wait_for_timeout(800)
        light_page.screenshot(path=str(ARTIFACTS / "light-convergence.png"), full_page=True)
        colours = light_page.evaluate(CHART_COLOURS)
        assert rgba(colours["background"])[:3] == (255.0, 255.0, 255.0), "the page is not in the light theme"
        assert colours["items"] and unreadable(colours) == []


def test_the_toolbar_has_no_deploy_button_and_start_up_logs_no_warning(server, dark_page, quick_db):
    with screenshot_on_failure(dark_page, "browser-toolbar"):
        if not dark_page.url.startswith(server):
            dark_page.goto(server)
        dark_page.wait_for_selector(TABLE, timeout=TIMEOUT_MS)
        assert dark_page.locator("[data-testid='stAppDeployButton']").count() == 0
        assert dark_page.get_by_role("button", name="Deploy").count() == 0
    log = server_log(quick_db).read_text()
    assert "No runtime found" not in log and "WARNING" not in log, log


PAGES = ("summary", "convergence", "gradients", "calibration", "runs", "report")


def test_no_page_asks_any_host_but_the_dashboards_own(server, browser):
    """Every page with the network cut off: a request to any other host is recorded and aborted."""
    from urllib.parse import urlparse

    outside: list[str] = []

    def only_local(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    context.route("**/*", only_local)
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for name in PAGES:
            page.goto(f"{server}/{name}")
            page.get_by_role("heading", name=name.capitalize() if name != "summary" else "The claims, measured",
                             exact=True).wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(1500)  # charts, fonts and the favicon load after the heading
            page.screenshot(path=str(ARTIFACTS / f"offline-{name}.png"), full_page=True)
    finally:
        context.close()
    assert outside == []


# Only labels that are drawn: Vega hides a label that would overlap its neighbour (labelOverlap) by
# giving it opacity 0, and a hidden label prints over nothing (a log axis from 0.1 to 10,000 keeps
# 1,000 and hides 2,000 beside it).
OVERLAPPING_LABELS = """() => [...document.querySelectorAll('.vega-embed svg')].map(svg => {
    const boxes = [...svg.querySelectorAll('g.role-axis-label text')]
        .filter(t => getComputedStyle(t).opacity !== '0').map(t => t.getBoundingClientRect())
        .filter(b => b.width > 0);
    let clashes = 0;
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
            Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1) clashes++;
    }
    return [boxes.length, clashes];
})"""


def test_the_evidence_charts_labels_never_print_over_one_another(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    ARTIFACTS.mkdir(exist_ok=True)
    with screenshot_on_failure(page, "browser-forest"):
        page.goto(f"{server}/?claim=vanishing-gradient&lr=tuned")  # four rows: where a fixed height overprinted
        page.wait_for_selector(".vega-embed svg", timeout=TIMEOUT_MS)
        page.wait_for_timeout(1500)
        page.locator(".vega-embed").first.screenshot(path=str(ARTIFACTS / "forest.png"))
        counts = page.evaluate(OVERLAPPING_LABELS)
    page.close()
    assert counts and all(labels > 2 for labels, _ in counts)
    assert [clashes for _, clashes in counts] == [0] * len(counts)
