"""Tables and plots of finished search runs: `synthesis report RUNS_DIR`.

For every task, protocol and method over the seeds found: the best return ever evaluated (mean +-
standard error), under the leaps protocol also the final centre's score (LEAPS' own number), the best
program's held-out returns (unseen instances, and 100x100 grids where LEAPS' Table 9 has the task), how
many seeds reached 1 and the evaluations they needed (mean +- standard error), the evaluations and wall
time spent; for LLM-GS runs, a second table of what the model cost and gave (requests, prompt and
completion tokens, completions accepted and rejected, cut-off answers, rejection reasons by kind, summed
over the seeds); and per task a PNG of the best return against program evaluations (log x axis, the mean over
seeds with a +- one standard error band), as the papers plot it.

`report.html` holds the same tables and plots and, per task, protocol and method, the best run's program
(the highest best return; ties: the higher held-out return, then fewer evaluations) as canonical text and in
the Python-like form, its train and held-out returns, and an animation of its episodes on instances 0, 1, 2
(`synthesis.inspection.episode_gif`). It is one self-contained file: the pictures are embedded as base64
data URIs, there is no script and nothing is fetched, so it opens from disk in any browser and can be
mailed or archived alone.
"""

from __future__ import annotations

import base64
import html
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
        runs.append({**result, "curve": curve, "folder": result_path.parent})
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


TABLE_HEADER = ("task", "protocol", "method", "seeds", "best return (mean ± s.e.)", "final centre (mean ± s.e.)",
                "held-out return", "held-out 100x100", "solved", "evaluations to 1.0 (mean ± s.e.)",
                "evaluations (mean)", "wall s (mean)")  # fmt: skip
LLM_HEADER = ("task", "method", "reader", "seeds", "requests", "prompt tokens", "completion tokens",
              "accepted / completions", "cut off", "disagreements", "rejections by kind")  # fmt: skip


def _groups(runs: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """The runs by (task, protocol, method), sorted."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for run in runs:
        groups[(run["task"], run.get("protocol", "llm-gs"), run["method"])].append(run)
    return dict(sorted(groups.items()))


def table_rows(runs: list[dict]) -> list[list[str]]:
    """The cells of `table`, one row per task, protocol and method (columns `TABLE_HEADER`)."""
    rows = []
    for (task, protocol, method), group in _groups(runs).items():
        solved = [r for r in group if r["best_return"] >= SOLVED]
        to_one = mean_se([r["evaluations"] for r in solved]) if solved else None
        rows.append([
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
        ])  # fmt: skip
    return rows


def _markdown(header: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows]) + "\n"


def table(runs: list[dict]) -> str:
    """One row per task, protocol and method: the best return ever evaluated, LEAPS' final centre (leaps
    protocol only), the best program's held-out returns (`synthesis.protocol`), seeds solved and cost."""
    return _markdown(TABLE_HEADER, table_rows(runs))


def llm_rows(runs: list[dict]) -> list[list[str]]:
    """The cells of `llm_table` (columns `LLM_HEADER`)."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for run in runs:
        if run.get("llm"):
            groups[(run["task"], run["method"], run["llm"]["reader"])].append(run["llm"])
    rows = []
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
        rows.append([task, method, reader, str(len(group)), str(requests), f"{total['prompt_tokens']:,}",
                     f"{total['completion_tokens']:,}", f"{total['accepted']} / {total['completions']}",
                     str(total["cut_off"]), str(total["disagreements"]), reasons])  # fmt: skip
    return rows


def llm_table(runs: list[dict]) -> str:
    """Requests, tokens and readings of the runs that asked a model (result.json "llm"), summed over seeds."""
    rows = llm_rows(runs)
    return _markdown(LLM_HEADER, rows) if rows else ""


def plot_task(task: str, runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = max(r["evaluations"] for r in runs)
    grid = np.unique(np.append(np.logspace(0, math.log10(max(top, 10)), 400).astype(np.int64), top))  # top: float
    # rounding of 10 ** log10(top) may fall short of it, which would drop a run's last improvement
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
    """Write `report.md`, `report.html` and `plots/<task>.png` under `out` (default `runs_dir`); return the
    path of report.md."""
    runs = load_runs(runs_dir)
    if not runs:
        raise FileNotFoundError(f"no finished runs (result.json) under {runs_dir}")
    out = out or runs_dir
    (out / "plots").mkdir(parents=True, exist_ok=True)
    text = f"# Search runs in `{runs_dir}`\n\n" + table(runs) + "\n"
    if llm := llm_table(runs):
        text += "## What the model cost and gave\n\n" + llm + "\n"
    plots = {}
    for task in sorted({r["task"] for r in runs}):
        path = out / "plots" / f"{task}.png"
        plot_task(task, [r for r in runs if r["task"] == task], path)
        plots[task] = path.read_bytes()
        text += f"![{task}](plots/{task}.png)\n"
    report = out / "report.md"
    write_atomic(report, text)
    write_atomic(out / "report.html", html_report(runs_dir, runs, plots))
    return report


def best_runs(runs: list[dict]) -> dict[tuple[str, str, str], dict]:
    """Per (task, protocol, method): the run with the highest best return; ties go to the higher held-out
    return, then to fewer evaluations, then to the lower seed."""

    def key(run):
        held = run.get("heldout_return")
        return (-run["best_return"], -held if held is not None else math.inf, run["evaluations"], run["seed"])

    return {group: min(members, key=key) for group, members in _groups(runs).items()}


def _data_uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _html_table(header: tuple[str, ...], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _program_section(run: dict) -> str:
    """The best run of a group: its returns, its program in both forms and its episodes animated."""
    from karel.parser import parse
    from karel.pythonic import to_python
    from synthesis.inspection import episode_gif, record_episodes

    protocol = run.get("protocol", "llm-gs")
    facts = [f"seed {run['seed']}", f"train return {run['best_return']:.4f}"]
    for key, label in (("heldout_return", "held-out return"), ("heldout_large", "held-out 100x100"),
                       ("centre_return", "final centre")):  # fmt: skip
        if run.get(key) is not None:
            facts.append(f"{label} {run[key]:.4f}")
    facts.append(f"{run['evaluations']:,} evaluations")
    title = f"{run['method']} ({protocol})"
    text = run.get("best_program")
    if not isinstance(text, str) or text == "None":
        return f'<section class="run"><h3>{html.escape(title)}</h3><p>no program was evaluated</p></section>\n'
    config = _run_config(run["folder"])
    try:
        from karel.language import KAREL
        from karel.tasks import make

        language = KAREL if protocol == "leaps" else make(run["task"]).language
        program = parse(text, language)
    except ValueError as error:
        raise ReportError(f"{run['folder'] / 'result.json'}: best_program does not parse ({error}); repair or "
                          "delete it") from None  # fmt: skip
    shown = record_episodes(run["task"], protocol, program, seed=run["seed"],
                            reset_quirk=config.get("topoff_reset_quirk", True))  # fmt: skip
    gif, width, height = episode_gif(shown, leaps=protocol == "leaps")
    episodes = ", ".join(f"instance {s.instance}: {s.episode_return:.4f}" for s in shown)
    alt = f"{run['task']}: episodes of the {run['method']} program on instances {', '.join(str(s.instance) for s in shown)}"
    return (f'<section class="run">\n<h3>{html.escape(title)}</h3>\n'
            f'<p class="returns">{html.escape(" · ".join(facts))}</p>\n'
            f'<img class="episode" width="{width}" height="{height}" alt="{html.escape(alt)}" '
            f'src="{_data_uri("image/gif", gif)}">\n'
            f'<p class="episodes">returns of the animated episodes: {html.escape(episodes)}</p>\n'
            f'<pre class="dsl">{html.escape(text)}</pre>\n<pre class="python">{html.escape(to_python(program))}</pre>\n'
            f"</section>\n")  # fmt: skip


def _run_config(folder: Path) -> dict:
    """The run's config.yaml (an empty dict when it is missing or unreadable: only display settings are read)."""
    import yaml

    try:
        config = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return config if isinstance(config, dict) else {}


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f2f2ee; }
tbody tr:nth-child(even) { background: #fafaf7; }
pre { background: #f6f6f2; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
section.run { border-top: 1px solid #ddd; margin-top: 1em; }
img.plot { display: block; margin: 0.5em 0; }
"""


def html_report(runs_dir: Path, runs: list[dict], plots: dict[str, bytes]) -> str:
    """The text of report.html (see the module docstring); `plots` holds each task's PNG."""
    title = f"Search runs in {runs_dir}"
    head = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n")  # fmt: skip
    parts = [head, '<h2 id="results">Results</h2>\n', _html_table(TABLE_HEADER, table_rows(runs))]
    if rows := llm_rows(runs):
        parts += ['<h2 id="llm">What the model cost and gave</h2>\n', _html_table(LLM_HEADER, rows)]
    best = best_runs(runs)
    for task in sorted(plots):
        parts.append(f'<h2 id="task-{html.escape(task)}">{html.escape(task)}</h2>\n')
        parts.append(f'<img class="plot" alt="{html.escape(task)}: best return against program evaluations" '
                     f'src="{_data_uri("image/png", plots[task])}">\n')  # fmt: skip
        for (group_task, _, _), run in best.items():
            if group_task == task:
                parts.append(_program_section(run))
    parts.append("</body>\n</html>\n")
    return "".join(parts)
