"""Latent-space search: CEM and CEBS over the latent space of a trained program VAE (`leaps`), each exactly
as its reference runs it.

Every latent is decoded greedily with the grammar mask (so every candidate is a program) and evaluated
like any program (`synthesis.evaluator`), counted one by one against an exact budget; the best program
ever evaluated is tracked beside what the method itself reports.

`LatentCem` (method `cem` and, with `beam`, `cebs`, protocol `llm-gs`): LLM-GS's `cem.py` and `cebs.py`
(`reference/llm_gs.md` 2.3), its LEAPS and CEBS baselines. A search starts from one latent z ~ N(0, I),
evaluates its program, then evaluates `population` (k) neighbours z + sigma * N(0, I). Each iteration takes
the `elites` (e) best (ties to the earlier member) and compares their mean return with the best elite
mean of this search: if it is not higher, the search restarts from a fresh N(0, I) latent; otherwise the
next k candidates are neighbours of the elites' mean (CEM) or k // e neighbours of each elite (CEBS).
The run stops at the first program that reaches return 1, or when the budget is spent (the release
finishes the current search first, so it may count a few more).

`LeapsCem` (method `cem`, protocol `leaps`): LEAPS' `pretrain/CEM.py` (`reference/leaps.md` 5.1). One
centre, initialised by `init` (`tiny_normal` N(0, 0.1^2 I), `ones` 0.01 * 1 (LEAPS' "ones"), `normal`
N(0, I), `zeros`); every iteration evaluates `population` latents centre + sigma * N(0, I), ranks them by
(score, program text) as LEAPS sorts them, and moves the centre to the elites' score-weighted mean
sum(R_i z_i) / (sum(R_i) + 1e-5), R being LEAPS' score (mean + the 0.1 bonus; `reduction: mean` takes the
plain mean instead), then decodes and evaluates the new centre: population + 1 evaluations per iteration.
With `exp_decay`, sigma follows LEAPS' schedule: sigma0 for iterations 1 and 2, then sigma0 * gamma^(k-2)
with gamma = (0.1 / sigma0)^(1 / (iterations / 2)), reaching 0.1 at iteration iterations / 2 + 2 and staying
there. The search stops after `iterations` (1,000) iterations, or once the centre has scored a perfect 1 on
10 iterations in a row. LEAPS reports the final centre's score; `centre_return` and `centre_program` hold it.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from karel.leaps_protocol import ITERATIONS_PER_SET
from karel.parser import parse_ids
from karel.program import Program, to_text
from synthesis.evaluator import SOLVED, Evaluator
from synthesis.search import Listener, Search
from synthesis.settings import SettingsError, choice, positive

LEAPS_INITS = ("tiny_normal", "ones", "normal", "zeros")
REDUCTIONS = ("weighted_mean", "mean")


@dataclass
class CemConfig:
    """CEM and CEBS in the latent space of a program VAE (`cem`, `cebs`; LLM-GS's baselines)."""

    checkpoint: str = "weights/leaps.ckpt"
    """program VAE checkpoint (`leaps fit`) whose latent space is searched"""
    population: int = 32
    """latents per iteration (k)"""
    elites: int = 2
    """elites kept per iteration (e)"""
    sigma: float = 0.25
    """standard deviation of the sampling noise"""

    def validate(self) -> None:
        if not 1 <= self.elites <= self.population:
            raise SettingsError(f"cem/cebs need 1 <= elites <= population, got {self.elites} and {self.population}")
        positive("cem/cebs", sigma=self.sigma)
        if not Path(self.checkpoint).exists():
            raise SettingsError(f"checkpoint {self.checkpoint} not found (train one with `leaps fit`)")


@dataclass
class LeapsCemConfig(CemConfig):
    """LEAPS' CEM (`cem` under the `leaps` protocol)."""

    init: str = "tiny_normal"
    """the centre's start, tiny_normal | ones | normal | zeros"""
    reduction: str = "weighted_mean"
    """the next centre from the elites, weighted_mean | mean"""
    exp_decay: bool = False
    """LEAPS' exponential sigma schedule down to 0.1"""
    iterations: int = 1000
    """most iterations (LEAPS: 1000)"""

    def validate(self) -> None:
        super().validate()
        choice("init", self.init, LEAPS_INITS)
        choice("reduction", self.reduction, REDUCTIONS)
        positive("cem under --protocol leaps", iterations=self.iterations)


SYNTAX_BONUS = 0.1  # LEAPS' score of a program that parses: mean return + 0.1 (reference/leaps.md 5.2)
FINAL_SIGMA = 0.1  # LEAPS' final_sigma of the exponential schedule
PERFECT_CENTRES = 10  # LEAPS stops after this many perfect centre scores in a row


def load_decoder(checkpoint: str, device: str = "cpu"):
    """The program VAE of a LEAPS checkpoint (read and checked by `leaps.module.load_model`: a file that is
    not such a checkpoint is a one-line `CheckpointError`), in eval mode."""
    from leaps.module import load_model

    module = load_model(checkpoint, device)
    module.eval()
    return module.model


SMALL_BATCH = 256  # latents; a smaller batch decodes on one CPU thread (`decode`)


def decode(model, latents: np.ndarray) -> list[Program]:
    """Greedy, grammar-masked programs of latents [K, Z].

    On the CPU a batch of fewer than `SMALL_BATCH` latents decodes on one thread. Its 45 decoder steps run
    hundreds of small parallel regions, and each waits for its slowest thread: while another process
    held a core, two threads made the README's main command take 25.4 s, against 8.9 s on one. On an idle
    machine two threads save about 5 of the 25 ms a population of 32 takes (benchmarks/decode.py)."""
    device = next(model.parameters()).device
    latents = torch.as_tensor(np.asarray(latents), dtype=torch.float32, device=device)
    small = device.type == "cpu" and len(latents) < SMALL_BATCH
    with torch.no_grad(), one_thread() if small else contextlib.nullcontext():
        tokens = model.decode(latents)
    return [parse_ids(row) for row in tokens.tolist()]  # reading stops at the first PAD


@contextlib.contextmanager
def one_thread():
    """Run torch's CPU operators on one thread inside the block, then restore the thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def top_elites(returns: list[float], elites: int) -> list[int]:
    """Indices of the `elites` highest returns, best first, ties to the earlier member (LLM-GS's topk)."""
    return sorted(range(len(returns)), key=lambda i: -returns[i])[:elites]


def rank_elites(returns: list[float], programs: list[Program], elites: int) -> list[int]:
    """LEAPS' elites, best first: the last `elites` of the members sorted by (score, program text), so equal
    scores go to the larger text and full ties to the later member."""
    key = [(r, to_text(p)) for r, p in zip(returns, programs)]
    return sorted(range(len(key)), key=key.__getitem__)[-elites:][::-1]


def elite_centre(latents: np.ndarray, returns: np.ndarray, reduction: str) -> np.ndarray:
    """LEAPS' next centre [Z] from the elites' latents [E, Z] and mean returns [E]."""
    if reduction == "mean":
        return latents.mean(0)
    scores = returns + SYNTAX_BONUS
    return (scores[:, None] * latents).sum(0) / (scores.sum() + 1e-5)


def leaps_sigma(iteration: int, sigma0: float, iterations: int, decay: bool) -> float:
    """Sigma LEAPS samples iteration `iteration` (1-based) with (`HyperParameterScheduler`, exponential)."""
    if not decay or iteration <= 2:
        return sigma0
    half = iterations / 2
    gamma = (FINAL_SIGMA / sigma0) ** (1 / half) if sigma0 != FINAL_SIGMA else 1.0
    return sigma0 * gamma ** (iteration - 2) if iteration - 2 <= half else FINAL_SIGMA


def population_stats(programs: list[Program], returns: list[float], elites: list[int]) -> dict:
    """The cem/ statistics of one evaluated population and its elites (indices)."""
    return {"cem/elite_mean": float(np.mean([returns[i] for i in elites])), "cem/population_mean": float(np.mean(returns)),
            "cem/population_returns": list(returns), "cem/distinct_programs": len({to_text(p) for p in programs})}  # fmt: skip


class LatentCem(Search):
    """LLM-GS's CEM (`beam=False`) and CEBS (`beam=True`); see the module docstring."""

    name = "cem"
    Config = CemConfig

    @classmethod
    def from_config(cls, config: CemConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        model = load_decoder(config.checkpoint, evaluator.device)
        return cls(
            evaluator, seed, model, config.population, config.elites, config.sigma, on_improvement=on_improvement
        )

    def __init__(self, evaluator: Evaluator, seed: int, model, population: int = 32, elites: int = 2,
                 sigma: float = 0.25, beam: bool = False, on_improvement: Listener | None = None):  # fmt: skip
        super().__init__(evaluator, seed, on_improvement)
        if not 1 <= elites <= population or sigma <= 0:
            raise ValueError("need 1 <= elites <= population and sigma > 0")
        if beam and population // elites < 1:
            raise ValueError("cebs needs population >= elites (population // elites neighbours per elite)")
        self.model, self.population_size, self.elites, self.sigma, self.beam = model, population, elites, sigma, beam
        self.name = "cebs" if beam else "cem"
        self.latent = model.hidden
        self.candidates: np.ndarray | None = None  # [K, Z] latents to evaluate next; None: start a search
        self.best_elite_mean = -math.inf
        self.searches = 0  # searches started (the first one and every restart)
        self.iterations = 0  # populations evaluated
        self.last: tuple[str, list[Program], list[float]] | None = None  # the last step: start | population

    def _neighbours(self, centres: np.ndarray, per_centre: int) -> np.ndarray:
        """`per_centre` latents centre + sigma * N(0, I) around each of centres [C, Z]: [C * per_centre, Z]."""
        noise = self.rng.standard_normal((len(centres), per_centre, self.latent))
        return (centres[:, None] + self.sigma * noise).reshape(-1, self.latent)

    def step(self) -> None:
        if self.candidates is None:  # a new search: one latent from N(0, I), evaluated, then its neighbours
            start = self.rng.standard_normal(self.latent)
            evaluations = self.evaluator.evaluate(decode(self.model, start[None]))
            self._record(evaluations)
            self.last = ("start", [e.program for e in evaluations], [e.score for e in evaluations])
            self.searches += 1
            self.best_elite_mean = -math.inf
            self.candidates = self._neighbours(start[None], self.population_size)
            return
        programs = decode(self.model, self.candidates)
        returns = self.evaluator.scores(programs)
        self._record(self.evaluator.count_until_solved(programs, returns))
        self.last = ("population", programs, returns)
        self.iterations += 1
        if self.done:
            return
        order = top_elites(returns, self.elites)
        elite_mean = float(np.mean([returns[i] for i in order]))
        if elite_mean <= self.best_elite_mean:
            self.candidates = None  # no better elites: restart
            return
        self.best_elite_mean = elite_mean
        elites = self.candidates[order]
        if self.beam:
            self.candidates = self._neighbours(elites, self.population_size // self.elites)
        else:
            self.candidates = self._neighbours(elites.mean(0, keepdims=True), self.population_size)

    def stats(self) -> dict[str, float | list[float] | str]:
        """cem/sigma, cem/restarts (searches started after the first), cem/iterations; after a search's start,
        cem/centre_return (the start latent's program: the only centre this method decodes, the elites'
        mean being used as a latent only); after a population: cem/elite_mean (the e best), cem/population_mean,
        cem/population_returns (histogram), cem/distinct_programs (distinct programs among the k decoded)."""
        out = {"cem/sigma": self.sigma, "cem/restarts": max(self.searches - 1, 0), "cem/iterations": self.iterations}
        if self.last is None or not self.last[2]:
            return out
        kind, programs, returns = self.last
        if kind == "start":
            return {**out, "cem/centre_return": returns[0]}
        return {**out, **population_stats(programs, returns, top_elites(returns, self.elites))}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "searches": self.searches, "iterations": self.iterations,
                "candidates": None if self.candidates is None else self.candidates.tolist(),
                "best_elite_mean": None if math.isinf(self.best_elite_mean) else self.best_elite_mean}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.searches, self.iterations = state["searches"], state["iterations"]
        self.candidates = None if state["candidates"] is None else np.array(state["candidates"])
        mean = state["best_elite_mean"]
        self.best_elite_mean = -math.inf if mean is None else mean


class LatentCebs(LatentCem):
    """LLM-GS's CEBS: `LatentCem` with `beam`, k // e neighbours of each elite."""

    name = "cebs"

    @classmethod
    def from_config(cls, config: CemConfig, evaluator: Evaluator, seed: int, on_improvement: Listener | None = None):
        model = load_decoder(config.checkpoint, evaluator.device)
        return cls(evaluator, seed, model, config.population, config.elites, config.sigma, beam=True,
                   on_improvement=on_improvement)  # fmt: skip


class LeapsCem(Search):
    """LEAPS' CEM (`pretrain/CEM.py`) under LEAPS' evaluation; see the module docstring. The evaluator must
    score on LEAPS' world sets (`synthesis.protocol.LeapsEvaluator`)."""

    name = "cem"
    Config = LeapsCemConfig

    @classmethod
    def from_config(cls, config: LeapsCemConfig, evaluator, seed: int, on_improvement: Listener | None = None):
        model = load_decoder(config.checkpoint, evaluator.device)
        return cls(evaluator, seed, model, config.population, config.elites, config.sigma, config.init,
                   config.reduction, config.exp_decay, config.iterations, on_improvement)  # fmt: skip

    def __init__(self, evaluator, seed: int, model, population: int = 32, elites: int = 2, sigma: float = 0.25,
                 init: str = "tiny_normal", reduction: str = "weighted_mean", exp_decay: bool = False,
                 iterations: int = 1000, on_improvement: Listener | None = None):  # fmt: skip
        super().__init__(evaluator, seed, on_improvement)
        if init not in LEAPS_INITS or reduction not in REDUCTIONS:
            raise ValueError(
                f"init must be one of {', '.join(LEAPS_INITS)} and reduction one of {', '.join(REDUCTIONS)}"
            )
        if not 1 <= elites <= population or sigma <= 0 or iterations < 1:
            raise ValueError("need 1 <= elites <= population, sigma > 0 and iterations >= 1")
        self.model, self.population_size, self.elites = model, population, elites
        self.sigma0, self.reduction, self.exp_decay, self.iterations = sigma, reduction, exp_decay, iterations
        z = model.hidden
        self.centre = {"tiny_normal": lambda: 0.1 * self.rng.standard_normal(z), "ones": lambda: np.full(z, 0.01),
                       "normal": lambda: self.rng.standard_normal(z), "zeros": lambda: np.zeros(z)}[init]()  # fmt: skip
        self.iteration = 0  # iterations done
        self.centre_returns: list[float] = []  # the centre's return after each iteration (the last 10 kept)
        self.centre_return: float | None = None  # LEAPS' reported number: the last centre's return
        self.centre_program: Program | None = None
        self.last: tuple[list[Program], list[float], list[int]] | None = None  # the last population, its elites

    @property
    def sigma(self) -> float:
        """Sigma of the next iteration."""
        return leaps_sigma(self.iteration + 1, self.sigma0, self.iterations, self.exp_decay)

    @property
    def converged(self) -> bool:
        """LEAPS' early stop: the centre scored a perfect 1 on the last 10 iterations."""
        recent = self.centre_returns[-PERFECT_CENTRES:]
        return len(recent) == PERFECT_CENTRES and min(recent) >= SOLVED

    @property
    def done(self) -> bool:
        return self.iteration >= self.iterations or self.converged or self.evaluator.remaining <= 0

    def step(self) -> None:
        self.evaluator.use_world_set(self.iteration)
        population = self.centre + self.sigma * self.rng.standard_normal((self.population_size, len(self.centre)))
        programs = decode(self.model, population)
        returns = self.evaluator.scores(programs)
        self._record(self.evaluator.count(programs, returns))
        order = rank_elites(returns, programs, self.elites)
        self.last = (programs, returns, order)
        self.centre = elite_centre(population[order], np.array([returns[i] for i in order]), self.reduction)
        [program] = decode(self.model, self.centre[None])
        evaluations = self.evaluator.evaluate([program])
        self._record(evaluations)
        self.iteration += 1
        if evaluations:
            self.centre_return, self.centre_program = evaluations[0].score, program
            self.centre_returns = [*self.centre_returns, self.centre_return][-PERFECT_CENTRES:]

    def stats(self) -> dict[str, float | list[float] | str]:
        """cem/sigma (of the iteration just done), cem/world_set, cem/centre_return (the new centre's score),
        and the population's cem/elite_mean, cem/population_mean, cem/population_returns, cem/distinct_programs."""
        if self.last is None:
            return {}
        out = {"cem/sigma": leaps_sigma(self.iteration, self.sigma0, self.iterations, self.exp_decay),
               "cem/world_set": (self.iteration - 1) // ITERATIONS_PER_SET, **population_stats(*self.last)}  # fmt: skip
        if self.centre_return is not None:
            out["cem/centre_return"] = self.centre_return
        return out

    def state_dict(self) -> dict:
        return {**super().state_dict(), "centre": self.centre.tolist(), "iteration": self.iteration,
                "centre_returns": self.centre_returns, "centre_return": self.centre_return,
                "centre_program": None if self.centre_program is None else to_text(self.centre_program)}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.centre, self.iteration = np.array(state["centre"]), state["iteration"]
        self.centre_returns, self.centre_return = state["centre_returns"], state["centre_return"]
        self.centre_program = None if state["centre_program"] is None else self._parse(state["centre_program"])
