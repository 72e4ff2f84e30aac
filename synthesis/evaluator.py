"""Program evaluations for a search: batched through the executor, counted exactly as the references count
them, with a cache.

One evaluation is the mean return of a program over the task's instances 0..E-1 (E = 32), summed left to
right as the reference does (`karel.interpreter.mean_return`). Every evaluation a search asks for counts,
repeats included (as in the papers), up to the budget; the cache, keyed by the canonical program text,
only saves executing a repeated program again. `unique` counts the distinct programs among the counted
evaluations. Searches may hand over more programs than they will use (a neighbourhood evaluated as a batch
for first improvement): only those up to the accepted one count.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from karel.program import Program, to_text
from karel.tasks import TaskProtocol
from karel.tasks.protocol import check_device

SOLVED = 1.0 - 1e-9  # a run stops when the best return reaches 1 within float rounding (6 x 1/6 < 1.0)
FIRST_CHUNK = 16  # first-improvement batches grow 16, 32, 64, ... up to MAX_CHUNK
MAX_CHUNK = 1024


@dataclass(frozen=True)
class Evaluation:
    """One counted evaluation."""

    program: Program
    score: float
    index: int  # 1-based evaluation count at which it was counted
    unique: int  # distinct programs counted so far, this one included


class Evaluator:
    """Scores programs on one task with a budget; `evaluations` and `unique` are the counts so far. Any
    task of the task protocol: returns come from `task.returns(programs, instances, device=device)`."""

    def __init__(self, task: TaskProtocol, budget: int, *, instances: int = 32, device: str = "cpu",
                 cache_size: int = 1_000_000):  # fmt: skip
        if budget < 1 or instances < 1:
            raise ValueError("budget and instances must be positive")
        check_device(task, device)
        self.task, self.budget, self.device, self.cache_size = task, budget, device, cache_size
        self.language = task.language
        self.instances = range(instances)  # instance indices 0..E-1
        self.evaluations = 0
        self.unique = 0
        self.executed = 0  # programs actually run (cache misses), counted or not
        self.lookups = self.cache_hits = 0  # programs scored, and those the cache answered (not checkpointed)
        self._scores: dict[str, float] = {}
        self._counted: set[str] = set()

    @property
    def remaining(self) -> int:
        return self.budget - self.evaluations

    def scores(self, programs: Sequence[Program]) -> list[float]:
        """Mean returns of `programs`, from the cache or one executor batch; counts nothing."""
        texts = [to_text(p) for p in programs]
        missing = {t: p for t, p in zip(texts, programs) if t not in self._scores}
        self.lookups += len(texts)
        self.cache_hits += len(texts) - len(missing)
        if missing:
            means = np.cumsum(self._returns(list(missing.values())), axis=1)[:, -1] / len(
                self.instances
            )  # left to right
            if len(self._scores) + len(missing) > self.cache_size:
                self._scores.clear()  # bounded memory: start over (values are pure functions of the text)
            self._scores.update(zip(missing, means.tolist()))
            self.executed += len(missing)
        return [self._scores[t] for t in texts]

    def _returns(self, programs: list[Program]) -> np.ndarray:
        """[P, E] float64 returns (Karel: the batched executor; MiniGrid: a batch of environments)."""
        return self.task.returns(programs, self.instances, device=self.device)

    def count(self, programs: Sequence[Program], scores: Sequence[float]) -> list[Evaluation]:
        """Count the evaluations of `programs` (with their `scores`) in order, up to the budget."""
        counted = []
        for program, score in zip(programs[: self.remaining], scores):
            self.evaluations += 1
            text = to_text(program)
            if text not in self._counted:
                self._counted.add(text)
                self.unique += 1
            counted.append(Evaluation(program, score, self.evaluations, self.unique))
        return counted

    def count_until_solved(self, programs: Sequence[Program], scores: Sequence[float]) -> list[Evaluation]:
        """Count `programs` in order up to and including the first that solves the task (the run stops
        there, so later ones do not count), or all of them, up to the budget."""
        solved = next((i for i, s in enumerate(scores) if s >= SOLVED), None)
        used = len(programs) if solved is None else solved + 1
        return self.count(programs[:used], scores[:used])

    def evaluate(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Evaluate and count every program in order, up to the budget."""
        programs = list(programs[: self.remaining])
        return self.count(programs, self.scores(programs))

    def first_improvement(self, programs: Iterator[Program], k: int,
                          threshold: float) -> tuple[int | None, list[Evaluation]]:  # fmt: skip
        """Evaluate the first `k` of `programs` in order until one scores strictly above `threshold`, as
        one-by-one evaluation would: returns its position (None if none of the k does, or the budget runs
        out first) and the counted evaluations, the accepted one last. Programs are drawn and executed in
        batches growing from `FIRST_CHUNK`, so an early improvement wastes little work; drawn programs
        after the accepted one are dropped uncounted."""
        counted: list[Evaluation] = []
        start, chunk = 0, FIRST_CHUNK
        while start < k and self.remaining > 0:
            batch = list(itertools.islice(programs, min(chunk, self.remaining, k - start)))
            scores = self.scores(batch)
            better = next((i for i, s in enumerate(scores) if s > threshold), None)
            used = len(batch) if better is None else better + 1
            counted += self.count(batch[:used], scores[:used])
            if better is not None:
                return start + better, counted
            start, chunk = start + used, min(2 * chunk, MAX_CHUNK)
        return None, counted

    def state_dict(self) -> dict:
        return {"evaluations": self.evaluations, "unique": self.unique, "executed": self.executed}

    def load_state_dict(self, state: dict) -> None:
        """Restore the counts; the cache starts empty, so programs counted before are counted as unique
        again if they recur (values and evaluation counts are unaffected)."""
        self.evaluations, self.unique, self.executed = state["evaluations"], state["unique"], state["executed"]
