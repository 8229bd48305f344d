"""lossdb's engine: datasets, losses, networks, training, metrics, analysis, store and reports."""

__version__ = "0.1.0"
# Bumped whenever a change alters the numbers a run produces; part of a run's identity.
ENGINE_VERSION = "1"
