"""Where a search lives: <runs>/.searches/NAME/journal.log, Optuna's JournalStorage on a plain file (an
append-only log of operations, one JSON line each, written under a lock file; SQLite would need a database
lock that NFS and a kill -9 both handle badly), beside the lock file that says a coordinator is running it.

The folder is hidden (a dot) so that the registry, which lists every folder of the runs folder, never
takes it for a run. Trials are run folders of their own, `search-NAME-t007`, in the runs folder itself.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ..detached import start_detached
from ..errors import ConfigError, RunError
from ..registry import RUN_ID_RE, Registry
from .definition import SearchDef

SEARCHES = ".searches"
JOURNAL = "journal.log"
COORDINATOR = "coordinator.lock"  # flock-ed by the live `search NAME` process; it holds its pid
LOG = "search.log"  # the output of a search started in the background (start_search)
DEFINITION = "definition"  # the study's user attr holding SearchDef.to_attrs()

optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines say what each trial did


def trial_prefix(name: str) -> str:
    """What every trial's run id of search `name` starts with: search-NAME-t."""
    return f"search-{name}-t"


def run_id(name: str, number: int) -> str:
    """The run folder of trial `number`: search-NAME-t007."""
    return f"{trial_prefix(name)}{number:03d}"


def check_name(name: str) -> str:
    """A search name that can name its folder and its trials' runs (ConfigError otherwise)."""
    if not RUN_ID_RE.fullmatch(name) or ".." in name or not RUN_ID_RE.fullmatch(run_id(name, 1000)):
        raise ConfigError(
            f"invalid search name {name!r}: use 1-68 letters, digits, '.', '_' or '-' (it names the trials' "
            "runs, search-NAME-t007)"
        )
    return name


def folder(registry: Registry, name: str) -> Path:
    return registry.root / SEARCHES / check_name(name)


def journal(registry: Registry, name: str) -> Path:
    return folder(registry, name) / JOURNAL


def exists(registry: Registry, name: str) -> bool:
    path = journal(registry, name)
    return path.is_file() and path.stat().st_size > 0


def list_searches(registry: Registry) -> list[str]:
    """The names of the searches in the runs folder, alphabetically."""
    root = registry.root / SEARCHES
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / JOURNAL).is_file() and RUN_ID_RE.fullmatch(p.name))


def storage(path: Path) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)))


def load(
    registry: Registry,
    name: str,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    """The study of an existing search (RunError if there is none); opening it writes nothing."""
    if not exists(registry, name):
        raise RunError(
            f"no search {name!r} in {registry.root}; start one with `python -m fmnist_core search {name} "
            "--model KIND --param NAME=LOW:HIGH --trials N`"
        )
    try:
        return optuna.load_study(
            study_name=name, storage=storage(journal(registry, name)), sampler=sampler, pruner=pruner
        )
    except (KeyError, ValueError) as e:
        raise RunError(f"the journal of search {name!r} cannot be read ({e}); delete its folder") from None


def stored_definition(registry: Registry, name: str) -> SearchDef | None:
    """The definition a search was started with; None for a new search (or one killed before it stored it)."""
    if not exists(registry, name):
        return None
    attrs = load(registry, name).user_attrs.get(DEFINITION)
    if attrs is None:
        return None
    try:
        return SearchDef.from_attrs(attrs)
    except (ConfigError, KeyError, TypeError) as e:
        raise RunError(f"search {name!r} stores a definition this lab cannot read ({e})") from None


def create(registry: Registry, name: str, defn: SearchDef) -> None:
    """Make the search's folder and study, and store its definition (once: a resumed search keeps it)."""
    folder(registry, name).mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=name,
        storage=storage(journal(registry, name)),
        direction=defn.objective.direction,
        load_if_exists=True,
    )
    if DEFINITION not in study.user_attrs:
        study.set_user_attr(DEFINITION, defn.to_attrs())


def repair(registry: Registry, name: str) -> None:
    """Cut an unfinished last line off the journal (a process killed inside a write): the reader skips it,
    but the next line appended would be glued to it and the whole journal would no longer load."""
    from optuna.storages.journal import JournalFileSymlinkLock  # the lock JournalFileBackend writes under

    path = journal(registry, name)
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        with open(path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)
    finally:
        lock.release()


MAX_RUNNING = 2  # searches the app starts side by side: each runs a worker per core already


def running_searches(registry: Registry) -> list[str]:
    """The searches of the runs folder whose process is alive now."""
    return [n for n in list_searches(registry) if running_search(registry, n) is not None]


def running_search(registry: Registry, name: str) -> int | None:
    """The pid of the process running search `name` now, or None: a live process holds its lock file (an OS
    lock, which a process killed with -9 lets go of)."""
    import fcntl

    path = folder(registry, name) / COORDINATOR
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return None
    except OSError:
        text = path.read_text().strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)  # lets go of the lock if this call took it


@contextmanager
def coordinating(registry: Registry, name: str) -> Iterator[None]:
    """While the block runs, this process is the one coordinator of the search (RunError if another is):
    two would ask for trials of the same budget twice and fail each other's running trials."""
    import fcntl

    folder(registry, name).mkdir(parents=True, exist_ok=True)
    fd = os.open(folder(registry, name) / COORDINATOR, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunError(
            f"search {name!r} is running already (pid {running_search(registry, name)}); wait for it or stop it"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def start_search(registry: Registry, name: str, args: list[str]) -> int:
    """Start `python -m fmnist_core search NAME ARGS` in a session of its own (a closed tab or a restarted
    server does not end it); its output goes to <runs>/.searches/NAME/search.log. Returns its pid."""
    return start_detached(registry, ["search", name, *args], folder(registry, name) / LOG)


def stop_search(registry: Registry, name: str) -> bool:
    """Ask the running search to stop: its trials end after their current batch, and running the search
    again trains them anew (as it does after a kill)."""
    pid = running_search(registry, name)
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
