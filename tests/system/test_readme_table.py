"""bench/readme_table.py: the README's table and lines come from the database's verdict rows."""

from bench.readme_table import render
from lossdb.core.judging.claims import CLAIMS
from tests.judging.test_verdicts import _binary, _save


def test_the_readme_block_has_one_row_and_one_line_per_claim_and_counts_every_comparison(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    _save(db, _binary({"breast_cancer": 0.10, "moons": -0.10}))
    text = render(db)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| claim")]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == list(CLAIMS)
    bullets = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(bullets) == len(CLAIMS)
    accuracy = next(b for b in bullets if b.startswith("- **classification-accuracy**"))
    assert "supported" in accuracy and "The same comparison in 1 other settings: 1 contradicted." in accuracy
    assert "not run: `lossdb run convergence`" in text
    assert "Over all 2 comparisons" in text and ": 1 supported, 1 contradicted;" in text
