"""A run that did not learn, and learning rates far outside the reports'."""

from fmnist_core.health import never_learned
from fmnist_core.settings import lr_warning


def test_a_run_whose_loss_never_fell_did_not_learn():
    assert never_learned([{"val_loss": 2.3}, {"val_loss": 2.31}, {"val_loss": 2.3}])
    assert not never_learned([{"val_loss": 2.3}, {"val_loss": 1.2}])
    assert not never_learned([{"val_loss": 2.3}])  # one epoch: nothing to compare
    assert not never_learned([])
    assert not never_learned([{"val_loss": None}, {"val_loss": 1.0}])  # a diverged first epoch says nothing


def test_learning_rates_far_outside_the_reports_are_warned_of():
    assert lr_warning(1.0).startswith("Learning rate 1 is 10× the largest the reports used (0.1)")
    assert "below the smallest" in lr_warning(1e-5)
    for lr in (1e-4, 1e-3, 0.01, 0.1, 0.3):  # the reports' range and its margins
        assert lr_warning(lr) is None
