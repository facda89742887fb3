"""The figures of a survey: means with Student's t intervals and shares with Wilson intervals, both
95 %. Wilson's interval stays inside 0–100 % and is sound for the small samples and the shares near
100 % that satisfaction surveys have."""

from __future__ import annotations

import math
from collections.abc import Sequence

from market.surveys.models import SATISFIED, Figure

Z = 1.959963984540054  # the normal 97.5 % quantile


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion, as fractions."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """The mean and its 95 % confidence interval (Student's t), clipped to the 1–5 scale."""
    from scipy.stats import t

    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, max(1.0, mean - half), min(5.0, mean + half)


def figure(values: Sequence[float]) -> Figure:
    """The figures of one question's scores, or of each resident's mean over the questions."""
    mean, low, high = mean_interval(values)
    satisfied = sum(1 for v in values if v >= SATISFIED)
    share_low, share_high = wilson(satisfied, len(values))
    return Figure(answers=len(values), mean=round(mean, 2), mean_low=round(low, 2), mean_high=round(high, 2),
                  satisfied=satisfied, satisfied_percent=round(100 * satisfied / len(values), 1),
                  satisfied_low=round(100 * share_low, 1), satisfied_high=round(100 * share_high, 1))
