"""The neighbourhood-size schedule of scheduled hill climbing (LLM-GS
`prog_policies/search_methods/scheduled_hill_climbing.py`, `get_k_schedule`).

k is computed once at the start of each climb from the evaluations spent so far, n, and the budget N:
r = log10(n) / log10(N) ("log" ratio) or n / N ("linear"); r' = (sin((2r - 1) pi / 2) + 1) / 2 ("sin"
scheduler) or r; k = ceil(2^(log2 k0 + (log2 k1 - log2 k0) r')) ("log" interpolation) or
ceil(k0 + (k1 - k0) r'). n <= 0 gives k0 and n >= N gives k1. The papers use log / sin / log with
k0 = 32, k1 = 2048 and N = 1,000,000.
"""

from __future__ import annotations

import math

RATIOS = ("log", "linear")
SCHEDULERS = ("sin", "linear")
INTERPOLATIONS = ("log", "linear")


def neighbourhood_size(evaluations: int, budget: int, start_k: int = 32, end_k: int = 2048, *, ratio: str = "log",
                       scheduler: str = "sin", interpolation: str = "log") -> int:  # fmt: skip
    """k for a climb that starts after `evaluations` evaluations of a `budget`-evaluation search."""
    if ratio not in RATIOS or scheduler not in SCHEDULERS or interpolation not in INTERPOLATIONS:
        raise ValueError(f"unknown schedule {ratio}/{scheduler}/{interpolation}; ratio one of {RATIOS}, "
                         f"scheduler one of {SCHEDULERS}, interpolation one of {INTERPOLATIONS}")  # fmt: skip
    if evaluations <= 0:
        return start_k
    if evaluations >= budget:
        return end_k
    r = math.log10(evaluations) / math.log10(budget) if ratio == "log" else evaluations / budget
    if scheduler == "sin":
        r = (math.sin((r * 2 - 1) * math.pi / 2) + 1) / 2
    if interpolation == "log":
        return math.ceil(2 ** (math.log2(start_k) + (math.log2(end_k) - math.log2(start_k)) * r))
    return math.ceil(start_k + (end_k - start_k) * r)
