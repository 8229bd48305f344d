"""The report's sentences written from its numbers: the abstract and the protocol in words."""

from __future__ import annotations

from typing import Any

from core.numbers import join_words, plural
from core.verdicts import Verdict


def network_text(flat: dict[str, Any]) -> str:
    """"MLP 30 sigmoid units, glorot init" or "linear model (no hidden layer)" from a flat config."""
    hidden = flat.get("hidden") or []
    init = flat.get("init", "glorot")
    scale = flat.get("init_scale", 1.0)
    init_text = f"{init} init" + (f" ×{scale:g}" if isinstance(scale, int | float) and scale != 1 else "")
    if flat.get("w") is not None:
        return f"one {flat.get('activation', 'sigmoid')} neuron started at w={flat['w']}, b={flat.get('b')}"
    if not hidden:
        return f"linear model (no hidden layer), {init_text}"
    widths = "×".join(str(h) for h in hidden)
    return f"MLP with {widths} {flat.get('activation', 'sigmoid')} hidden units, {init_text}"


def optimiser_text(flat: dict[str, Any]) -> str:
    """"SGD, batch 10" / "momentum 0.9, batch 32" / "Adam (0.9, 0.999), full batch"."""
    opt = str(flat.get("optimizer", "sgd"))
    batch = flat.get("batch_size", 32)
    batch_text = "full batch" if batch == "full" else f"batch {batch}"
    if opt == "momentum":
        return f"SGD with momentum {flat.get('momentum', 0.9):g}, {batch_text}"
    if opt == "adam":
        return f"Adam (β₁ {flat.get('beta1', 0.9):g}, β₂ {flat.get('beta2', 0.999):g}), {batch_text}"
    return f"{opt.upper() if opt == 'sgd' else opt}, {batch_text}"


def abstract(rows: tuple[Verdict, ...], counts: dict[str, int], runs: int, by_status: dict[str, int],
             experiments: list[str], counts_all: dict[str, int] | None = None) -> str:
    """One paragraph: what was run, how many claims were supported, contradicted, inconclusive or not
    run (and which), and how many runs diverged or failed."""
    if not rows:
        return "No claim is tested by the selected experiments, so this report has no verdicts."
    named = {k: [r.claim for r in rows if r.verdict == k] for k in counts}
    if runs == 0:
        opening = ("The database holds no runs yet, so only the claims that follow from the losses' "
                   "formulas could be checked; run `lossdb run --preset quick` and make this report again.")
    else:
        opening = (f"This report measures {len(rows)} claims about cross-entropy and mean squared error "
                   f"on {plural(runs, 'stored run')} of {plural(len(experiments), 'experiment')} "
                   f"({join_words(experiments)}).")
    parts = [f"{counts[k]} {k if k != 'not run' else 'not yet run'}" for k in counts if counts[k]]
    tally = f"Of the {len(rows)} claims, " + join_words(parts) + "."
    detail = " ".join(f"{k.capitalize() if k != 'not run' else 'Not yet run'}: {join_words(v)}."
                      for k, v in named.items() if v)
    trouble = [f"{by_status[s]} {s}" for s in ("diverged", "failed", "interrupted") if by_status.get(s)]
    health = (f" Of the runs, {join_words(trouble)}; each experiment's section lists them."
              if trouble else (" Every run finished." if runs else ""))
    rule = (" A verdict compares arms on the same seeds: a claim is supported when the whole confidence "
            "interval of its effect clears the smallest effect that matters, contradicted when it lies "
            "wholly beyond it on the other side, equivalent when it lies wholly inside ± that effect (the "
            "difference does not matter), and inconclusive otherwise; the headline intervals are "
            "Bonferroni-adjusted so that the family of headlines errs with at most 5% probability.")
    if counts_all and sum(counts_all.values()) > len(rows):
        shown = join_words([f"{n} {k}" for k, n in counts_all.items() if n])
        rule += (f" Over all {sum(counts_all.values())} comparisons, with the false discovery rate held "
                 f"at 5% (Benjamini–Hochberg): {shown}.")
    return f"{opening} {tally} {detail}{health}{rule}"
