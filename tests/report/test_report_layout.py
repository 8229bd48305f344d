"""The report as it lays out: a PDF whose words never print over one another, whose summary takes
about a page, with no nearly empty page, that pdfinfo and qpdf read without a complaint; an HTML
summary table that fits its column at 1,280 px. Each check saves what it looked at (a PNG) under
the test's tmp_path."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The PDF and static HTML report of a real short run of convergence and saturation."""
    folder = tmp_path_factory.mktemp("layout")
    db = str(folder / "runs.db")
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "convergence", "saturation", "--seeds", "2", "--epochs", "5", "--db", db])
    assert ran.exit_code == 0, ran.output
    out = {}
    for fmt in ("pdf", "html"):
        made = runner.invoke(app, ["report", "--format", fmt, "--out", str(folder / f"report.{fmt}"), "--db", db])
        assert made.exit_code == 0, made.output
        out[fmt] = Path(made.stdout.strip())
    return out


def words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every page's words with their boxes (x0, y0, x1, y1, text), as poppler's pdftotext -bbox reads them."""
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [[(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(pattern, page)]
            for page in text.split("<page ")[1:]]


def overprinted(page: list[tuple[float, float, float, float, str]], tolerance: float = 0.5) -> list[tuple[str, str]]:
    """The pairs of words whose boxes overlap by more than `tolerance` points both ways."""
    if len(page) < 2:
        return []
    boxes = np.array([w[:4] for w in page])
    x0, y0, x1, y1 = (boxes[:, i][:, None] for i in range(4))
    across = np.minimum(x1, x1.T) - np.maximum(x0, x0.T)
    down = np.minimum(y1, y1.T) - np.maximum(y0, y0.T)
    hit = np.triu((across > tolerance) & (down > tolerance), k=1)
    return [(page[i][4], page[j][4]) for i, j in zip(*np.nonzero(hit), strict=True)]


def page_pngs(pdf: Path, folder: Path, dpi: int = 30) -> list[Path]:
    """Each page rendered by pdftoppm (kept beside the test as its screenshot)."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def test_no_word_of_the_pdf_prints_over_another(reports, tmp_path):
    page_pngs(reports["pdf"], tmp_path)
    clashes = {n: overprinted(page) for n, page in enumerate(words(reports["pdf"]), 1)}
    assert {n: c for n, c in clashes.items() if c} == {}


def test_the_summary_and_its_findings_take_at_most_two_pages(reports):
    pages = ["\n".join(w[4] for w in page) for page in words(reports["pdf"])]
    first = next(i for i, p in enumerate(pages) if "Summary" in p and "comparison" in p)
    after = next(i for i, p in enumerate(pages) if i >= first and "Experiment:" in p)
    assert after - first <= 1, f"summary on pages {first + 1}–{after + 1}"


def test_no_page_but_the_last_is_nearly_empty(reports, tmp_path):
    from PIL import Image

    shots = page_pngs(reports["pdf"], tmp_path)
    assert len(shots) >= 3
    for shot in shots[:-1]:
        ink = np.asarray(Image.open(shot).convert("L")) < 200
        rows = np.flatnonzero(ink.any(axis=1))
        body = rows[(rows > 0.08 * ink.shape[0]) & (rows < 0.9 * ink.shape[0])]  # without header and page number
        assert body.size and body.max() > 0.5 * ink.shape[0], f"{shot.name} is nearly empty"


@pytest.mark.skipif(shutil.which("qpdf") is None or shutil.which("pdfinfo") is None, reason="qpdf and poppler")
def test_pdfinfo_and_qpdf_read_the_pdf_without_complaint(reports):
    info = subprocess.run(["pdfinfo", str(reports["pdf"])], capture_output=True, text=True)
    assert info.returncode == 0 and info.stderr == "", info.stderr
    assert re.search(r"^Pages:\s+\d+$", info.stdout, re.M)
    check = subprocess.run(["qpdf", "--check", str(reports["pdf"])], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout


@pytest.mark.browser
def test_the_html_summary_table_fits_its_column_at_1280_px(reports, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(reports["html"].as_uri())
            table = page.locator("table.summary")
            box, frame = table.bounding_box(), page.locator("table.summary").locator("xpath=..").bounding_box()
            widths = page.evaluate("""() => { const t = document.querySelector('table.summary');
                return [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth,
                        window.innerWidth]; }""")
            table.screenshot(path=str(tmp_path / "summary.png"))
        finally:
            browser.close()
    assert box["width"] <= frame["width"] + 0.5, (box, frame)
    table_scroll, column, page_scroll, viewport = widths
    assert table_scroll <= column and page_scroll <= viewport, widths


def test_long_settings_and_paths_in_the_summary_wrap_inside_their_columns(tmp_path):
    """The template itself, fed a summary whose settings hold words that cannot break and a CSV
    file's absolute path (the 8-column table of old printed "dataset=neuron," over "0.982;")."""
    import json
    from importlib import resources

    import typst

    path = "/home/someone/projects/experiments/data/2026/a/long/folder/name/mydata.csv"
    row = ["vanishing-gradient", "supported", "28.3× (deterministic)", "1", "output gradient |∂C/∂z| at the start",
           "saturation: dataset=neuron@mydata_with_a_long_name, w=2, b=2, lr fixed (0.15 vs 0.075)",
           "ce/sigmoid 0.982; mse/sigmoid 0.0347", f"measured on {path} and more words " * 3]
    head = ["claim", "verdict", "effect [CI]", "n", "measured by", "tested in", "arms and values", "finding"]
    data = {"title": "t", "subtitle": "s", "date": "d", "abstract": "a", "summary": {"head": head, "rows": [row] * 4},
            "not_run": "", "sections": [], "provenance": [["a", "b"]]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    template = resources.files("lossdb.core.report").joinpath("report.typ").read_text(encoding="utf-8")
    (tmp_path / "report.typ").write_text(template)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(typst.compile(str(tmp_path / "report.typ"), root=str(tmp_path), ignore_system_fonts=True,
                                  format="pdf"))
    page_pngs(pdf, tmp_path)
    pages = words(pdf)
    assert all(overprinted(page) == [] for page in pages)
    a4_width = 595.3
    assert max(w[2] for page in pages for w in page) < a4_width - 17 / 25.4 * 72 + 3  # inside the right margin
