"""Studies as data: each report's experiment as a set of runs, how they depend on each other,
the figures and tables that compare them, and the numbers the report gave.

catalog.py   the study definitions (StudyRun, Study, STUDIES, get_study) and constants
check.py     check_study: a definition's consistency
plan.py      which runs exist or are missing, their names, sweep tasks, runs_table
extras.py    PCA baseline, test-set figures, denoising curves (compute_extras)
views/       one view per report (view_a.py ... view_label.py), shared parts in common.py, build_view
"""

import importlib
from typing import TYPE_CHECKING

# Each name from the module that defines it, imported on first use: the catalogue alone (Compare's groups,
# the presets) must not pay for torch, which the extras and the views bring in.
_HOME = {
    **dict.fromkeys(("DENOISE_IMAGES", "DENOISE_LEVELS", "DONE", "STUDIES", "get_study"), "catalog"),
    "check_study": "check",
    **dict.fromkeys(
        ("Extras", "compute_extras", "extras_needed", "pca_baseline_mses", "pca_baselines", "pca_sizes"),
        "extras",
    ),
    **dict.fromkeys(("plan_study", "runs_table", "spec_key", "sweep_tasks"), "plan"),
    "build_view": "views",
}

if TYPE_CHECKING:
    from .catalog import DENOISE_IMAGES, DENOISE_LEVELS, DONE, STUDIES, get_study
    from .check import check_study
    from .extras import Extras, compute_extras, extras_needed, pca_baseline_mses, pca_baselines, pca_sizes
    from .plan import plan_study, runs_table, spec_key, sweep_tasks
    from .views import build_view


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)


__all__ = [
    "DENOISE_IMAGES",
    "DENOISE_LEVELS",
    "DONE",
    "STUDIES",
    "Extras",
    "build_view",
    "check_study",
    "compute_extras",
    "extras_needed",
    "get_study",
    "pca_baseline_mses",
    "pca_baselines",
    "pca_sizes",
    "plan_study",
    "runs_table",
    "spec_key",
    "sweep_tasks",
]
