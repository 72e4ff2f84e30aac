"""LLM revision experiments (`reference/llm_gs.md` 7): `synthesis revise --method M`.

Round 0 asks the model for 32 programs with the task's prompt and evaluates them. Each of the following
rounds asks for 32 new programs with a revision prompt built from the previous round, evaluates them and
records the round's best (the best is not carried over; no search runs). The methods differ in what the
revision prompt feeds back:

* `regeneration`: the previous round's distinct programs (as Python), none perfect; asks for a different one.
* `regeneration-with-reward`: the same programs with their mean returns, best first; asks for the pattern
  that separates high from low returns and a program that follows it.
* `execution-trace`: the previous best program, its mean return, and its step-by-step execution on the
  task variant where it does worst (`synthesis.llm.trace`); asks why it fails and for a better program.
* `program-execution-trace`: as `execution-trace`, with the whole program and the executing line at every
  step.

The run folder `<out>/<task>/revise-<method>/seed_<s>/` holds `rounds.jsonl` (one line per round: its
programs, their returns, the best, the worst variant), `result.json`, and the LLM logs and request cache
under `llm/` (replayable offline with `--llm-cache`, as for `synthesis search`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from karel.atomic import write_atomic
from karel.program import Program
from karel.pythonic import to_python
from karel.tasks import make
from synthesis.evaluator import Evaluator
from synthesis.llm.client import ChatClient, LlmSettings
from synthesis.llm.prompts import REQUEST, task_description
from synthesis.llm.trace import trace
from synthesis.llm_gs import llm_programs

METHODS = ("regeneration", "regeneration-with-reward", "execution-trace", "program-execution-trace")


def _numbered(programs: list[tuple[Program, float]], with_returns: bool) -> str:
    blocks = []
    for i, (program, score) in enumerate(programs, 1):
        head = f"Program {i}" + (f" (mean return {score:.4g})" if with_returns else "")
        blocks.append(f"{head}:\n```python\n{to_python(program)}\n```")
    return "\n\n".join(blocks)


def revision_prompt(method: str, task, previous: list[tuple[Program, float]], best: tuple[Program, float],
                    worst_instance: int, instances: int) -> str:  # fmt: skip
    """The user prompt of a revision round; `previous` holds the last round's (program, mean return)."""
    description = task_description(task)
    distinct = list({str(p): (p, s) for p, s in previous}.values())
    if method == "regeneration":
        return (f"{description}\n\nThese programs were written for the task; none of them reaches the best "
                f"return:\n\n{_numbered(distinct, False)}\n\nWrite a new program that is different from all of "
                f"them.\n\n{REQUEST}")  # fmt: skip
    if method == "regeneration-with-reward":
        ranked = sorted(distinct, key=lambda item: -item[1])
        return (f"{description}\n\nThese programs were written for the task, with their mean returns over "
                f"{instances} variants of the map, best first:\n\n{_numbered(ranked, True)}\n\nFind what "
                "separates the programs with high returns from those with low returns, then write a new "
                f"program that follows it.\n\n{REQUEST}")  # fmt: skip
    program, score = best
    shown = trace(program, task, worst_instance, with_program=method == "program-execution-trace")
    return (f"{description}\n\nThe best program so far:\n```python\n{to_python(program)}\n```\nIts mean return "
            f"over {instances} variants of the map is {score:.4g}. This is its execution on the variant where it "
            "does worst; each step shows the call, then the 3 x 3 cells around Karel (# wall, ^ > v < Karel, a "
            f"digit for markers, . empty):\n\n{shown}\n\nExplain why the program fails, describe a better "
            f"strategy, then write the new program.\n\n{REQUEST}")  # fmt: skip


def revise(task_name: str, method: str, out: str | Path, *, seed: int = 0, rounds: int = 5, programs: int = 32,
           instances: int = 32, settings: LlmSettings, llm_cache: str | None = None,
           llm_rounds: int = 5) -> dict:  # fmt: skip
    if method not in METHODS:
        raise ValueError(f"unknown revision method {method!r}; known: {', '.join(METHODS)}")
    task = make(task_name)
    run_dir = Path(out) / task.name / f"revise-{method}" / f"seed_{seed}"
    if (run_dir / "result.json").exists():
        return json.loads((run_dir / "result.json").read_text())
    llm_dir = run_dir / "llm"
    llm_dir.mkdir(parents=True, exist_ok=True)
    for name in ("requests.jsonl", "candidates.jsonl", "rounds.jsonl"):
        (llm_dir / name).unlink(missing_ok=True)
    (run_dir / "rounds.jsonl").unlink(missing_ok=True)
    client = ChatClient(settings, llm_cache or llm_dir / "cache", llm_dir / "requests.jsonl")
    evaluator = Evaluator(task, budget=10**12, instances=instances)
    user = None
    history = []
    for round_number in range(rounds + 1):
        found = llm_programs(task, client, seed + 1000 * round_number, programs, llm_rounds,
                             llm_dir / "candidates.jsonl", user=user)  # fmt: skip
        scores = evaluator.scores(found)
        best_index = int(np.argmax(scores))  # the first of equal bests
        best = (found[best_index], scores[best_index])
        per_instance = task.returns([best[0]], evaluator.instances)[0].tolist()
        worst = int(np.argmin(per_instance))  # the lowest index among equal worst variants
        record = {"round": round_number, "best_return": best[1], "best_program": str(best[0]),
                  "worst_instance": worst, "programs": [str(p) for p in found], "returns": scores}  # fmt: skip
        history.append(record)
        with open(run_dir / "rounds.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        user = revision_prompt(method, task, list(zip(found, scores)), best, worst, instances)
    result = {"task": task.name, "method": method, "seed": seed, "rounds": rounds,
              "best_return_per_round": [r["best_return"] for r in history],
              "best_program": max(history, key=lambda r: r["best_return"])["best_program"],
              **client.accounting(), "run_dir": str(run_dir)}  # fmt: skip
    write_atomic(run_dir / "result.json", json.dumps(result, indent=1) + "\n")
    return result
