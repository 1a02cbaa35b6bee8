"""`report STUDY [--out FILE.html] [--pdf FILE.pdf]`: a study as one file to hand in (fmnist_core.report).

Everything that can be refused is refused before any work: the study's name, the folders the files go to,
and (with --pdf) the Chromium that prints it."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from ..data import load_fashion_mnist
from ..errors import DataError, RunError
from .args import CLIError, registry_from_args


def writable_file(path: str, option: str) -> Path:
    """The path a file may be written to: its folder exists and is writable, and it is not a folder."""
    p = Path(path).expanduser()
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CLIError(f"{option} {p} is a folder; give a file name")
    if not folder.is_dir():
        raise CLIError(f"{option} {p}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {p}: cannot write in folder {folder}")
    if p.exists() and not os.access(p, os.W_OK):
        raise CLIError(f"{option} {p} exists and cannot be overwritten")
    return p


def _extras(study, plan, registry, data_dir):
    """The view's extras (PCA, test figures, denoising curves); without the data, the report goes on
    without them and says so on stderr."""
    from ..studies import Extras, compute_extras

    try:
        return compute_extras(
            study, plan, registry, functools.cache(lambda: load_fashion_mnist(data_dir, download=False))
        )
    except (DataError, RunError, FileNotFoundError) as e:
        print(f"warning: some figures are left out: {str(e).splitlines()[0]}", file=sys.stderr)
        return Extras()


def _runs_report(registry, run_ids: list[str]) -> tuple[str, str]:
    """The report of the runs named (each must exist and be readable), and what it holds."""
    from ..report.selection import selection_report

    runs = [registry.get(r) for r in dict.fromkeys(run_ids)]  # RunError names a missing or damaged one
    return selection_report(runs), f"{len(runs)} runs"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def cmd_report(a) -> int:
    from ..report import ChromiumMissing, PdfError, find_chromium, print_pdf, report_html
    from ..studies import build_view, get_study, plan_study

    if bool(a.name) == bool(a.runs):
        raise CLIError(
            "give a study's name or --runs RUN..., not both (`python -m fmnist_core study` lists studies)"
        )
    study = get_study(a.name) if a.name else None
    out = writable_file(a.out or f"report-{study.name if study else 'runs'}.html", "--out")
    pdf = writable_file(a.pdf, "--pdf") if a.pdf else None
    try:
        chromium = find_chromium() if pdf else None
    except ChromiumMissing as e:
        raise CLIError(str(e)) from e
    registry = registry_from_args(a)
    if study is None:
        html, what = _runs_report(registry, a.runs)
    else:
        plan = plan_study(study, registry)
        html = report_html(study, plan, build_view(study, plan, _extras(study, plan, registry, a.data_dir)))
        what = f"study {study.name}, {plan.count('done')} runs done"
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as e:
        raise CLIError(f"--out {out}: {e.strerror or e}") from e
    print(f"wrote {out} ({_size(out.stat().st_size)}): {what}")
    if pdf is not None:
        try:
            size = print_pdf(html, pdf, chromium)
        except PdfError as e:
            raise CLIError(str(e)) from e
        print(f"wrote {pdf} ({_size(size)})")
    return 0
