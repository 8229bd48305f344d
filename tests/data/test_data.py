"""Datasets, splits, training-only corruptions, standardisation and target scaling (core.data.prepare)."""

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from lossdb.core.data.prepare import (
    DATASETS,
    DataSpec,
    Prepared,
    dataset_names,
    fit_target_scaler,
    prepare,
    validate_spec,
)
from lossdb.core.data.datasets import LINEAR_WEIGHTS
from lossdb.core.errors import DataError

ALL = sorted(DATASETS)
SPLITTABLE = [n for n in ALL if n != "neuron"]
CLASSIFICATION = [n for n in ALL if DATASETS[n].task == "classification"]
REGRESSION = [n for n in SPLITTABLE if DATASETS[n].task == "regression"]
ARRAYS = [f.name for f in fields(Prepared) if f.name.startswith(("X_", "y_"))]


def write_csv(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return f"csv:{path}"


def classes_csv(tmp_path: Path, n: int = 40) -> str:
    rows = [f"{i},{(i * 7) % 5},{'ab'[i % 2]}" for i in range(n)]
    return write_csv(tmp_path, "f1,f2,label\n" + "\n".join(rows) + "\n")


def assert_same_arrays(a: Prepared, b: Prepared, names: list[str] = ARRAYS) -> None:
    for name in names:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# ---------------------------------------------------------------- every dataset


@pytest.mark.parametrize("name", ALL)
def test_every_dataset_has_consistent_shapes_and_dtypes(name):
    p = prepare(DataSpec(name), seed=0)
    assert p.task == DATASETS[name].task
    assert p.n_classes == DATASETS[name].n_classes
    for part in ("train", "val", "test"):
        X, y = getattr(p, f"X_{part}"), getattr(p, f"y_{part}")
        assert X.dtype == np.float32 and X.shape == (len(y), p.n_features)
        if p.task == "classification":
            assert y.dtype == np.int64 and y.ndim == 1 and y.min() >= 0 and y.max() < p.n_classes
        else:
            assert y.dtype == np.float32 and y.shape == (len(X), p.n_outputs)
    assert p.y_train_clean.shape == p.y_train.shape
    assert len(p.feature_names) == p.n_features
    assert len(p.class_names) == p.n_classes
    assert p.n_outputs == (p.n_classes if p.task == "classification" else 1)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_identical_arrays(name):
    assert_same_arrays(prepare(DataSpec(name), seed=3), prepare(DataSpec(name), seed=3))


@pytest.mark.parametrize("spec", [
    DataSpec("digits", label_noise=0.3),
    DataSpec("blobs", imbalance=20),
    DataSpec("linear", outliers=0.1, noise_dist="student_t"),
], ids=["label_noise", "imbalance", "outliers"])
def test_same_seed_gives_identical_corruptions(spec):
    assert_same_arrays(prepare(spec, seed=11), prepare(spec, seed=11))


@pytest.mark.parametrize("name", SPLITTABLE)
def test_different_seed_gives_different_split(name):
    a, b = prepare(DataSpec(name), seed=0), prepare(DataSpec(name), seed=1)
    assert a.X_train.shape == b.X_train.shape
    assert not np.array_equal(a.X_train, b.X_train)


@pytest.mark.parametrize("name", ALL)
def test_float64_on_request(name):
    p = prepare(DataSpec(name), seed=0, dtype=np.float64)
    assert p.X_train.dtype == p.X_test.dtype == np.float64
    if p.task == "regression":
        assert p.y_train.dtype == p.y_test.dtype == p.y_train_clean.dtype == np.float64


def test_dtype_other_than_float32_or_float64_is_refused():
    with pytest.raises(DataError, match="dtype must be float32 or float64"):
        prepare(DataSpec("iris"), seed=0, dtype=np.int32)


def test_negative_seed_is_refused():
    with pytest.raises(DataError, match="seed must be a whole number ≥ 0"):
        prepare(DataSpec("iris"), seed=-1)


def test_dataset_names_are_sorted_and_end_with_the_csv_form():
    names = dataset_names()
    assert names[:-1] == sorted(DATASETS) and names[-1] == "csv:PATH"


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(DataError, match=r"unknown dataset 'mnist'; valid: blobs, .*digits.*csv:PATH"):
        prepare(DataSpec("mnist"), seed=0)


# ---------------------------------------------------------------- splits


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_stratified_split_keeps_class_proportions_within_one_sample(name):
    p = prepare(DataSpec(name), seed=5)
    y_all = np.concatenate([p.y_train, p.y_val, p.y_test])
    total = np.bincount(y_all, minlength=p.n_classes)
    for y in (p.y_train, p.y_val, p.y_test):
        expected = total * len(y) / len(y_all)
        assert np.all(np.abs(np.bincount(y, minlength=p.n_classes) - expected) <= 1)


def test_split_sizes_follow_test_size_then_val_size_of_the_rest():
    p = prepare(DataSpec("digits", test_size=0.25, val_size=0.1), seed=0)
    assert len(p.y_test) == 450  # ceil(0.25 · 1797)
    assert len(p.y_val) == 135  # ceil(0.1 · 1347)
    assert len(p.y_train) == 1797 - 450 - 135


def test_split_sizes_and_class_counts_do_not_depend_on_the_seed():
    counts = {tuple(np.bincount(prepare(DataSpec("digits"), seed=s).y_train)) for s in range(6)}
    assert len(counts) == 1


def test_test_set_does_not_depend_on_val_size():
    a = prepare(DataSpec("wine", val_size=0.1), seed=2)
    b = prepare(DataSpec("wine", val_size=0.3), seed=2)
    np.testing.assert_array_equal(a.y_test, b.y_test)


# ---------------------------------------------------------------- corruptions


@pytest.mark.parametrize(("name", "option"), [
    ("digits", {"label_noise": 0.4}),
    ("moons", {"label_noise": 0.2}),
    ("diabetes", {"outliers": 0.2}),
    ("friedman1", {"outliers": 0.1}),
], ids=["digits-label_noise", "moons-label_noise", "diabetes-outliers", "friedman1-outliers"])
def test_corruption_leaves_validation_and_test_sets_untouched(name, option):
    clean = prepare(DataSpec(name), seed=4)
    dirty = prepare(DataSpec(name, **option), seed=4)
    assert_same_arrays(clean, dirty, ["X_train", "X_val", "X_test", "y_val", "y_test"])
    np.testing.assert_array_equal(dirty.y_train_clean, clean.y_train)


@pytest.mark.parametrize("name", ["digits", "blobs"])
def test_imbalance_leaves_validation_and_test_samples_untouched(name):
    clean = prepare(DataSpec(name), seed=4)
    rare = prepare(DataSpec(name, imbalance=10), seed=4)
    for part in ("val", "test"):
        np.testing.assert_array_equal(getattr(rare, f"y_{part}"), getattr(clean, f"y_{part}"))
        # standardised with other training statistics: the same samples up to a per-column affine map
        np.testing.assert_allclose(zscore(getattr(rare, f"X_{part}")),
                                   zscore(getattr(clean, f"X_{part}")), atol=1e-4)


def zscore(X: np.ndarray) -> np.ndarray:
    X = X.astype(np.float64)
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


@pytest.mark.parametrize("share", [0.0, 0.2, 0.4, 1.0])
def test_label_noise_flips_exactly_the_requested_share_never_to_the_same_class(share):
    p = prepare(DataSpec("digits", label_noise=share), seed=0)
    flipped = p.y_train != p.y_train_clean
    assert flipped.sum() == round(share * len(p.y_train))


def test_label_noise_moves_labels_uniformly_over_the_other_classes():
    p = prepare(DataSpec("digits", label_noise=1.0), seed=0)
    shift = (p.y_train - p.y_train_clean) % p.n_classes
    counts = np.bincount(shift, minlength=p.n_classes)
    assert counts[0] == 0
    expected = len(shift) / (p.n_classes - 1)
    assert np.all(np.abs(counts[1:] - expected) < 5 * np.sqrt(expected))


def test_label_noise_does_not_change_the_split():
    clean = prepare(DataSpec("iris"), seed=9)
    noisy = prepare(DataSpec("iris", label_noise=0.3), seed=9)
    np.testing.assert_array_equal(noisy.X_train, clean.X_train)


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2])
def test_outliers_replace_exactly_the_requested_share_by_mean_plus_minus_ten_sd(share):
    p = prepare(DataSpec("diabetes", outliers=share), seed=1, dtype=np.float64)
    changed = (p.y_train != p.y_train_clean).any(axis=1)
    assert changed.sum() == round(share * len(p.y_train))
    mean, sd = p.y_train_clean.mean(axis=0), p.y_train_clean.std(axis=0)
    distance = np.abs(p.y_train[changed] - mean)
    np.testing.assert_allclose(distance, np.broadcast_to(10 * sd, distance.shape))


def test_outliers_come_with_both_signs():
    p = prepare(DataSpec("friedman1", outliers=0.2), seed=0)
    changed = (p.y_train != p.y_train_clean).any(axis=1)
    above = p.y_train[changed] > p.y_train_clean.mean()
    assert above.any() and (~above).any()


@pytest.mark.parametrize("ratio", [10, 50])
def test_imbalance_makes_the_minority_class_rare_by_the_requested_ratio(ratio):
    p = prepare(DataSpec("blobs", imbalance=ratio), seed=0)
    counts = np.bincount(p.y_train)
    assert counts[1] == int(np.ceil(counts[0] / ratio))


def test_imbalance_rarefies_the_chosen_minority_class_against_the_mean_of_the_others():
    p = prepare(DataSpec("digits", imbalance=10, minority_class=3), seed=0)
    counts = np.bincount(p.y_train)
    assert counts[3] == int(np.ceil(np.delete(counts, 3).mean() / 10))
    assert counts[3] == counts.min()


@pytest.mark.parametrize("name", ["digits", "blobs", "wine"])
def test_imbalance_training_size_is_the_same_for_every_seed(name):
    sizes = {len(prepare(DataSpec(name, imbalance=7), seed=s).y_train) for s in range(8)}
    assert len(sizes) == 1


def test_imbalance_picks_different_minority_samples_per_seed():
    a, b = (prepare(DataSpec("blobs", imbalance=10), seed=s) for s in (0, 1))
    assert not np.array_equal(a.X_train[a.y_train == 1], b.X_train[b.y_train == 1])


# ---------------------------------------------------------------- standardisation


@pytest.mark.parametrize("name", ["digits", "breast_cancer", "diabetes", "friedman1"])
def test_standardisation_uses_training_statistics_only(name):
    p = prepare(DataSpec(name), seed=0, dtype=np.float64)
    sd = p.X_train.std(axis=0)
    varying = sd > 0
    np.testing.assert_allclose(p.X_train.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(sd[varying], 1)
    assert not np.allclose(p.X_test[:, varying].mean(axis=0), 0, atol=1e-10)


def test_constant_training_columns_are_centred_not_divided_by_zero():
    p = prepare(DataSpec("digits"), seed=0)
    assert np.isfinite(p.X_train).all() and np.isfinite(p.X_test).all()
    np.testing.assert_array_equal(p.X_train[:, 0], 0)  # pixel_0_0 is always blank


def test_regression_targets_keep_their_original_scale():
    p = prepare(DataSpec("diabetes"), seed=0)
    assert 25 <= p.y_train.min() and p.y_train.max() <= 346


# ---------------------------------------------------------------- generated sets


def test_generated_sets_honour_n_samples():
    p = prepare(DataSpec("moons", n_samples=100), seed=0)
    assert len(p.y_train) + len(p.y_val) + len(p.y_test) == 100


def test_generated_sets_are_drawn_from_the_seed():
    a, b = (prepare(DataSpec("sine"), seed=s) for s in (0, 1))
    assert not np.array_equal(np.sort(a.y_test, axis=0), np.sort(b.y_test, axis=0))


def test_student_t_noise_has_heavier_tails_than_gaussian():
    def residuals(dist: str) -> np.ndarray:
        raw = DATASETS["linear"].build(20000, 1.0, dist, np.random.default_rng(0))
        return raw.y[:, 0] - raw.X @ LINEAR_WEIGHTS

    gauss, heavy = residuals("gaussian"), residuals("student_t")
    assert np.mean(np.abs(gauss) > 6) == 0
    assert np.mean(np.abs(heavy) > 6) > 0.01


def test_xor_labels_follow_the_sign_product_of_the_clusters():
    raw = DATASETS["xor"].build(400, 0.1, "gaussian", np.random.default_rng(0))
    np.testing.assert_array_equal(raw.y, (raw.X[:, 0] * raw.X[:, 1] < 0).astype(np.int64))


def test_neuron_is_one_unstandardised_sample_in_every_split():
    p = prepare(DataSpec("neuron", x=1.0, y=0.0), seed=0)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(p, f"X_{part}"), [[1.0]])
        np.testing.assert_array_equal(getattr(p, f"y_{part}"), [[0.0]])
    assert (p.task, p.n_classes, p.n_features, p.n_outputs) == ("regression", 0, 1, 1)


def test_neuron_takes_its_input_and_target_from_the_spec():
    p = prepare(DataSpec("neuron", x=2.5, y=-1.0), seed=7, dtype=np.float64)
    assert p.X_train[0, 0] == 2.5 and p.y_test[0, 0] == -1.0


# ---------------------------------------------------------------- target scaling


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_target_scaler_round_trips(kind):
    y = np.random.default_rng(0).normal(50, 20, size=(30, 2))
    scaler = fit_target_scaler(kind, y)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(y)), y, rtol=1e-12)


def test_minmax_scaler_maps_training_targets_onto_the_unit_interval():
    y = prepare(DataSpec("diabetes"), seed=0).y_train
    t = fit_target_scaler("minmax", y).transform(y)
    assert t.min() == 0 and t.max() == 1


def test_standard_scaler_gives_training_targets_mean_zero_sd_one():
    y = prepare(DataSpec("friedman1"), seed=0, dtype=np.float64).y_train
    t = fit_target_scaler("standard", y).transform(y)
    np.testing.assert_allclose([t.mean(), t.std()], [0, 1], atol=1e-12)


def test_target_scaler_of_constant_targets_keeps_them_finite():
    t = fit_target_scaler("minmax", np.full((5, 1), 3.0)).transform(np.full((2, 1), 3.0))
    np.testing.assert_array_equal(t, 0)


def test_unknown_target_scaler_is_refused():
    with pytest.raises(DataError, match="target scaler must be one of standard, minmax"):
        fit_target_scaler("robust", np.zeros((3, 1)))


# ---------------------------------------------------------------- spec validation


@pytest.mark.parametrize(("changes", "message"), [
    ({"test_size": 0.0}, "test_size must be strictly between 0 and 1, got 0.0"),
    ({"val_size": 1.0}, "val_size must be strictly between 0 and 1"),
    ({"label_noise": 1.5}, "label_noise must be between 0 and 1"),
    ({"imbalance": 0.5}, "imbalance must be at least 1"),
    ({"n_samples": 0, "dataset": "moons"}, "n_samples must be a whole number ≥ 1"),
    ({"noise": -0.1, "dataset": "moons"}, "noise must be a finite number ≥ 0"),
    ({"noise_dist": "cauchy"}, "noise_dist must be one of gaussian, student_t"),
    ({"outliers": 0.1}, "outliers apply to regression targets only, but dataset 'digits'"),
    ({"label_noise": 0.1, "dataset": "diabetes"}, "label_noise applies to classification only"),
    ({"imbalance": 10.0, "dataset": "sine"}, "imbalance applies to classification only"),
    ({"minority_class": 10}, "minority_class must be a class index from 0 to 9"),
    ({"n_samples": 100}, "n_samples applies to generated datasets only"),
    ({"noise_dist": "student_t", "dataset": "moons"}, "noise_dist applies to generated regression"),
    ({"target": "y"}, "target and task apply to csv:PATH datasets only"),
    ({"x": 2.0}, "x and y apply to the 'neuron' dataset only"),
    ({"outliers": 0.5, "dataset": "neuron"}, "outliers do not apply to the one-sample"),
    ({"dataset": "csv:"}, "has no path after 'csv:'"),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()))
def test_invalid_spec_is_refused_with_a_sentence_naming_the_problem(changes, message):
    spec = DataSpec(**{"dataset": "digits", **changes})
    with pytest.raises(DataError, match=message):
        validate_spec(spec)


def test_minority_class_without_imbalance_is_allowed_for_grids():
    validate_spec(DataSpec("blobs", imbalance=1.0, minority_class=0))


# ---------------------------------------------------------------- CSV files


def test_csv_classification_encodes_labels_in_sorted_order(tmp_path):
    p = prepare(DataSpec(classes_csv(tmp_path), target="label"), seed=0)
    assert p.task == "classification" and p.class_names == ("a", "b")
    assert p.feature_names == ("f1", "f2") and p.n_features == 2


def test_csv_integer_target_with_few_values_is_classification(tmp_path):
    rows = "\n".join(f"{i},{i % 3 + 1}" for i in range(30))
    p = prepare(DataSpec(write_csv(tmp_path, "x,target\n" + rows)), seed=0)
    assert p.task == "classification" and p.class_names == ("1", "2", "3")


def test_csv_real_valued_target_is_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 0.37:.2f}" for i in range(30))
    p = prepare(DataSpec(write_csv(tmp_path, "x,target\n" + rows)), seed=0)
    assert p.task == "regression" and p.y_train.shape == (len(p.X_train), 1)


def test_csv_task_can_be_forced_to_regression(tmp_path):
    rows = "\n".join(f"{i},{i % 3}" for i in range(30))
    p = prepare(DataSpec(write_csv(tmp_path, "x,target\n" + rows), task="regression"), seed=0)
    assert p.task == "regression"


def test_csv_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"CSV file '.*nope\.csv' does not exist"):
        prepare(DataSpec(f"csv:{tmp_path / 'nope.csv'}"), seed=0)


def test_csv_unreadable_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"CSV file '.*folder' is a folder, not a regular file"):
        (tmp_path / "folder").mkdir()
        prepare(DataSpec(f"csv:{tmp_path / 'folder'}"), seed=0)


def test_csv_empty_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"CSV file '.*empty\.csv' is empty"):
        prepare(DataSpec(write_csv(tmp_path, "", "empty.csv")), seed=0)


def test_csv_absent_target_column_lists_the_columns(tmp_path):
    with pytest.raises(DataError, match=r"has no target column 'target'; its columns are 'f1', "
                                        r"'f2', 'label'"):
        prepare(DataSpec(classes_csv(tmp_path)), seed=0)


def test_csv_missing_value_names_the_column_and_first_row(tmp_path):
    path = write_csv(tmp_path, "a,b,target\n1,2,0\n3,,1\n5,6,0\n7,,1\n")
    with pytest.raises(DataError, match=r"missing values in 2 row\(s\) \(data rows 2, 4; header not "
                                        r"counted\), the first in column 'b'"):
        prepare(DataSpec(path), seed=0)


def test_csv_non_numeric_feature_column_is_named(tmp_path):
    path = write_csv(tmp_path, "size,colour,target\n1,red,0\n2,blue,1\n")
    with pytest.raises(DataError, match=r"data\.csv' has a non-numeric feature column 'colour'"):
        prepare(DataSpec(path), seed=0)


def test_csv_single_class_is_a_data_error(tmp_path):
    path = write_csv(tmp_path, "x,target\n1,yes\n2,yes\n3,yes\n")
    with pytest.raises(DataError, match=r"data\.csv' has a single class in target column 'target'"):
        prepare(DataSpec(path), seed=0)


def test_csv_with_fewer_samples_than_the_split_needs_is_a_data_error(tmp_path):
    path = write_csv(tmp_path, "x,target\n1,0.5\n2,1.5\n")
    with pytest.raises(DataError, match=r"data\.csv' has 2 samples, too few for test_size=0\.2"):
        prepare(DataSpec(path), seed=0)


def test_csv_class_too_rare_to_train_on_is_a_data_error(tmp_path):
    # ties in the stratified allocation go to the lowest class: 'a' lands in test, 'b' in validation
    rows = "\n".join([f"{i},{c}" for i, c in enumerate("abcde")] + [f"{i},f" for i in range(15)])
    with pytest.raises(DataError, match=r"has only 1 sample\(s\) of class number 1 of 6 \(in the "
                                        r"sorted order of the labels\), 0 left for training"):
        prepare(DataSpec(write_csv(tmp_path, "x,target\n" + rows)), seed=0)


def test_csv_label_noise_on_a_regression_file_is_refused(tmp_path):
    rows = "\n".join(f"{i},{i * 0.37:.2f}" for i in range(30))
    with pytest.raises(DataError, match=r"label_noise applies to classification only, but CSV"):
        prepare(DataSpec(write_csv(tmp_path, "x,target\n" + rows), label_noise=0.2), seed=0)


def test_csv_is_read_again_after_it_changes(tmp_path):
    spec = DataSpec(classes_csv(tmp_path, n=40), target="label")
    assert len(prepare(spec, seed=0).y_test) == 8
    classes_csv(tmp_path, n=60)
    assert len(prepare(spec, seed=0).y_test) == 12


# ---------------------------------------------------------------- feature scaling ([data] scale)


def test_minmax_scaling_maps_every_training_column_onto_0_1():
    X = prepare(DataSpec("wine", scale="minmax"), seed=0, dtype=np.float64).X_train
    np.testing.assert_allclose(X.min(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.max(axis=0), 1, atol=1e-12)


@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_feature_scaling_is_fitted_on_the_training_split_and_applied_to_every_split(scale):
    raw = prepare(DataSpec("wine", scale="none"), seed=2, dtype=np.float64)
    scaled = prepare(DataSpec("wine", scale=scale), seed=2, dtype=np.float64)
    if scale == "standard":
        shift, spread = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    else:
        shift, spread = raw.X_train.min(axis=0), np.ptp(raw.X_train, axis=0)
    for part in ("X_train", "X_val", "X_test"):
        np.testing.assert_allclose(getattr(scaled, part), (getattr(raw, part) - shift) / spread, atol=1e-12)


def test_no_scaling_keeps_the_features_as_loaded():
    from sklearn.datasets import load_iris

    p = prepare(DataSpec("iris", scale="none"), seed=1, dtype=np.float64)
    rows = {tuple(r) for r in load_iris().data}
    assert all(tuple(r) in rows for part in (p.X_train, p.X_val, p.X_test) for r in part)


@pytest.mark.parametrize("spec, message", [
    (DataSpec("iris", scale="robust"), "scale must be one of 'standard', 'minmax', 'none', got 'robust'."),
    (DataSpec("neuron", scale="minmax"), "scale does not apply to the one-sample 'neuron' dataset"),
], ids=["unknown", "neuron"])
def test_a_bad_scale_is_refused_in_one_sentence(spec, message):
    import re

    with pytest.raises(DataError, match=re.escape(message)):
        validate_spec(spec)


def test_only_the_one_sample_neuron_declares_itself_deterministic():
    from lossdb.core.data.datasets import DATASETS, is_deterministic

    assert [name for name in DATASETS if is_deterministic(name)] == ["neuron"]
    assert not is_deterministic("csv:data.csv") and not is_deterministic("mnist")


def test_feature_outliers_make_exactly_the_share_one_far_cluster_of_the_farthest_class():
    clean = prepare(DataSpec("blobs"), seed=3, dtype=np.float64)
    far = prepare(DataSpec("blobs", feature_outliers=0.05), seed=3, dtype=np.float64)
    moved = (far.X_train != clean.X_train).any(axis=1)
    assert moved.sum() == round(0.05 * len(clean.y_train))
    np.testing.assert_array_equal(np.abs(far.X_train[moved]), 10.0)  # ±10 scaled units per feature
    assert len(np.unique(far.X_train[moved], axis=0)) == 1  # one far cluster
    means = [clean.X_train[clean.y_train == c].mean(axis=0) for c in range(clean.n_classes)]
    farthest = np.argmax([((m - far.X_train[moved][0]) ** 2).sum() for m in means])
    assert (far.y_train[moved] == farthest).all()  # labelled as the class on the other side
    np.testing.assert_array_equal(far.y_train[~moved], clean.y_train[~moved])
    for name in ("X_val", "X_test", "y_val", "y_test"):  # held-out data stay clean
        np.testing.assert_array_equal(getattr(far, name), getattr(clean, name))


def test_feature_outliers_are_for_classes_only():
    with pytest.raises(DataError, match="feature_outliers applies to classification only"):
        prepare(DataSpec("diabetes", feature_outliers=0.05), seed=0)
