"""`lossdb report` in every format, from a database filled by a real quick run, through the real CLI."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from lossdb.cli.commands_report import command_line
from lossdb.core import ENGINE_VERSION
from lossdb.cli.main import app
from lossdb.core.analysis import frame as analysis
from lossdb.core.present import display
from lossdb.core import report as reports
from lossdb.core.present.numbers import mean_sd, num
from lossdb.core.present.cells import effect_ci
from lossdb.core.report import figures
from lossdb.core.store import NewRun, open_store
from lossdb.core.judging.headlines import summary
from lossdb.core.judging.verdicts import evaluate

QUICK = ["run", "convergence", "--seeds", "2", "--epochs", "5"]
APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
FORMATS = {"html": "report.html", "interactive": "live.html", "md": "report.md", "pdf": "report.pdf",
           "json": "report.json"}


def invoke(*args: str) -> str:
    """Run the real CLI; return its stdout, failing the test on a non-zero exit."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


class Tables(HTMLParser):
    """Every <table> of a page as (class, rows of cell texts), and every <svg> and fetching attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.svgs = 0
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._depth_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "svg":
            self.svgs += self._depth_svg == 0
            self._depth_svg += 1
        elif tag == "table":
            self.tables.append((a.get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._depth_svg -= 1
        elif tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A database filled by a real quick run of the convergence experiment, and the report written
    once in each format (plus the interactive HTML), with `lossdb compare --format json` beside them."""
    folder = tmp_path_factory.mktemp("report")
    db = str(folder / "quick.db")
    invoke(*QUICK, "--db", db)
    paths: dict[str, Path] = {"db": Path(db)}
    for key, name in FORMATS.items():
        fmt = "html" if key == "interactive" else key
        extra = ["--interactive"] if key == "interactive" else []
        printed = invoke("report", "--format", fmt, "--out", str(folder / name), "--db", db, *extra)
        paths[key] = Path(printed.strip())
    (folder / "compare.json").write_text(invoke("compare", "--format", "json", "--db", db))
    paths["compare"] = folder / "compare.json"
    return paths


@pytest.fixture(scope="module")
def page(rendered: dict[str, Path]) -> Tables:
    """The static HTML report, parsed."""
    parser = Tables()
    parser.feed(rendered["html"].read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def document(rendered: dict[str, Path]) -> dict:
    """The JSON report, loaded."""
    return json.loads(rendered["json"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(rendered: dict[str, Path]):
    """core.analysis.frame.runs_frame of the quick database."""
    store = open_store(str(rendered["db"]), create=False, read_only=True)
    try:
        yield analysis.runs_frame(store)
    finally:
        store.close()


def summary_rows(page: Tables) -> list[list[str]]:
    return next(rows for cls, rows in page.tables if cls == "summary")[1:]


@pytest.mark.slow
def test_report_prints_the_path_of_each_file_it_wrote(rendered):
    assert all(rendered[k].is_file() for k in FORMATS)


@pytest.mark.slow
def test_html_summary_table_has_one_row_per_claim_with_its_verdict(page, document):
    rows = summary_rows(page)
    assert [(r[0], r[1]) for r in rows] == [(v["claim"], v["verdict"]) for v in document["summary"]]


@pytest.mark.slow
def test_html_has_an_svg_per_chart(page, document):
    charts = [c for e in document["experiments"] for cond in e["conditions"] for c in cond["charts"]]
    assert charts and page.svgs == len(charts)


@pytest.mark.slow
def test_static_html_references_no_external_url(rendered, page):
    text = rendered["html"].read_text(encoding="utf-8")
    assert all(link.startswith("#") for link in page.links)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {"http://www.w3.org/2000/svg",
                                                               "http://www.w3.org/1999/xlink"}


@pytest.mark.slow
def test_interactive_html_embeds_the_vega_runtime_once_and_fetches_nothing(rendered):
    text = rendered["interactive"].read_text(encoding="utf-8")
    assert text.count("<script>") == 2 and "vegaEmbed(" in text
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text)
    assert not re.search(r"@import|url\(\s*[\"']?(?:https?:)?//", text)


@pytest.mark.slow
def test_markdown_links_resolve_to_files_that_exist(rendered):
    md = rendered["md"]
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md.read_text(encoding="utf-8"))
    assert links and all(not link.startswith(("/", "http")) for link in links)
    assert all((md.parent / unquote(link)).is_file() for link in links)
    assert all(unquote(link).startswith("report_files/") for link in links)


@pytest.mark.slow
def test_pdf_text_contains_every_claim_id_and_its_verdict(rendered, document):
    text = subprocess.run(["pdftotext", "-layout", str(rendered["pdf"]), "-"], capture_output=True,
                          text=True, check=True).stdout
    for v in document["summary"]:
        assert v["claim"] in text and v["verdict"] in text
    assert "Contents" in text and "Provenance" in text


@pytest.mark.slow
def test_pdf_first_page_renders_to_png(rendered, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(rendered["pdf"]),
                    str(tmp_path / "page")], check=True)
    pngs = list(tmp_path.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_json_validates_against_the_shipped_schema(document):
    jsonschema.validate(document, reports.schema())
    assert document["schema_version"] == reports.SCHEMA_VERSION


@pytest.mark.slow
def test_json_summary_equals_compare_json(rendered, document):
    assert document["summary"] == json.loads(rendered["compare"].read_text(encoding="utf-8"))


@pytest.mark.slow
def test_json_final_metrics_equal_the_runs_frame(document, runs):
    used = runs[runs["status"].isin(["finished", "diverged"])]
    checked = 0
    for cond in document["experiments"][0]["conditions"]:
        in_cond = used[used["condition"] == cond["condition"]]
        for arm in cond["arms"]:
            group = in_cond[(in_cond["label"] == arm["label"]) & (in_cond["lr"] == arm["lr"])]
            for metric, stat in arm["final"].items():
                values = [v for v in group[metric] if math.isfinite(v)]
                assert stat["n"] == len(values)
                if values:
                    assert stat["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12)
                    checked += 1
                else:
                    assert stat["mean"] is None
    assert checked > 0


@pytest.mark.slow
def test_json_chart_series_equal_aggregate_curves(rendered, document, runs):
    cond = document["experiments"][0]["conditions"][0]
    chart = cond["charts"][0]
    shown = {(p["label"], p["lr"]) for p in chart["series"]}
    runs = runs[runs["condition"] == cond["condition"]]
    chosen = runs[[(lab, lr) in shown for lab, lr in zip(runs["label"], runs["lr"], strict=True)]]
    chosen = chosen[chosen["status"].isin(["finished", "diverged"])]
    store = open_store(str(rendered["db"]), create=False, read_only=True)
    try:
        agg = analysis.aggregate_curves(chosen, analysis.curves(store, chosen["id"], chart["metric"]))
    finally:
        store.close()
    expected = {(r.label, r.lr, r.epoch): r.mean for r in agg.itertuples()}
    assert {(p["label"], p["lr"], p["epoch"]): p["mean"] for p in chart["series"]} == pytest.approx(expected)


@pytest.mark.slow
def test_html_arm_table_shows_the_analysis_mean_and_sd(page, document, runs):
    cond = document["experiments"][0]["conditions"][0]
    table = next(rows for cls, rows in page.tables if cls == "arms")
    head, body = table[0], table[1:]
    col = head.index(display.title(cond["metrics"][0]))
    used = runs[runs["status"].isin(["finished", "diverged"]) & (runs["condition"] == cond["condition"])]
    for row, arm in zip(body, cond["arms"], strict=True):
        values = used.loc[(used["label"] == arm["label"]) & (used["lr"] == arm["lr"]), cond["metrics"][0]]
        assert row[0] == arm["label"]
        assert row[col] == mean_sd(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else None)


@pytest.mark.slow
def test_html_summary_effect_equals_the_verdicts_effect(page, rendered):
    store = open_store(str(rendered["db"]), create=False, read_only=True)
    try:
        verdicts = summary(evaluate(store))
    finally:
        store.close()
    for row, v in zip(summary_rows(page), verdicts, strict=True):
        assert row[2] == effect_ci(v)


@pytest.mark.slow
def test_no_reader_facing_format_shows_nan_or_none(rendered):
    pdf_text = subprocess.run(["pdftotext", str(rendered["pdf"]), "-"], capture_output=True, text=True,
                              check=True).stdout
    parser = Tables()
    parser.feed(rendered["html"].read_text(encoding="utf-8"))
    cells = " ".join(c for _, rows in parser.tables for r in rows for c in r)
    for text in (cells, rendered["md"].read_text(encoding="utf-8"), pdf_text):
        assert not re.search(r"\b(nan|NaN|None|null)\b", text)


@pytest.mark.slow
def test_diverged_runs_are_listed_as_notable(document, runs):
    listed = {n["id"] for e in document["experiments"] for n in e["notable_runs"]}
    assert listed == set(runs.loc[runs["status"] != "finished", "id"])


@pytest.mark.slow
def test_the_notable_table_counts_each_diverged_run_once_by_arm_rate_and_condition(rendered, runs):
    from lossdb.core.report.view import notable_table

    with open_store(str(rendered["db"]), create=False, read_only=True) as store:
        data = reports.build(store)
    rows = [r for s in data.sections for r in notable_table(s).rows]
    assert sum(int(r[0]) for r in rows) == int((runs["status"] != "finished").sum())
    assert len({r[1:] for r in rows}) == len(rows)  # one row per arm, rate, seeds, status, condition


@pytest.mark.parametrize("seeds, text", [([3], "3"), ([0, 1, 2, 4], "0–2, 4"), ([9, 8, 7], "7–9"),
                                         ([0, 2, 4, 6, 8, 10, 12], "0, 2, 4, 6, 8, 10, …")])
def test_seeds_are_written_as_runs_of_consecutive_numbers(seeds, text):
    from lossdb.core.report.view import seeds_text

    assert seeds_text(seeds) == text


@pytest.mark.slow
def test_dashboard_report_page_offers_every_format(monkeypatch, rendered):
    monkeypatch.setenv("LOSSDB_DB", str(rendered["db"]))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/report.py")
    at.run()
    assert not at.exception
    buttons = at.get("download_button")
    offered = {b.proto.id.rsplit("report_", 1)[1] for b in buttons}
    assert offered == {"lossdb-report.html", "lossdb-report-interactive.html", "lossdb-report.pdf",
                       "lossdb-report-md.zip", "lossdb-report.json"}
    assert all(b.proto.deferred_file_id for b in buttons)  # each format is built when clicked


def _failed_run(seed: int) -> NewRun:
    now = datetime.now(UTC)
    return NewRun("convergence", "f" * 16, seed, ENGINE_VERSION, {"data": {"dataset": "digits"}, "loss": "mse",
                  "head": "linear", "label": "mse/linear"}, "mse", "linear", "digits", 0.5, "failed",
                  "MemoryError: out of memory", None, 0, now, now, 0.1, "0.1.0", "2.0", "3.11", None)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", reports.FORMATS)
def test_a_database_with_only_a_failed_run_still_renders_and_says_so(tmp_path, fmt):
    db = str(tmp_path / "failed.db")
    store = open_store(db)
    store.upsert_experiment("convergence", "", {})
    store.save_runs([_failed_run(0)])
    store.close()
    out = Path(invoke("report", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"), "--db", db).strip())
    text = out.read_text(encoding="utf-8") if fmt != "pdf" else subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "failed" in text and "not run" in text


@pytest.mark.parametrize("fmt", reports.FORMATS)
def test_an_empty_database_still_renders_and_says_so(tmp_path, fmt):
    db = str(tmp_path / "empty.db")
    open_store(db).close()
    out = Path(invoke("report", "--format", fmt, "--out", str(tmp_path / "r"), "--db", db).strip())
    assert out.suffix == reports.EXTENSIONS[fmt]
    if fmt == "json":
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["experiments"] == [] and doc["provenance"]["runs"] == 0
    elif fmt != "pdf":
        assert "holds no runs" in out.read_text(encoding="utf-8")


def test_report_defaults_to_html_in_the_current_folder(tmp_path, monkeypatch):
    db = tmp_path / "empty.db"
    open_store(str(db)).close()
    monkeypatch.chdir(tmp_path)
    printed = invoke("report", "--db", str(db)).strip()
    assert printed == str(tmp_path / "lossdb-report.html") and Path(printed).is_file()


def test_an_unknown_format_is_one_sentence(tmp_path):
    result = CliRunner().invoke(app, ["report", "--format", "docx", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "unknown format 'docx'" in result.output


def test_interactive_is_refused_outside_html(tmp_path):
    db = tmp_path / "empty.db"
    open_store(str(db)).close()
    result = CliRunner().invoke(app, ["report", "--format", "pdf", "--interactive", "--db", str(db)])
    assert result.exit_code == 1 and "--interactive" in result.output


def test_reproducing_command_masks_the_database_password():
    line = command_line(["convergence"], "pdf", Path("/tmp/r.pdf"), False, "My title",
                        "postgresql+psycopg://ann:secret@db.example/lossdb")
    assert "secret" not in line and "ann:***@db.example" in line
    assert line.startswith("lossdb report --experiment convergence --format pdf --out /tmp/r.pdf")


@pytest.mark.parametrize(("mean", "sd", "shown"), [
    (0.95312, 0.01234, "0.953 ± 0.012"), (4.333, 1.5275, "4.3 ± 1.5"), (12.0, 0.0, "12"),
    (0.5, None, "0.5"), (math.nan, 0.1, "—"), (-0.0312, 0.0041, "−0.0312 ± 0.0041"),
])
def test_mean_sd_shows_the_spread_to_two_significant_digits(mean, sd, shown):
    assert mean_sd(mean, sd) == shown


@pytest.mark.parametrize(("value", "shown"), [(None, "—"), (math.nan, "—"), (math.inf, "∞"), (4.1601, "4.16"),
                                             (-0.00715, "−0.00715"), (12345.6, "1.23e4")])
def test_numbers_never_read_nan_or_none(value, shown):
    assert num(value) == shown


def test_shutil_finds_poppler_for_the_pdf_tests():
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), "apt-get install poppler-utils"


def _tiny_chart(values: list[int]) -> figures.Chart:
    spec = {"data": {"values": [{"x": i, "y": v} for i, v in enumerate(values)]}, "mark": "line",
            "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"}}}
    return figures.Chart("tiny", "exp", "", "y", "", spec, ())


def test_a_rendered_chart_is_kept_and_reused_for_the_very_same_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDB_CACHE_DIR", str(tmp_path))
    first = figures.svg(_tiny_chart([1, 2, 3]))
    (kept,) = (tmp_path / "charts").glob("*.svg")
    assert first.startswith("<svg") and kept.read_text() == first
    kept.write_text("<svg>kept</svg>")
    assert figures.svg(_tiny_chart([1, 2, 3])) == "<svg>kept</svg>"
    assert figures.svg(_tiny_chart([1, 2, 4])).startswith("<svg xmlns")
    assert len(list((tmp_path / "charts").glob("*.svg"))) == 2


def test_an_empty_cache_setting_renders_every_chart_afresh(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert figures.svg(_tiny_chart([1, 2, 3])).startswith("<svg")
    assert not list(tmp_path.rglob("*.svg"))
