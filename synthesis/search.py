"""Program-space search methods: hill climbing (HC), scheduled hill climbing (SHC) and random search.

Each method advances in `step`s (one climb step, one climb start, one random batch) and can be stopped
and restored between steps (`state_dict`, `load_state_dict`), which makes runs resumable. A search ends
when the best return reaches 1 (within `SOLVED`) or the evaluation budget is spent, mid-climb if need be.

HC (`reference/prog_policies.md` 5.2, `reference/llm_gs.md` 2.1): evaluate a start program, then draw k
neighbours up front (`synthesis.neighbourhood`) and move to the first one that scores strictly better; when
none of the k does, the climb ends at a local optimum and a new climb starts from a fresh random program.
SHC is HC with k computed at the start of every climb from the evaluations so far (`synthesis.schedule`).
Climbs start from random programs, or cycle through given start programs (LLM-GS).

Each method's settings are the dataclass above it (`HcConfig`, `ShcConfig`, `RandomConfig`); a run builds
the method with `from_config` (`synthesis.methods` maps method names to their classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from karel.parser import parse
from karel.program import Program, to_text
from karel.sampler import sample_search_program
from synthesis.evaluator import SOLVED, Evaluation, Evaluator
from synthesis.neighbourhood import neighbours
from synthesis.schedule import INTERPOLATIONS, RATIOS, SCHEDULERS, neighbourhood_size
from synthesis.settings import SettingsError, choice, positive

Listener = Callable[[Evaluation], None]  # called on every new best


@dataclass
class HcConfig:
    """Hill climbing (`hc`)."""

    k: int = 250
    """neighbours per climb step"""
    init_programs: list[str] = field(default_factory=list)
    """climb start programs (cycled) instead of random programs; on the command line a file of them, one
    per line"""

    def validate(self) -> None:
        positive("hc", k=self.k)


@dataclass
class ShcConfig:
    """Scheduled hill climbing (`shc`): k grows from start_k to end_k with the evaluations spent."""

    start_k: int = 32
    """neighbourhood size at the start of the schedule"""
    end_k: int = 2048
    """neighbourhood size at the end of the schedule"""
    ratio: str = "log"
    """schedule ratio: log | linear"""
    scheduler: str = "sin"
    """schedule shape: sin | linear"""
    interpolation: str = "log"
    """schedule interpolation: log | linear"""
    init_programs: list[str] = field(default_factory=list)
    """climb start programs (cycled) instead of random programs; on the command line a file of them, one
    per line"""

    def validate(self) -> None:
        if not 1 <= self.start_k <= self.end_k:
            raise SettingsError(f"shc needs 1 <= start_k <= end_k, got {self.start_k} and {self.end_k}")
        choice("ratio", self.ratio, RATIOS)
        choice("scheduler", self.scheduler, SCHEDULERS)
        choice("interpolation", self.interpolation, INTERPOLATIONS)

    @property
    def schedule(self) -> dict[str, str]:
        return {"ratio": self.ratio, "scheduler": self.scheduler, "interpolation": self.interpolation}


@dataclass
class RandomConfig:
    """Random search (`random`): independent programs of the search distribution."""

    batch: int = 256
    """programs per step"""

    def validate(self) -> None:
        positive("random", batch=self.batch)


class Search:
    """Shared bookkeeping: the evaluator, the RNG, the best program so far."""

    name = "search"
    Config: type = object  # the method's settings dataclass (`synthesis.methods` maps names to methods)

    @classmethod
    def from_config(cls, config, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None) -> Search:
        """The method with the settings `config` (an instance of `cls.Config`)."""
        raise NotImplementedError

    def __init__(self, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        self.evaluator = evaluator
        self.rng = np.random.default_rng(seed)
        self.on_improvement = on_improvement or (lambda evaluation: None)
        self.best_return = -math.inf
        self.best_program: Program | None = None

    @property
    def done(self) -> bool:
        return self.best_return >= SOLVED or self.evaluator.remaining <= 0

    def prepare(self, folder: Path) -> None:
        """Work of a fresh run before its first step, with its files under the run folder `folder` (LLM-GS
        asks the model here); not called on a resume."""

    @staticmethod
    def folder_summary(folder: Path) -> dict:
        """Keys the method adds to the run's result.json from its files under `folder`."""
        return {}

    def step(self) -> None:
        raise NotImplementedError

    def stats(self) -> dict[str, float | list[float] | str]:
        """What explains the last step, for TensorBoard (`synthesis.inspection`): scalars by tag, lists of
        values (histograms) and markdown texts. Reads the search's state, never changes it."""
        return {}

    def run(self) -> None:
        while not self.done:
            self.step()

    def _record(self, evaluations: Sequence[Evaluation]) -> None:
        for evaluation in evaluations:
            if evaluation.score > self.best_return:
                self.best_return, self.best_program = evaluation.score, evaluation.program
                self.on_improvement(evaluation)

    def _parse(self, text: str) -> Program:
        return parse(text, self.evaluator.language)

    def state_dict(self) -> dict:
        return {
            "rng": self.rng.bit_generator.state,
            "evaluator": self.evaluator.state_dict(),
            "best_return": self.best_return if self.best_program is not None else None,
            "best_program": to_text(self.best_program) if self.best_program is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.evaluator.load_state_dict(state["evaluator"])
        if state["best_program"] is not None:
            self.best_return, self.best_program = state["best_return"], self._parse(state["best_program"])


class HillClimbing(Search):
    """First-improvement hill climbing with `k` neighbours per step and restarts at local optima."""

    name = "hc"
    Config = HcConfig

    @classmethod
    def from_config(cls, config: HcConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        starts = [parse(p, evaluator.language) for p in config.init_programs]
        return cls(evaluator, seed, config.k, starts, on_improvement)

    def __init__(self, evaluator: Evaluator, seed: int, k: int = 250, starts: Sequence[Program] = (),
                 on_improvement: Listener | None = None):  # fmt: skip
        super().__init__(evaluator, seed, on_improvement)
        if k < 1:
            raise ValueError("k must be positive")
        self.k = k
        self.starts = list(starts)
        self.climbs = 0  # climbs started
        self.current: Program | None = None
        self.current_return = -math.inf
        self.climb_k = k

    def climb_size(self) -> int:
        """k for a climb starting now."""
        return self.k

    def next_start(self) -> Program:
        if self.starts:
            return self.starts[self.climbs % len(self.starts)]
        return sample_search_program(self.rng, self.evaluator.language)

    def step(self) -> None:
        if self.current is None:  # start a climb: its k is fixed now, then its start program is evaluated
            self.climb_k = self.climb_size()
            start = self.next_start()
            self.climbs += 1
            [evaluation] = self.evaluator.evaluate([start])
            self._record([evaluation])
            self.current, self.current_return = start, evaluation.score
            return
        candidates = neighbours(self.current, self.rng, self.evaluator.language)
        accepted, evaluations = self.evaluator.first_improvement(candidates, self.climb_k, self.current_return)
        self._record(evaluations)
        if accepted is not None:
            self.current, self.current_return = evaluations[-1].program, evaluations[-1].score
        else:
            self.current = None  # local optimum (or budget spent): the next step starts a new climb

    def stats(self) -> dict[str, float | list[float] | str]:
        """climb/return: the current climb's return (at a local optimum, the return it ended with);
        climb/k: the neighbours a step of this climb may evaluate; climb/restarts: climbs started after the
        first."""
        return {"climb/return": self.current_return, "climb/k": self.climb_k, "climb/restarts": max(self.climbs - 1, 0)}

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            "climbs": self.climbs,
            "climb_k": self.climb_k,
            "current": to_text(self.current) if self.current is not None else None,
            "current_return": self.current_return if self.current is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.climbs, self.climb_k = state["climbs"], state["climb_k"]
        self.current = self._parse(state["current"]) if state["current"] is not None else None
        self.current_return = state["current_return"] if self.current is not None else -math.inf


class ScheduledHillClimbing(HillClimbing):
    """Hill climbing whose k grows with the evaluations spent (`synthesis.schedule`)."""

    name = "shc"
    Config = ShcConfig

    @classmethod
    def from_config(cls, config: ShcConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        starts = [parse(p, evaluator.language) for p in config.init_programs]
        return cls(evaluator, seed, config.start_k, config.end_k, starts=starts, on_improvement=on_improvement,
                   **config.schedule)  # fmt: skip

    def __init__(self, evaluator: Evaluator, seed: int, start_k: int = 32, end_k: int = 2048, *,
                 schedule_budget: int | None = None, ratio: str = "log", scheduler: str = "sin",
                 interpolation: str = "log", starts: Sequence[Program] = (),
                 on_improvement: Listener | None = None):  # fmt: skip
        super().__init__(evaluator, seed, start_k, starts, on_improvement)
        self.start_k, self.end_k = start_k, end_k
        self.schedule_budget = schedule_budget or evaluator.budget
        self.schedule = {"ratio": ratio, "scheduler": scheduler, "interpolation": interpolation}
        neighbourhood_size(1, 2, start_k, end_k, **self.schedule)  # validates the schedule names

    def climb_size(self) -> int:
        return neighbourhood_size(self.evaluator.evaluations, self.schedule_budget, self.start_k, self.end_k,
                                  **self.schedule)  # fmt: skip


class RandomSearch(Search):
    """Independent random programs of the search distribution, `batch` per step."""

    name = "random"
    Config = RandomConfig

    @classmethod
    def from_config(cls, config: RandomConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        return cls(evaluator, seed, config.batch, on_improvement)

    def __init__(self, evaluator: Evaluator, seed: int, batch: int = 256, on_improvement: Listener | None = None):
        super().__init__(evaluator, seed, on_improvement)
        self.batch = batch
        self.last_returns: list[float] = []  # the returns of the last batch

    def step(self) -> None:
        language = self.evaluator.language
        programs = [sample_search_program(self.rng, language) for _ in range(min(self.batch, self.evaluator.remaining))]
        self.last_returns = self.evaluator.scores(programs)
        self._record(self.evaluator.count_until_solved(programs, self.last_returns))

    def stats(self) -> dict[str, float | list[float] | str]:
        """random/batch_mean, random/batch_best and random/batch_returns of the last batch."""
        if not self.last_returns:
            return {}
        returns = self.last_returns
        return {"random/batch_mean": float(np.mean(returns)), "random/batch_best": max(returns),
                "random/batch_returns": returns}  # fmt: skip
