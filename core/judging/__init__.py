"""The judging wing: each claim declared once and judged from the stored runs into a Verdict.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "asked": "judge",
    "catalogue_hidden_in": "judge",
    "stored_experiments": "judge",
    "dataset_experiments": "judge",
    "CLAIMS": "claims",
    "Claim": "claims",
    "Test": "claims",
    "Design": "adaptive",
    "ALPHA": "outcomes",
    "VERDICTS": "outcomes",
    "Reason": "outcomes",
    "Verdict": "outcomes",
    "summary": "headlines",
    "tally": "headlines",
    "check_experiments": "judge",
    "claims_from": "judge",
    "claims_of": "judge",
    "designs_of": "judge",
    "judge_db": "judge:judge",
    "judge_store": "judge",
    "analytic_curves": "verdicts",
    "evaluate": "verdicts",
    "chosen_lrs": "lrchoice",
})
