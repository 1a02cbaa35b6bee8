"""Runs on disk: saved_models/<run_id>/{config,history,summary,meta}.json + weights.pt.

Every file is written atomically (temp file + os.replace), so a crash or a Stop leaves the
previous complete state. Weights hold tensors and primitives only (torch.load weights_only=True).
torch is imported only where weights are read or written.

One module of some 550 lines on purpose: the folder's format, the validation every read goes through,
the write order and the lock that says "being trained" are one set of rules, read together.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import socket
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import RunSpec, model_config_from_dict
from .errors import (
    ConfigError,
    RunError,  # noqa: F401  (re-exported)
)
from .files import CLASS_NAMES

if TYPE_CHECKING:
    import torch  # imported where weights are read or written: listing runs needs only JSON

RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")  # always fullmatch: "$" allows a trailing newline
# "pruned": a hyperparameter search's trial that its pruner stopped (fmnist_core/search): stopped, with the
# epochs it trained, like "stopped"
STATUSES = ("running", "completed", "early_stopped", "stopped", "pruned", "diverged", "failed", "interrupted")
FILES = ("config.json", "history.json", "summary.json", "weights.pt")
EPOCH_KEY = "_epoch"  # in weights.pt beside the tensors: the epoch they are from, a 0-d tensor
LOCK = ".training.lock"  # held (flock) by the process training the run: a dead process cannot hold it


def default_runs_dir() -> Path:
    return Path(os.environ.get("FMNIST_RUNS_DIR") or "saved_models")


def validate_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id) or ".." in run_id:
        raise RunError(
            f"invalid run id {run_id!r}: use 1-80 letters, digits, '.', '_' or '-' (no slashes, no '..')"
        )
    return run_id


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _finite(obj: Any) -> Any:
    """NaN and infinities as null: strict JSON parsers reject them."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(_finite(obj), indent=1, sort_keys=False, allow_nan=False).encode())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunInfo:
    """What the registry knows of one run folder; `damaged` explains why it cannot be used."""

    run_id: str
    path: Path
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    damaged: str | None = None

    @property
    def kind(self) -> str:
        return self.config.get("model", {}).get("kind", "?")

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.run_id

    @property
    def status(self) -> str:
        if self.damaged:
            return "damaged"
        status = self.summary.get("status", "?")
        if status == "running":
            held = _lock_held(self.path)
            if held is None:  # no lock file: a run from before the lock, or from another machine
                same_host = self.summary.get("host") == socket.gethostname()
                held = not (same_host and not _pid_alive(int(self.summary.get("pid", -1))))
            if not held:
                return "interrupted"
        return status

    @property
    def results_only(self) -> dict | None:
        """{"weights_sha256", "retrain"} for a run shipped without its weights (see strip_weights), else None."""
        r = self.meta.get("results_only")
        return r if isinstance(r, dict) and not (self.path / "weights.pt").exists() else None

    @property
    def encoder_run(self) -> str | None:
        run = self.config.get("model", {}).get("encoder_run")
        return run if run and run != "random" else None

    @property
    def split_id(self) -> str | None:
        """The fingerprint of the images this run selected its epoch on (data.holdout_id, or "test"); None
        for a run from before the fixed held-out split (it selected on the test set or a seed's own split)."""
        data = self.config.get("data")
        split = data.get("split_id") if isinstance(data, dict) else None
        return split if isinstance(split, str) else None

    def spec(self) -> RunSpec:
        return RunSpec.from_dict({k: self.config[k] for k in ("model", "train")})

    @cached_property
    def settings(self) -> dict:
        """The model and train configs with every default filled in (parsed once per RunInfo), so a run
        recorded before a setting existed compares equal to one recorded after; the raw config if the
        spec cannot be read."""
        try:
            return self.spec().to_dict()
        except (ConfigError, KeyError, TypeError, ValueError):
            return self.config


SHIPPED_SEARCH = "conv-ae-n-p-lr"  # the example search the lab ships: its journal and its trials' runs
# the runs the lab ships (tracked by git, as .gitignore lists them; read-only in the app)
SHIPPED_PREFIXES = ("ref-", "study-", f"search-{SHIPPED_SEARCH}-t")  # the last: search.store.trial_prefix


def is_shipped(run_id: str) -> bool:
    return run_id.startswith(SHIPPED_PREFIXES)


def is_usable(info: RunInfo) -> bool:
    """Whether a run can be loaded and used: not damaged, failed or diverged, a finished epoch, its weights."""
    return not (
        info.damaged
        or info.summary.get("epochs_done", 0) < 1
        or info.status in ("failed", "diverged")
        or info.results_only
    )


def reference_first(runs: list[RunInfo]) -> list[RunInfo]:
    """The shipped reference runs first, in report order (ref-a-… before ref-b-…), then the rest as given."""
    refs = sorted((r for r in runs if r.run_id.startswith("ref-")), key=lambda r: r.run_id)
    return refs + [r for r in runs if not r.run_id.startswith("ref-")]


_WEIGHTS_CHECKED: dict[tuple, tuple[str | None, int | None]] = {}


def _weights_problem(path: Path, model_config: dict) -> tuple[str | None, int | None]:
    """Why a weights file cannot serve its config (or None), and the epoch it records; cheap (mmap, meta
    device) and cached."""
    import torch

    from .models import build_model

    try:
        st = path.stat()
    except OSError:
        return "weights.pt cannot be read", None
    key = (str(path), st.st_mtime_ns, st.st_size, json.dumps(model_config, sort_keys=True))
    if key not in _WEIGHTS_CHECKED:
        epoch = None
        problem: str | None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
                problem = "weights.pt does not hold a state dict"
            else:
                epoch = int(state.pop(EPOCH_KEY)) if EPOCH_KEY in state else None
                with torch.device("meta"):
                    expected = build_model(model_config_from_dict(model_config)).state_dict()
                fits = {k: tuple(v.shape) for k, v in expected.items()} == {
                    k: tuple(v.shape) for k, v in state.items()
                }
                problem = None if fits else "weights.pt does not fit the run's config"
                if fits and not all(
                    bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()
                ):
                    problem = "weights.pt holds NaN or infinite values (the run diverged)"
        except Exception as e:  # unpickling and zip errors come in many types
            problem = f"weights.pt cannot be read ({e.__class__.__name__})"
        _WEIGHTS_CHECKED[key] = (problem, epoch)
    return _WEIGHTS_CHECKED[key]


CHECKED_FILE = ".weights-checked.json"  # in the runs folder: the weights checks made by earlier processes


class _CheckedWeights:
    """_weights_problem's answers kept in the runs folder, so that a fresh process (a new server's Home
    page) need not import torch and read every weights file again. An entry is keyed by the run's folder
    name, the file's mtime and size and the model config: a weights file or config edited since is checked
    again. A missing, unreadable or hand-edited file is only a cache: entries that do not parse are ignored."""

    def __init__(self, root: Path):
        self.path, self.dirty = root / CHECKED_FILE, False
        self._entries: dict[str, list] | None = None  # read at the first check: a cached listing needs none

    @property
    def entries(self) -> dict[str, list]:
        if self._entries is None:
            self._entries = self._load()
        return self._entries

    def _load(self) -> dict[str, list]:
        try:
            loaded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            loaded = {}
        return {
            k: v
            for k, v in (loaded.items() if isinstance(loaded, dict) else ())
            if isinstance(v, list)
            and len(v) == 2
            and (v[0] is None or isinstance(v[0], str))
            and (v[1] is None or type(v[1]) is int)
        }

    def problem(self, path: Path, model_config: dict) -> tuple[str | None, int | None]:
        try:
            st = path.stat()
        except OSError:
            return "weights.pt cannot be read", None
        key = f"{path.parent.name}|{st.st_mtime_ns}|{st.st_size}|{json.dumps(model_config, sort_keys=True)}"
        if key not in self.entries:
            self.entries[key] = list(_weights_problem(path, model_config))
            self.dirty = True
        problem, epoch = self.entries[key]
        return problem, epoch

    def save(self, keep: set[str] | None = None) -> None:
        """Write the entries back (those of the runs in `keep` only, where given); a read-only folder or a
        race with another writer costs only a re-check later."""
        if self._entries is None:
            return  # nothing was checked, so nothing changed (a deleted run's entries go at a later check)
        if keep is not None:
            kept = {k: v for k, v in self._entries.items() if k.split("|", 1)[0] in keep}
            self.dirty |= len(kept) != len(self._entries)
            self._entries = kept
        if self.dirty and self.path.parent.is_dir():
            try:
                atomic_write_json(self.path, self.entries)
                self.dirty = False
            except OSError:
                pass


# What each run folder held when it was last read, keyed by the folder's real path: a
# page rerun lists some 200 runs several times, and reading and checking each one's JSON again cost about
# 0.4 s a listing. An entry serves while none of the run's files changed (inode, mtime and size: every
# write replaces the file). The RunInfo is shared between readers: treat it as read-only.
_INFO_CACHE: dict[Path, tuple[tuple, RunInfo]] = {}
_RECORD_FILES = ("config.json", "history.json", "summary.json", "meta.json", "weights.pt")


def _stamp(folder: Path) -> tuple:
    out: list = []
    for name in _RECORD_FILES:
        try:
            st = os.stat(folder / name)
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _repaired(summary: dict, epochs: int, weights_epoch: int | None) -> dict:
    """The summary made to agree with the history's length and the weights on disk, and no longer
    "running" (only called for a run whose trainer is gone)."""
    fixed = dict(summary)
    if summary.get("epochs_done") != epochs:
        fixed["epochs_done"] = epochs
    if weights_epoch is not None and summary.get("weights_epoch") != weights_epoch:
        fixed["weights_epoch"] = weights_epoch
    if summary.get("status") == "running":
        fixed["status"] = "interrupted"
    return fixed


def _lock_held(folder: Path) -> bool | None:
    """Whether a process holds the run's training lock; None where there is no lock file (older runs)."""
    try:
        import fcntl

        fd = os.open(folder / LOCK, os.O_RDONLY)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


@contextmanager
def _tidy_lock(folder: Path):
    """Yields whether the run may be tidied: its training lock taken here (no one trains it), or no lock
    file at all (a run from before the lock)."""
    try:
        import fcntl

        fd = os.open(folder / LOCK, os.O_RDONLY)
    except (ImportError, OSError):
        yield True
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)  # closing the descriptor lets go of the lock


_NUMBER = (int, float)
_SUMMARY_TYPES = {
    "epochs_done": int,
    "test_n": int,
    "best_epoch": int,
    "weights_epoch": int,
    "pid": int,
    "status": str,
    "host": str,
    "error": str,
    "updated": str,
}


def _check_record(info: RunInfo) -> None:
    """One validation step for a run's files: raise RunError (the run is then "damaged: <reason>") for
    anything a page or the CLI could trip over, so no mistyped field ever reaches them."""
    try:
        info.spec()  # model and train configs, typed and in range
    except KeyError as e:
        raise RunError(f"config.json has no {e.args[0]!r} section") from None
    except (ConfigError, TypeError, ValueError, AttributeError) as e:
        raise RunError(f"config.json: {e}") from None
    for key in ("status", "epochs_done"):
        if info.summary.get(key) is None:
            raise RunError(f"summary.json has no {key}")
    for key, value in info.summary.items():
        want = _SUMMARY_TYPES.get(
            key, _NUMBER if key.startswith(("best_", "final_", "seconds", "test_")) else None
        )
        if (
            want is not None
            and value is not None
            and (not isinstance(value, want) or isinstance(value, bool))
        ):
            what = "a whole number" if want is int else "text" if want is str else "a number"
            raise RunError(f"summary.json: {key} is {value!r}, not {what}")
    if info.summary.get("status", "running") not in STATUSES:
        raise RunError(f"summary.json: unknown status {info.summary.get('status')!r}")
    if any(
        isinstance(v, int) and v < 0 for k, v in info.summary.items() if k in ("epochs_done", "best_epoch")
    ):
        raise RunError("summary.json: a negative epoch count")
    for i, row in enumerate(info.history, 1):
        # a loss may be null: a diverged epoch's NaN, written as strict JSON
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("epoch"), int)
            or isinstance(row.get("epoch"), bool)
            or "train_loss" not in row
            or "val_loss" not in row
        ):
            raise RunError(f"history.json: entry {i} is not an epoch record (epoch, train_loss, val_loss)")
        counts = row.get("val_pred_counts")
        if counts is not None and not (
            isinstance(counts, list)
            and len(counts) == len(CLASS_NAMES)
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
        ):
            raise RunError(f"history.json: entry {i}'s val_pred_counts is not {len(CLASS_NAMES)} counts")
        if any(
            v is not None and (not isinstance(v, _NUMBER) or isinstance(v, bool))
            for k, v in row.items()
            if k != "val_pred_counts"
        ):
            raise RunError(f"history.json: entry {i} holds a value that is not a number")


_HELD: dict[str, int] = {}  # run folder -> the fd of the training lock this process holds


class Registry:
    """A folder of run folders."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_runs_dir()
        # the cache's key for this folder: one entry per run however the folder is spelled (relative,
        # absolute, through a link), so that a deleted run's entry is found and dropped
        self._real = Path(os.path.realpath(self.root))

    def path(self, run_id: str) -> Path:
        return self.root / validate_run_id(run_id)

    # -- creating and writing -------------------------------------------------------------
    def create(self, spec: RunSpec, extra: dict[str, Any], run_id: str | None = None) -> str:
        """Make a new run folder with its config; returns the run id."""
        self.root.mkdir(parents=True, exist_ok=True)
        if run_id:
            validate_run_id(run_id)
            try:
                self.path(run_id).mkdir()
            except FileExistsError:
                raise RunError(
                    f"a run named {run_id!r} already exists; choose another name or delete it"
                ) from None
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for i in range(1000):
                run_id = f"{spec.model.kind}-{stamp}" + (f"-{i}" if i else "")
                try:
                    self.path(run_id).mkdir()
                    break
                except FileExistsError:
                    continue
            else:
                raise RunError(f"no free run name {spec.model.kind}-{stamp}-N; try again in a second")
        self._hold(run_id)
        config = {**spec.to_dict(), **extra, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
        config.pop("name", None)
        atomic_write_json(self.path(run_id) / "config.json", config)
        atomic_write_json(self.path(run_id) / "history.json", [])
        self.write_summary(run_id, {"status": "running", "epochs_done": 0})
        return run_id

    def _hold(self, run_id: str) -> None:
        """Take the run's training lock for this process (released by release() or when it dies)."""
        try:
            import fcntl
        except ImportError:  # no flock (Windows): the pid in summary.json decides instead
            return
        fd = os.open(self.path(run_id) / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _HELD[str(self.path(run_id).resolve())] = fd

    def release(self, run_id: str) -> None:
        """This process has finished training the run: let go of its lock."""
        fd = _HELD.pop(str(self.path(run_id).resolve()), None)
        if fd is not None:
            os.close(fd)

    def write_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        summary = {
            **summary,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "updated": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        atomic_write_json(self.path(run_id) / "summary.json", summary)

    def save_epoch(
        self, run_id: str, history: list[dict], summary: dict, state_dict: dict | None, weights_epoch: int = 0
    ) -> None:
        """History, then weights (carrying their epoch), then summary: whatever a crash interrupts, the
        weights are from an epoch the history holds, and info() repairs a summary left behind."""
        import torch

        p = self.path(run_id)
        atomic_write_json(p / "history.json", history)
        if state_dict is not None:
            buf = io.BytesIO()
            torch.save(
                {
                    **{k: v.detach().cpu() for k, v in state_dict.items()},
                    EPOCH_KEY: torch.tensor(weights_epoch),
                },
                buf,
            )
            atomic_write_bytes(p / "weights.pt", buf.getvalue())
        self.write_summary(run_id, summary)

    # -- reading --------------------------------------------------------------------------
    def _read_json(self, path: Path, expect: type):
        try:
            obj = json.loads(path.read_text())
        except FileNotFoundError:
            raise RunError(f"{path.name} is missing") from None
        except (OSError, ValueError, UnicodeDecodeError) as e:
            raise RunError(f"{path.name} is not valid JSON ({e.__class__.__name__})") from None
        if not isinstance(obj, expect):
            raise RunError(f"{path.name} does not hold a {expect.__name__}")
        return obj

    def info(self, run_id: str) -> RunInfo:
        """Read one run's JSON; never raises for damage, it fills `damaged` instead."""
        checked = _CheckedWeights(self.root)
        info = self._info(run_id, checked)
        checked.save()
        return info

    def _info(self, run_id: str, checked: _CheckedWeights) -> RunInfo:
        p = self.path(run_id)
        if not p.is_dir():
            raise RunError(f"no run {run_id!r} in {self.root}; list runs with `python -m fmnist_core runs`")
        stamp, key = _stamp(p), self._real / p.name
        cached = _INFO_CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        info = self._read_info(run_id, p, checked)
        # kept only if no file changed while it was read (a writer in between, or _tidy's repair, would
        # leave old contents under a new stamp); and never for a live run: its lock can let go with no
        # file changing
        if info.summary.get("status") != "running" and _stamp(p) == stamp:
            _INFO_CACHE[key] = (stamp, info)
        return info

    def _read_info(self, run_id: str, p: Path, checked: _CheckedWeights) -> RunInfo:
        info = RunInfo(run_id, p)
        try:
            info.config = self._read_json(p / "config.json", dict)
            info.history = self._read_json(p / "history.json", list)
            info.summary = self._read_json(p / "summary.json", dict)
            _check_record(info)
        except (RunError, ConfigError, KeyError, TypeError, ValueError) as e:
            info.damaged = str(e)
        try:
            meta = json.loads((p / "meta.json").read_text()) if (p / "meta.json").exists() else {}
            info.meta = meta if isinstance(meta, dict) else {}
        except (OSError, ValueError):
            info.meta = {}
        if (
            not info.damaged
            and not (p / "weights.pt").exists()
            and info.summary.get("epochs_done", 0) > 0
            and info.results_only is None
            and info.summary.get("status") != "diverged"
        ):
            info.damaged = "weights.pt is missing"
        epoch = None
        if not info.damaged and (p / "weights.pt").exists():
            info.damaged, epoch = checked.problem(p / "weights.pt", info.config["model"])
        if not info.damaged and info.status != "running":
            self._tidy(info, epoch)
        return info

    def _tidy(self, info: RunInfo, weights_epoch: int | None) -> None:
        """After a crash: remove half-written temp files and make the summary agree with the history and
        the weights actually on disk (a kill between two writes leaves the summary behind).

        Done holding the run's training lock, and only if the record is still the one `info` read: a
        trainer that finished (and let go of the lock) after `info` was read must not have its final
        summary overwritten with "interrupted", nor its temp files removed while it writes."""
        fixed, tmps = (
            _repaired(info.summary, len(info.history), weights_epoch),
            list(info.path.glob(".*.tmp")),
        )
        if fixed == info.summary and not tmps:  # the usual case: nothing to repair, nothing to re-read
            return
        with _tidy_lock(info.path) as free:
            if not free:
                return
            try:
                unchanged = (
                    self._read_json(info.path / "summary.json", dict) == info.summary
                    and self._read_json(info.path / "history.json", list) == info.history
                )
            except (RunError, ValueError):
                return
            if not unchanged:
                return
            for tmp in info.path.glob(".*.tmp"):  # again, now that the lock is ours
                try:
                    tmp.unlink()
                except OSError:
                    pass
            if fixed != info.summary:
                info.summary = fixed
                try:
                    atomic_write_json(info.path / "summary.json", fixed)
                except OSError:  # a read-only folder: the repaired summary still serves this reader
                    pass

    def list_runs(self) -> list[RunInfo]:
        """Every run folder, newest first; damaged ones are listed with the reason, and so are folders
        whose names cannot be run ids (spaces, other alphabets), as not runs."""
        if not self.root.is_dir():
            return []
        runs, checked = [], _CheckedWeights(self.root)
        for p in self.root.iterdir():
            if not p.is_dir() or p.name.startswith("."):
                continue
            if RUN_ID_RE.fullmatch(p.name) and ".." not in p.name:
                runs.append(self._info(p.name, checked))
            else:
                runs.append(
                    RunInfo(
                        p.name,
                        p,
                        damaged="not a run: its folder name is not a run id (letters, "
                        "digits, '.', '_' or '-'); rename the folder to use it",
                    )
                )
        listed = {r.run_id for r in runs}
        checked.save(keep=listed)  # a deleted run's entries go
        for gone in [k for k in list(_INFO_CACHE) if k.parent == self._real and k.name not in listed]:
            _INFO_CACHE.pop(gone, None)
        runs.sort(key=lambda r: (r.config.get("created", ""), r.run_id), reverse=True)
        return runs

    def get(self, run_id: str) -> RunInfo:
        """A usable run, or RunError saying what is wrong with it."""
        info = self.info(run_id)
        if info.damaged:
            raise RunError(f"run {run_id!r} is damaged: {info.damaged}; delete it or train it again")
        return info

    def load_state(self, run_id: str) -> dict[str, torch.Tensor]:
        """The run's weights as a state dict (without the epoch they carry)."""
        import torch

        path = self.path(run_id) / "weights.pt"
        shipped = self.info(run_id).results_only
        if shipped is not None:
            raise RunError(
                f"run {run_id!r} ships its results only, not its weights; retrain it with "
                f"`{shipped.get('retrain', 'its recorded command')}`"
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise RunError(
                f"run {run_id!r} has no weights yet (it saves them at the end of its first epoch)"
            ) from None
        except Exception as e:  # unpickling errors come in many types
            raise RunError(
                f"the weights of run {run_id!r} are damaged ({e.__class__.__name__}); "
                "delete the run or train it again"
            ) from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise RunError(f"the weights file of run {run_id!r} does not hold a state dict; train it again")
        state.pop(EPOCH_KEY, None)
        return state

    def load_model(self, run_id: str, device: str | torch.device = "cpu") -> torch.nn.Module:
        """Rebuild a run's model from its config and weights, in eval mode."""
        from .allocator import keep_freed_memory
        from .models import build_model

        keep_freed_memory()  # the pages' batches of 500 images reuse memory instead of faulting it in

        info = self.get(run_id)
        model = build_model(info.spec().model)
        state = self.load_state(run_id)
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise RunError(
                f"the weights of run {run_id!r} do not fit its config "
                f"({str(e).splitlines()[0]}); train it again"
            ) from None
        return model.to(device).eval()

    # -- managing -------------------------------------------------------------------------
    def strip_weights(self, run_id: str, keep_eval: tuple[str, ...] = ()) -> None:
        """Make a finished run results-only: its record stays (config, history, summary and the evaluation
        entries named in keep_eval), its weights and other evaluations go; meta.json keeps the weights'
        SHA-256 (the kept entries stay valid) and the command that retrains it."""
        import hashlib

        info = self.get(run_id)
        if info.results_only:
            raise RunError(f"run {run_id!r} is results-only already")
        if info.status not in ("completed", "early_stopped", "pruned"):  # a pruned trial ends there too
            raise RunError(f"run {run_id!r} is {info.status}; only a finished run can drop its weights")
        weights = info.path / "weights.pt"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        atomic_write_json(
            info.path / "meta.json",
            {
                **info.meta,
                "results_only": {"weights_sha256": digest, "retrain": info.config.get("command", "")},
            },
        )
        weights.unlink()
        for entry in (info.path / "eval").glob("*.npz"):
            if entry.stem not in keep_eval:
                entry.unlink()

    def dependents(self, run_id: str) -> list[str]:
        return [r.run_id for r in self.list_runs() if r.encoder_run == run_id]

    def delete(self, run_id: str, force: bool = False) -> None:
        """Delete a run folder; refuses a run being trained, and one others depend on unless force."""
        info = self.info(run_id)
        if info.status == "running":
            raise RunError(f"run {run_id!r} is being trained; stop it first")
        deps = self.dependents(run_id)
        if deps and not force:
            raise RunError(
                f"runs {', '.join(deps)} took their encoder from {run_id!r}; "
                "delete with force to remove it anyway (they keep their own weights)"
            )
        # rename first so a half-deleted folder never looks like a run
        trash = self.root / f".deleting-{run_id}-{os.getpid()}-{time.time_ns()}"
        os.replace(info.path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def rename(self, run_id: str, name: str) -> None:
        """Set a run's display name (its id, which other runs refer to, stays)."""
        name = name.strip()
        if not name or len(name) > 80:
            raise RunError("a run name must be 1-80 characters")
        p = self.path(run_id)
        if not p.is_dir():
            raise RunError(f"no run {run_id!r}")
        meta = self.info(run_id).meta
        atomic_write_json(p / "meta.json", {**meta, "name": name})

    def export_zip(self, run_id: str) -> bytes:
        """config, summary, history (JSON and CSV) and weights of one run as a zip."""
        info = self.get(run_id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in FILES + ("meta.json",):
                f = info.path / name
                if (
                    f.is_file() and not f.is_symlink()
                ):  # regular files of the run only: a link could point anywhere
                    z.write(f, f"{run_id}/{name}")
            z.writestr(f"{run_id}/history.csv", history_csv(info.history))
        return buf.getvalue()


def history_csv(history: list[dict]) -> str:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    lines = [",".join(keys)] + [
        ",".join("" if row.get(k) is None else str(row.get(k)) for k in keys) for row in history
    ]
    return "\n".join(lines) + "\n"
