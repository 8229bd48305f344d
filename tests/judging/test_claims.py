"""The claims as declared: ids, sources, arms, headline rationale (judging is tested in test_verdicts)."""

import re
from pathlib import Path

import pytest

from lossdb.core.judging.claims import CLAIMS

DESIGN_IDS = ("convergence", "vanishing-gradient", "classification-accuracy", "regression",
              "confident-mistakes", "outliers", "label-noise", "calibration", "local-minima",
              "imbalance", "linear-mse", "margin")
DESIGN = Path(__file__).resolve().parents[3] / "shared" / "DESIGN.md"


def test_every_design_claim_id_is_declared_once():
    assert tuple(CLAIMS) == DESIGN_IDS


@pytest.mark.skipif(not DESIGN.exists(), reason="the shared DESIGN.md is not next to this checkout")
def test_the_claims_declared_are_exactly_the_rows_of_design_md():
    ids = re.findall(r"^\| ([a-z-]+) \|", DESIGN.read_text(encoding="utf-8"), flags=re.M)
    assert set(CLAIMS) == set(ids) - {"id"}


def test_every_claim_names_its_sources_and_a_primary_test():
    for claim in CLAIMS.values():
        assert claim.sources and claim.experiments and claim.main in claim.tests
        assert len(claim.arms) == 2 and claim.metric


def test_every_claim_says_why_its_headline_was_chosen():
    assert all(c.why_headline for c in CLAIMS.values())


def test_non_inferiority_claims_state_their_margins_rationale():
    for claim in CLAIMS.values():
        for t in claim.tests:
            if t.kind == "noninferior":
                assert "margin" in t.note


def test_illustrations_are_never_a_claims_main_test():
    assert not any(c.main.illustration for c in CLAIMS.values())
