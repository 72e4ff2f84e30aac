"""Tables and plots of finished search runs: `synthesis report RUNS_DIR`.

For every task and method over the seeds found: the final best return (mean +- standard error), how
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

from karel.atomic import write_atomic
from synthesis.evaluator import SOLVED


def load_runs(runs_dir: Path) -> list[dict]:
    """Every finished run under `runs_dir`: its result.json plus the improvement curve of its log."""
    runs = []
    for result_path in sorted(runs_dir.rglob("result.json")):
        result = json.loads(result_path.read_text())
        log = result_path.parent / "log.jsonl"
        curve = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
        runs.append({**result, "curve": [(r["evaluations"], r["return"]) for r in curve]})
    return runs


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


def table(runs: list[dict]) -> str:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run in runs:
        groups[(run["task"], run["method"])].append(run)
    lines = [
        (
            "| task | method | seeds | final return (mean ± s.e.) | solved | evaluations to 1.0 (mean ± s.e.) "
            "| evaluations (mean) | wall s (mean) |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for (task, method), group in sorted(groups.items()):
        final = mean_se([r["best_return"] for r in group])
        solved = [r for r in group if r["best_return"] >= SOLVED]
        to_one = mean_se([r["evaluations"] for r in solved]) if solved else None
        lines.append(
            f"| {task} | {method} | {len(group)} | {final[0]:.3f} ± {final[1]:.3f} | {len(solved)}/{len(group)} | "
            + (f"{to_one[0]:,.0f} ± {to_one[1]:,.0f}" if to_one else "—")
            + f" | {np.mean([r['evaluations'] for r in group]):,.0f} | {np.mean([r['wall_seconds'] for r in group]):,.1f} |"
        )
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
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


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
