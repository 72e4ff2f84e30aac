"""LEAPS' program execution and score (`karel_env/dsl/dsl_parse.py`, `prl_gym/exec_env.py` `ExecEnv2`): the
reference for the `leaps` protocol, as `karel.interpreter` is for the `llm-gs` one.

Execution (LEAPS' interpreter, which builds nested closures with a greedy shift-reduce parse):

* A node budget instead of a call budget. A counter n starts at 0; every node checks `n > 220` when it is
  entered and, if so, halts the whole program (actions already taken stay). The counter grows by 1 on
  entering the program, on every statement occurrence (each body execution counts its statements again),
  on every sequence node (a block of m statements is a left-nested chain of m - 1 of them, so it costs
  3m - 2 besides its statements), on the first condition test of an IF, IFELSE or WHILE (re-tests of a
  WHILE are free), and once on entering a REPEAT. Actions and perceptions cost nothing themselves, so
  about 220 actions is the most a program takes.
* A cell holds at most 9 markers (a put on 9 is a no-op); a blocked move turns the agent around; a pick
  on an empty cell is a no-op. No loop detector, and nothing ends a program early: it runs on after the
  task is solved.
* The task's reward is computed after every action (`karel.leaps_protocol.rewards`).

Score of one world: the reward of the last action, stored as float32 as LEAPS stores it, but 0 when the
program took at most one action (LEAPS reads `r_h[a_h_len - 1]` only if `a_h_len - 1 > 0`). Score of a
program: the mean over the worlds (a float64 sum of the float32 rewards, as LEAPS' NumPy 1 sum) plus the
0.1 bonus LEAPS gives every program that parses; 0.01 for one that does not or that has at most 4 tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from karel.dsl import Action
from karel.interpreter import Termination
from karel.leaps_protocol.rewards import LeapsRules
from karel.program import Act, Cond, If, Not, Program, Repeat, Stmt, While, num_tokens
from karel.world import World

MAX_NODES = 220  # LEAPS' MAX_FUNC_CALL
MAX_MARKERS = 9  # LEAPS refuses to put a 10th marker
SYNTAX_BONUS = 0.1  # added to the mean of a program that parses
INVALID_SCORE = 0.01  # the score of a program that does not parse or has at most 4 tokens


@dataclass
class LeapsEpisode:
    """One program run on one world under LEAPS' semantics."""

    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)  # step reward after each action
    nodes: int = 0  # the node counter when the program ended or halted
    termination: Termination = Termination.PROGRAM_END  # or BUDGET (the node budget halted it)
    world: World | None = None  # the final world

    @property
    def score(self) -> float:
        """LEAPS' score of the world: the last action's reward as float32, 0 for at most one action."""
        return float(np.float32(self.rewards[-1])) if len(self.actions) > 1 else 0.0


class _Halt(Exception):
    pass


class _NodeRunner:
    def __init__(self, world: World, rules: LeapsRules | None, max_nodes: int):
        self.world, self.rules, self.max_nodes = world, rules, max_nodes
        self.episode = LeapsEpisode(world=world)

    def check(self, n: int) -> None:
        if n > self.max_nodes:
            self.episode.nodes = n
            raise _Halt

    def block(self, stmts: tuple[Stmt, ...], n: int) -> int:
        # A block is a statement node around a left-nested chain of sequence nodes; the checks inside the
        # chain before its first statement are implied by the last of them (n only grows).
        n += 2 * (len(stmts) - 1)
        self.check(n)
        n = self.stmt(stmts[0], n + 1)
        for stmt in stmts[1:]:
            self.check(n)
            n = self.stmt(stmt, n + 1)
        return n

    def stmt(self, stmt: Stmt, n: int) -> int:
        self.check(n)
        if isinstance(stmt, Act):
            self.act(stmt.action)
            return n
        if isinstance(stmt, While):
            n += 1
            while self.test(stmt.cond, n):
                n = self.block(stmt.body, n)
            return n
        if isinstance(stmt, Repeat):
            n += 1
            for _ in range(stmt.count):
                n = self.block(stmt.body, n)
            return n
        if isinstance(stmt, If):
            return self.block(stmt.body, n + 1) if self.test(stmt.cond, n + 1) else n + 1
        return self.block(stmt.then if self.test(stmt.cond, n + 1) else stmt.orelse, n + 1)  # IfElse

    def test(self, cond: Cond, n: int) -> bool:
        self.check(n)
        if isinstance(cond, Not):
            return not self.test(cond.cond, n)
        return self.world.perceive(cond.perception)

    def act(self, action: Action) -> None:
        legal = self.world.step(action, max_markers=MAX_MARKERS)
        self.episode.actions.append(int(action))
        self.episode.rewards.append(self.rules(self.world, action, legal) if self.rules is not None else 0.0)


def run_leaps_episode(program: Program, world: World, rules: LeapsRules | None = None,
                      max_nodes: int = MAX_NODES) -> LeapsEpisode:  # fmt: skip
    """Run `program` once on a copy of `world` under LEAPS' semantics; `rules` (fresh for this episode)
    gives the step rewards (0 when None)."""
    runner = _NodeRunner(world.copy(), rules, max_nodes)
    try:
        runner.episode.nodes = runner.block(program.body, 1)
    except _Halt:
        runner.episode.termination = Termination.BUDGET
    return runner.episode


def mean_score(world_scores: Sequence[float]) -> float:
    """The mean of per-world scores, summed left to right as LEAPS sums them (without the bonus)."""
    total = 0.0
    for score in world_scores:
        total += score
    return total / len(world_scores)


def program_score(program: Program | None, world_scores: Sequence[float]) -> float:
    """LEAPS' score of a program: `mean_score + 0.1`, or 0.01 for a program that does not parse (None) or
    has at most 4 tokens."""
    if program is None or num_tokens(program) <= 4:
        return INVALID_SCORE
    return mean_score(world_scores) + SYNTAX_BONUS
