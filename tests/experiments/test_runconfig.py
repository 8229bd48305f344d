"""core.experiments.runconfig: a plan's frozen, typed config reads the same settings the stored dict holds."""

import dataclasses

import pytest
from lossdb.core.experiments import spec as ex
from lossdb.core.experiments.runconfig import RunConfig


@pytest.mark.parametrize("name", ["saturation", "imbalance", "regression", "confident-mistakes"])
def test_every_plans_typed_config_matches_its_stored_dict(name):
    for plan in ex.expand(ex.catalogue()[name], "quick"):
        c, arm = plan.config, plan.arm
        assert (c.experiment, c.arm.loss, c.arm.head, c.arm.label) == (name, arm["loss"], arm["head"], arm["label"])
        assert c.train.lr == float(arm["train"]["lr"]) and c.train.epochs == arm["train"]["epochs"]
        assert c.train.batch_size == (None if arm["train"]["batch_size"] == "full" else arm["train"]["batch_size"])
        assert c.data == ex.data_spec(arm) and c.net_spec() == ex.net_spec(arm) and c.optim_spec() == ex.optim_spec(arm)
        assert dict(c.arm.params) == {k: tuple(v) if isinstance(v, list) else v for k, v in arm.items()
                                      if k in ("gamma", "q", "delta", "alpha")}


def test_a_run_config_is_frozen_and_leaves_the_stored_dict_alone():
    plan = ex.expand(ex.catalogue()["imbalance"], "quick")[0]
    before = repr(plan.arm)
    config = RunConfig.of(plan.arm)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.train.lr = 1.0  # type: ignore[misc]
    assert repr(plan.arm) == before and ex.arm_hash(plan.arm) == plan.arm_hash
