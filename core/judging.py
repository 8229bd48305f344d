"""Judge a database: the one entry point that `lossdb compare`, the reports and the dashboard share.

It opens the store read-only, checks the names a caller filters by (experiments, claims, verdicts)
against what exists, evaluates every claim the stored experiments test, and filters the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.adaptive import Design
from core.claims import CLAIMS, Claim
from core.errors import ConfigError
from core.verdicts import VERDICTS, Verdict, evaluate, summary

if TYPE_CHECKING:
    import pandas as pd

    from core.store import Store


def catalogue_experiments() -> list[str]:
    """Every experiment a catalogue claim is tested in, sorted."""
    return sorted({e for c in CLAIMS.values() for e in c.experiments})


def known_experiments(store: Store, declared: dict[str, Claim] | None = None) -> list[str]:
    """Every experiment name a caller may filter by: the catalogue's, the claims' and the stored ones."""
    from core.experiments import catalogue

    declared = claims_of(store) if declared is None else declared
    return sorted({*catalogue(), *(e for c in declared.values() for e in c.experiments),
                   *(e["name"] for e in store.experiments())})


def check_experiments(store: Store, experiments: Sequence[str] | None) -> None:
    """Refuse an experiment name the store and the catalogue do not know."""
    check_names(experiments, None, None, known_experiments(store), ())


def claims_of(store: Store | None = None) -> dict[str, Claim]:
    """The catalogue's claims followed by those of users' experiments stored in `store`."""
    return dict(CLAIMS)


def designs_of(store: Store) -> dict[str, Design]:
    """The sequential design of every stored experiment that has one (`lossdb run --until-decided`)."""
    out = {}
    for e in store.experiments():
        design = Design.from_spec(e.get("spec"))
        if design is not None:
            out[e["name"]] = design
    return out


def check_names(experiments: Sequence[str] | None, claims: Sequence[str] | None,
                verdicts: Sequence[str] | None, known_experiments: Sequence[str],
                known_claims: Sequence[str]) -> None:
    """Refuse an unknown experiment, claim or verdict word with the valid ones."""
    for given, valid, what in ((experiments, known_experiments, "experiment"), (claims, known_claims, "claim"),
                               (verdicts, VERDICTS, "verdict")):
        unknown = [x for x in given or () if x not in valid]
        if unknown:
            raise ConfigError(f"unknown {what} {unknown[0]!r}; valid: {', '.join(valid)}")


def judge_store(store: Store, *, experiments: Sequence[str] | None = None, claims: Sequence[str] | None = None,
                verdicts: Sequence[str] | None = None, all_conditions: bool = False,
                frame: pd.DataFrame | None = None) -> list[Verdict]:
    """The summary rows (or every comparison) of an open store, filtered by the given names."""
    declared = claims_of(store)
    check_names(experiments, claims, verdicts, known_experiments(store, declared), list(declared))
    chosen = {k: c for k, c in declared.items() if not claims or k in claims}
    rows = evaluate(store, list(experiments) if experiments else None, frame, chosen, designs_of(store))
    rows = rows if all_conditions else summary(rows, chosen)
    return [v for v in rows if not verdicts or v.verdict in verdicts]


def judge(db: str | None, **filters) -> list[Verdict]:
    """Open the database read-only and judge it (see `judge_store` for the filters)."""
    from core.store import open_store

    store = open_store(db, create=False, read_only=True)
    try:
        return judge_store(store, **filters)
    finally:
        store.close()
