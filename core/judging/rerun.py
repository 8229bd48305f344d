"""The command that would add a "not run" verdict's missing runs, for experiments not in the catalogue.

`lossdb run NAME` only runs catalogue experiments. A user's experiment is run again from its file
(`lossdb run --config FILE`, the path stored as given with its spec) and a re-targeted one from
its data (`lossdb run NAME --dataset csv:PATH --target COLUMN`). When that file is gone, or the
store never recorded it (stored before lossdb kept it), the verdict has no command and carries
`Reason("no_rerun", ...)` instead, which core.present words in one sentence. Checked each time the
verdicts are read (never cached): a file may come and go while the store stays the same.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from lossdb.core.experiments.retarget import SEPARATOR
from lossdb.core.experiments.spec import ORIGIN_KEY, catalogue_names
from lossdb.core.judging.outcomes import Reason, Verdict


def with_rerun_commands(rows: Iterable[Verdict], stored: Sequence[dict[str, Any]]) -> list[Verdict]:
    """Each "not run" verdict of a stored user or re-targeted experiment with the command that would
    add its runs, or with a `no_rerun` reason when no such command can be given."""
    specs = {e["name"]: e.get("spec") or {} for e in stored}
    catalogue = catalogue_names()
    out = []
    for v in rows:
        if v.verdict != "not run" or v.experiment in catalogue or v.experiment not in specs:
            out.append(v)
            continue
        command, why = rerun(v.experiment, specs[v.experiment], catalogue)
        out.append(replace(v, command=command, reasons=v.reasons + ((why,) if why else ())))
    return out


def rerun(name: str, spec: dict[str, Any], catalogue: Iterable[str]) -> tuple[str | None, Reason | None]:
    """(the command that adds the runs of stored experiment `name`, None) or (None, the reason why
    there is none)."""
    origin = spec.get(ORIGIN_KEY) or {}
    base = name.split(SEPARATOR, 1)[0]
    if SEPARATOR in name and base in set(catalogue):
        data = spec.get("data") or {}
        dataset = str(data.get("dataset", ""))
        path = str(origin.get("data") or dataset.removeprefix("csv:"))
        command = (f"lossdb run {shlex.quote(base)} --dataset csv:{shlex.quote(path)} "
                   f"--target {shlex.quote(str(data.get('target', 'target')))}")
        return _if_there(command, path, name, "data")
    file = origin.get("file")
    if not file:
        return None, Reason("no_rerun", (("experiment", name), ("state", "unrecorded"), ("kind", "experiment")))
    return _if_there(f"lossdb run --config {shlex.quote(str(file))}", str(file), name, "experiment")


def _if_there(command: str, path: str, name: str, kind: str) -> tuple[str | None, Reason | None]:
    """The command when `path` is a file from here; else the reason naming the missing file and the
    command it would take once restored."""
    if os.path.isfile(path):
        return command, None
    return None, Reason("no_rerun", (("experiment", name), ("state", "gone"), ("kind", kind), ("file", path),
                                     ("command", command)))
