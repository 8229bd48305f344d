"""The runner wing: `lossdb run` as one Session: plan, check, train on processes or Dask, store, add rounds until decided.

Its face: the names other wings, the CLI and the dashboard use, each imported on first use
(core.faces), so importing the package costs nothing.
"""

from lossdb.core.faces import face

__all__, __getattr__, __dir__ = face(__name__, {
    "RunOptions": "session",
    "RunReport": "session",
    "Session": "session",
    "Round": "rounds",
    "RunSummary": "execute",
    "Terminated": "executors",
    "cpu_count": "executors",
    "open_executor": "executors",
    "sigterm_as_interrupt": "executors",
})
