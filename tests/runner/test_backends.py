"""Runs of another array backend are stored under their own engine version and never paired with numpy's."""

from __future__ import annotations

import pytest
from lossdb.core.analysis.frame import runs_frame
from lossdb.core.experiments import spec as ex
from lossdb.core.runner import execute as runner
from lossdb.core.store import open_store

pytest.importorskip("array_api_strict")


def test_array_api_runs_are_their_own_runs_and_their_own_condition(tmp_path):
    exp = ex.catalogue()["saturation"]
    plans = runner.plan([exp], "quick", seeds=1, epochs=2)
    plans = [p for p in plans if p.arm_hash == plans[0].arm_hash]
    with open_store(f"sqlite:///{tmp_path / 'b.db'}") as store:
        runner.execute(store, [exp], runner.pending(store, plans))
        assert runner.pending(store, plans) == []
        strict = runner.pending(store, plans, backend="array-api-strict")
        assert strict == plans  # numpy's runs do not count as done for another backend
        runner.execute(store, [exp], strict, backend="array-api-strict")
        rows = store.list_runs(experiment="saturation")
        assert sorted(r.engine_version for r in rows) == ["3", "3+array-api-strict"]
        assert next(r for r in rows if "+" in r.engine_version).extras["backend"]["library"] == "array_api_strict"
        frame = runs_frame(store)
    backend = [dict(keys)["backend"] for keys in frame["condition_keys"]]
    assert sorted(backend) == ["array-api-strict", "numpy"] and frame["condition"].nunique() == 2
    a, b = (frame.iloc[backend.index(name)] for name in ("numpy", "array-api-strict"))
    assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-5)
