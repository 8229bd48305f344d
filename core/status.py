"""The statuses a run can have, and which of them count as done (its metrics are final)."""

STATUSES = ("running", "finished", "diverged", "failed", "interrupted")
DONE_STATUSES = ("finished", "diverged")
