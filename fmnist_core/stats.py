"""Uncertainty over seeds: a mean with its 95% confidence interval (Student's t), differences between
groups (paired by seed where runs pair, Welch's otherwise), and when such a difference may be called one.

A study's conclusion rests on differences, and one seed of these networks moves a result by about as
much as many of the effects studied: a difference is called only where its 95% CI excludes zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

LEVEL = 0.95  # the confidence level of every interval the lab shows


def t_quantile(df: float) -> float:
    """The two-sided 95% quantile of Student's t with df degrees of freedom (2.776 for df 4)."""
    from scipy.special import stdtrit  # lazily: scipy.special costs ~0.3 s to import

    return float(stdtrit(df, 1 - (1 - LEVEL) / 2))


@dataclass(frozen=True)
class Estimate:
    """A mean over n seeds and the half-width of its 95% CI (None with a single value: no interval)."""

    mean: float
    half: float | None
    n: int

    @property
    def low(self) -> float | None:
        return None if self.half is None else self.mean - self.half

    @property
    def high(self) -> float | None:
        return None if self.half is None else self.mean + self.half

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero (the difference can be called)."""
        return self.half is not None and (self.mean - self.half > 0 or self.mean + self.half < 0)

    def fmt(self, f: Callable[[float], str]) -> str:
        """'0.0312 ± 0.0008' with the number format f ('0.0312' for a single seed)."""
        return f(self.mean) + ("" if self.half is None else f" ± {f(self.half).lstrip('+')}")


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def estimate(values: Sequence[float | None]) -> Estimate | None:
    """Mean and 95% t-interval of the finite values (a diverged seed's None or NaN is left out)."""
    vals = _finite(values)
    if not vals:
        return None
    if len(vals) == 1:
        return Estimate(vals[0], None, 1)
    half = t_quantile(len(vals) - 1) * statistics.stdev(vals) / math.sqrt(len(vals))
    return Estimate(statistics.fmean(vals), half, len(vals))


def estimate_shift(e: Estimate, by: float) -> Estimate:
    """The same estimate moved by a constant (an estimate against a fixed baseline: e − baseline)."""
    return Estimate(e.mean + by, e.half, e.n)


def paired_difference(a: Mapping[int, float | None], b: Mapping[int, float | None]) -> Estimate | None:
    """a − b over the seeds both have (runs of one seed share head init, batch order and dropout masks,
    so pairing takes that shared part of the noise out of the difference)."""
    seeds = sorted(s for s in set(a) & set(b) if a[s] is not None and b[s] is not None)
    return estimate([a[s] - b[s] for s in seeds])  # type: ignore[operator]


def difference(a: Sequence[float | None], b: Sequence[float | None]) -> Estimate | None:
    """mean(a) − mean(b) for unpaired groups, with Welch's interval (unequal variances)."""
    xa, xb = _finite(a), _finite(b)
    if not xa or not xb:
        return None
    d = statistics.fmean(xa) - statistics.fmean(xb)
    if len(xa) < 2 or len(xb) < 2:
        return Estimate(d, None, min(len(xa), len(xb)))
    va, vb = statistics.variance(xa) / len(xa), statistics.variance(xb) / len(xb)
    se2 = va + vb
    if se2 == 0:
        return Estimate(d, 0.0, min(len(xa), len(xb)))
    df = se2**2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))  # Welch–Satterthwaite
    return Estimate(d, t_quantile(df) * math.sqrt(se2), min(len(xa), len(xb)))


def verdict(d: Estimate | None, f: Callable[[float], str], more: str = "higher", less: str = "lower") -> str:
    """How to read a difference: '+0.85 points higher (95% CI +0.31 to +1.39)' where the interval excludes
    zero, 'within seed noise (+0.12, ±0.40)' where it does not; f formats a signed difference."""
    if d is None:
        return "no runs to compare yet"
    if d.half is None:
        return f"{f(d.mean)} from one seed: a difference needs at least two seeds to be called"
    if not d.excludes_zero:
        return f"within seed noise ({f(d.mean)}, ±{f(d.half).lstrip('+')})"
    word = more if d.mean > 0 else less
    low, high = f(d.low), f(d.high)  # type: ignore[arg-type]
    # an interval narrower than the format's last digit would read "-0.0064 to -0.0064": give its half-width
    span = f"±{f(d.half).lstrip('+')}" if low == high else f"{low} to {high}"
    return f"{word} by {f(abs(d.mean)).lstrip('+')} (95% CI {span}, {d.n} seeds)"


def points(v: float) -> str:
    """A signed accuracy difference in percentage points: +0.85 pts."""
    return f"{100 * v:+.2f} pts"


def pct(v: float) -> str:
    """An accuracy as a percentage: 90.47%."""
    return f"{100 * v:.2f}%"


def mse(v: float) -> str:
    """0.0312; a value that four decimals would show as 0.0000 (two seeds that agree closely give such an
    interval) keeps its size: 4.4e-05, not a misleading ± 0.0000."""
    return f"{v:.1e}" if 0 < abs(v) < 0.00005 else f"{v:.4f}"


def signed_mse(v: float) -> str:
    """+0.0012; a value that four decimals would show as ±0.0000 (an interval's end just off zero) keeps
    its sign and size: -2.1e-05."""
    return f"{v:+.1e}" if 0 < abs(v) < 0.00005 else f"{v:+.4f}"


def proportion(k: int, n: int) -> tuple[float, float, float]:
    """k of n as a rate with its 95% Wilson interval (sound at 0 of n and n of n, unlike p ± z·se)."""
    if n <= 0:
        raise ValueError("a proportion needs at least one trial")
    z = 1.959963984540054  # the normal's two-sided 95% quantile
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> str:
    """'9 of 12 (75%, 95% CI 47–91%)'."""
    p, lo, hi = proportion(k, n)
    return f"{k} of {n} ({p:.0%}, 95% CI {lo:.0%}–{hi:.0%})"
