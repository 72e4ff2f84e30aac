"""Tables and plots of finished search runs: `synthesis report RUNS_DIR`.

For every task, protocol and method over the seeds found: the best return ever evaluated (mean +-
standard error), under the leaps protocol also the final centre's score (LEAPS' own number), the best
program's held-out returns (unseen instances, and 100x100 grids where LEAPS' Table 9 has the task), how
many seeds reached 1 and the evaluations they needed (mean +- standard error), the evaluations and wall
time spent; for LLM-GS runs, a second table of what the model cost and gave (requests, prompt and
completion tokens, completions accepted and rejected, cut-off answers, rejection reasons by kind, summed
over the seeds); and per task a PNG of the best return against program evaluations (log x axis, the mean over
seeds with a +- one standard error band), as the papers plot it.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from karel.atomic import atomic_path, write_atomic
from synthesis.evaluator import SOLVED

RESULT_KEYS = {"task": str, "method": str, "seed": int, "best_return": (int, float), "evaluations": int,
               "wall_seconds": (int, float)}  # fmt: skip


class ReportError(ValueError):
    """A finished run's files cannot be read; the message names the file (repair or delete it)."""


def load_runs(runs_dir: Path) -> list[dict]:
    """Every finished run under `runs_dir`: its result.json plus the improvement curve of its log. A file
    that is not what a run writes is a `ReportError` naming it: no run is left out of a report silently."""
    runs = []
    for result_path in sorted(runs_dir.rglob("result.json")):
        result = _read_json(result_path, result_path.read_bytes())
        wrong = [k for k, kind in RESULT_KEYS.items() if not isinstance(result.get(k), kind)]
        if wrong:
            raise ReportError(f"{result_path}: not a run result (missing or wrong {', '.join(wrong)}); repair or "
                              "delete it")  # fmt: skip
        log = result_path.parent / "log.jsonl"
        curve = []
        for number, line in enumerate(log.read_bytes().splitlines() if log.exists() else [], 1):
            if line.strip():
                record = _read_json(log, line, number)
                if not isinstance(record.get("evaluations"), int) or not isinstance(record.get("return"), (int, float)):
                    raise ReportError(f"{log}:{number}: not a log record (evaluations, return); repair or delete it")
                curve.append((record["evaluations"], record["return"]))
        runs.append({**result, "curve": curve})
    return runs


def _read_json(path: Path, data: bytes, line: int | None = None) -> dict:
    where = f"{path}:{line}" if line else str(path)
    try:
        value = json.loads(data)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise ReportError(f"{where}: not valid JSON ({error}); repair or delete it") from None
    if not isinstance(value, dict):
        raise ReportError(f"{where}: not a JSON object; repair or delete it")
    return value


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (0 for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    se = float(array.std(ddof=1) / math.sqrt(len(array))) if len(array) > 1 else 0.0
    return float(array.mean()), se


def best_curve(curve: list[tuple[int, float]], grid: np.ndarray) -> np.ndarray:
    """Best return after each number of evaluations in `grid` (NaN before the first evaluation; the value
    is held after the run ended, as a solved run stays solved)."""
    values = np.full(len(grid), np.nan)
    for evaluations, value in curve:
        values[grid >= evaluations] = value
    return values


def _mean_se_cell(group: list[dict], key: str) -> str:
    """`mean ± s.e.` of `key` over the runs that have it, "—" when none has."""
    values = [r[key] for r in group if r.get(key) is not None]
    if not values:
        return "—"
    mean, se = mean_se(values)
    return f"{mean:.3f} ± {se:.3f}" + (f" ({len(values)})" if len(values) != len(group) else "")


def table(runs: list[dict]) -> str:
    """One row per task, protocol and method: the best return ever evaluated, LEAPS' final centre (leaps
    protocol only), the best program's held-out returns (`synthesis.protocol`), seeds solved and cost."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for run in runs:
        groups[(run["task"], run.get("protocol", "llm-gs"), run["method"])].append(run)
    lines = [
        (
            "| task | protocol | method | seeds | best return (mean ± s.e.) | final centre (mean ± s.e.) "
            "| held-out return | held-out 100x100 | solved | evaluations to 1.0 (mean ± s.e.) "
            "| evaluations (mean) | wall s (mean) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (task, protocol, method), group in sorted(groups.items()):
        solved = [r for r in group if r["best_return"] >= SOLVED]
        to_one = mean_se([r["evaluations"] for r in solved]) if solved else None
        cells = [
            task,
            protocol,
            method,
            str(len(group)),
            _mean_se_cell(group, "best_return"),
            _mean_se_cell(group, "centre_return"),
            _mean_se_cell(group, "heldout_return"),
            _mean_se_cell(group, "heldout_large"),
            f"{len(solved)}/{len(group)}",
            f"{to_one[0]:,.0f} ± {to_one[1]:,.0f}" if to_one else "—",
            f"{np.mean([r['evaluations'] for r in group]):,.0f}",
            f"{np.mean([r['wall_seconds'] for r in group]):,.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def llm_table(runs: list[dict]) -> str:
    """Requests, tokens and readings of the runs that asked a model (result.json "llm"), summed over seeds."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for run in runs:
        if run.get("llm"):
            groups[(run["task"], run["method"], run["llm"]["reader"])].append(run["llm"])
    if not groups:
        return ""
    lines = [("| task | method | reader | seeds | requests | prompt tokens | completion tokens | accepted / completions "
             "| cut off | disagreements | rejections by kind |"), "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for (task, method, reader), group in sorted(groups.items()):
        total = {k: sum(g[k] for g in group) for k in ("requests_sent", "requests_replayed", "prompt_tokens",
                                                       "completion_tokens", "completions", "accepted", "cut_off",
                                                       "disagreements")}  # fmt: skip
        kinds: dict[str, int] = defaultdict(int)
        for g in group:
            for kind, count in g["rejections"].items():
                kinds[kind] += count
        requests = total["requests_sent"] + total["requests_replayed"]
        reasons = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "—"
        lines.append(f"| {task} | {method} | {reader} | {len(group)} | {requests} | {total['prompt_tokens']:,} | "
                     f"{total['completion_tokens']:,} | {total['accepted']} / {total['completions']} | "
                     f"{total['cut_off']} | {total['disagreements']} | {reasons} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_task(task: str, runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = max(r["evaluations"] for r in runs)
    grid = np.unique(np.logspace(0, math.log10(max(top, 10)), 400).astype(np.int64))
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=120)
    by_method: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_method[run["method"]].append(run)
    for method, group in sorted(by_method.items()):
        curves = np.stack([best_curve(r["curve"], grid) for r in group])  # [S, G]
        valid = ~np.isnan(curves).all(axis=0)
        curves = curves[:, valid]
        count = (~np.isnan(curves)).sum(axis=0)
        with warnings.catch_warnings():  # points with one seed have no spread: their band is 0
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
            se = np.nan_to_num(np.nanstd(curves, axis=0, ddof=1) / np.sqrt(count))
        ax.plot(grid[valid], mean, label=f"{method} ({len(group)} seeds)")
        ax.fill_between(grid[valid], mean - se, mean + se, alpha=0.25)
    ax.set_xscale("log")
    ax.set_xlabel("program evaluations")
    ax.set_ylabel("best return")
    ax.set_title(task)
    ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


def write_report(runs_dir: Path, out: Path | None = None) -> Path:
    """Write `report.md` and `plots/<task>.png` under `out` (default `runs_dir`); return the report path."""
    runs = load_runs(runs_dir)
    if not runs:
        raise FileNotFoundError(f"no finished runs (result.json) under {runs_dir}")
    out = out or runs_dir
    (out / "plots").mkdir(parents=True, exist_ok=True)
    text = f"# Search runs in `{runs_dir}`\n\n" + table(runs) + "\n"
    if llm := llm_table(runs):
        text += "## What the model cost and gave\n\n" + llm + "\n"
    for task in sorted({r["task"] for r in runs}):
        path = out / "plots" / f"{task}.png"
        plot_task(task, [r for r in runs if r["task"] == task], path)
        text += f"![{task}](plots/{task}.png)\n"
    report = out / "report.md"
    write_atomic(report, text)
    return report
