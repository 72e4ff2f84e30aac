"""Latent-space search: CEM and CEBS over the latent space of a trained program VAE (`leaps`).

Every latent is decoded greedily with the grammar mask (so every candidate is a program) and evaluated
like any program (`synthesis.evaluator`: 32 instances, counted one by one, exact budget); the best program
ever evaluated is tracked, not only the mean's.

One iteration: decode and evaluate the population; the elites are the `elites` best, ties going to the
larger program text as in LEAPS, which ranks by (score, program string); their mean return is compared
with the best elite mean since the last restart, and `restart_timeout` iterations in a row without
improvement restart the search (0: never). Otherwise the next population is

* CEM: `centre + sigma * N(0, I)`, the centre being the elites' mean (`reduction: mean`, prog_policies and
  LLM-GS) or their score-weighted mean sum(R_i z_i) / (sum(R_i) + 1e-5) (`weighted_mean`, LEAPS), where
  R_i is LEAPS' score of a decoded program: its mean return plus the 0.1 bonus LEAPS gives every program that
  parses (all decoded programs do). Elites that tie at return 0 therefore average evenly, as in LEAPS,
  instead of pulling the centre back to the origin. With `evaluate_centre` (LEAPS) the new centre's program
  is evaluated too, after the population: population + 1 evaluations per iteration, as LEAPS counts them
  (LLM-GS's re-run evaluates the population only);
* CEBS (`beam: true`): each member a uniformly chosen elite plus `sigma * N(0, I)` (prog_policies).

`exp_decay` multiplies sigma by 0.998 per iteration down to 0.1. Initial population (`init`): `normal`,
every member N(0, I) (prog_policies); `tiny_normal`, a centre drawn from N(0, 0.1^2 I) plus sigma noise
(LEAPS); `ones`, the centre 0.01 * 1 plus sigma noise (LEAPS' "ones", whose README says N(1, 0)); `zeros`,
sigma noise around 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from karel.parser import parse_ids
from karel.program import Program
from synthesis.evaluator import Evaluator
from synthesis.search import Listener, Search

INITS = ("normal", "tiny_normal", "ones", "zeros")
REDUCTIONS = ("mean", "weighted_mean")
SYNTAX_BONUS = 0.1  # LEAPS' score of a program that parses: mean return + 0.1 (reference/leaps.md 5.2)


def rank_elites(returns: list[float], programs: list[Program], elites: int) -> list[int]:
    """Indices of the `elites` best members, best first; equal returns rank by program text, larger first."""
    key = [(r, str(p)) for r, p in zip(returns, programs)]
    return sorted(range(len(key)), key=key.__getitem__, reverse=True)[:elites]


def elite_centre(latents: np.ndarray, returns: np.ndarray, reduction: str) -> np.ndarray:
    """The next CEM centre [Z] from the elites' latents [E, Z] and mean returns [E] (see the module doc)."""
    if reduction == "mean":
        return latents.mean(0)
    scores = returns + SYNTAX_BONUS
    return (scores[:, None] * latents).sum(0) / (scores.sum() + 1e-5)


def load_decoder(checkpoint: str, device: str = "cpu"):
    """The program VAE of a LEAPS checkpoint (checked against the model; see `leaps.module`), in eval mode."""
    from leaps.module import LeapsModule

    module = LeapsModule.load_from_checkpoint(checkpoint, map_location=device)
    module.eval()
    return module.model


class LatentSearch(Search):
    name = "cem"

    def __init__(self, evaluator: Evaluator, seed: int, model, population: int = 32, elites: int = 2,
                 sigma: float = 0.25, init: str = "tiny_normal", reduction: str = "mean", exp_decay: bool = False,
                 restart_timeout: int = 0, beam: bool = False, evaluate_centre: bool = False,
                 on_improvement: Listener | None = None):  # fmt: skip
        super().__init__(evaluator, seed, on_improvement)
        if init not in INITS or reduction not in REDUCTIONS:
            raise ValueError(f"init must be one of {INITS} and reduction one of {REDUCTIONS}")
        if not 1 <= elites <= population:
            raise ValueError("need 1 <= elites <= population")
        if beam and evaluate_centre:
            raise ValueError("evaluate_centre is a CEM setting: CEBS samples around every elite, not a centre")
        self.model, self.population_size, self.elites = model, population, elites
        self.sigma0, self.init, self.reduction = sigma, init, reduction
        self.exp_decay, self.restart_timeout, self.beam = exp_decay, restart_timeout, beam
        self.evaluate_centre = evaluate_centre
        self.name = "cebs" if beam else "cem"
        self.latent = model.hidden
        self._restart()

    def _restart(self) -> None:
        z = self.latent
        self.sigma = self.sigma0
        self.counter = 0
        self.best_elite_mean = -math.inf
        if self.init == "normal":
            self.population = self.rng.standard_normal((self.population_size, z))
            return
        centre = {"tiny_normal": lambda: 0.1 * self.rng.standard_normal(z), "ones": lambda: np.full(z, 0.01),
                  "zeros": lambda: np.zeros(z)}[self.init]()  # fmt: skip
        self.population = centre + self.sigma * self.rng.standard_normal((self.population_size, z))

    def decode(self, latents: np.ndarray) -> list[Program]:
        device = next(self.model.parameters()).device
        with torch.no_grad():
            tokens = self.model.decode(torch.as_tensor(latents, dtype=torch.float32, device=device))
        return [parse_ids(row) for row in tokens.tolist()]  # reading stops at the first PAD

    def step(self) -> None:
        programs = self.decode(self.population)
        scores = self.evaluator.scores(programs)
        self._record(self.evaluator.count_until_solved(programs, scores))
        if self.done:
            return
        order = rank_elites(scores, programs, self.elites)
        elite_z, elite_r = self.population[order], np.array([scores[i] for i in order])
        if elite_r.mean() <= self.best_elite_mean:
            self.counter += 1
        else:
            self.counter, self.best_elite_mean = 0, float(elite_r.mean())
        if self.restart_timeout > 0 and self.counter >= self.restart_timeout:
            self._restart()
            return
        noise = self.sigma * self.rng.standard_normal(self.population.shape)
        if self.beam:
            self.population = elite_z[self.rng.integers(len(elite_z), size=self.population_size)] + noise
        else:
            centre = elite_centre(elite_z, elite_r, self.reduction)
            self.population = centre + noise
            if self.evaluate_centre:
                program = self.decode(centre[None])
                self._record(self.evaluator.count_until_solved(program, self.evaluator.scores(program)))
        if self.exp_decay:
            self.sigma = max(0.1, 0.998 * self.sigma)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "population": self.population.tolist(), "sigma": self.sigma,
                "counter": self.counter,
                "best_elite_mean": None if math.isinf(self.best_elite_mean) else self.best_elite_mean}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.population = np.array(state["population"])
        self.sigma, self.counter = state["sigma"], state["counter"]
        mean = state["best_elite_mean"]
        self.best_elite_mean = -math.inf if mean is None else mean
