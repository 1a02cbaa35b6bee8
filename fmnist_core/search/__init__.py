"""Hyperparameter searches (`python -m fmnist_core search NAME`): Optuna's TPE over settings of the schema,
each trial an ordinary run trained in a worker process, poor trials pruned epoch by epoch, the study kept
in a journal file beside the runs so that a killed search resumes where it was.

  space.py       --param NAME=LOW:HIGH[:log|:int] / NAME=a,b,c, checked against settings.py; trial specs
  definition.py  a search's definition (stored in the study) and budget; its pruner and sampler
  store.py       <runs>/.searches/NAME/: the journal, the one-coordinator lock, start/stop in the background
  worker.py      a worker process: one trial as a run, each epoch reported, pruned runs stopped cleanly
  engine.py      the coordinator: ask, train, tell; resuming after a kill
  results.py     trials as rows, the best so far, a summary, Optuna's figures (for --status and the app)
"""

from .definition import PRUNERS, Budget, SearchDef, objective_of, resolve
from .engine import run_search
from .results import best_row, figures, summary, summary_line, table_rows, trial_rows
from .space import Param, parse_param, parse_space
from .store import list_searches, running_search, start_search, stop_search

__all__ = [
    "PRUNERS",
    "Budget",
    "Param",
    "SearchDef",
    "best_row",
    "figures",
    "list_searches",
    "objective_of",
    "parse_param",
    "parse_space",
    "resolve",
    "run_search",
    "running_search",
    "start_search",
    "stop_search",
    "summary",
    "summary_line",
    "table_rows",
    "trial_rows",
]
