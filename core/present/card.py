"""The recommendation card of one dataset: "which loss for my data?" answered from its verdicts.

Per question the catalogue asks of the data (accuracy, calibration, speed, robustness to injected
label noise and outliers, then the others) one plain sentence with the verdict and its interval;
then a bottom line, what is still open, and the command (with an estimate of the runs) that would
decide it. Every line is built from one verdict row and names it (`CardLine.claims`), so a test
can check that the card never says what no verdict supports.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lossdb.core.present.cells import band_text, effect_ci
from lossdb.core.present.conditions import injected_text, only_if
from lossdb.core.present.nextsteps import dataset_until_decided, more_seconds, workers
from lossdb.core.present.numbers import duration_text, plural

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict

SEPARATOR = "@"
# (question, the catalogue claims that answer it), in the order the card asks them.
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Accuracy", ("classification-accuracy", "regression")),
    ("Calibration", ("calibration",)),
    ("Speed", ("convergence",)),
    ("Robustness to label noise", ("label-noise",)),
    ("Robustness to outliers", ("outliers",)),
)
OTHER = "Also measured"


CATALOGUE_HINT = ("The catalogue's own claims are not shown: none of its experiments ran in this database "
                  "(`lossdb run --preset quick` runs them in about a minute).")


@dataclass(frozen=True)
class CardLine:
    """One sentence of the card and the verdict rows (claim ids) it is written from."""

    text: str
    claims: tuple[str, ...]


@dataclass(frozen=True)
class Card:
    """The recommendation card of one dataset (see the module's docstring)."""

    dataset: str
    answers: tuple[CardLine, ...]
    bottom_line: tuple[CardLine, ...]
    still_open: tuple[CardLine, ...]
    command: str | None = None
    estimated_runs: int | None = None
    estimated_seconds: float | None = None  # the command's wall time on `workers` processes, from measured runs
    workers: int = 1

    @property
    def cost_text(self) -> str:
        """"about 240 more runs, about 2 minutes on 2 workers" (the time when the runs were timed)."""
        runs = f"about {plural(self.estimated_runs or 0, 'more run')}"
        if self.estimated_seconds is None:
            return runs
        return f"{runs}, {duration_text(self.estimated_seconds)} on {plural(self.workers, 'worker')}"

    @property
    def lines(self) -> tuple[CardLine, ...]:
        """Every sentence that comes from a verdict, in the card's order."""
        return (*self.answers, *self.bottom_line, *self.still_open)


def base_claim(claim: str) -> str:
    """The catalogue claim of a re-targeted claim id: "calibration@grain" → "calibration"."""
    return claim.split(SEPARATOR, 1)[0]


def question_of(claim: str) -> str:
    """The card's question a claim answers ("Also measured" for the others)."""
    base = base_claim(claim)
    return next((q for q, claims in QUESTIONS if base in claims), OTHER)


def _on(v: Verdict) -> str:
    injected = injected_text(v)
    return f"{v.metric} {injected}" if injected else v.metric


def answer(v: Verdict) -> str:
    """One plain sentence: who does better on what, the effect with its interval, the verdict."""
    f, o = v.arms
    eff = effect_ci(v)
    on = _on(v)
    if v.verdict == "supported" and v.kind == "noninferior":
        return f"{f} is not worse than {o} on {on} by more than {band_text(v)}: {eff} (supported)."
    if v.verdict == "contradicted" and v.kind == "noninferior":
        return f"{f} is worse than {o} on {on} by more than {band_text(v)}: {eff} (contradicted)."
    if v.verdict == "supported":
        return f"{f} does better than {o} on {on}: {eff} in {f}'s favour (supported)."
    if v.verdict == "contradicted":
        return f"{o} does better than {f} on {on}: {eff} in {f}'s favour (contradicted)."
    if v.verdict == "equivalent":
        return f"{f} and {o} are equivalent on {on}: {eff}, inside ±{band_text(v)} (equivalent)."
    if v.verdict == "inconclusive" and v.n == 0:
        return f"{f} vs {o} on {on} has no usable pair of seeds yet (inconclusive)."
    if v.verdict == "inconclusive":
        more = f"; about {v.seeds_needed} seeds would decide it" if v.seeds_needed else ""
        return f"{f} vs {o} on {on} is not settled: {eff} with {v.n} seeds (inconclusive{more})."
    if v.verdict == "not measurable":
        from lossdb.core.present.findings import unmeasurable_text

        why = v.reason("not_measurable")
        because = f": {unmeasurable_text(v, why)}" if why is not None else " from the stored runs"
        return f"{f} vs {o} on {on} could not be measured{because} (not measurable)."
    return f"{f} vs {o} on {on} has not been run on this data (not run)."


def _clause(v: Verdict) -> str | None:
    """A decided verdict as a clause of the bottom line; None when it is not decided."""
    f, o = v.arms
    if v.verdict == "supported" and v.kind != "noninferior":
        text = f"{f} is better than {o} on {v.metric} ({effect_ci(v)})"
    elif v.verdict == "supported":
        text = f"{f} is no worse than {o} on {v.metric} (within {band_text(v)})"
    elif v.verdict == "contradicted" and v.kind != "noninferior":
        text = f"{o} is better than {f} on {v.metric} ({effect_ci(v)} in {f}'s favour)"
    elif v.verdict == "contradicted":
        text = f"{f} is worse than {o} on {v.metric} by more than {band_text(v)}"
    elif v.verdict == "equivalent":
        text = f"{f} and {o} are equivalent on {v.metric} within {band_text(v)}"
    else:
        return None
    matters = only_if(v)
    return f"{text}, which matters only if {matters}" if matters else text


def build_card(rows: Sequence[Verdict], dataset: str, stored: Sequence[dict[str, Any]] = (),
               folder: str | os.PathLike[str] | None = None, db: str | None = None) -> Card:
    """The card of `dataset` from its summary verdict rows (`lossdb compare --dataset NAME`).

    `stored` (the store's experiments: name, spec, n_runs) gives the file, its target and the runs
    per seed for the command and its estimate; paths are shown relative to `folder` (default: the
    current folder)."""
    ordered = sorted(rows, key=lambda v: ([q for q, _ in QUESTIONS] + [OTHER]).index(question_of(v.claim)))
    answers = tuple(CardLine(f"{question_of(v.claim)}: {answer(v)}", (v.claim,)) for v in ordered)
    clauses = [(c, v.claim) for v in ordered if question_of(v.claim) != OTHER and (c := _clause(v))]
    if clauses:
        bottom = (CardLine(f"Bottom line on {dataset}: {clauses[0][0]}.", (clauses[0][1],)),
                  *(CardLine(f"Also: {c}.", (claim,)) for c, claim in clauses[1:]))
    else:
        asked = tuple(v.claim for v in ordered)
        bottom = (CardLine(f"Bottom line on {dataset}: nothing is decided yet; the stored seeds do not "
                           f"separate the losses on any question asked.", asked),) if asked else ()
    open_rows = [v for v in ordered if v.verdict == "inconclusive"]
    still_open = tuple(CardLine(f"Still open: {_topic(v)}, "
                                + (f"about {v.seeds_needed} seeds would decide it." if v.seeds_needed
                                   else "more seeds are needed."), (v.claim,)) for v in open_rows)
    command, runs = dataset_until_decided(open_rows, stored, folder, db)
    jobs = workers()
    seconds = more_seconds(open_rows, {e["name"]: e for e in stored}, jobs) if command else None
    return Card(dataset, answers, bottom, still_open, command, runs, seconds, jobs)


def _topic(v: Verdict) -> str:
    question = question_of(v.claim)
    return v.claim if question == OTHER else f"{question.lower()} ({v.claim})"


def card_text(card: Card, width: int | None = None) -> str:
    """The card as plain text for the terminal (before the table of `lossdb compare --dataset`),
    each sentence wrapped to `width` columns when given."""
    import textwrap

    def wrap(text: str, indent: str = "") -> list[str]:
        if not width:
            return [indent + text]
        return textwrap.wrap(text, max(width, 40), initial_indent=indent, subsequent_indent=indent + "  ",
                             break_on_hyphens=False, break_long_words=False)

    out = [f"Which loss for {card.dataset}?", ""]
    for line in card.answers:
        out += wrap(line.text, "  ")
    out.append("")
    for line in (*card.bottom_line, *card.still_open):
        out += wrap(line.text)
    if card.command:
        out += wrap(f"To decide it: {card.command}  ({card.cost_text})")
    return "\n".join(out)


def card_of(db: str | None, dataset: str, rows: Sequence[Verdict] | None = None,
            folder: str | os.PathLike[str] | None = None) -> Card:
    """The card of the user's data `dataset` (its name, file name or csv:PATH) in database `db`;
    `rows`: its summary verdicts when the caller has them already."""
    from lossdb.core.experiments.retarget import dataset_key
    from lossdb.core.judging.judge import judge_store
    from lossdb.core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        if rows is None:
            rows = judge_store(store, dataset=dataset)
        return build_card(rows, dataset_key(dataset), store.experiments(), folder, db)
