"""The Studies page's words on a study plan (studies.plan.StudyPlan): how far it is, what it waits for,
where a sweep runs, and the study's reading as a markdown list."""

from __future__ import annotations

from collections.abc import Iterable

WHERE = ["this machine", "Ray (local)", "Ray cluster"]  # where a sweep's runs train


def runs_word(n: int) -> str:
    """ "1 run", "3 runs"."""
    return f"{n} run{'s' if n != 1 else ''}"


def progress(plan) -> tuple[float, str]:
    """The share of the plan's runs done, and a line that counts them by status: "3 of 9 runs done ·
    1 running · 5 missing"."""
    total, done = len(plan.runs), plan.count("done")
    parts = [f"{done} of {total} runs done"] + [
        f"{plan.count(s)} {s}" for s in ("running", "queued", "missing", "blocked") if plan.count(s)
    ]
    return done / total, " · ".join(parts)


def left_to_do(plan) -> int:
    """Runs not finished yet: missing, waiting for an encoder, running or queued."""
    return len(plan.missing) + len(plan.blocked) + plan.count("running", "queued")


def waits_for(plan) -> list[str]:
    """The runs (encoders another process trains) that the plan's blocked runs wait for."""
    return sorted(
        {r.depends_on.run_id for r in plan.blocked if r.depends_on is not None and r.depends_on.run_id}
    )


def ray_target(where: str, address: str) -> str | None:
    """The --ray argument of a sweep run on `where` (one of WHERE): "local", the cluster's address, or
    None on this machine."""
    return {"Ray (local)": "local", "Ray cluster": address.strip()}.get(where)


def sweep_line(sweep: dict, log: str) -> str:
    """A running sweep's record (background_sweep.running_sweep) in words."""
    ray = ", Ray " + sweep["ray"] if sweep.get("ray") else ""
    return (
        f"A sweep of this study is running in the background (pid {sweep['pid']}, "
        f"{sweep.get('workers') or 'one per core'} worker(s){ray}); "
        f"it goes on if you close this tab. Log: `{log}`."
    )


def reading_markdown(lines: Iterable[str]) -> str:
    """The study's reading as a markdown list. A line that starts like a list marker ("- ", "+ ", "* ": a
    step's name such as "+ batch norm") is escaped, or it would become a nested item; "**bold**" is not
    a marker."""
    return "\n".join(
        "- " + ("\\" + line if line[:1] in ("+", "-", "*") and line[1:2] == " " else line) for line in lines
    )
