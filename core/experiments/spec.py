"""Experiment definitions (TOML): validation, presets, grid expansion into runs and stacks."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from lossdb.core.engine import losses, series
from lossdb.core.experiments import validate
from lossdb.core.experiments.arms import LOSS_PARAM_KEYS, default_label
from lossdb.core.experiments.runconfig import RunConfig, data_spec, net_spec, optim_spec
from lossdb.core.experiments.tomllines import line_of
from lossdb.core.experiments.comparisons import Comparison
from lossdb.core.experiments.comparisons import resolve as resolve_comparisons
from lossdb.core.data.identity import stored_names
from lossdb.core.data.prepare import CSV_PREFIX, DataSpec
from lossdb.core import realnumber
from lossdb.core.errors import ConfigError

PRESETS = ("quick", "full")
MAX_CONFIG_BYTES = 1 * 2**20  # an experiment file is a few kB
MAX_CONFIG_DEPTH = 16  # [train] → presets.quick.data → a list of lists is 4 or 5
SECTIONS = ("experiment", "data", "model", "train", "arms", "presets", "analysis", "comparisons")
EXPERIMENT_KEYS = ("name", "description", "claims", "protocol")
DATA_KEYS = tuple(f.name for f in fields(DataSpec))
MODEL_DEFAULTS: dict[str, Any] = {"hidden": [], "activation": "sigmoid", "init": "glorot",
                                  "init_scale": 1.0, "w": None, "b": None}
TRAIN_DEFAULTS: dict[str, Any] = {"optimizer": "sgd", "lr": 0.1, "batch_size": 32, "epochs": 20,
                                  "seeds": 3, "momentum": 0.9, "beta1": 0.9, "beta2": 0.999,
                                  "dtype": "float32"}
ARM_KEYS = ("loss", "head", "label", "class_weights", *LOSS_PARAM_KEYS, *MODEL_DEFAULTS, *TRAIN_DEFAULTS)
# Settings that change what a model's data holds or how its weights start, never an array's shape:
# runs that differ only in these (and the rate, loss, head) train in one stack, each model on its own
# data and initialisation (core.engine.train: a model's numbers never depend on its stack-mates).
PER_MODEL_DATA = frozenset({"label_noise", "outliers", "feature_outliers", "noise", "noise_dist", "scale",
                            "x", "y"})
PER_MODEL_INIT = frozenset({"init", "init_scale", "w", "b"})
# Keys whose single value is itself a list: a grid over them is a list of lists.
LIST_VALUED = {"hidden", "w", "b", "alpha", "class_weights", "claims"}
NO_GRID = {"seeds", "epochs", "dtype", "name", "description", "label"}
# The stored spec's record of where the definition came from, as given to `lossdb run` (the
# experiment file's path, or the CSV path of `--dataset`): a hint for the commands lossdb suggests,
# never part of the definition (a moved file is the same experiment).
ORIGIN_KEY = "origin"


@dataclass(frozen=True)
class Experiment:
    """A validated experiment definition, before presets and grid expansion."""

    name: str
    description: str
    claims: tuple[str, ...]
    raw: dict[str, Any]  # the parsed TOML (csv: paths made absolute)
    source: str  # file path, or "catalogue:NAME"
    comparisons: tuple[Comparison, ...] = ()  # declared, or the default ones (see core.experiments.comparisons)
    notes: tuple[str, ...] = field(default=())  # facts about the data worth keeping (rows dropped)
    csv: dict[str, dict[str, Any]] = field(default_factory=dict)  # csv:PATH → core.data.prepare.csv_facts
    origin: dict[str, str] = field(default_factory=dict)  # {"file": PATH} or {"data": PATH}, as given

    @property
    def data_ids(self) -> dict[str, str]:
        """{csv:PATH → the name the store keeps (core.data.identity)} for every CSV it names."""
        return stored_names(_csv_values(self.raw))

    @property
    def spec(self) -> dict[str, Any]:
        """What the store keeps: the definition (CSV files by their stored names), its comparisons,
        notes and origin (when it has any)."""
        ids = self.data_ids
        extra: dict[str, Any] = {}
        if self.comparisons:
            extra["comparisons"] = [c.as_dict() for c in self.comparisons]
        if self.notes:
            extra["notes"] = list(self.notes)
        if self.csv:
            extra["csv"] = {ids.get(k, k): v for k, v in self.csv.items()}
        if self.origin:
            extra[ORIGIN_KEY] = dict(self.origin)
        return {**_renamed(self.raw, ids), **extra}


def _data_tables(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The [data] table and each preset's data table."""
    tables = [raw.get("data")] + [p.get("data") for p in (raw.get("presets") or {}).values() if isinstance(p, dict)]
    return [t for t in tables if isinstance(t, dict)]


def _csv_values(raw: dict[str, Any]) -> list[str]:
    """Every csv: dataset value of the data tables."""
    out = []
    for table in _data_tables(raw):
        value = table.get("dataset")
        out += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
                and v.startswith(CSV_PREFIX)]
    return out


def _renamed(raw: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """`raw` with each data table's CSV paths replaced by their stored names (a copy where any is)."""
    if all(name == value for value, name in ids.items()):
        return raw
    out = {**raw, "data": dict(raw["data"])} if isinstance(raw.get("data"), dict) else dict(raw)
    if isinstance(raw.get("presets"), dict):
        out["presets"] = {n: ({**p, "data": dict(p["data"])} if isinstance(p, dict) and isinstance(p.get("data"), dict)
                              else p) for n, p in raw["presets"].items()}
    for table in _data_tables(out):
        value = table.get("dataset")
        if isinstance(value, list):
            table["dataset"] = [ids.get(v, v) if isinstance(v, str) else v for v in value]
        elif isinstance(value, str):
            table["dataset"] = ids.get(value, value)
    return out


@dataclass(frozen=True)
class RunPlan:
    """One run to do: an arm (every setting but the seed) and a seed."""

    experiment: str
    arm: dict[str, Any]  # every setting but the seed, a CSV by its path (where to read it)
    arm_hash: str
    seed: int
    stored: dict[str, Any] | None = field(default=None, compare=False)  # the arm with a CSV by its stored name

    @property
    def stored_arm(self) -> dict[str, Any]:
        """The arm as the store keeps it (and the arm hash is taken of): a CSV by its stored name."""
        return self.arm if self.stored is None else self.stored

    @cached_property
    def config(self) -> RunConfig:
        """The arm as a frozen, typed record (read once; only after the arm is validated)."""
        return RunConfig.of(self.arm)

    @property
    def stack_key(self) -> str:
        """Runs with equal keys share the data's shapes, network shape and training schedule: they may
        train as one stack (their data's corruption, scaling and initialisation may differ:
        PER_MODEL_DATA, PER_MODEL_INIT)."""
        a = self.arm
        shared = {"data": {k: v for k, v in a["data"].items() if k not in PER_MODEL_DATA},
                  "model": {k: v for k, v in a["model"].items() if k not in PER_MODEL_INIT},
                  "train": {k: v for k, v in a["train"].items() if k != "lr"}}
        return json.dumps(shared, sort_keys=True)

    @property
    def setting_key(self) -> str:
        """Runs with equal keys share every data, network and schedule setting (the rate aside):
        one condition's models, which always train together."""
        a = self.arm
        shared = {"data": a["data"], "model": a["model"], "train": {k: v for k, v in a["train"].items() if k != "lr"}}
        return json.dumps(shared, sort_keys=True)


def load_file(path: str | Path) -> Experiment:
    """Read and validate a user's experiment file (a regular file of at most MAX_CONFIG_BYTES)."""
    p = Path(path)
    try:
        text = _read_config(p).decode("utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read experiment file {p}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"experiment file {p} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
                          f"{e.start}): save it as UTF-8") from None
    return replace(parse(text, str(p), p.parent), origin={"file": str(p)})


def _read_config(p: Path) -> bytes:
    """The bytes of an experiment file, refused unless it is a regular file within MAX_CONFIG_BYTES
    (a device such as /dev/zero never ends, a pipe waits for a writer)."""
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # opening a FIFO must not wait
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"experiment file {p} is a folder: give the path of a .toml file")
        if not stat.S_ISREG(st.st_mode):
            kind = "a pipe" if stat.S_ISFIFO(st.st_mode) else \
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a special file"
            raise ConfigError(f"experiment file {p} is {kind}, not a regular file: give the path of a .toml file")
        data = fh.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"experiment file {p} is larger than {MAX_CONFIG_BYTES // 2**10} kB, far more than "
                          "an experiment needs: check that --config names the right file")
    return data


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in a parsed TOML value (counted without recursion)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            todo += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, level + 1) for v in item]
    return deepest


def parse(text: str, source: str, folder: str | Path | None = None) -> Experiment:
    """Validate TOML text into an Experiment; errors name the source, line and key.

    Relative csv: paths start from `folder` (the experiment file's), else the current folder."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raw = None
    if raw is None or _depth(raw) > MAX_CONFIG_DEPTH:
        raise ConfigError(f"{source}: tables and arrays nest more than {MAX_CONFIG_DEPTH} levels deep; an "
                          "experiment file needs a few: check that it is the right file")
    _absolute_csv_paths(raw, Path(folder) if folder is not None else Path.cwd())
    _validate(raw, text, source)
    exp = raw["experiment"]
    plain = Experiment(exp["name"], exp.get("description", ""), tuple(exp.get("claims", ())), raw, source)
    return with_comparisons(plain, text)


def _absolute_csv_paths(raw: dict, folder: Path) -> None:
    """Make every csv:PATH of [data] and of the presets' data absolute, relative to `folder`."""
    for table in _data_tables(raw):
        if "dataset" in table:
            value = table["dataset"]
            table["dataset"] = [csv_path(v, folder) for v in value] if isinstance(value, list) \
                else csv_path(value, folder)


def csv_path(dataset: Any, folder: Path) -> Any:
    """csv:PATH with PATH made absolute from `folder` (absolute paths as given); other values as is."""
    if not isinstance(dataset, str) or not dataset.startswith(CSV_PREFIX):
        return dataset
    path = dataset[len(CSV_PREFIX):].strip()
    if not path:
        return dataset  # validation says what is missing
    return CSV_PREFIX + os.path.normpath(os.path.join(os.path.abspath(folder), os.path.expanduser(path)))


def with_comparisons(exp: Experiment, text: str = "") -> Experiment:
    """The experiment with its comparisons (declared, or the default ones when it tests no
    catalogue claim) and notes, checked against its arms and data before anything is trained."""
    from lossdb.core.data.prepare import csv_facts, task_of

    tables = exp.raw.get("comparisons")
    if tables is None and exp.claims:
        return exp
    metrics: dict[str, frozenset[str]] = {}
    tasks: list[str] = []
    csv: dict[str, dict[str, Any]] = {}
    for arm in _data_and_arm_variants(exp):
        data = data_spec(arm)
        task = task_of(data)
        tasks.append(task)
        stored = series.stored(task, arm["head"], imbalanced=data.imbalance != 1,
                               neuron=data.dataset == "neuron")
        metrics[arm["label"]] = metrics.get(arm["label"], frozenset()) | stored
        if data.dataset.startswith(CSV_PREFIX):
            csv[data.dataset] = csv_facts(data)
    comparisons = resolve_comparisons(tables, metrics, tasks[0], exp.source, text)
    return Experiment(exp.name, exp.description, exp.claims, exp.raw, exp.source, comparisons,
                      dropped_notes(csv), csv, exp.origin)


def dropped_notes(csv: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """One sentence per CSV file whose rows with missing values were dropped (the file by its stored name)."""
    out = []
    names = stored_names(csv)
    for dataset, facts in csv.items():
        rows = facts["dropped_rows"]
        if rows:
            shown = ", ".join(map(str, rows[:20])) + (", …" if len(rows) > 20 else "")
            out.append(f"{len(rows)} row(s) of {names[dataset][len(CSV_PREFIX):]} with missing values "
                       f"dropped (drop_missing): data rows {shown}.")
    return tuple(out)


def _fail(text: str, source: str, section: str, key: str, message: str) -> ConfigError:
    line = line_of(text, section, key)
    where = f"{source}, line {line}" if line else source
    return ConfigError(f"{where}: [{section}] {key}: {message}")


def _validate(raw: dict, text: str, source: str) -> None:
    for section in raw:
        if section not in SECTIONS:
            raise ConfigError(f"{source}: unknown section [{section}]; valid sections: {', '.join(SECTIONS)}")
    exp = raw.get("experiment")
    if not isinstance(exp, dict) or not isinstance(exp.get("name"), str) or not exp["name"].strip():
        raise ConfigError(f"{source}: [experiment] needs a name, e.g. name = \"digits-ce-vs-mse\"")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", exp["name"]):
        raise _fail(text, source, "experiment", "name", "use letters, digits, '-', '_' and '.' only")
    if len(exp["name"]) > validate.MAX_NAME:
        raise _fail(text, source, "experiment", "name", f"at most {validate.MAX_NAME} characters, got {len(exp['name'])}")
    _check_keys(raw, text, source, "experiment", exp, EXPERIMENT_KEYS)
    _check_keys(raw, text, source, "data", raw.get("data", {}), DATA_KEYS)
    _check_keys(raw, text, source, "model", raw.get("model", {}), tuple(MODEL_DEFAULTS))
    _check_keys(raw, text, source, "train", raw.get("train", {}), tuple(TRAIN_DEFAULTS))
    if "dataset" not in raw.get("data", {}):
        raise ConfigError(f"{source}: [data] needs dataset = \"NAME\" (a built-in name or \"csv:PATH\")")
    arms = raw.get("arms")
    if not isinstance(arms, list) or not arms:
        raise ConfigError(f"{source}: at least one [[arms]] table with loss and head is needed")
    if len(arms) > validate.MAX_ARMS:
        raise ConfigError(f"{source}: {len(arms):,} [[arms]] tables are more than lossdb's limit of "
                          f"{validate.MAX_ARMS} per experiment (judging compares arms in pairs); split the "
                          "experiment into several files")
    comparisons = raw.get("comparisons")
    if isinstance(comparisons, list) and len(comparisons) > validate.MAX_COMPARISONS:
        raise ConfigError(f"{source}: {len(comparisons):,} [[comparisons]] tables are more than lossdb's limit of "
                          f"{validate.MAX_COMPARISONS} per experiment; keep the ones you mean to test")
    for arm in arms:
        _check_keys(raw, text, source, "arms", arm, ARM_KEYS)
        for key in ("loss", "head"):
            if key not in arm:
                raise ConfigError(f"{source}: every [[arms]] needs {key} = \"…\"")
        if "label" in arm and (not isinstance(arm["label"], str) or not arm["label"].strip()):
            raise _fail(text, source, "arms", "label", f"must be non-empty text, got {arm['label']!r}")
    for name, preset in raw.get("presets", {}).items():
        if name not in PRESETS or not isinstance(preset, dict):
            raise ConfigError(f"{source}: unknown preset [presets.{name}]; valid: {', '.join(PRESETS)}")
        for sec in preset:
            if sec not in ("data", "model", "train"):
                raise ConfigError(f"{source}: [presets.{name}] may set data, model or train, not {sec!r}")
            valid = {"data": DATA_KEYS, "model": tuple(MODEL_DEFAULTS), "train": tuple(TRAIN_DEFAULTS)}[sec]
            _check_keys(raw, text, source, f"presets.{name}.{sec}", preset[sec], valid)
    draft = Experiment(exp["name"], "", (), raw, source)
    for preset in (None, *PRESETS):
        where = ([f"presets.{preset}.{sec}" for sec in ("train", "model", "data")] if preset else []) + \
            ["train", "model", "data", "arms"]
        try:
            arms = _arms(draft, preset, None, None)
            for merged, extra in arms:
                _seeds(draft, merged["train"]["seeds"])
                for cfg in _samples(merged, extra):
                    _validate_arm(cfg, text, source, where)
        except ConfigError as e:
            if preset and not str(e).startswith(source):
                raise ConfigError(f"{source}: [presets.{preset}]: {e}") from None
            if not str(e).startswith(source):
                raise ConfigError(f"{source}: {e}") from None
            raise


def _check_keys(raw, text, source, section: str, table: Any, valid: tuple[str, ...]) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{section}] must be a table")
    for key in table:
        if key not in valid:
            raise _fail(text, source, section, key, f"unknown key; valid keys: {', '.join(valid)}")


def _validate_arm(arm: dict, text: str, source: str, where: list[str] = ("train", "model", "arms")) -> None:
    """Type, range and finiteness checks of one merged arm; the message names the file and line."""
    from lossdb.core.engine import nets, optim
    from lossdb.core.data.prepare import validate_spec

    loss, head = arm["loss"], arm["head"]
    if loss not in losses.LOSSES:
        raise _fail(text, source, "arms", "loss", f"unknown loss {loss!r}; valid: {', '.join(losses.LOSSES)}")
    if head not in losses.VALID_HEADS[loss]:
        raise _fail(text, source, "arms", "head",
                    f"loss {loss!r} does not work with head {head!r}; valid heads for {loss}: "
                    f"{', '.join(losses.VALID_HEADS[loss])}")
    try:
        validate.check_arm(arm)
    except validate.Invalid as e:
        section = next((w for w in where if w.split(".")[-1] == e.section and line_of(text, w, e.key)), e.section)
        raise _fail(text, source, section, e.key, e.message) from None
    try:
        validate_spec(data_spec(arm))
        validate.check_task(arm)
        nets.validate(net_spec(arm))
        optim.validate(optim_spec(arm))
    except Exception as e:  # ConfigError, DataError and friends
        raise ConfigError(f"{source}: {e}") from None


def catalogue() -> dict[str, Experiment]:
    """The built-in experiments shipped in core/experiments/catalogue, by name."""
    out = {}
    for entry in sorted(resources.files("lossdb.core.experiments").joinpath("catalogue").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            exp = parse(entry.read_text(encoding="utf-8"), f"catalogue:{entry.name}")
            out[exp.name] = exp
    return out


def catalogue_names() -> set[str]:
    """The catalogue's experiment names (each file is named for its experiment), without parsing it."""
    return {entry.name[:-5] for entry in resources.files("lossdb.core.experiments").joinpath("catalogue").iterdir() if entry.name.endswith(".toml")}


def resolve(names: list[str], configs: list[str | Path] = ()) -> list[Experiment]:
    """Experiments by catalogue name plus user files; no names and no files means the whole catalogue."""
    # parsing the catalogue's 12 files costs ~0.2 s: only when names are given or no file is
    cat = catalogue() if names or not configs else {}
    unknown = [n for n in names if n not in cat]
    if unknown:
        raise ConfigError(f"unknown experiment {unknown[0]!r}; valid: {', '.join(cat)}")
    files = [load_file(c) for c in configs]
    chosen = [cat[n] for n in names] + files
    seen: dict[str, str] = {}
    for e in chosen:
        if e.name in seen:
            raise ConfigError(f"experiment {e.name!r} is given twice ({seen[e.name]} and {e.source}): "
                              "give each experiment once")
        seen[e.name] = e.source
    return chosen or list(cat.values())


def differences(stored: Any, given: Any, path: str = "") -> list[str]:
    """Where two experiment specs differ, as "key: stored → given" phrases (dotted keys)."""
    if isinstance(stored, dict) and isinstance(given, dict):
        out = []
        for key in sorted(set(stored) | set(given), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in stored:
                out.append(f"{sub}: (none) → {given[key]!r}")
            elif key not in given:
                out.append(f"{sub}: {stored[key]!r} → (none)")
            else:
                out += differences(stored[key], given[key], sub)
        return out
    if isinstance(stored, list) and isinstance(given, list) and len(stored) == len(given):
        return [d for i, (a, b) in enumerate(zip(stored, given, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    return [] if stored == given else [f"{path}: {stored!r} → {given!r}"]


def expand(exp: Experiment, preset: str | None = "quick", seeds: int | None = None,
           epochs: int | None = None, validate_only: bool = False) -> list[RunPlan]:
    """Every (arm, seed) of an experiment under a preset and CLI overrides."""
    plans = []
    ids = exp.data_ids
    for merged, extra in _arms(exp, preset, seeds, epochs):
        for cfg in _grid(merged, extra):
            n_seeds = _seeds(exp, cfg["train"].pop("seeds"))
            cfg["experiment"] = exp.name
            stored = _stored_arm(cfg, ids)
            h = arm_hash(stored)
            for seed in range(1 if validate_only else n_seeds):
                plans.append(RunPlan(exp.name, cfg, h, seed, None if stored is cfg else stored))
    return plans


def _stored_arm(cfg: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """The arm with its CSV path replaced by the file's stored name (the arm itself for other data)."""
    dataset = cfg["data"].get("dataset")
    if not isinstance(dataset, str) or ids.get(dataset, dataset) == dataset:
        return cfg
    return {**cfg, "data": {**cfg["data"], "dataset": ids[dataset]}}


def count(exp: Experiment, preset: str | None = "quick", seeds: int | None = None,
          epochs: int | None = None) -> int:
    """How many runs `expand` would plan, computed without expanding the grid."""
    total = 0
    for merged, extra in _arms(exp, preset, seeds, epochs):
        combos = math.prod(len(values) for _, _, values in _axes(merged, extra))
        total += combos * _seeds(exp, merged["train"]["seeds"])
    return total


def _seeds(exp: Experiment, n_seeds: Any) -> int:
    if not realnumber.whole(n_seeds) or n_seeds < 1:
        raise ConfigError(f"{exp.source}: [train] seeds must be a positive integer (a count), got {n_seeds!r}")
    return n_seeds


def _arms(exp: Experiment, preset: str | None, seeds: int | None,
          epochs: int | None) -> list[tuple[dict, dict]]:
    """Per [[arms]] table: its merged data/model/train sections and its own arm-level keys."""
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    if seeds is not None and seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {epochs}")
    raw = exp.raw
    base = {"data": dict(raw.get("data", {})),
            "model": {**MODEL_DEFAULTS, **raw.get("model", {})},
            "train": {**TRAIN_DEFAULTS, **raw.get("train", {})}}
    for sec, table in raw.get("presets", {}).get(preset, {}).items():
        base[sec].update(table)
    if seeds is not None:
        base["train"]["seeds"] = seeds
    if epochs is not None:
        base["train"]["epochs"] = epochs
    out = []
    for arm in raw["arms"]:
        merged = {sec: dict(tab) for sec, tab in base.items()}
        for key, value in arm.items():
            sec = "model" if key in MODEL_DEFAULTS else "train" if key in TRAIN_DEFAULTS else None
            if sec:
                merged[sec][key] = value
        extra = {k: v for k, v in arm.items() if k in ("loss", "head", "label", "class_weights", *LOSS_PARAM_KEYS)}
        out.append((merged, extra))
    return out


def _axes(merged: dict, extra: dict) -> list[tuple[str | None, str, list]]:
    """The grid's axes: (section or None for arm keys, key, values) of every list value that is a grid."""
    axes: list[tuple[str | None, str, list]] = []
    for sec, table in [*merged.items(), (None, extra)]:
        for key, value in table.items():
            if key in NO_GRID or not isinstance(value, list) or key == "w":
                continue
            if not value:
                if key in LIST_VALUED:
                    continue  # e.g. hidden = []: one value, no hidden layer
                raise ConfigError(f"[{sec or 'arms'}] {key}: an empty list plans no runs; give a value or a "
                                  "list of values")
            if key not in LIST_VALUED or all(isinstance(v, list) for v in value):
                axes.append((sec, key, value))
    return axes


def _combo(merged: dict, extra: dict, axes: list, combo: tuple) -> dict:
    cfg = {sec: dict(tab) for sec, tab in merged.items()}
    top = dict(extra)
    for (sec, key, _), value in zip(axes, combo, strict=True):
        (cfg[sec] if sec else top)[key] = value
    top.setdefault("label", default_label(top))
    return {**cfg, **top}


def _grid(merged: dict, extra: dict) -> Iterator[dict]:
    """One config per combination of the grid's axes, lazily."""
    axes = _axes(merged, extra)
    for combo in itertools.product(*(vals for _, _, vals in axes)):
        yield _combo(merged, extra, axes, combo)


def _data_and_arm_variants(exp: Experiment) -> Iterator[dict]:
    """One config per combination of the grid's data and arm-level axes (loss, head, label, loss
    parameters), other axes at their first value: every data set, task, head and label a grid
    holds, without expanding its learning rates or widths."""
    for merged, extra in _arms(exp, None, None, None):
        axes = [a for a in _axes(merged, extra) if a[0] in ("data", None)]
        for combo in itertools.product(*(vals for _, _, vals in axes)):
            yield _combo(merged, extra, axes, combo)


def _samples(merged: dict, extra: dict) -> Iterator[dict]:
    """Configs that together show every value of every axis (the first combination, then each axis's
    other values one at a time): what parsing checks, whatever the size of the grid."""
    axes = _axes(merged, extra)
    first = tuple(vals[0] for _, _, vals in axes)
    yield _combo(merged, extra, axes, first)
    for i, (_, _, vals) in enumerate(axes):
        for value in vals[1:]:
            yield _combo(merged, extra, axes, (*first[:i], value, *first[i + 1:]))


def arm_hash(arm: dict) -> str:
    """Stable identity of an arm: a hash of its canonical JSON."""
    canonical = json.dumps(arm, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
