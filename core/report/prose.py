"""The report's sentences written from its numbers: the abstract and the protocol in words."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lossdb.core.present.numbers import join_words, plural
from lossdb.core.judging.outcomes import Verdict

PLACEHOLDER = re.compile(r"\{(epochs|seeds)\}")


def _either(values: Sequence[int]) -> str:
    """"40", "40 or 100", "20, 40 or 100"."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def protocol(template: str, epochs: Sequence[int], seeds: int) -> str:
    """An experiment's protocol with {epochs} and {seeds} filled in from the runs as stored, so the
    text matches the table under it whatever preset or overrides made the runs ("40 or 100")."""
    values = {"epochs": _either(sorted(set(epochs))) if epochs else "?",
              "seeds": str(seeds)}
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def scale(presets: Mapping[str, str | None], seeds: Mapping[str, int], epochs: Mapping[str, Sequence[int]]) -> str:
    """One sentence on where the numbers come from: the preset (or the custom settings) of each
    experiment's runs and how many seeds each arm ran."""
    if not presets:
        return ""
    counts = sorted(set(seeds.values()))
    per_arm = (f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}") + \
        (" seed per arm" if counts == [1] else " seeds per arm")
    named = set(presets.values())
    if named == {"full"}:
        return f"The numbers come from the full preset ({per_arm}), as in the README's table."
    if named == {"quick"}:
        return (f"The numbers come from the quick preset ({per_arm}); the README's table comes from the "
                "full preset (`lossdb run --preset full`), with more seeds and, for most experiments, "
                "more epochs.")
    groups: dict[tuple[str, int], list[str]] = {}
    for n, p in presets.items():
        if p is None:
            groups.setdefault((_either(sorted(set(epochs[n]))), seeds[n]), []).append(n)
    others = sorted(p for p in named if p)
    described = "; ".join((f"{join_words(names)}: " if len(groups) > 1 or others else "")
                          + f"{e} epochs, {plural(s, 'seed')} per arm" for (e, s), names in groups.items())
    pieces = [f"custom settings ({described})"] if groups else []
    for p in others:  # each preset named with the experiments it made, only when there is more than one source
        names = [n for n, q in presets.items() if q == p]
        pieces.append(f"the {p} preset" + (f" for {join_words(names)}" if len(pieces) or len(others) > 1 else ""))
    return (f"The numbers come from {join_words(pieces)}; the README's table comes from the "
            "full preset (`lossdb run --preset full`).")


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
             experiments: list[str], counts_all: dict[str, int] | None = None, source: str = "") -> str:
    """One paragraph: what was run and at which preset and seed count (`source`, from `scale`), how
    many claims were supported, contradicted, inconclusive or not run (and which), and how many runs
    diverged or failed."""
    if not rows:
        return "No claim is tested by the selected experiments, so this report has no verdicts."
    named = {k: [r.claim for r in rows if r.verdict == k] for k in counts}
    if runs == 0:
        opening = ("The database holds no runs yet, so only the claims that follow from the losses' "
                   "formulas could be checked; run `lossdb run --preset quick` and make this report again.")
    else:
        opening = (f"This report measures {len(rows)} claims about cross-entropy and mean squared error "
                   f"on {plural(runs, 'stored run')} of {plural(len(experiments), 'experiment')} "
                   f"({join_words(experiments)})." + (f" {source}" if source else ""))
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
        rule += (f" Over all {sum(counts_all.values())} distinct measured comparisons (a tuned row identical to an "
                 f"equal-rate row counted once; not-measurable rows left apart), with the false discovery rate "
                 f"held at 5% by Benjamini–Hochberg over exactly those comparisons: {shown}.")
    return f"{opening} {tally} {detail}{health}{rule}"
