"""The data wing: the built-in datasets and your CSV files, split, scaled and checked for training.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "DATASETS": "datasets",
    "is_deterministic": "datasets",
    "dataset_names": "datasets",
    "CSV_PREFIX": "prepare",
    "DataSpec": "prepare",
    "Prepared": "prepare",
    "TargetScaler": "prepare",
    "csv_facts": "prepare",
    "csv_raw": "prepare",
    "fit_target_scaler": "prepare",
    "split_rows": "prepare",
    "task_of": "prepare",
    "validate_spec": "prepare",
})
