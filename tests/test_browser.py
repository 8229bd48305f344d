"""The dashboard in a real browser: `lossdb dashboard` served, headless Chromium through Playwright."""

from __future__ import annotations

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

from cli.main import app as cli
from core.store import open_store
from core.verdicts import evaluate, summary

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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
    proc = subprocess.Popen([str(LOSSDB), "dashboard", "--db", str(quick_db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"lossdb dashboard exited with {proc.returncode}: {proc.stdout.read()}")
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
        page.wait_for_url("**/convergence", timeout=TIMEOUT_MS)
        expect(page.get_by_role("heading", name="Convergence")).to_be_visible(timeout=TIMEOUT_MS)
        page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
        assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_a_concurrent_run_completes_while_the_dashboard_refreshes(server, browser, quick_db):
    page = browser.new_page()
    with screenshot_on_failure(page, "browser-concurrent-run"):
        page.goto(server)
        page.wait_for_selector(TABLE, timeout=TIMEOUT_MS)
        run = subprocess.Popen([str(LOSSDB), "run", "convergence", "--seeds", "3", "--epochs", "8",
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
