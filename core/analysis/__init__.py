"""The analysis wing: stored runs as one tidy frame, curves across seeds, derived measures and the runs listing.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "RUN_COLUMNS": "frame",
    "aggregate_curves": "frame",
    "area_under": "frame",
    "best_epoch": "frame",
    "current_engine": "engines",
    "curves": "frame",
    "epochs_to": "frame",
    "flat_config": "frame",
    "kept_runs_frame": "frame",
    "records": "frame",
    "runs_frame": "frame",
    "set_aside": "engines",
    "HEADERS": "listing",
    "Listing": "listing",
    "cell": "listing",
    "flat_row": "listing",
    "list_runs": "listing:listing",
    "short": "listing",
})
