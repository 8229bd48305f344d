"""The chart functions' Vega-Lite specs encode what they claim: fields, band, log scale, layers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

from lossdb.core.present import charts
from lossdb.core.analysis.frame import aggregate_curves


@pytest.fixture
def runs_and_curves() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two arms × three seeds, 11 epochs of a decaying loss, as runs_frame and curves give them."""
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"id": range(1, 7), "label": ["ce/softmax"] * 3 + ["mse/softmax"] * 3,
                         "lr": 0.5, "seed": [0, 1, 2] * 2,
                         "test_accuracy": [0.9, 0.92, 0.91, 0.8, 0.85, 0.82]})
    rows = [(run_id, epoch, float(np.exp(-epoch / (3 if run_id <= 3 else 8)) + rng.uniform(0, 0.05)))
            for run_id in range(1, 7) for epoch in range(11)]
    return runs, pd.DataFrame(rows, columns=["run_id", "epoch", "value"])


@pytest.fixture
def agg(runs_and_curves: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """aggregate_curves over the two arms."""
    runs, curves = runs_and_curves
    return aggregate_curves(runs, curves)


def layer_by_mark(spec: dict, mark: str) -> dict:
    """The first layer of a layered spec whose mark is `mark`."""
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        if kind == mark:
            return layer
    raise AssertionError(f"no {mark} layer in {[layer['mark'] for layer in spec['layer']]}")


def chart_rows(spec: dict, layer: dict | None = None) -> list[dict]:
    """The inline data rows a (layer of a) spec draws."""
    name = (layer or spec).get("data", spec.get("data"))["name"]
    return spec["datasets"][name]


def test_convergence_chart_draws_the_mean_per_arm_against_epoch(agg):
    spec = charts.convergence_chart(agg, "train_loss").to_dict()
    line = layer_by_mark(spec, "line")
    assert line["encoding"]["x"]["field"] == "epoch"
    assert line["encoding"]["y"]["field"] == "mean"
    assert line["encoding"]["color"]["field"] == charts.SERIES
    assert {r[charts.SERIES] for r in chart_rows(spec)} == {"ce/softmax", "mse/softmax"}


def test_convergence_chart_band_spans_the_confidence_interval(agg):
    spec = charts.convergence_chart(agg, "train_loss", band="ci").to_dict()
    area = layer_by_mark(spec, "area")
    assert (area["encoding"]["y"]["field"], area["encoding"]["y2"]["field"]) == ("lo", "hi")
    first = agg.iloc[0]
    row = next(r for r in chart_rows(spec) if r["epoch"] == first["epoch"] and r[charts.SERIES] == first["label"])
    assert row["lo"] == pytest.approx(first["ci_low"]) and row["hi"] == pytest.approx(first["ci_high"])


@pytest.mark.parametrize(("band", "low", "high"), [("sd", "mean-sd", "mean+sd"), ("range", "min", "max")])
def test_convergence_chart_band_follows_the_chosen_spread(agg, band, low, high):
    spec = charts.convergence_chart(agg, "train_loss", band=band).to_dict()
    first = agg.iloc[0]
    expect = {"mean-sd": first["mean"] - first["sd"], "mean+sd": first["mean"] + first["sd"],
              "min": first["min"], "max": first["max"]}
    row = next(r for r in chart_rows(spec) if r["epoch"] == first["epoch"] and r[charts.SERIES] == first["label"])
    assert row["lo"] == pytest.approx(expect[low]) and row["hi"] == pytest.approx(expect[high])


def test_convergence_chart_without_band_has_no_area(agg):
    spec = charts.convergence_chart(agg, "train_loss", band=None).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line"]


def test_convergence_chart_log_scale_is_log_on_every_layer(agg):
    spec = charts.convergence_chart(agg, "train_loss", log=True).to_dict()
    assert all(layer["encoding"]["y"]["scale"]["type"] == "log" for layer in spec["layer"])


def test_convergence_chart_on_a_log_scale_drops_non_positive_means(agg):
    shifted = agg.assign(mean=agg["mean"] - 0.5)
    spec = charts.convergence_chart(shifted, "train_loss", log=True).to_dict()
    assert all(r["mean"] > 0 and r["lo"] > 0 for r in chart_rows(spec))


def test_convergence_chart_draws_each_seed_behind_the_means(agg, runs_and_curves):
    runs, curves = runs_and_curves
    seeds = curves.merge(runs[["id", "label", "lr"]], left_on="run_id", right_on="id").drop(columns="id")
    spec = charts.convergence_chart(agg, "train_loss", seeds=seeds).to_dict()
    seed_layer = spec["layer"][0]
    assert seed_layer["encoding"]["detail"]["field"] == "run_id"
    assert len({r["run_id"] for r in chart_rows(spec, seed_layer)}) == 6


def test_convergence_chart_smoothing_averages_the_last_epochs(agg):
    spec = charts.convergence_chart(agg, "train_loss", window=3).to_dict()
    arm = agg[agg["label"] == "ce/softmax"].set_index("epoch")["mean"]
    row = next(r for r in chart_rows(spec) if r["epoch"] == 5 and r[charts.SERIES] == "ce/softmax")
    assert row["mean"] == pytest.approx(arm.loc[3:5].mean())


def test_convergence_chart_sends_at_most_max_points_per_arm():
    epochs = np.arange(2001)
    agg = pd.DataFrame({"label": "ce/softmax", "lr": 0.5, "epoch": epochs, "mean": 1.0, "sd": 0.1,
                        "min": 0.9, "max": 1.1, "ci_low": 0.95, "ci_high": 1.05, "n": 3})
    rows = chart_rows(charts.convergence_chart(agg, "train_loss").to_dict())
    assert len(rows) <= charts.MAX_POINTS + 1
    assert max(r["epoch"] for r in rows) == 2000


def test_series_names_show_the_learning_rate_only_when_it_varies():
    frame = pd.DataFrame({"label": ["ce/softmax", "ce/softmax"], "lr": [0.1, 0.5]})
    assert list(charts.series_names(frame, ["label", "lr"])) == ["ce/softmax · lr=0.1", "ce/softmax · lr=0.5"]
    assert list(charts.series_names(frame.iloc[:1], ["label", "lr"])) == ["ce/softmax"]


def test_final_chart_draws_a_box_and_a_tick_per_run(runs_and_curves):
    runs, _ = runs_and_curves
    spec = charts.final_chart(runs, "test_accuracy").to_dict()
    assert layer_by_mark(spec, "boxplot")["encoding"]["x"]["field"] == "value"
    assert layer_by_mark(spec, "tick")["encoding"]["y"]["field"] == charts.SERIES
    assert sorted(r["value"] for r in chart_rows(spec)) == sorted(runs["test_accuracy"])


def test_evidence_chart_of_a_ratio_is_on_a_log_axis_around_one():
    verdicts = pd.DataFrame({"comparison": ["a vs b", "a vs c"], "effect": [2.0, 1.2],
                             "ci_low": [1.5, 0.9], "ci_high": [2.5, 1.6],
                             "verdict": ["supported", "inconclusive"], "n": [5, 5]})
    spec = charts.evidence_chart(verdicts, label="comparison", ratio=True).to_dict()
    rule = spec["layer"][1]
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == ("ci_low", "ci_high")
    assert rule["encoding"]["x"]["scale"]["type"] == "log"
    assert chart_rows(spec, spec["layer"][0]) == [{"null": 1.0}]
    colour = layer_by_mark(spec, "point")["encoding"]["color"]
    assert colour["scale"]["domain"] == ["supported", "inconclusive"]  # the verdicts drawn, each in its colour
    assert colour["scale"]["range"] == [charts.VERDICT_COLORS["supported"], charts.VERDICT_COLORS["inconclusive"]]


def test_analytic_chart_plots_each_loss_against_p_true():
    frame = pd.DataFrame({"p_true": [0.1, 0.9, 0.1, 0.9], "loss": ["ce", "ce", "mse", "mse"],
                          "value": [2.3, 0.1, 0.8, 0.01], "grad_norm": [0.9, 0.1, 0.2, 0.05]})
    spec = charts.analytic_chart(frame, "grad_norm", log=True).to_dict()
    assert spec["encoding"]["x"]["field"] == "p_true"
    assert spec["encoding"]["y"]["field"] == "grad_norm"
    assert spec["encoding"]["y"]["scale"]["type"] == "log"
    assert spec["encoding"]["color"]["field"] == "loss"


def test_reliability_chart_has_the_diagonal_and_a_line_per_arm():
    frame = pd.DataFrame({"label": ["ce/softmax"] * 2 + ["mse/softmax"] * 2, "run_id": [1, 1, 2, 2],
                          "confidence": [0.3, 0.9, 0.4, 0.8], "accuracy": [0.25, 0.95, 0.5, 0.7],
                          "count": [10, 90, 20, 80]})
    spec = charts.reliability_chart(frame).to_dict()
    diagram = spec["vconcat"][0]
    diagonal, lines, points = diagram["layer"]
    assert chart_rows(spec, diagonal) == [{"confidence": 0.0, "accuracy": 0.0}, {"confidence": 1.0, "accuracy": 1.0}]
    assert lines["encoding"]["color"]["field"] == "label" and "detail" not in lines["encoding"]
    assert points["encoding"]["size"]["field"] == "count"


def test_overlay_chart_colours_each_selected_run(runs_and_curves):
    _, curves = runs_and_curves
    spec = charts.overlay_chart(curves.assign(run=curves["run_id"].map(lambda i: f"#{i}")), "train_loss").to_dict()
    assert spec["encoding"]["color"]["field"] == "run"
    assert len({r["run"] for r in chart_rows(spec)}) == 6


def test_metrics_grid_chart_gives_each_metric_its_own_y_scale():
    frame = pd.DataFrame({"name": ["train_loss"] * 3 + ["test_accuracy"] * 3, "epoch": [0, 1, 2] * 2,
                          "value": [2.0, 1.0, 0.5, 0.1, 0.5, 0.9]})
    spec = charts.metrics_grid_chart(frame).to_dict()
    assert spec["facet"]["field"] == "metric"
    assert spec["resolve"]["scale"]["y"] == "independent"


def test_charts_render_offline_to_svg_as_the_reports_do(agg, runs_and_curves):
    runs, _ = runs_and_curves
    for chart in (charts.convergence_chart(agg, "train_loss", log=True), charts.final_chart(runs, "test_accuracy")):
        assert vlc.vegalite_to_svg(chart.to_dict()).lstrip().startswith("<svg")


# What a newcomer saw (issue 16): pale legend swatches, black text on a dark page, snake_case axes,
# a forest plot without sides, one zig-zag reliability line per run, empty and flat panels.

def relative_luminance(hex_colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("background", ["#ffffff", "#0e1117"], ids=["light", "dark"])
def test_the_colour_charts_give_their_own_text_and_ticks_reads_on_light_and_dark(background):
    assert contrast(charts.MUTED, background) >= 3


def test_no_chart_colours_anything_black(agg, runs_and_curves):
    runs, _ = runs_and_curves
    verdicts = pd.DataFrame({"comparison": ["a vs b"], "effect": [0.1], "ci_low": [0.0], "ci_high": [0.2],
                             "verdict": ["inconclusive"], "n": [5]})
    specs = [charts.convergence_chart(agg, "train_loss"), charts.final_chart(runs, "test_accuracy"),
             charts.evidence_chart(verdicts, label="comparison")]
    for spec in specs:
        text = str(spec.to_dict()).lower()
        assert "'black'" not in text and "#000" not in text


def test_convergence_subtitle_is_in_the_muted_grey(agg):
    title = charts.convergence_chart(agg, "train_loss").to_dict()["title"]
    assert title["subtitle"] and title["subtitleColor"] == charts.MUTED


def test_convergence_legend_shows_line_swatches_in_the_line_colour(agg):
    svg = vlc.vegalite_to_svg(charts.convergence_chart(agg, "train_loss").to_dict())
    symbols = re.findall(r'class="mark-symbol role-legend-symbol[^"]*"[^>]*>(<path[^>]*>)', svg)
    assert sorted(re.search(r'stroke="(#[0-9a-f]+)"', p).group(1) for p in symbols) == ["#4c78a8", "#f58518"]
    assert all('opacity="1"' in p and "fill-opacity" not in p for p in symbols)


def test_axes_use_the_metric_display_name_and_unit(agg):
    spec = charts.convergence_chart(agg, "wall_time").to_dict()
    line = layer_by_mark(spec, "line")
    assert line["encoding"]["y"]["title"] == "wall time since the start (s)"
    assert spec["title"]["text"] == "wall time since the start"


def test_evidence_chart_labels_the_side_each_arm_is_favoured_on():
    verdicts = pd.DataFrame({"comparison": ["ce vs mse"], "effect": [2.0], "ci_low": [1.5], "ci_high": [2.5],
                             "verdict": ["supported"], "n": [5]})
    spec = charts.evidence_chart(verdicts, label="comparison", ratio=True, favoured="ce/softmax",
                                 other="mse/softmax").to_dict()
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    sides = {chart_rows(spec, t)[0]["side"]: t["mark"]["align"] for t in texts}
    assert sides == {"← favours mse/softmax": "right", "favours ce/softmax →": "left"}
    assert all(chart_rows(spec, t)[0]["null"] == 1.0 for t in texts)


def test_reliability_bins_pool_an_arms_runs_weighted_by_their_samples():
    frame = pd.DataFrame({"label": ["ce"] * 3, "run_id": [1, 2, 2],
                          "confidence": [0.91, 0.95, 0.5], "accuracy": [1.0, 0.5, 0.4],
                          "count": [30, 10, 4]})
    pooled = charts.pool_bins(frame, ("label",), bins=10).set_index("bin")
    assert pooled.loc[9, "count"] == 40 and pooled.loc[9, "runs"] == 2
    assert pooled.loc[9, "accuracy"] == pytest.approx((30 * 1.0 + 10 * 0.5) / 40)
    assert pooled.loc[9, "confidence"] == pytest.approx((30 * 0.91 + 10 * 0.95) / 40)
    assert pooled.loc[5, "count"] == 4


def test_reliability_chart_leaves_out_bins_under_the_minimum_count_and_says_so():
    frame = pd.DataFrame({"label": ["ce"] * 2, "run_id": [1, 1], "confidence": [0.95, 0.5],
                          "accuracy": [0.9, 0.0], "count": [50, 3]})
    spec = charts.reliability_chart(frame, min_count=10).to_dict()
    points = spec["vconcat"][0]["layer"][2]
    assert [r["count"] for r in chart_rows(spec, points)] == [50]
    assert "1 bin under 10 samples left out" in spec["vconcat"][0]["title"]["subtitle"]
    assert sorted(r["count"] for r in chart_rows(spec, spec["vconcat"][1])) == [3, 50]


def test_metrics_grid_leaves_out_empty_and_flat_series():
    frame = pd.DataFrame({"name": ["train_loss"] * 3 + ["saturation"] * 3 + ["wall_time"] * 3,
                          "epoch": [0, 1, 2] * 3,
                          "value": [2.0, 1.0, 0.5, np.nan, np.nan, np.nan, 0.25, 0.25, 0.25]})
    assert charts.informative(frame) == (["train_loss"], {"wall_time": 0.25})
    spec = charts.metrics_grid_chart(frame).to_dict()
    assert {r["name"] for r in chart_rows(spec)} == {"train_loss"}


def test_a_series_with_one_finite_value_is_left_off_the_chart_and_its_legend(runs_and_curves):
    runs, curves = runs_and_curves
    curves = curves.copy()
    curves.loc[(curves["run_id"] > 3) & (curves["epoch"] > 0), "value"] = np.nan  # mse: only epoch 0 finite
    spec = charts.convergence_chart(aggregate_curves(runs, curves), "train_loss").to_dict()
    assert {r[charts.SERIES] for r in chart_rows(spec)} == {"ce/softmax"}


def test_the_report_caption_speaks_of_a_band_only_when_one_is_drawn(runs_and_curves):
    from lossdb.core.report import figures

    runs, curves = runs_and_curves
    one_seed = runs[runs["seed"] == 0]
    chart = figures.convergence("c", "exp", "cond", "train_loss", one_seed, curves, tuned=False)
    assert "band" not in chart.caption.replace("no band", "") and "one seed" in chart.caption
    assert all((layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) != "area"
               for layer in chart.spec["layer"])
    three = figures.convergence("c", "exp", "cond", "train_loss", runs, curves, tuned=False)
    assert "mean across 3 seeds, the band its 95% confidence interval" in three.caption


def test_the_report_caption_names_an_arm_that_has_nothing_to_draw(runs_and_curves):
    from lossdb.core.report import figures

    runs, curves = runs_and_curves
    curves = curves.copy()
    curves.loc[(curves["run_id"] > 3) & (curves["epoch"] > 0), "value"] = np.inf
    chart = figures.convergence("c", "exp", "cond", "train_loss", runs, curves, tuned=False)
    assert "Not drawn, having no finite value: mse/softmax." in chart.caption


def forest(rows: int, levels: list[float | None] | None = None) -> pd.DataFrame:
    """`rows` comparisons for the evidence chart, the first supported and the others inconclusive."""
    frame = pd.DataFrame({"comparison": [f"ce vs mse · setting {i}" for i in range(rows)],
                          "effect": [2.0] * rows, "ci_low": [1.5] * rows, "ci_high": [2.5] * rows,
                          "verdict": ["supported"] + ["inconclusive"] * (rows - 1), "n": [5] * rows})
    if levels is not None:
        frame["level"] = pd.Series(levels, dtype="float64")
    return frame


@pytest.mark.parametrize("rows", [1, 3, 12, 40])
def test_the_evidence_chart_is_as_tall_as_its_rows_axis_and_legend_need(rows):
    spec = charts.evidence_chart(forest(rows), label="comparison").to_dict()
    legend_entries = 2 if rows > 1 else 1
    assert spec["height"] >= charts.ROW_PX * rows + charts.AXIS_PX
    assert spec["height"] >= 22 * legend_entries + 40


def test_the_evidence_axis_names_the_intervals_real_level():
    spec = charts.evidence_chart(forest(3, [97.5, 95.0, 95.0]), label="comparison").to_dict()
    assert spec["layer"][1]["encoding"]["x"]["title"] == "effect, difference (95% or 97.5% CI)"
    spec = charts.evidence_chart(forest(2, [99.5, 99.5]), label="comparison", ratio=True).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["title"] == "effect, ratio (99.5% CI)"
