"""Everything the dashboard reads, through core, cached until the database changes.

Every cached loader takes the database URL and a change `token` (the SQLite file's identity and the
store's version, which every write transaction bumps, re-read on every rerun), so a refresh after a
`lossdb run` shows the new runs while repeated views cost nothing. The store is opened read-only
once per URL and file (another file moved over the path is opened anew). The one place where
lossdb's errors become the dashboard's sentence.
"""

from __future__ import annotations

import shlex
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from lossdb.core import analysis, judging
from lossdb.core.errors import LossdbError
from lossdb.core.judging import Verdict
from lossdb.core.present import shell
from lossdb.core.store import RunRecord, Store, describe, file_identity, open_store, resolve_url

Token = tuple[Any, ...]


def db_url() -> str:
    """The database to show: `--db URL` after `streamlit run app.py --`, else $LOSSDB_DB, else ./lossdb.db."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return resolve_url(args[i + 1])
        if arg.startswith("--db="):
            return resolve_url(arg.split("=", 1)[1])
    return resolve_url(None)


def sentence(error: LossdbError) -> str:
    """A lossdb error as the one sentence the dashboard shows: capitalised, with a full stop."""
    text = str(error).strip() or type(error).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def where(url: str) -> str:
    """How the dashboard names its database: the file path, or the URL with its password masked."""
    return describe(url)


def command(text: str, url: str) -> str:
    """A lossdb command line aimed at the dashboard's database (its password masked)."""
    return f"{text} --db {shlex.quote(describe(url))}"


def store(url: str) -> Store:
    """A read-only store on `url`, on the file now at its path (its schema checked on opening)."""
    return _store(url, file_identity(url))


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(url: str, identity: tuple[int, int] | None) -> Store:
    """A read-only store on `url`, opened once per URL and SQLite file identity (device, inode)."""
    return open_store(url, create=False, read_only=True)


def token(url: str) -> Token:
    """What changes whenever the database does: the SQLite file's identity and the store's
    (identity, version), read on every rerun (one one-row query)."""
    identity = file_identity(url)
    return (identity, _store(url, identity).version())


def fingerprint(url: str, token: Token) -> str:
    """The store fingerprint (core.cache's key) of the state `token` was read at."""
    return store(url).fingerprint(version=token[1])


@dataclass(frozen=True)
class Source:
    """The database a page shows: its URL, its change token and how many runs it holds."""

    url: str
    token: Token
    runs: int
    experiments: int


def source() -> Source:
    """Open the database the dashboard shows (raises LossdbError with the sentence to show)."""
    url = db_url()
    store(url)
    tok = token(url)
    c = counts(url, tok)
    return Source(url, tok, c["runs"], c["experiments"])


@st.cache_data(show_spinner=False)
def counts(url: str, token: Token) -> dict[str, Any]:
    """Experiments, runs and runs by status (core.store's counts)."""
    return store(url).counts(metric_rows=False)


@st.cache_data(show_spinner="Reading runs…")
def runs(url: str, token: Token) -> pd.DataFrame:
    """One row per stored run (core.analysis.frame.runs_frame, kept on disk until the database changes)."""
    return analysis.kept_runs_frame(store(url), fingerprint(url, token))


@st.cache_data(show_spinner=False)
def set_aside_note(url: str, token: Token) -> str | None:
    """The sentence on stored runs of another engine version, which no verdict, chart or run page
    uses (core.analysis.engines.set_aside); None when there are none."""
    import lossdb.core as core
    from lossdb.core.present import set_aside_text

    return set_aside_text(analysis.set_aside(store(url)), core.ENGINE_VERSION)


@st.cache_resource(show_spinner=False, max_entries=4)  # a resource: claims hold functions, not picklable data
def declared(url: str, token: Token) -> dict[str, Any]:
    """The claims the stored experiments are judged by (core.judging.judge.claims_of), until the database changes."""
    stored = store(url).experiments()
    return judging.asked(judging.claims_from(stored), stored)


@st.cache_data(show_spinner="Computing verdicts…")
def verdicts(url: str, token: Token) -> list[Verdict]:
    """Every verdict of every claim (core.judging.judge; kept on disk by core.cache until the
    database changes; the runs frame, shared with the run pages, is read only to compute them)."""
    return judging.judge_store(store(url), all_conditions=True, frame=lambda: runs(url, token),
                               fingerprint=fingerprint(url, token))


@st.cache_data(show_spinner=False)
def curves(url: str, token: Token, run_ids: tuple[int, ...], metric: str) -> pd.DataFrame:
    """The per-epoch series of one metric for the given runs: run_id, epoch, value."""
    return analysis.curves(store(url), run_ids, metric)


@st.cache_data(show_spinner="Aggregating curves…")
def aggregate(url: str, token: Token, run_ids: tuple[int, ...], metric: str,
              by: tuple[str, ...] = ("label", "lr")) -> pd.DataFrame:
    """Mean, sd, min, max and 95% CI per group and epoch (core.analysis.frame.aggregate_curves)."""
    frame = runs(url, token)
    chosen = frame[frame["id"].isin(run_ids)]
    return analysis.aggregate_curves(chosen, curves(url, token, run_ids, metric), by=by)


@st.cache_data(show_spinner=False)
def seed_curves(url: str, token: Token, run_ids: tuple[int, ...], metric: str,
                by: tuple[str, ...] = ("label", "lr")) -> pd.DataFrame:
    """Individual runs' curves with their grouping columns: by…, run_id, epoch, value."""
    frame = runs(url, token)
    keys = frame.loc[frame["id"].isin(run_ids), ["id", *by]]
    data = curves(url, token, run_ids, metric)
    return data.merge(keys, left_on="run_id", right_on="id").drop(columns="id")


@st.cache_data(show_spinner=False)
def run_detail(url: str, token: Token, run_id: int) -> tuple[RunRecord, pd.DataFrame]:
    """One run's record and every metric it stored (name, epoch, value)."""
    s = store(url)
    return s.get_run(run_id), s.metrics_frame([run_id])


@st.cache_data(show_spinner=False)
def reliability(url: str, token: Token, experiment: str, run_ids: tuple[int, ...]) -> pd.DataFrame:
    """The stored reliability bins of the given runs: run_id, confidence, accuracy, count (one row
    per non-empty bin); empty when the runs predate reliability extras."""
    parts = []
    wanted = set(run_ids)
    for r in store(url).list_runs(experiment=experiment):
        rel = (r.extras or {}).get("reliability")
        if r.id not in wanted or not isinstance(rel, dict):
            continue
        bins = pd.DataFrame({k: pd.Series(rel.get(k, []), dtype="float64")
                             for k in ("confidence", "accuracy", "count")})
        bins = bins[bins["count"].fillna(0) > 0]
        parts.append(bins.assign(run_id=r.id))
    if not parts:
        return pd.DataFrame(columns=["run_id", "confidence", "accuracy", "count"])
    return pd.concat(parts, ignore_index=True)


@st.cache_data(show_spinner=False, max_entries=256)
def evidence_spec(frame: pd.DataFrame, ratio: bool, favoured: str, other: str) -> dict[str, Any]:
    """The Vega-Lite spec of one measure's evidence chart (core.present.charts.evidence_chart), kept per
    frame: building and validating it through Altair took ~0.1 s a chart on every rerun."""
    from lossdb.core.present import charts

    chart = charts.evidence_chart(frame, label="comparison", ratio=ratio, favoured=favoured, other=other)
    return chart.to_dict(validate=False)  # the chart functions are validated against the schema in tests


@st.cache_data(show_spinner=False)
def analytic_curves(points: int = 400) -> pd.DataFrame:
    """Analytic loss and gradient norm of ce, mse, mae, hinge and focal against p̂ of the true class."""
    from lossdb.core.judging import analytic_curves  # scipy: only for the analytic curves

    return analytic_curves(np.linspace(0.001, 0.999, points))


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The final-metric columns of a runs frame that hold at least one value, sorted; the sub-epoch
    step record (indexed by record, not epoch; read by the convergence verdicts) is left out."""
    from lossdb.core.engine import STEP_RECORD

    fixed = set(analysis.RUN_COLUMNS) | STEP_RECORD
    return sorted(c for c in frame.columns if c not in fixed and frame[c].notna().any())


def report_name(fmt: str, interactive: bool = False) -> tuple[str, str]:
    """(file name, MIME type) of one report download, known before the report is built."""
    from lossdb.core import report as reports

    return reports.download_name(fmt, interactive), reports.MIME[fmt]


@dataclass(frozen=True)
class ReportRequest:
    """The report a visitor asked for: database, its state, experiments (empty: all) and title."""

    url: str
    token: Token
    experiments: tuple[str, ...]
    title: str

    def builder(self, fmt: str, interactive: bool = False) -> Callable[[], bytes]:
        """A callable for st.download_button: builds this format's bytes when the button is clicked."""
        s = store(self.url)  # looked up here, in the script's thread; the callable runs in another
        return lambda: report_file(s, self, fmt, interactive)


_REPORT_LOCK = threading.Lock()


def report_file(s: Store, request: ReportRequest, fmt: str, interactive: bool = False) -> bytes:
    """The bytes of one report format (Markdown as a .zip), from the shared model and charts."""
    from lossdb.core import report as reports

    with _REPORT_LOCK:  # two clicks at once build the model and charts once
        data, svgs = _report_model(s, request)
        rendered = None if fmt == "json" else svgs()
    return reports.download(data, fmt, interactive, rendered)[1]


def report_command(request: ReportRequest) -> str:
    """The `lossdb report` command line that makes this report again, every word shell-quoted."""
    words = ["lossdb", "report", *(w for e in request.experiments for w in ("--experiment", e))]
    if request.title:
        words += ["--title", request.title]
    return command(shell(words), request.url)


@lru_cache(maxsize=2)
def _report_model(s: Store, request: ReportRequest) -> tuple[Any, Callable[[], dict[str, str]]]:
    """The report's model, and its charts' SVGs rendered on first use, per request (the last two kept)."""
    from lossdb.core import report as reports
    from lossdb.core.report import svgs

    data = reports.build(s, list(request.experiments) or None, title=request.title or None,
                         command=report_command(request))
    return data, lru_cache(maxsize=1)(lambda: svgs(data.charts))


@st.cache_data(show_spinner=False)
def user_datasets(url: str, token: Token) -> list[str]:
    """The names of the user's data the catalogue ran on (`lossdb run --dataset csv:PATH`), sorted."""
    from lossdb.core.experiments import stored_datasets

    return stored_datasets([e["name"] for e in store(url).experiments()])


@st.cache_data(show_spinner="Writing the card…")
def card(url: str, token: Token, dataset: str) -> Any:
    """The recommendation card of one of the user's datasets (core.present.card)."""
    from lossdb.core.present import build_card

    s = store(url)
    return build_card(judging.judge_store(s, dataset=dataset), dataset, s.experiments())


@st.cache_data(show_spinner=False)
def holds_catalogue(url: str, token: Token) -> bool:
    """Whether any catalogue experiment (on the catalogue's own data) is stored."""
    from lossdb.core.experiments import catalogue_names

    return bool(set(catalogue_names()) & {e["name"] for e in store(url).experiments()})
