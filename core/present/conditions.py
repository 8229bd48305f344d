"""Conditions lossdb injected into the training data, named as such (from a verdict's `injected` reason).

A finding measured with flipped labels or gross outliers says something about a loss under that
corruption, not about the user's data as it is: every view says which corruption lossdb made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.numbers import num

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Reason, Verdict


def _pct(share: float) -> str:
    return f"{num(100 * float(share))}%"


PHRASES = {
    "label_noise": lambda x: f"{_pct(x)} of the training labels flipped to another class",
    "outliers": lambda x: f"{_pct(x)} of the training targets replaced by gross outliers",
    "imbalance": lambda x: f"the rare class cut to 1 in {num(float(x))} of the others in training",
    "feature_outliers": lambda x: f"{_pct(x)} of the training samples moved far off in feature space "
                                  "with a wrong label",
}
IF_YOURS = {
    "label_noise": "your labels are noisy",
    "outliers": "your targets have gross outliers",
    "imbalance": "one of your classes is rare",
    "feature_outliers": "some of your samples are far, mislabelled points",
}


def injected_figures(v: Verdict) -> tuple[tuple[str, object], ...]:
    """The corruptions of the verdict's `injected` reason, ((name, value), ...); () when none."""
    for r in v.reasons:
        if r.code == "injected":
            return r.figures
    return ()


def injected_text(v: Verdict) -> str:
    """"with 20% of the training targets replaced by gross outliers (injected by lossdb)", or ""."""
    return injected_phrase_of(injected_figures(v))


def injected_phrase(r: Reason) -> str:
    """An `injected` reason as its phrase: "with 40% of the training labels flipped … (injected by lossdb)"."""
    return injected_phrase_of(r.figures)


def injected_phrase_of(figures: tuple[tuple[str, object], ...]) -> str:
    """"with … (injected by lossdb)" for (corruption, value) pairs, or "" when there is none."""
    parts = [PHRASES[k](x) for k, x in figures if k in PHRASES]
    return f"with {' and '.join(parts)} (injected by lossdb)" if parts else ""


def only_if(v: Verdict) -> str:
    """"your targets have gross outliers": when an injected finding would matter, or ""."""
    return " or ".join(IF_YOURS[k] for k, _ in injected_figures(v) if k in IF_YOURS)
