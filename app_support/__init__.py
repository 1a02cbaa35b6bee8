"""The only non-page code that imports streamlit: the widgets, the caching and the job panel the pages share.
No logic a test would want lives here (that is fmnist_core, which never imports streamlit). The pages do
`import app_support as ui` and use `ui.<name>`: every shared name they use is re-exported here.

- site: the pages in sidebar order (SITE, PAGES) and APP_TITLE
- sidebar: frame(), which every page calls first: the page config, the sidebar's navigation, the password
  gate, the device, data and queue lines
- data: the cached loaders (dataset, test arrays, registry, models), the run list and pickers, formatting
- jobs: the job queue handle, time estimates, the live training panel (job_monitor)
- evals: the inspect pages' evaluation cache and figures
- studies: a study's plan and extras, its background sweep

They import one another in that direction only: site <- data <- jobs <- sidebar, studies; data <- evals.

Each page's sections live in a module of their own, which that page imports by name (`from app_support
import compare_view as view`; not re-exported here, so a page loads only its own): compare_view,
confusion_view, reconstructions_view, classify_view, latent_view, train_view (with controls), studies_view,
search_view.
They draw; what they show is decided in fmnist_core (run_table, confusion, reconstructions, study_status, …).

torch and the modules that need it are imported inside the functions that use them: the Home page draws
from the IDX files and the run folders alone, before torch (2 s) is loaded.
"""

from __future__ import annotations

# imported here, once, before any page: plotly imports it lazily and two sessions doing so at once can see a
# half-initialised module ("no attribute 'Series'")
import pandas  # noqa: F401

from app_support.data import (
    AUTOENCODERS,
    CLASSIFIERS,
    dataset,
    fmt_pct,
    fmt_seconds,
    load_model,
    load_models,
    need_runs,
    registry,
    run_label,
    run_picker,
    runs,
    shipped,
    test_arrays,
    user_error,
)
from app_support.evals import ae_figures_now, cached_eval, classifier_summary
from app_support.jobs import estimate_seconds, job_monitor, job_queue, submit_job
from app_support.sidebar import bf16_native, cuda_available, device_line, frame, sidebar_status
from app_support.site import APP_TITLE, PAGES, SITE
from app_support.studies import (
    CPUS,
    start_study_sweep,
    stop_study_sweep,
    study_extras,
    study_plan,
    study_sweep,
    sweep_log,
)
from fmnist_core.config import KIND_LABELS
from fmnist_core.errors import USER_ERRORS, RunError
from fmnist_core.plots.style import NEUTRAL  # the grey of what is no run, for the pages

__all__ = [
    "APP_TITLE",
    "AUTOENCODERS",
    "CLASSIFIERS",
    "CPUS",
    "KIND_LABELS",
    "NEUTRAL",
    "PAGES",
    "SITE",
    "USER_ERRORS",
    "RunError",
    "ae_figures_now",
    "cached_eval",
    "classifier_summary",
    "bf16_native",
    "cuda_available",
    "dataset",
    "device_line",
    "estimate_seconds",
    "fmt_pct",
    "fmt_seconds",
    "frame",
    "job_monitor",
    "job_queue",
    "load_model",
    "load_models",
    "need_runs",
    "registry",
    "run_label",
    "run_picker",
    "runs",
    "shipped",
    "sidebar_status",
    "start_study_sweep",
    "stop_study_sweep",
    "study_extras",
    "study_plan",
    "study_sweep",
    "submit_job",
    "sweep_log",
    "test_arrays",
    "user_error",
]
