"""lossdb's engine: datasets, losses, networks, training, metrics, analysis, store and reports."""

__version__ = "0.1.0"
# Bumped whenever a change alters the numbers a run produces; part of a run's identity.
# 2: a diverged run keeps only its finite epochs, and a loss past 10⁶× its start counts as diverged.
# 3: a fixed pool (bundled set, CSV) keeps one held-out test split for every seed (core.data.prepare).
# Runs of another engine version are set aside, never judged with these (core.analysis.frame).
ENGINE_VERSION = "3"
