"""LLM-GS (`reference/llm_gs.md` 1.1 and 2.0): a language model writes the initial programs, scheduled hill
climbing improves them.

1. Ask for ceil(1.5 x missing) completions (48 for 32 programs), read each into at most one program
   (`synthesis.llm.candidates`), and repeat with the deficit until 32 programs are kept (at most
   `rounds` rounds). Every completion, the path that produced its program or why both paths failed, is
   logged.
2. Evaluate the 32 programs (each counts; the run stops if one solves the task), sort them by return,
   best first (ties keep their order).
3. Scheduled hill climbing whose climbs start from the sorted programs in turn, cycling, never from a
   random program; each climb re-evaluates its start program, as the reference does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from karel.program import Program
from karel.tasks.base import Task
from synthesis.evaluator import Evaluator
from synthesis.llm.candidates import read_completion
from synthesis.llm.client import ChatClient, LlmError
from synthesis.llm.prompts import system_prompt, user_prompt
from synthesis.search import Listener, ScheduledHillClimbing

OVERSAMPLING = 1.5  # completions asked per missing program


def llm_programs(task: Task, client: ChatClient, seed: int, count: int = 32, rounds: int = 5,
                 log_path: Path | None = None, user: str | None = None) -> list[Program]:  # fmt: skip
    """`count` programs written by the model for `task` (asked with `user`, by default the task's prompt);
    the choice between a completion's Python and DSL readings uses an RNG seeded with `seed`."""
    rng = np.random.default_rng([seed, 1])
    system, user = system_prompt(task.language), user or user_prompt(task)
    programs: list[Program] = []
    for round_number in range(1, rounds + 1):
        if len(programs) >= count:
            break
        asked = math.ceil((count - len(programs)) * OVERSAMPLING)
        for text in client.complete(system, user, asked):
            reading = read_completion(text, rng, task.language)
            if reading.program is not None:
                programs.append(reading.program)
            if log_path is not None:
                record = {"round": round_number, "completion": text, "path": reading.path,
                          "program": str(reading.program) if reading.program else None,
                          "python_error": reading.python_error, "dsl_error": reading.dsl_error}  # fmt: skip
                with open(log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
    if len(programs) < count:
        raise LlmError(f"only {len(programs)} of {count} completions gave a program after {rounds} rounds; "
                       f"see {log_path or 'the candidate log'} for the reasons")  # fmt: skip
    return programs[:count]


class LlmGs(ScheduledHillClimbing):
    """Scheduled hill climbing from given initial programs (written by an LLM or read from a file)."""

    name = "llm-gs"

    def __init__(self, evaluator: Evaluator, seed: int, initial: Sequence[Program] = (), start_k: int = 32,
                 end_k: int = 2048, on_improvement: Listener | None = None, **schedule):  # fmt: skip
        super().__init__(evaluator, seed, start_k, end_k, on_improvement=on_improvement, **schedule)
        self.initial = list(initial)
        self.phase = "initial"

    def step(self) -> None:
        if self.phase == "initial":
            if not self.initial:
                raise ValueError("LLM-GS needs initial programs")
            evaluations = self.evaluator.count_until_solved(self.initial, self.evaluator.scores(self.initial))
            self._record(evaluations)
            ranked = sorted(range(len(evaluations)), key=lambda i: -evaluations[i].score)  # stable: ties keep order
            self.starts = [evaluations[i].program for i in ranked]
            self.phase = "climb"
            return
        super().step()

    def state_dict(self) -> dict:
        return {**super().state_dict(), "phase": self.phase, "starts": [str(p) for p in self.starts]}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.phase = state["phase"]
        self.starts = [self._parse(p) for p in state["starts"]]
