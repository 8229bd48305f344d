"""The experiments wing: the catalogue and experiment files, arms, the spec and its grid, comparisons, retargeting to your data.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "resolve_dataset": "retarget",
    "stored_datasets": "retarget",
    "Arm": "arms",
    "by_label": "arms",
    "select": "arms",
    "default_label": "arms",
    "LOSS_PARAM_KEYS": "arms",
    "Comparison": "comparisons",
    "comparisons_of": "comparisons",
    "SEPARATOR": "retarget",
    "dataset_key": "retarget",
    "experiments_of_dataset": "retarget",
    "experiments_to_run": "retarget",
    "RunConfig": "runconfig",
    "Experiment": "spec",
    "RunPlan": "spec",
    "catalogue": "spec",
    "catalogue_names": "spec",
    "expand": "spec",
    "LIMITS": "validate",
    "NO_LIMITS": "validate",
    "Limits": "validate",
    "check_run_ids": "validate",
})
