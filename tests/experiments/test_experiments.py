"""Experiment files: validation with file, line and key; grids; presets; arm identity."""

import pytest

from lossdb.core.experiments import spec as ex
from lossdb.core.errors import ConfigError

ISSUE_EXAMPLE = """
[experiment]
name = "digits-ce-vs-mse"
description = "example"
[data]
dataset = "digits"
test_size = 0.2
[model]
hidden = [64]
activation = "sigmoid"
[train]
optimizer = "sgd"
lr = 0.5
batch_size = 32
epochs = 50
seeds = 5
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
[[arms]]
loss = "mse"
head = "linear"
"""


def test_the_issue_example_expands_into_three_arms_times_five_seeds():
    plans = ex.expand(ex.parse(ISSUE_EXAMPLE, "x.toml"), preset=None)
    assert len(plans) == 15
    assert {p.arm["label"] for p in plans} == {"ce/softmax", "mse/softmax", "mse/linear"}
    assert sorted({p.seed for p in plans}) == [0, 1, 2, 3, 4]
    assert {p.arm["model"]["hidden"] == [64] for p in plans} == {True}


def test_a_list_value_makes_a_grid():
    text = ISSUE_EXAMPLE.replace("lr = 0.5", "lr = [0.1, 0.5]").replace("hidden = [64]", "hidden = [[16], [64]]")
    plans = ex.expand(ex.parse(text, "x.toml"), preset=None, seeds=1)
    assert len(plans) == 3 * 2 * 2
    assert {(p.arm["train"]["lr"], tuple(p.arm["model"]["hidden"])) for p in plans} == {
        (0.1, (16,)), (0.1, (64,)), (0.5, (16,)), (0.5, (64,))}


def test_an_arm_overrides_train_and_model_keys():
    text = ISSUE_EXAMPLE.replace('loss = "ce"\nhead = "softmax"', 'loss = "ce"\nhead = "softmax"\nlr = 2.0\nactivation = "relu"')
    plans = ex.expand(ex.parse(text, "x.toml"), preset=None, seeds=1)
    ce = [p for p in plans if p.arm["loss"] == "ce"][0]
    mse = [p for p in plans if p.arm["loss"] == "mse"][0]
    assert (ce.arm["train"]["lr"], ce.arm["model"]["activation"]) == (2.0, "relu")
    assert (mse.arm["train"]["lr"], mse.arm["model"]["activation"]) == (0.5, "sigmoid")


def test_presets_and_overrides_change_epochs_and_seeds():
    text = ISSUE_EXAMPLE + "\n[presets.quick.train]\nepochs = 3\nseeds = 2\n"
    exp = ex.parse(text, "x.toml")
    quick = ex.expand(exp, "quick")
    assert len(quick) == 6 and quick[0].arm["train"]["epochs"] == 3
    assert ex.expand(exp, "full")[0].arm["train"]["epochs"] == 50
    assert len(ex.expand(exp, "quick", seeds=4, epochs=7)) == 12


def test_the_arm_hash_ignores_the_seed_and_changes_with_any_setting():
    exp = ex.parse(ISSUE_EXAMPLE, "x.toml")
    a = ex.expand(exp, None)
    b = ex.expand(exp, None, epochs=51)
    assert len({p.arm_hash for p in a}) == 3
    assert {p.arm_hash for p in a}.isdisjoint({p.arm_hash for p in b})


def test_runs_of_one_shape_and_schedule_share_a_stack():
    from lossdb.core.runner.execute import stacks

    text = ISSUE_EXAMPLE.replace("lr = 0.5", "lr = [0.1, 0.5]")
    plans = ex.expand(ex.parse(text, "x.toml"), None, seeds=2)
    assert len(stacks(plans)) == 1 and len(stacks(plans)[0]) == 12


@pytest.mark.parametrize("edit, message", [
    (('loss = "ce"', 'loss = "xent"'), r"x.toml, line \d+: \[arms\] loss: unknown loss 'xent'; valid: mse, ce"),
    (('head = "linear"', 'head = "tanh"'), r"valid heads for mse: softmax, sigmoid, linear"),
    (("epochs = 50", "epochs = -1"), r"line 15: \[train\] epochs"),
    (("epochs = 50", "epoch = 5"), r"line 15: \[train\] epoch: unknown key; valid keys: optimizer, lr"),
    (('optimizer = "sgd"', 'optimizer = "rmsprop"'), r"unknown optimizer 'rmsprop'; valid: sgd, momentum, adam"),
    (('activation = "sigmoid"', 'activation = "gelu"'), r"unknown activation 'gelu'"),
    (("seeds = 5", "seeds = [1, 2]"), r"seeds must be a positive integer"),
    (('name = "digits-ce-vs-mse"', 'name = ""'), r"needs a name"),
    (("lr = 0.5", "lr = 0.5 0.6"), r"x.toml: not valid TOML: .*line 13"),
], ids=["loss", "head", "negative-epochs", "unknown-key", "optimizer", "activation", "seeds", "name", "syntax"])
def test_an_invalid_file_names_file_line_key_and_the_valid_choices(edit, message):
    with pytest.raises(ConfigError, match=message):
        ex.parse(ISSUE_EXAMPLE.replace(*edit), "x.toml")


def test_an_unknown_dataset_is_refused_with_the_valid_names():
    with pytest.raises(ConfigError, match=r"x.toml: .*'digitz'.*digits"):
        ex.parse(ISSUE_EXAMPLE.replace('dataset = "digits"', 'dataset = "digitz"'), "x.toml")


def test_an_unknown_experiment_name_lists_the_catalogue():
    with pytest.raises(ConfigError, match=r"unknown experiment 'nope'; valid: .*convergence"):
        ex.resolve(["nope"])


def test_an_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid: quick, full"):
        ex.expand(ex.parse(ISSUE_EXAMPLE, "x.toml"), "medium")


def test_a_missing_file_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match="cannot read experiment file"):
        ex.load_file(tmp_path / "missing.toml")


def test_every_catalogue_file_loads_and_expands():
    cat = ex.catalogue()
    assert "convergence" in cat
    for exp in cat.values():
        assert ex.expand(exp, "quick") and ex.expand(exp, "full")


def test_scale_and_init_scale_are_grid_keys_of_any_experiment():
    text = ISSUE_EXAMPLE.replace('dataset = "digits"', 'dataset = "digits"\nscale = ["standard", "minmax", "none"]')
    text = text.replace('activation = "sigmoid"', 'activation = "sigmoid"\ninit_scale = [1.0, 0.5]')
    plans = ex.expand(ex.parse(text, "x.toml"), None, seeds=1)
    setups = {(p.arm["data"]["scale"], p.arm["model"]["init_scale"]) for p in plans}
    assert setups == {(s, i) for s in ("standard", "minmax", "none") for i in (1.0, 0.5)}
    from lossdb.core.runner.execute import stacks

    assert len(stacks(plans)) == 6  # each setup trains as its own stack


def test_a_bad_init_scale_is_refused_in_one_sentence():
    with pytest.raises(ConfigError, match=r"init_scale: must be a number in \(0, 100\], got 'big'$"):
        ex.parse(ISSUE_EXAMPLE.replace('activation = "sigmoid"', 'activation = "sigmoid"\ninit_scale = "big"'),
                 "x.toml")
