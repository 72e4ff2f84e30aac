"""The MiniGrid program interpreter: one program, one environment, the semantics of the LLM-GS release
(`prog_policies/minigrid/wrapper.py` with the DSL nodes' `run_generator`), as its scripts run it
(not crashable, crash penalty 0, 1,000 calls).

* Every action and every perception query is one call. An action steps the environment and its reward
  counts; the episode ends when the environment terminates (goal, lava, a wrong pickup, ...).
* The call that brings the count to the budget still runs (and an action's reward still counts); the
  episode ends right after it.
* Loop detector: each WHILE keeps, for the whole episode, the states it has seen when its condition held;
  meeting one again ends the episode (no penalty). A state is what the reference hashes: the grid's
  encoding (objects, colours, door states), the agent's position and direction. Carrying is not part of
  it. The reference hashes the position's printed form, and LavaGap's starting position is a numpy array
  (`[1 1]`) while every position after a move is a tuple (`(1, 1)`), so there a state before the first
  move never equals one after it; the key below keeps that distinction.
* Actions that change nothing are not penalised (the scripts' crash penalty is 0).

`run_episode` returns the return and why the episode ended; `evaluate` runs a batch of programs on the
task's instances (environment seeds 0..E-1), one environment per task reused across episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from karel.minigrid.envs import TaskEnv
from karel.minigrid.language import MAX_CALLS, Action, Perception
from karel.program import Act, Cond, Feature, If, IfElse, Not, Program, Repeat, Stmt, While

_GRID_ACTIONS = frozenset((Action.pickup, Action.drop, Action.toggle))  # the actions that can edit the grid


@dataclass(frozen=True)
class Episode:
    """One episode's outcome: the return, the calls made, the actions run, and why it ended: "terminated"
    (by the environment: goal, lava, a wrong pickup, ...), "budget", "loop", or "end" (the program finished).
    After a loop or budget stop the reference walks the rest of the program without acting, still counting
    its perception queries; they change nothing, and `calls` stops at the stop."""

    ret: float
    calls: int
    actions: int
    reason: str


class _EpisodeOver(Exception):
    def __init__(self, reason: str):
        self.reason = reason


StepObserver = Callable[[TaskEnv, "Action | None", float], None]


class _Episode:
    def __init__(self, env: TaskEnv, max_calls: int, on_step: StepObserver | None):
        self.env, self.max_calls, self.on_step = env, max_calls, on_step
        self.calls = self.actions = 0
        self.ret = 0.0
        self.seen: dict[tuple[int, ...], set] = {}  # WHILE position -> states seen
        self.grid_key: bytes | None = None  # the grid's encoding, recomputed after grid-editing actions

    def budget_check(self) -> None:
        if self.calls >= self.max_calls:
            raise _EpisodeOver("budget")

    def act(self, action: Action) -> None:
        self.calls += 1
        self.actions += 1
        _, reward, terminated, _, _ = self.env.step(action)
        self.ret += float(reward)
        if self.on_step is not None:
            self.on_step(self.env, action, float(reward))
        if action in _GRID_ACTIONS:
            self.grid_key = None
        if terminated:
            raise _EpisodeOver("terminated")
        self.budget_check()

    def test(self, cond: Cond) -> bool:
        if isinstance(cond, Not):
            return not self.test(cond.cond)
        self.calls += 1
        value = self.perceive(cond)
        self.budget_check()
        return value

    def perceive(self, feature: Feature) -> bool:
        env = self.env
        p = feature.perception
        if p == Perception.is_carrying_object:
            return env.carrying is not None
        front = env.grid.get(*env.front_pos)
        if p == Perception.front_is_clear:
            return front is None or front.can_overlap()
        if front is None:
            return False
        return (front.type if p == Perception.front_object_type else front.color) == feature.argument

    def state(self) -> tuple:
        env = self.env
        if self.grid_key is None:
            self.grid_key = env.grid.encode().tobytes()
        x, y = env.agent_pos
        return self.grid_key, isinstance(env.agent_pos, np.ndarray), int(x), int(y), int(env.agent_dir)

    def block(self, block: tuple[Stmt, ...], position: tuple[int, ...]) -> None:
        for i, stmt in enumerate(block):
            self.stmt(stmt, (*position, i))

    def stmt(self, stmt: Stmt, position: tuple[int, ...]) -> None:
        if isinstance(stmt, Act):
            self.act(stmt.action)
        elif isinstance(stmt, While):
            seen = self.seen.setdefault(position, set())
            while self.test(stmt.cond):
                state = self.state()
                if state in seen:
                    raise _EpisodeOver("loop")
                seen.add(state)
                self.block(stmt.body, (*position, 0))
        elif isinstance(stmt, Repeat):
            for _ in range(stmt.count):
                self.block(stmt.body, (*position, 0))
        elif isinstance(stmt, If):
            if self.test(stmt.cond):
                self.block(stmt.body, (*position, 0))
        elif isinstance(stmt, IfElse):
            if self.test(stmt.cond):
                self.block(stmt.then, (*position, 0))
            else:
                self.block(stmt.orelse, (*position, 1))
        else:
            raise TypeError(f"not a statement: {stmt!r}")


def run_episode(program: Program, env: TaskEnv, seed: int, max_calls: int = MAX_CALLS,
                on_step: StepObserver | None = None) -> Episode:  # fmt: skip
    """Run `program` on `env` reset with `seed` (the task instance) until it ends. `on_step(env, action,
    reward)` is called after the reset (action None) and after every action, e.g. to record frames."""
    env.reset_instance(seed)
    if on_step is not None:
        on_step(env, None, 0.0)
    episode = _Episode(env, max_calls, on_step)
    reason = "end"
    try:
        episode.block(program.body, ())
    except _EpisodeOver as over:
        reason = over.reason
    return Episode(episode.ret, episode.calls, episode.actions, reason)


def evaluate(programs: Sequence[Program], env: TaskEnv, seeds: Sequence[int], max_calls: int = MAX_CALLS) -> np.ndarray:
    """Returns [P, E] float64: program p's return on the instance with seed `seeds[e]`."""
    returns = np.zeros((len(programs), len(seeds)))
    for p, program in enumerate(programs):
        for e, seed in enumerate(seeds):
            returns[p, e] = run_episode(program, env, seed, max_calls).ret
    return returns


__all__ = ["Episode", "evaluate", "run_episode"]
