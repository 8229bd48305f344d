"""How a metric is named for a reader: one table of display names and units, shared by the charts,
the dashboard and the reports (the store keeps the stable snake_case names); and the colours of the
verdicts and names of the bands every view uses (no plotting library needed to know them)."""

from __future__ import annotations

from dataclasses import dataclass

VERDICT_COLORS: dict[str, str] = {
    "supported": "#2e7d32",
    "contradicted": "#c62828",
    "equivalent": "#1565c0",
    "inconclusive": "#f9a825",
    "not measurable": "#6d4c41",
    "not run": "#9e9e9e",
}
# Streamlit's badges take a colour name from their own palette only: the nearest to each colour above.
VERDICT_BADGES: dict[str, str] = {"supported": "green", "contradicted": "red", "equivalent": "blue",
                                  "inconclusive": "orange", "not measurable": "gray", "not run": "gray"}
BANDS: dict[str, str] = {"ci": "95% CI of the mean", "sd": "mean ± 1 sd", "range": "min–max"}


@dataclass(frozen=True)
class MetricName:
    """A stored metric's display name and unit ("" for a dimensionless share or score)."""

    name: str
    label: str
    unit: str = ""

    @property
    def title(self) -> str:
        """The axis title: the label with its unit in parentheses, "wall time (s)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


_TABLE = (
    MetricName("train_loss", "training loss (each arm's own loss)"),
    MetricName("val_loss", "validation loss (each arm's own loss)"),
    MetricName("test_loss", "test loss (each arm's own loss)"),
    MetricName("train_accuracy", "training accuracy"),
    MetricName("val_accuracy", "validation accuracy"),
    MetricName("test_accuracy", "test accuracy"),
    MetricName("test_balanced_accuracy", "test balanced accuracy"),
    MetricName("test_macro_f1", "test macro-F1"),
    MetricName("test_minority_recall", "test minority-class recall"),
    MetricName("test_ece", "test ECE (15 bins)"),
    MetricName("test_brier", "test Brier score"),
    MetricName("val_nll", "validation NLL", "nats"),
    MetricName("test_nll", "test NLL", "nats"),
    MetricName("test_true_class_prob", "test confidence in the true class"),
    MetricName("test_confident_wrong_share", "share of test samples confidently wrong"),
    MetricName("test_confident_wrong_loss", "loss on confidently wrong test samples"),
    MetricName("test_confident_wrong_grad", "|∂L/∂z| on confidently wrong test samples"),
    MetricName("train_rmse", "training RMSE", "target units"),
    MetricName("val_rmse", "validation RMSE", "target units"),
    MetricName("test_rmse", "test RMSE", "target units"),
    MetricName("test_mae", "test MAE", "target units"),
    MetricName("grad_norm", "output-gradient norm |∂L/∂z|"),
    MetricName("saturation", "share of saturated output units"),
    MetricName("output", "neuron output ŷ"),
    MetricName("dloss_dz", "gradient ∂L/∂z"),
    MetricName("wall_time", "wall time since the start", "s"),
    MetricName("wall_seconds", "training time per run", "s"),
)
METRICS: dict[str, MetricName] = {m.name: m for m in _TABLE}


def metric(name: str) -> MetricName:
    """The display entry of a stored metric; an unknown one is its name with spaces for underscores."""
    return METRICS.get(name) or MetricName(name, name.replace("_", " "))


def label(name: str) -> str:
    """A metric's display name: "test accuracy" for test_accuracy."""
    return metric(name).label


def title(name: str) -> str:
    """A metric's display name with its unit, for an axis: "wall time since the start (s)"."""
    return metric(name).title
