"""The report's charts: the dashboard's Altair specs (core.present.charts) for one condition of an experiment,
rendered offline to SVG by vl-convert."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossdb.core import cache as verdictcache
from lossdb.core import jsontext
from lossdb.core.outfiles import write_atomic
from lossdb.core.present import display
from lossdb.core.report import svgsafe

if TYPE_CHECKING:
    import pandas as pd

WIDTH, HEIGHT = 440, 230
MAX_CACHE_BYTES = 128 * 2**20  # the chart cache is pruned to this (a chart is ~30 kB)
BAND = "ci"


@dataclass(frozen=True)
class Chart:
    """One convergence chart: its Vega-Lite spec (data inline) and the aggregated series it draws
    (rows of aggregate_curves: label, lr, epoch, mean, sd, min, max, ci_low, ci_high, n)."""

    id: str
    experiment: str
    condition: str
    metric: str
    caption: str
    spec: dict[str, Any] = field(repr=False)
    series: tuple[dict[str, Any], ...] = field(repr=False)


def plain(value: Any) -> Any:
    """A number ready for chart data: NaN and ±inf become None, numpy scalars plain Python (core.jsontext)."""
    return jsontext.plain(value, "null")


def slug(text: str) -> str:
    """A file-name-safe id: lower case, letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def convergence(chart_id: str, experiment: str, condition: str, metric: str, runs: pd.DataFrame,
                curves: pd.DataFrame, tuned: bool) -> Chart | None:
    """The convergence chart of `metric` for the runs of one condition (already narrowed to the
    learning rates shown), or None when no run has a finite value of it."""
    # pandas and Altair: only to make a chart, never to read one kept
    from lossdb.core.analysis import frame as analysis
    from lossdb.core.present import charts

    agg = analysis.aggregate_curves(runs, curves, by=("label", "lr"))
    if agg.empty:
        return None
    seeds = int(runs["seed"].nunique())
    band = BAND if seeds > 1 else None  # one seed has no spread to shade
    drawn = set(charts.convergence_data(agg, ("label", "lr"), band=band)[charts.SERIES])
    if not drawn:
        return None
    layered = charts.convergence_chart(agg, metric, keys=("label", "lr"), band=band)
    # legend below the plot: the chart stays one column wide on a phone and in a PDF column
    sized = layered.properties(width=WIDTH, height=HEIGHT)
    spec = sized.configure_legend(orient="bottom", columns=2, labelLimit=0).to_dict(validate=False)  # the chart functions are tested against the schema
    spec.pop("$schema", None)
    lr_note = ("each arm at the rate it did best at on validation over all seeds (★ in the table); the "
               "verdicts choose each half's rate on the other half of the seeds" if tuned else "every learning rate run")
    lines = (f"the line is the mean across {seeds} seeds, the band its 95% confidence interval" if band
             else "one line per arm (one seed: no band)")
    missing = [s for s in dict.fromkeys(charts.series_names(agg, ["label", "lr"])) if s not in drawn]
    absent = f" Not drawn, having no finite value: {', '.join(missing)}." if missing else ""
    caption = f"{display.label(metric).capitalize()} per epoch, {condition}: {lines}; {lr_note}.{absent}"
    series = tuple({k: plain(v) for k, v in row.items()} for row in agg.to_dict("records"))
    return Chart(chart_id, experiment, condition, metric, caption, spec, series)


def svg(chart: Chart) -> str:
    """The chart as a standalone SVG document (vl-convert; no network, no browser), read from the
    chart cache when this very spec was rendered before (~0.15 s a chart saved); sanitised either
    way (core.report.svgsafe), so it is safe to inline in HTML whoever wrote the cache."""
    import vl_convert as vlc

    text = json.dumps(chart.spec, sort_keys=True, allow_nan=False)
    key = hashlib.sha256(f"{vlc.__version__}\n{text}".encode()).hexdigest()
    folder = cache_dir()
    cached = folder / f"{key}.svg" if folder is not None and verdictcache.ready(folder) else None
    kept = verdictcache.read_private(cached) if cached is not None else None
    if kept is not None:
        try:
            return svgsafe.clean(kept.decode("utf-8"))
        except UnicodeDecodeError:
            pass  # corrupt: rendered again below
    out = vlc.vegalite_to_svg(chart.spec)
    out = svgsafe.clean(out[out.index("<svg"):] if "<svg" in out else out)
    if cached is not None:
        _store(cached, out)
    return out


def cache_dir() -> Path | None:
    """Where rendered charts are kept (core.cache.root: the user's lossdb cache, in charts/);
    None when LOSSDB_CACHE_DIR is set empty."""
    return verdictcache.root("charts")


def _store(path: Path, text: str) -> None:
    """Write a cache file atomically; a cache that cannot be written is simply not used."""
    try:
        write_atomic(path, text.encode("utf-8"))
        verdictcache.prune(path.parent, ".svg", MAX_CACHE_BYTES)
    except OSError:
        pass


def svgs(chart_list: list[Chart]) -> dict[str, str]:
    """Every chart's SVG by chart id (vl-convert releases the GIL, so threads render in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return dict(zip((c.id for c in chart_list), pool.map(svg, chart_list), strict=True))
