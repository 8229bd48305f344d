"""Which family each declared claim's headline shares its level with (fast: no runs)."""

from lossdb.core.judging.claims import CLAIMS
from lossdb.core.judging.judge import claims_from


def test_the_catalogue_each_retargeted_dataset_and_each_user_experiment_are_their_own_families():
    stored = [{"name": "convergence@mydata", "spec": {}}, {"name": "binary@other", "spec": {}},
              {"name": "mine", "spec": {"comparisons": [
                  {"name": "ce-beats-mse", "favoured": "ce/softmax", "other": "mse/softmax",
                   "metric": "test_accuracy", "claim": "ce is more accurate", "at": "final",
                   "better": "higher", "min_effect": 0.01, "ratio": False}]}}]
    declared = claims_from(stored)
    families = {k: c.family for k, c in declared.items()}
    assert {families[k] for k in CLAIMS} == {"catalogue"}
    assert families["convergence@mydata"] == "@mydata" and families["classification-accuracy@other"] == "@other"
    assert [f for k, f in families.items() if k.startswith("mine:")] == ["mine"]
