"""The "Your data" card in a real browser: a database of only the user's CSV opens on its card."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
from lossdb.cli.main import app as cli
from typer.testing import CliRunner

from tests.system.test_browser import (
    CHROMIUM,
    LOSSDB,
    TIMEOUT_MS,
    browser,
    free_port,
    screenshot_on_failure,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]  # the fixture, shared with test_browser


@pytest.fixture(scope="module")
def users_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lossdb dashboard` on a database holding only the calibration question on the user's grain.csv."""
    folder = tmp_path_factory.mktemp("browser-card")
    rng = np.random.default_rng(5)
    rows = ["a,b,kind"] + [f"{i % 2 + rng.normal(scale=0.5):.3f},{rng.normal():.3f},{'x' if i % 2 else 'y'}"
                           for i in range(50)]
    (folder / "grain.csv").write_text("\n".join(rows) + "\n")
    db = folder / "u.db"
    result = CliRunner().invoke(cli, ["run", "--dataset", f"csv:{folder / 'grain.csv'}", "--target", "kind",
                                      "calibration", "--seeds", "2", "--epochs", "2", "--db", str(db)])
    assert result.exit_code == 0, result.output
    port = free_port()
    log = (folder / "dashboard.log").open("w")
    proc = subprocess.Popen([str(LOSSDB), "dashboard", "--db", str(db), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"lossdb dashboard did not start: {(folder / 'dashboard.log').read_text()}")
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_the_users_card_is_the_first_page_with_its_bottom_line(users_server, browser):
    from playwright.sync_api import expect

    assert CHROMIUM.exists()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with screenshot_on_failure(page, "browser-card"):
        page.goto(users_server)
        expect(page.get_by_role("heading", name="Which loss for your data?")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_text("Bottom line on grain:")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_text("Calibration:", exact=False).first).to_be_visible(timeout=TIMEOUT_MS)
        assert page.locator("[data-testid='stException']").count() == 0
    page.close()
