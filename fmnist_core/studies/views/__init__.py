"""Study views: what the page and the CLI show for a study (figures, tables, a reading), one module per
report; VIEWS maps a Study's `view` key to its function, build_view dispatches on it."""

from __future__ import annotations

from collections.abc import Callable

from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan
from .common import StudyView, stale_line
from .view_a import _view_a3, _view_a4, _view_a5, _view_ae_sweep
from .view_b import _view_b
from .view_c import _view_c
from .view_d import _view_d
from .view_e import _view_e
from .view_label import _view_label
from .view_pca import _view_pca
from .view_record import _view_record

VIEWS: dict[str, Callable[[Study, StudyPlan, Extras], StudyView]] = {
    "ae_sweep": _view_ae_sweep,
    "a3": _view_a3,
    "a4": _view_a4,
    "a5": _view_a5,
    "b": _view_b,
    "c": _view_c,
    "d": _view_d,
    "e": _view_e,
    "label": _view_label,
    "pca": _view_pca,
    "record": _view_record,
}


def build_view(study: Study, plan: StudyPlan, extras: Extras | None = None) -> StudyView:
    """The study's figures, tables (ours beside the report's) and a reading generated from the numbers."""
    view = VIEWS[study.view](study, plan, extras or Extras())
    view.reading[:0] = stale_line(plan)
    return view
