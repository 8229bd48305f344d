"""The catalogue's claims on a user's own CSV: its experiments re-targeted to the user's data.

`lossdb run --dataset csv:PATH --target COL` takes each catalogue experiment that applies to the
task of the target column, keeps its arms, network, learning-rate grid, presets and claims, and
replaces its datasets by the user's file (with the catalogue's test and validation shares and its
training-split corruptions: label noise, imbalance, outliers). Each is stored as its own
experiment, `NAME@KEY` (KEY = the file's stem, e.g. `convergence@mydata`), judged by the claims of
the catalogue experiment NAME.

Which experiments apply (APPLIES) and why the others do not (NOT_DATA_DRIVEN):
- classification targets: convergence, calibration, label-noise, imbalance, lr-sensitivity,
  margin, softmax-init, symmetric-noise, feature-outliers, and binary when the target has two classes (its claims are
  about two-class problems);
- regression targets: regression, outliers, huber-delta;
- never: saturation, confident-mistakes and local-minima, for the reasons given below.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lossdb.core.experiments import spec as ex
from lossdb.core.data.prepare import CSV_PREFIX, DataSpec, csv_facts, csv_raw, validate_spec
from lossdb.core.errors import ConfigError
from lossdb.core.experiments.spec import Experiment

SEPARATOR = "@"


@dataclass(frozen=True)
class Applies:
    """When a catalogue experiment applies to a user's data, and the question it asks there."""

    task: str
    question: str
    min_classes: int = 2
    max_classes: int | None = None


APPLIES: dict[str, Applies] = {
    "convergence": Applies("classification", "Does cross-entropy train a classifier faster than MSE?"),
    "binary": Applies("classification", "On a two-class target, does cross-entropy on a sigmoid head "
                      "beat MSE and the hinge loss?", max_classes=2),
    "calibration": Applies("classification", "Does cross-entropy give better calibrated probabilities?"),
    "label-noise": Applies("classification", "Is cross-entropy sensitive to flipped training labels?"),
    "imbalance": Applies("classification", "Does cross-entropy, weighted or focal, handle a rare "
                         "class better than MSE?"),
    "lr-sensitivity": Applies("classification", "Does MSE on a linear output train a classifier "
                              "fine when tuned?"),
    "margin": Applies("classification", "Is the hinge loss an alternative to cross-entropy?"),
    "regression": Applies("regression", "Is MSE the right loss for regression?"),
    "outliers": Applies("regression", "Is MSE sensitive to outliers in the training targets?"),
    "softmax-init": Applies("classification", "From a gentle and a confident start, does cross-entropy "
                            "train softmax regression faster than MSE?"),
    "symmetric-noise": Applies("classification", "Under flipped labels, do bounded losses beat the convex "
                               "ones on a linear classifier?"),
    "feature-outliers": Applies("classification", "With a few far, mislabelled points in the features, do "
                                "bounded losses keep their accuracy where convex ones lose it?"),
    "huber-delta": Applies("regression", "With outliers in the targets, how does Huber's δ trade MSE for MAE?"),
}
NOT_DATA_DRIVEN: dict[str, str] = {
    "saturation": "it follows one sigmoid neuron (input 1, target 0) started saturated, a test of "
                  "the gradient formula that no dataset changes",
    "confident-mistakes": "its verdict is analytic (each loss as the true class's probability goes "
                          "to 0), the same for every dataset; calibration measures confident "
                          "mistakes on your data",
    "local-minima": "it needs a problem a tiny network can only just solve (spirals, xor); on other "
                    "data, missing its 95% training-accuracy bar says more about noise than about "
                    "local minima",
}
# Settings of the catalogue's generated datasets that mean nothing for a file.
GENERATED_ONLY = ("n_samples", "noise", "noise_dist")


def dataset_key(dataset: str | Path) -> str:
    """The short name of a user's data in experiment names: the file's stem, e.g. "mydata"."""
    text = str(dataset)
    text = text[len(CSV_PREFIX):] if text.startswith(CSV_PREFIX) else text
    stem = Path(text.strip()).name
    stem = stem[:-4] if stem.lower().endswith(".csv") else stem
    key = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "data"
    return key if key[0].isalnum() else "d" + key


def data_name(dataset: str) -> str:
    """The one name people see for a run's data: the CSV file's stem (csv:PATH → "mydata"), a
    built-in set's own name otherwise."""
    return dataset_key(dataset) if str(dataset).startswith(CSV_PREFIX) else str(dataset)


def data_names(datasets: Iterable[str]) -> dict[str, str]:
    """The one name of each stored dataset value: a built-in set's own name, a CSV's stem; two files
    that share a stem are told apart by their folder ("a-grain", "b-grain"; a stored name without a
    folder stays "grain"), then by a number."""
    values = sorted(set(map(str, datasets)))
    out = {d: data_name(d) for d in values}
    taken: dict[str, list[str]] = {}
    for d, name in out.items():
        taken.setdefault(name, []).append(d)
    for name, same in taken.items():
        if len(same) < 2 or not all(d.startswith(CSV_PREFIX) for d in same):
            continue
        for d in same:  # a stored name without a folder (csv:grain.csv) keeps the plain name
            parent = Path(d[len(CSV_PREFIX):].strip()).parent.name
            out[d] = f"{dataset_key(parent)}-{name}" if parent else name
        if len({out[d] for d in same}) < len(same):
            out.update({d: f"{name}-{i + 1}" for i, d in enumerate(same)})
    return out


def resolve_dataset(given: str, stored: Iterable[str]) -> str:
    """The stored dataset value that `given` names: its one name (grain), its file name
    (grain.csv), csv:PATH or the stored value itself; refuses a name that matches none, listing
    the valid ones."""
    names = data_names(stored)
    if given in names:
        return given
    by_name = {n: d for d, n in names.items()}
    if given in by_name:
        return by_name[given]
    key = dataset_key(given) if given.startswith(CSV_PREFIX) or given.lower().endswith(".csv") else None
    if given.startswith(CSV_PREFIX):
        path = os.path.abspath(os.path.expanduser(given[len(CSV_PREFIX):].strip()))
        if CSV_PREFIX + path in names:
            return CSV_PREFIX + path
    if key is not None and key in by_name:
        return by_name[key]
    raise ConfigError(f"no stored runs on the data {given!r}; valid: {', '.join(sorted(by_name)) or 'none'}")


def retargeted_name(experiment: str, dataset: str | Path) -> str:
    """The stored name of a catalogue experiment on a user's data: convergence@mydata."""
    return f"{experiment}{SEPARATOR}{dataset_key(dataset)}"


def base_experiment(name: str) -> str:
    """The catalogue experiment whose claims judge `name` (itself when it is not re-targeted)."""
    return name.split(SEPARATOR, 1)[0]


def experiments_of_dataset(names: Iterable[str], dataset: str) -> list[str]:
    """Which of the (stored) experiment `names` ran on the user's data `dataset`, in catalogue order.

    `dataset` is the key ("mydata"), the file name or csv:PATH; `lossdb compare --dataset` uses this."""
    key = dataset_key(dataset)
    order = {n: i for i, n in enumerate(APPLIES)}
    mine = [n for n in names if SEPARATOR in n and n.split(SEPARATOR, 1)[1] == key]
    return sorted(mine, key=lambda n: (order.get(base_experiment(n), len(order)), n))


def stored_datasets(names: Iterable[str]) -> list[str]:
    """The names (keys) of the user's data among stored experiment `names`, sorted."""
    return sorted({n.split(SEPARATOR, 1)[1] for n in names if SEPARATOR in n})


def applicable(task: str, n_classes: int) -> list[str]:
    """The catalogue experiments that apply to a target of this task and number of classes."""
    return [name for name, a in APPLIES.items() if a.task == task
            and (task != "classification" or a.min_classes <= n_classes <= (a.max_classes or n_classes))]


def retarget(path: str | Path, target: str = "target", names: Sequence[str] = (), *, task: str = "auto",
             drop_missing: bool = False, folder: str | Path | None = None) -> list[Experiment]:
    """The catalogue experiments `names` (default: every one that applies) on the user's CSV.

    A relative `path` starts from `folder` (default: the current folder). Refuses, with the reason,
    a name that is not in the catalogue or does not apply to the target's task."""
    dataset = ex.csv_path(f"{CSV_PREFIX}{path}", Path(folder) if folder is not None else Path.cwd())
    spec = DataSpec(dataset, target=target, task=task, drop_missing=drop_missing)
    validate_spec(spec)
    raw = csv_raw(spec)
    fits = applicable(raw.task, raw.n_classes)
    catalogue = ex.catalogue()
    names = list(dict.fromkeys(names))  # a name given twice runs once
    for name in names:
        _check_applies(name, catalogue, fits, raw.task, raw.n_classes)
    csv = {dataset: csv_facts(spec)}
    origin = {"data": str(path)}  # as given: the path `lossdb run --dataset` suggests again
    return [_retargeted(catalogue[name], spec, raw.task, csv, origin) for name in (names or fits)]


def _check_applies(name: str, catalogue: dict[str, Experiment], fits: list[str], task: str,
                   n_classes: int) -> None:
    if name not in catalogue:
        raise ConfigError(f"unknown experiment {name!r}; valid on this data: {', '.join(fits)}")
    if name in NOT_DATA_DRIVEN:
        raise ConfigError(f"{name} does not run on your data: {NOT_DATA_DRIVEN[name]}; valid on this "
                          f"data: {', '.join(fits)}")
    if name not in fits:
        a = APPLIES[name]
        what = f"a {task} target" + (f" with {n_classes} classes" if task == "classification" else "")
        needs = "two classes" if a.max_classes == 2 and a.task == task else f"a {a.task} target"
        raise ConfigError(f"{name} needs {needs}, and this is {what}; valid on this data: "
                          f"{', '.join(fits) or 'none'}")


def _retargeted(exp: Experiment, spec: DataSpec, task: str, csv: dict[str, Any],
                origin: dict[str, str] | None = None) -> Experiment:
    """A copy of a catalogue experiment whose data are the user's file."""
    raw = copy.deepcopy(exp.raw)
    name = retargeted_name(exp.name, spec.dataset)
    data = {k: v for k, v in raw.get("data", {}).items() if k not in GENERATED_ONLY}
    is_csv = spec.dataset.startswith(CSV_PREFIX)
    data.update(dataset=spec.dataset, **({"target": spec.target, "task": task} if is_csv else {}))
    if spec.drop_missing:
        data["drop_missing"] = True
    raw["data"] = data
    file = Path(spec.dataset[len(CSV_PREFIX):]).name if is_csv else f"the bundled {spec.dataset} set"
    target = f"target column {spec.target!r}" if is_csv else "its own target"
    description = f"{APPLIES[exp.name].question} On {file}, {target}."
    protocol = (f"The catalogue's {exp.name} experiment with the datasets replaced by "
                f"{file}, {target} ({task}); splits, "
                f"corruptions of the training split, arms, network and learning rates as follows.\n\n"
                + raw["experiment"].get("protocol", ""))
    raw["experiment"].update(name=name, description=description, protocol=protocol)
    source = f"catalogue:{exp.name} on {spec.dataset}"  # the data are checked by runner.check_data
    return Experiment(name, description, exp.claims, raw, source, (), ex.dropped_notes(csv), csv, origin or {})


def experiments_to_run(names: Sequence[str], configs: Sequence[str | Path], dataset: str | None = None,
                       target: str | None = None, task: str | None = None,
                       drop_missing: bool = False) -> list[Experiment]:
    """What `lossdb run` runs: catalogue experiments by name and experiment files, or with
    `dataset` (csv:PATH) the named (default: every applicable) catalogue experiments on that file."""
    if target is not None and not target.strip():
        raise ConfigError("--target is empty: name the CSV's target column, e.g. --target label")
    if dataset is None:
        given = [flag for flag, value in (("--target", target), ("--task", task),
                                          ("--drop-missing", drop_missing)) if value]
        if given:
            raise ConfigError(f"{given[0]} applies to --dataset csv:PATH only; in an experiment file "
                              f"set target, task or drop_missing in [data]")
        return ex.resolve(list(names), list(configs))
    dataset = dataset_to_run(dataset)
    if not dataset.startswith(CSV_PREFIX):
        given = [flag for flag, value in (("--target", target), ("--task", task),
                                          ("--drop-missing", drop_missing)) if value]
        if given:
            raise ConfigError(f"{given[0]} applies to a CSV file only; the bundled {dataset} set has its own "
                              "target: leave it out")
        return retarget_builtin(dataset, names) + [ex.load_file(c) for c in configs]
    on_data = retarget(dataset[len(CSV_PREFIX):].strip(), target or "target", names,
                       task=task or "auto", drop_missing=drop_missing)
    return on_data + [ex.load_file(c) for c in configs]


def bundled_names() -> list[str]:
    """The bundled real datasets (digits, iris, ...) that `lossdb run --dataset NAME` takes."""
    from lossdb.core.data.datasets import DATASETS

    return [name for name, d in DATASETS.items() if d.kind == "bundled"]


def dataset_to_run(given: str) -> str:
    """`lossdb run --dataset` as csv:PATH or a bundled set's name: csv:PATH as given, the path of an
    existing .csv file, or a bundled name; anything else refused in one sentence listing the valid
    spellings."""
    text = given.strip()
    bundled = bundled_names()
    valid = (f"give csv:PATH, the path of an existing .csv file, or a bundled dataset "
             f"({', '.join(bundled)})")
    if text.startswith(CSV_PREFIX):
        if not text[len(CSV_PREFIX):].strip():
            raise ConfigError(f"--dataset {given!r} names no file: {valid}")
        return text
    if text in bundled:
        return text
    if text.lower().endswith(".csv"):
        if os.path.isfile(os.path.expanduser(text)):
            return CSV_PREFIX + text
        raise ConfigError(f"--dataset {given!r}: there is no such file from {os.getcwd()}; {valid}")
    raise ConfigError(f"--dataset {given!r} is neither a CSV file nor a bundled dataset: {valid}")


def retarget_builtin(dataset: str, names: Sequence[str] = ()) -> list[Experiment]:
    """The catalogue experiments `names` (default: every one that applies) on a bundled dataset."""
    from lossdb.core.data.datasets import DATASETS

    info = DATASETS[dataset]
    fits = applicable(info.task, info.n_classes)
    catalogue = ex.catalogue()
    names = list(dict.fromkeys(names))
    for name in names:
        _check_applies(name, catalogue, fits, info.task, info.n_classes)
    spec = DataSpec(dataset)
    return [_retargeted(catalogue[name], spec, info.task, {}) for name in (names or fits)]
