"""Command line: python -m fmnist_core {data,train,runs,evaluate,predict,cache,strip-weights,bench,study,
search,report}.

args.py builds the parser and turns options into a RunSpec; runs.py holds the commands on single runs
and the data; study.py the study command; search.py the search command; report.py the report command.
Every user error ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import sys

from ..errors import USER_ERRORS
from .args import CLIError, build_parser, spec_from_args
from .report import cmd_report
from .runs import (
    cmd_bench,
    cmd_cache,
    cmd_data,
    cmd_evaluate,
    cmd_predict,
    cmd_runs,
    cmd_strip_weights,
    cmd_train,
    text_table,
)
from .search import cmd_search
from .study import cmd_study

__all__ = ["CLIError", "build_parser", "main", "spec_from_args", "text_table"]


COMMANDS = {
    "data": cmd_data,
    "train": cmd_train,
    "runs": cmd_runs,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "bench": cmd_bench,
    "study": cmd_study,
    "cache": cmd_cache,
    "strip-weights": cmd_strip_weights,
    "search": cmd_search,
    "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    try:
        code = COMMANDS[a.command](a)
        sys.stdout.flush()  # a reader gone early shows up here, not as a traceback at exit
        return code
    except BrokenPipeError:  # `runs --json | head`: the reader stopped; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (CLIError, *USER_ERRORS) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # e.g. an unavailable device
        if "device" in str(e) or "CUDA" in str(e):
            print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
