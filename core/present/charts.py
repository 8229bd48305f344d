"""lossdb's charts: pure functions that take data frames and return Altair charts.

The dashboard draws them and the reports render the same specs offline (vl-convert), so nothing
here imports Streamlit or reads the database. Statistics come in with the frames (core.analysis.frame);
what happens here is only display shaping: picking a band's limits, display smoothing, thinning
long series so at most `MAX_POINTS` points per line reach the browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from lossdb.core.present import display
from lossdb.core.present.display import BANDS, VERDICT_COLORS

MAX_POINTS = 200
SERIES = "series"
ROW_PX = 28  # one comparison's row in the evidence (forest) chart
AXIS_PX = 100  # the effect axis, its title and the "favours" texts (Streamlit fits all of it in the height)
PALETTE = alt.Scale(scheme="tableau10")
EPOCH_AXIS = alt.Axis(format="d", tickMinStep=1)
# The theme: everything a chart colours itself must read on a white page and on Streamlit's dark
# one (#0e1117). A mid grey does (contrast 3.5 on white, 5.5 on the dark background); black ticks and
# Vega's default black subtitle did not. Titles, axes and legend text take the host's theme colours.
MUTED = "#8c8c8c"
LINE_LEGEND = alt.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1, labelLimit=0)
MIN_BIN_COUNT = 10  # a reliability bin holding fewer test samples (pooled over an arm's runs) is hidden
RELIABILITY_BINS = 15


def series_names(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """One readable name per row from the grouping columns: "mse/softmax · lr=0.5"; a key with a
    single value in the frame is left out (only the first key is always kept)."""
    keys = list(keys)
    if frame.empty or not keys:
        return pd.Series([], dtype=object, index=frame.index)
    shown = [keys[0]] + [k for k in keys[1:] if frame[k].nunique(dropna=False) > 1]
    names = frame[shown[0]].map(_fmt)
    for k in shown[1:]:
        names = names + f" · {k}=" + frame[k].map(_fmt)
    return names.astype(object)


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def band_limits(agg: pd.DataFrame, band: str = "ci") -> pd.DataFrame:
    """`agg` (aggregate_curves' columns mean, sd, min, max, ci_low, ci_high) with `lo` and `hi` of
    the chosen band: "ci" (95% CI of the mean), "sd" (mean ± sd) or "range" (min–max)."""
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
    out = agg.copy()
    if band == "ci":
        out["lo"], out["hi"] = out["ci_low"], out["ci_high"]
    elif band == "sd":
        out["lo"], out["hi"] = out["mean"] - out["sd"], out["mean"] + out["sd"]
    else:
        out["lo"], out["hi"] = out["min"], out["max"]
    return out


def smooth(frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str], window: int) -> pd.DataFrame:
    """Display smoothing: a trailing moving average of `columns` over `window` epochs within each
    group of `keys` (window 1 changes nothing)."""
    if window <= 1 or frame.empty:
        return frame
    out = frame.sort_values([*keys, "epoch"]).copy()
    grouped = out.groupby(list(keys), sort=False, dropna=False)
    for col in columns:
        out[col] = grouped[col].transform(lambda s: s.rolling(window, min_periods=1).mean())
    return out


def thin(frame: pd.DataFrame, keys: Sequence[str], max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most about `max_points` epochs per group of `keys`: every k-th epoch, the last one kept."""
    if frame.empty:
        return frame
    epochs = np.sort(frame["epoch"].unique())
    if epochs.size <= max_points:
        return frame
    step = int(np.ceil(epochs.size / max_points))
    keep = set(epochs[::step].tolist()) | {int(epochs[-1])}
    return frame[frame["epoch"].isin(keep)]


def _positive(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows with a positive first column; other non-positive values clipped for a log axis."""
    out = frame[frame[columns[0]] > 0].copy()
    if out.empty:
        return out
    floor = float(out[columns[0]].min()) / 2
    for col in columns[1:]:
        out[col] = out[col].clip(lower=floor)
    return out


def _finite(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        out[col] = out[col].astype(np.float64).replace([np.inf, -np.inf], np.nan)
    return out


def _y(metric: str, log: bool, field: str = "mean") -> alt.Y:
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    return alt.Y(f"{field}:Q", title=display.title(metric), scale=scale)


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    """A chart title, its subtitle in the muted grey that reads on light and dark pages."""
    if subtitle is None:
        return alt.TitleParams(text)
    return alt.TitleParams(text, subtitle=subtitle, subtitleColor=MUTED)


def convergence_chart(
    agg: pd.DataFrame,
    metric: str,
    *,
    keys: Sequence[str] = ("label", "lr"),
    band: str | None = "ci",
    log: bool = False,
    window: int = 1,
    seeds: pd.DataFrame | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """A metric against epoch: one line per arm (the mean across seeds), a shaded band (`band`:
    ci, sd, range or None), optionally thin lines of the individual seeds.

    agg: aggregate_curves' output (keys…, epoch, mean, sd, min, max, ci_low, ci_high, n).
    seeds: per-run curves (keys…, run_id, epoch, value) drawn behind the means.
    """
    keys = list(keys)
    data = convergence_data(agg, keys, band=band, log=log, window=window)
    color = alt.Color(f"{SERIES}:N", title="arm", scale=PALETTE, legend=LINE_LEGEND)
    unlisted = alt.Color(f"{SERIES}:N", title="arm", scale=PALETTE, legend=None)  # the lines' legend serves
    x = alt.X("epoch:Q", title="epoch", axis=EPOCH_AXIS)
    base = alt.Chart(data)
    layers: list[alt.Chart] = []
    if seeds is not None and not seeds.empty:
        layers.append(_seed_lines(seeds, agg, keys, metric, log, window))
    if band is not None:
        layers.append(
            base.mark_area(opacity=0.2).encode(
                x=x, y=_y(metric, log, "lo"), y2="hi:Q", color=unlisted,
                tooltip=[f"{SERIES}:N", "epoch:Q", alt.Tooltip("lo:Q", format=".4g"),
                         alt.Tooltip("hi:Q", format=".4g")],
            )
        )
    layers.append(
        base.mark_line().encode(
            x=x, y=_y(metric, log), color=color,
            tooltip=[f"{SERIES}:N", "epoch:Q", alt.Tooltip("mean:Q", format=".4g"), "n:Q"],
        )
    )
    subtitle = f"line: mean across seeds; band: {BANDS[band]}" if band else "line: mean across seeds"
    # independent legends: the band's and the seeds' are off, so the one legend shows the lines
    return alt.layer(*layers).resolve_legend(color="independent").properties(
        title=_title(title or display.label(metric), subtitle))


def convergence_data(agg: pd.DataFrame, keys: Sequence[str] = ("label", "lr"), *,
                     band: str | None = "ci", log: bool = False, window: int = 1) -> pd.DataFrame:
    """What convergence_chart draws: columns series, epoch, mean, lo, hi (the band's limits), n;
    non-finite values as NaN, smoothed over `window`, thinned, positive only for a log axis; a
    series with fewer than two finite means draws no line, so it is left out (and off the legend)."""
    keys = list(keys)
    data = band_limits(agg, band or "ci")
    data = _finite(data, ["mean", "lo", "hi"])
    data = smooth(data, keys, ["mean", "lo", "hi"], window)
    data = thin(data, keys)
    data[SERIES] = series_names(data, keys)
    if log:
        data = _positive(data, ["mean", "lo", "hi"])
    drawn = data.groupby(SERIES)["mean"].transform(lambda s: s.notna().sum() >= 2).astype(bool)
    return data[drawn][[SERIES, "epoch", "mean", "lo", "hi", "n"]]


def _seed_lines(seeds: pd.DataFrame, agg: pd.DataFrame, keys: list[str], metric: str,
                log: bool, window: int) -> alt.Chart:
    """Thin lines of individual runs, coloured like their arm's mean."""
    data = _finite(seeds, ["value"])
    data = smooth(data, [*keys, "run_id"], ["value"], window)
    data = thin(data, [*keys, "run_id"])
    names = pd.concat([agg[keys].drop_duplicates(), data[keys].drop_duplicates()]).drop_duplicates()
    names[SERIES] = series_names(names, keys)
    data = data.merge(names, on=keys, how="left")
    if log:
        data = data[data["value"] > 0]
    data = data[[SERIES, "run_id", "epoch", "value"]]
    return alt.Chart(data).mark_line(opacity=0.25, strokeWidth=1).encode(
        x=alt.X("epoch:Q", axis=EPOCH_AXIS), y=_y(metric, log, "value"),
        color=alt.Color(f"{SERIES}:N", title="arm", scale=PALETTE, legend=None), detail="run_id:N",
    )


def final_chart(runs: pd.DataFrame, metric: str, *, keys: Sequence[str] = ("label", "lr"),
                log: bool = False) -> alt.LayerChart:
    """The final value of `metric` per run (a runs frame: id, keys…, metric) as a box per arm with
    every run as a tick."""
    keys = list(keys)
    data = _finite(runs[["id", *keys, metric]].rename(columns={metric: "value"}), ["value"])
    data = data.dropna(subset=["value"])
    if log:
        data = data[data["value"] > 0]
    data[SERIES] = series_names(data, keys)
    data = data[["id", SERIES, "value"]]
    y = alt.Y(f"{SERIES}:N", title=None, axis=alt.Axis(labelLimit=300))
    x = alt.X("value:Q", title=f"final {display.title(metric)}",
              scale=alt.Scale(type="log") if log else alt.Scale(zero=False))
    base = alt.Chart(data)
    box = base.mark_boxplot(extent="min-max", opacity=0.5, rule={"color": MUTED}, median={"color": MUTED}).encode(
        x=x, y=y, color=alt.Color(f"{SERIES}:N", legend=None, scale=PALETTE))
    ticks = base.mark_tick(color=MUTED, opacity=0.9, thickness=2).encode(
        x=x, y=y, tooltip=[SERIES, "id", alt.Tooltip("value:Q", format=".4g")]
    )
    return alt.layer(box, ticks).properties(title=_title(f"final {display.label(metric)} per run"))


def evidence_chart(verdicts: pd.DataFrame, *, label: str = "condition", ratio: bool = False,
                   favoured: str | None = None, other: str | None = None) -> alt.LayerChart:
    """One claim test's effect with its 95% CI per comparison (`label`), coloured by verdict, against
    no effect (0, or 1 on a log axis for a ratio), with "favours `other`" left of no effect and
    "favours `favoured`" right of it (effects point the claim's way: beyond no effect favours the
    claimed arm).

    verdicts: columns `label`, effect, ci_low, ci_high, verdict, n (one row per comparison), and
    optionally level (the interval's confidence in %, which the axis names: 95, or 97.5 for a
    headline adjusted over two). The chart is as tall as its rows need (axis, texts and legend
    included, as Streamlit fits the whole chart into its height); its legend lists the verdicts drawn.
    """
    levels = sorted({float(x) for x in verdicts["level"] if x == x}) if "level" in verdicts else [95.0]
    data = _finite(verdicts[[label, "effect", "ci_low", "ci_high", "verdict", "n",
                             *(["level"] if "level" in verdicts else [])]], ["effect", "ci_low", "ci_high"])
    if ratio:
        for col in ("effect", "ci_low", "ci_high"):
            data[col] = data[col].where(data[col] > 0)
    scale = alt.Scale(type="log") if ratio else alt.Scale(zero=False)
    shown = [v for v in VERDICT_COLORS if v in set(data["verdict"])]
    color = alt.Color("verdict:N", scale=alt.Scale(domain=shown, range=[VERDICT_COLORS[v] for v in shown]))
    y = alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=420, labelOverlap=False))
    level = f"{' or '.join(f'{x:.3g}%' for x in levels)} CI" if levels else "exact: deterministic"
    x_title = f"effect, {'ratio' if ratio else 'difference'} ({level})"
    base = alt.Chart(data)
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=x_title, scale=scale), x2="ci_high:Q", y=y, color=color)
    point = base.mark_point(filled=True, size=70).encode(
        x=alt.X("effect:Q", scale=scale), y=y, color=color,
        tooltip=[label, "verdict", alt.Tooltip("effect:Q", format=".4g"),
                 alt.Tooltip("ci_low:Q", format=".4g"), alt.Tooltip("ci_high:Q", format=".4g"), "n",
                 *([alt.Tooltip("level:Q", title="CI level (%)")] if "level" in data else [])],
    )
    no_effect = 1.0 if ratio else 0.0
    null = alt.Chart(pd.DataFrame({"null": [no_effect]})).mark_rule(
        strokeDash=[4, 4], color=MUTED).encode(x=alt.X("null:Q", scale=scale))
    sides = pd.DataFrame({"null": [no_effect, no_effect],
                          "side": [f"← favours {other or 'the other arm'}",
                                   f"favours {favoured or 'the claimed arm'} →"]})
    favours = [alt.Chart(sides.iloc[[i]]).mark_text(align=align, dx=dx, baseline="bottom", dy=-4,
                                                    color=MUTED, fontSize=11).encode(
        x=alt.X("null:Q", scale=scale), y=alt.value(0), text="side:N")
        for i, (align, dx) in enumerate((("right", -6), ("left", 6)))]
    rows = data[label].nunique()
    height = max(ROW_PX * rows + AXIS_PX, 22 * len(shown) + 40)  # every row, and the legend, whole
    return alt.layer(null, rule, point, *favours).properties(height=height)


def analytic_chart(frame: pd.DataFrame, field: str = "value", *, log: bool = False) -> alt.Chart:
    """Analytic loss (`field`="value") or output-gradient norm ("grad_norm") of each loss against
    the predicted probability of the true class. frame: p_true, loss, value, grad_norm."""
    titles = {"value": "loss", "grad_norm": "gradient norm |∂L/∂z|"}
    data = _finite(frame[["p_true", "loss", field]], [field])
    if log:
        data = data[data[field] > 0]
    return alt.Chart(data).mark_line().encode(
        x=alt.X("p_true:Q", title="predicted probability of the true class"),
        y=alt.Y(f"{field}:Q", title=titles.get(field, field),
                scale=alt.Scale(type="log") if log else alt.Scale()),
        color=alt.Color("loss:N", title="loss", scale=PALETTE, legend=LINE_LEGEND),
        tooltip=["loss", alt.Tooltip("p_true:Q", format=".3f"), alt.Tooltip(f"{field}:Q", format=".4g")],
    ).properties(title=f"{titles.get(field, field)} against p̂ of the true class")


def pool_bins(frame: pd.DataFrame, keys: Sequence[str] = ("label",),
              bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """Reliability bins pooled over runs: per group of `keys` and confidence bin (equal widths on
    [0, 1]), the count-weighted mean confidence and accuracy, the samples and the runs pooled.

    frame: keys…, run_id, confidence, accuracy, count (one row per run and non-empty bin)."""
    data = _finite(frame[[*keys, "run_id", "confidence", "accuracy", "count"]],
                   ["confidence", "accuracy", "count"]).dropna(subset=["confidence", "accuracy", "count"])
    data = data[data["count"] > 0]
    data["bin"] = np.clip(np.floor(data["confidence"] * bins), 0, bins - 1).astype(int)
    data["conf_w"] = data["confidence"] * data["count"]
    data["acc_w"] = data["accuracy"] * data["count"]
    out = data.groupby([*keys, "bin"], as_index=False).agg(
        count=("count", "sum"), conf_w=("conf_w", "sum"), acc_w=("acc_w", "sum"), runs=("run_id", "nunique"))
    out["confidence"] = out["conf_w"] / out["count"]
    out["accuracy"] = out["acc_w"] / out["count"]
    out["count"] = out["count"].astype(int)
    return out[[*keys, "bin", "confidence", "accuracy", "count", "runs"]]


def reliability_chart(frame: pd.DataFrame, *, min_count: int = MIN_BIN_COUNT,
                      bins: int = RELIABILITY_BINS) -> alt.VConcatChart:
    """Reliability diagram per arm: the runs' bins pooled (pool_bins), accuracy against confidence
    with points sized by the samples in the bin, bins under `min_count` samples left out, the
    diagonal of perfect calibration; below it, the samples per bin and arm.

    frame: label, run_id, confidence, accuracy, count (one row per run and non-empty bin).
    """
    pooled = pool_bins(frame, ("label",), bins)
    shown = pooled[pooled["count"] >= min_count]
    hidden = int((pooled["count"] < min_count).sum())
    x = alt.X("confidence:Q", title="confidence", scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1]))
    # legends above the diagram: a stretched vconcat leaves no room for them at its right
    color = alt.Color("label:N", title="arm", scale=PALETTE,
                      legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=3, labelLimit=0))
    diagonal = alt.Chart(pd.DataFrame({"confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color=MUTED).encode(x=x, y=y)
    base = alt.Chart(shown)
    tooltip = ["label", alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"),
               alt.Tooltip("count:Q", title="samples"), alt.Tooltip("runs:Q", title="runs pooled")]
    lines = base.mark_line().encode(x=x, y=y, color=color)
    points = base.mark_circle(opacity=0.85).encode(
        x=x, y=y, color=alt.Color("label:N", scale=PALETTE, legend=None),
        size=alt.Size("count:Q", title="samples in bin",
                      legend=alt.Legend(orient="top", symbolFillColor=MUTED, symbolStrokeColor=MUTED)),
        tooltip=tooltip)
    note = (f"each arm's runs pooled; {hidden} bin{'s' if hidden != 1 else ''} under {min_count} samples "
            "left out" if hidden else "each arm's runs pooled")
    diagram = alt.layer(diagonal, lines, points).properties(
        title=_title("reliability diagram", note), height=300)
    counts = alt.Chart(pooled.assign(centre=(pooled["bin"] + 0.5) / bins)).mark_bar().encode(
        x=alt.X("centre:Q", title="confidence", bin=alt.Bin(extent=[0, 1], step=1 / bins),
                axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1.0], format=".1f")),
        y=alt.Y("count:Q", title="test samples"),
        color=alt.Color("label:N", scale=PALETTE, legend=None),
        tooltip=["label", alt.Tooltip("count:Q", title="samples")],
    ).properties(height=90)
    return alt.vconcat(diagram, counts).resolve_scale(color="shared")


def overlay_chart(curves: pd.DataFrame, metric: str, *, log: bool = False) -> alt.Chart:
    """Selected runs' curves of one metric on one chart. curves: run (a readable name), run_id,
    epoch, value."""
    data = thin(_finite(curves[["run", "run_id", "epoch", "value"]], ["value"]), ["run_id"])
    if log:
        data = data[data["value"] > 0]
    return alt.Chart(data).mark_line().encode(
        x=alt.X("epoch:Q", title="epoch", axis=EPOCH_AXIS),
        y=alt.Y("value:Q", title=display.title(metric),
                scale=alt.Scale(type="log") if log else alt.Scale(zero=False)),
        color=alt.Color("run:N", title="run", scale=PALETTE, legend=LINE_LEGEND),
        tooltip=["run", "epoch", alt.Tooltip("value:Q", format=".4g")],
    ).properties(title=_title(display.label(metric)))


def informative(metrics: pd.DataFrame) -> tuple[list[str], dict[str, float]]:
    """Which of one run's series are worth a chart: (names that change over the epochs, {name: value}
    of those that hold one finite value throughout); series with no finite value are neither.
    metrics: name, epoch, value."""
    data = _finite(metrics[["name", "value"]], ["value"]).dropna(subset=["value"])
    varying, constant = [], {}
    for name, values in data.groupby("name", sort=True)["value"]:
        if values.nunique() > 1:
            varying.append(str(name))
        else:
            constant[str(name)] = float(values.iloc[0])
    return varying, constant


def metrics_grid_chart(metrics: pd.DataFrame, *, columns: int = 4) -> alt.FacetChart:
    """Every metric of one run that changes over the epochs (see `informative`), one small chart per
    metric with its own y scale, titled by its display name. metrics: name, epoch, value."""
    varying, _ = informative(metrics)
    data = metrics[metrics["name"].isin(varying)]
    data = thin(_finite(data[["name", "epoch", "value"]], ["value"]), ["name"]).dropna(subset=["value"])
    data = data.assign(metric=data["name"].map(display.title))
    return (
        alt.Chart(data)
        .mark_line(point=len(data["epoch"].unique()) <= 30)
        .encode(x=alt.X("epoch:Q", axis=EPOCH_AXIS), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                tooltip=["metric", "epoch", alt.Tooltip("value:Q", format=".4g")])
        .properties(width=170, height=110)
        .facet(facet=alt.Facet("metric:N", title=None, header=alt.Header(labelLimit=0)), columns=columns)
        .resolve_scale(y="independent")
    )
