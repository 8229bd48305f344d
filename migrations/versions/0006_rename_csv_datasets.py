"""Name each CSV by its file name, not its absolute path, in runs and experiment specs.

Runs stored `csv:/home/ann/x/grain.csv` in `runs.dataset`, in their config and in their arm hash,
and experiments kept the same path in their spec: the database depended on the folder the file
had been in. Each becomes `csv:grain.csv` (files of one experiment that share a file name keep as
many last folders as tell them apart: `csv:farm1/grain.csv`), and each run's arm hash is taken
again of its renamed config, so that rerunning from any folder finds the stored runs (the content
digest in `runs.data_digest` tells a changed file). A run whose stored hash cannot be reproduced
from its config keeps its hash. A re-targeted experiment (`NAME@KEY`) keeps its file's path as its
origin, the hint `lossdb run --dataset` suggests again, never part of its identity. The functions below are frozen copies of
core/data/identity.py and core/experiments/spec.arm_hash at this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import hashlib
import json
import os
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CSV = "csv:"
experiments = sa.table("experiments", sa.column("id", sa.Integer), sa.column("spec", sa.JSON))
runs = sa.table("runs", sa.column("id", sa.Integer), sa.column("experiment_id", sa.Integer),
                sa.column("arm_hash", sa.String), sa.column("config", sa.JSON), sa.column("dataset", sa.String))


def is_path(dataset: Any) -> bool:
    return isinstance(dataset, str) and dataset.startswith(CSV) and os.path.isabs(dataset[len(CSV):].strip())


def stored_names(datasets: Iterable[str]) -> dict[str, str]:
    """{csv:/abs/path → csv:NAME}: the file name, with as many parent folders as files sharing it need."""
    paths = {d: PurePath(d[len(CSV):].strip()).parts for d in dict.fromkeys(datasets) if is_path(d)}
    groups: dict[str, list[str]] = {}
    for d, parts in paths.items():
        groups.setdefault(parts[-1], []).append(d)
    out = {}
    for same in groups.values():
        depth = 1
        while depth < max(len(paths[d]) for d in same) and len({paths[d][-depth:] for d in same}) < len(same):
            depth += 1
        out.update({d: CSV + posixpath.join(*paths[d][-depth:]) for d in same})
    return out


def arm_hash(arm: dict) -> str:
    return hashlib.sha256(json.dumps(arm, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def data_tables(spec: dict) -> list[dict]:
    tables = [spec.get("data")] + [p.get("data") for p in (spec.get("presets") or {}).values() if isinstance(p, dict)]
    return [t for t in tables if isinstance(t, dict)]


def spec_values(spec: dict) -> list[str]:
    out: list[str] = []
    for table in data_tables(spec):
        value = table.get("dataset")
        out += [v for v in (value if isinstance(value, list) else [value]) if is_path(v)]
    return out + [k for k in spec.get("csv") or {} if is_path(k)]


def renamed_spec(spec: dict, names: dict[str, str]) -> dict:
    """The spec (changed in place) with its data tables, CSV facts and notes naming files by name."""
    for table in data_tables(spec):
        value = table.get("dataset")
        table["dataset"] = [names.get(v, v) for v in value] if isinstance(value, list) else names.get(value, value)
    if isinstance(spec.get("csv"), dict):
        spec["csv"] = {names.get(k, k): v for k, v in spec["csv"].items()}
    if isinstance(spec.get("notes"), list):
        notes = []
        for note in spec["notes"]:
            for path, name in names.items():
                note = note.replace(path[len(CSV):], name[len(CSV):]) if isinstance(note, str) else note
            notes.append(note)
        spec["notes"] = notes
    return spec


def upgrade() -> None:
    """Rename every absolute CSV path in experiments' specs and in runs (dataset, config, arm hash)."""
    conn = op.get_bind()
    found = conn.execute(sa.select(runs.c.experiment_id, runs.c.dataset).distinct()
                         .where(runs.c.dataset.like(CSV + "%"))).all()
    in_runs: dict[int, list[str]] = {}
    for eid, dataset in found:
        if is_path(dataset):
            in_runs.setdefault(eid, []).append(dataset)
    for eid, value in conn.execute(sa.select(experiments.c.id, experiments.c.spec)).all():
        spec = json.loads(value) if isinstance(value, str) else dict(value or {})
        names = stored_names([*spec_values(spec), *sorted(in_runs.get(eid, []))])
        if not names:
            continue
        data = spec.get("data") if isinstance(spec.get("data"), dict) else {}
        if "@" in str((spec.get("experiment") or {}).get("name", "")) and is_path(data.get("dataset")) \
                and "origin" not in spec:  # a re-targeted experiment: `lossdb run --dataset` may suggest its path
            spec["origin"] = {"data": data["dataset"][len(CSV):]}
        if spec_values(spec):
            conn.execute(experiments.update().where(experiments.c.id == eid)
                         .values(spec=renamed_spec(spec, names)))
        if eid in in_runs:
            _rename_runs(conn, eid, names)


def _rename_runs(conn: sa.Connection, eid: int, names: dict[str, str]) -> None:
    """Each run of experiment `eid` on a renamed file: its dataset, config and (when reproducible) hash."""
    rows = conn.execute(sa.select(runs.c.id, runs.c.arm_hash, runs.c.config, runs.c.dataset)
                        .where(runs.c.experiment_id == eid, runs.c.dataset.in_(list(names)))).all()
    for run_id, old_hash, value, dataset in rows:
        config = json.loads(value) if isinstance(value, str) else dict(value or {})
        new_hash = old_hash
        if isinstance(config.get("data"), dict) and config["data"].get("dataset") == dataset:
            reproduced = arm_hash({k: v for k, v in config.items() if k != "seed"}) == old_hash
            config["data"] = {**config["data"], "dataset": names[dataset]}
            if reproduced:
                new_hash = arm_hash({k: v for k, v in config.items() if k != "seed"})
        conn.execute(runs.update().where(runs.c.id == run_id)
                     .values(dataset=names[dataset], config=config, arm_hash=new_hash))


def downgrade() -> None:
    """Irreversible: the absolute paths are not kept (the schema is unchanged, so nothing is undone)."""
