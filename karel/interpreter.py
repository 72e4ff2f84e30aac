"""Reference interpreter: one program on one world, in plain Python. It is the executable specification
that the batched executor is tested against.

Semantics (SPEC section 2, reproducing the LLM-GS release `prog_policies/base/dsl_nodes/dsl_nodes.py`,
`base/environment.py`, `base/task.py`):

* Every action and every perception query costs one call. The call that takes the count past `max_calls`
  still executes (a `move` made as that call turns the agent around instead of moving) and its reward
  counts; then the episode ends (`BUDGET`).
* The task's rules run after every executed action (never after a perception) and return
  `(terminated, reward)`; the return is the sum of the step rewards. `terminated` ends the episode
  (`TASK_END`).
* Loop detector: each WHILE node remembers the world keys (`World.loop_key`) seen at the start of its body
  iterations, for the whole episode even when the loop is re-entered from an outer loop; meeting a key
  again ends the episode (`LOOP`) with the reward so far.
* Illegal actions: non-crashable (default) as in `World.step`; crashable mode ends the episode (`CRASH`)
  after the illegal action's reward is counted.
* When one action ends the episode for several reasons, the reported one is the first of CRASH, BUDGET,
  TASK_END.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from karel.dsl import MAX_CALLS, Action
from karel.program import Act, Cond, If, Not, Program, Repeat, Stmt, While
from karel.tasks.base import Rules, Task
from karel.world import World


class Termination(IntEnum):
    """How an episode ended."""

    PROGRAM_END = 0  # the program ran to its end
    TASK_END = 1  # the task's rules reported termination
    BUDGET = 2  # the call budget was exceeded
    LOOP = 3  # the WHILE loop detector saw a repeated state
    CRASH = 4  # an illegal action in crashable mode


@dataclass
class Episode:
    """Result of one episode."""

    episode_return: float = 0.0
    actions: list[int] = field(default_factory=list)  # executed action ids, in order
    rewards: list[float] = field(default_factory=list)  # step reward after each action
    calls: int = 0  # actions plus perception queries
    termination: Termination = Termination.PROGRAM_END
    world: World | None = None  # the final world
    worlds: list[World] | None = None  # with record_worlds: the initial world, then the world after each action


@dataclass(frozen=True)
class Call:
    """One call, as an `observer` of `run_episode` sees it (after the call took effect)."""

    kind: str  # "action" or "perception"
    name: str  # the action or perception name
    position: tuple[int, ...]  # the statement making the call (see `karel.pythonic.to_python_lines`)
    value: bool | None  # a perception's own value (before any `not`); None for actions
    reward: float  # the step reward of an action; 0.0 for perceptions
    world: World  # the live world after the call (copy it to keep it)


Observer = Callable[[Call], None]


class _EpisodeOver(Exception):
    def __init__(self, termination: Termination):
        self.termination = termination


class _Runner:
    def __init__(self, world: World, rules: Rules | None, crashable: bool, max_calls: int, record_worlds: bool,
                 observer: Observer | None = None):  # fmt: skip
        self.world, self.rules, self.crashable, self.max_calls = world, rules, crashable, max_calls
        self.observer, self.position = observer, ()
        self.episode = Episode(world=world, worlds=[world.copy()] if record_worlds else None)
        self.loop_history: dict[tuple[int, ...], set[str]] = {}  # WHILE node position -> keys seen

    def call(self) -> bool:
        """Count one call; True if it takes the count past the budget."""
        self.episode.calls += 1
        return self.episode.calls > self.max_calls

    def act(self, action: Action) -> None:
        over_budget = self.call()
        if over_budget and action == Action.move:
            self.world.turn_around()
            legal = True
        else:
            legal = self.world.step(action, self.crashable)
        terminated, reward = self.rules(self.world) if self.rules is not None else (False, 0.0)
        episode = self.episode
        episode.actions.append(int(action))
        episode.rewards.append(reward)
        episode.episode_return += reward
        if episode.worlds is not None:
            episode.worlds.append(self.world.copy())
        if self.observer is not None:
            self.observer(Call("action", action.name, self.position, None, reward, self.world))
        if not legal and self.crashable:
            raise _EpisodeOver(Termination.CRASH)
        if over_budget:
            raise _EpisodeOver(Termination.BUDGET)
        if terminated:
            raise _EpisodeOver(Termination.TASK_END)

    def test(self, cond: Cond) -> bool:
        if isinstance(cond, Not):
            return not self.test(cond.cond)
        over_budget = self.call()
        value = self.world.perceive(cond.perception)
        if self.observer is not None:
            self.observer(Call("perception", cond.perception.name, self.position, value, 0.0, self.world))
        if over_budget:
            raise _EpisodeOver(Termination.BUDGET)
        return value

    def block(self, stmts: tuple[Stmt, ...], position: tuple[int, ...]) -> None:
        for i, stmt in enumerate(stmts):
            self.stmt(stmt, (*position, i))

    def stmt(self, stmt: Stmt, position: tuple[int, ...]) -> None:
        self.position = position
        if isinstance(stmt, Act):
            self.act(stmt.action)
        elif isinstance(stmt, While):
            seen = self.loop_history.setdefault(position, set())
            while self.test(stmt.cond):
                key = self.world.loop_key()
                if key in seen:
                    raise _EpisodeOver(Termination.LOOP)
                seen.add(key)
                self.block(stmt.body, (*position, 0))
                self.position = position  # for the next test, after the body moved it
        elif isinstance(stmt, Repeat):
            for _ in range(stmt.count):
                self.block(stmt.body, (*position, 0))
        elif isinstance(stmt, If):
            if self.test(stmt.cond):
                self.block(stmt.body, (*position, 0))
        elif self.test(stmt.cond):  # IfElse
            self.block(stmt.then, (*position, 0))
        else:
            self.block(stmt.orelse, (*position, 1))


def run_episode(
    program: Program,
    world: World,
    rules: Rules | None = None,
    *,
    crashable: bool = False,
    max_calls: int = MAX_CALLS,
    record_worlds: bool = False,
    observer: Observer | None = None,
) -> Episode:
    """Run `program` on a copy of `world`; `rules` (fresh for this episode) gives the step rewards, or
    every step earns 0 and nothing terminates when it is None (as in dataset generation). With
    `record_worlds`, `Episode.worlds` holds the initial world and a copy after every action. `observer`,
    if given, is called after every call (action or perception) with a `Call`."""
    runner = _Runner(world.copy(), rules, crashable, max_calls, record_worlds, observer)
    try:
        runner.block(program.body, ())
    except _EpisodeOver as over:
        runner.episode.termination = over.termination
    return runner.episode


def run_task_episode(program: Program, task: Task, seed: int, **kwargs) -> Episode:
    """One episode of `program` on instance `seed` of `task`."""
    instance = task.instance(seed)
    return run_episode(program, instance.world, task.rules(instance), **kwargs)


def evaluate(program: Program, task: Task, seeds: Iterable[int] = range(32), **kwargs) -> list[float]:
    """Episode returns of `program` on the given instances of `task` (one program evaluation by default)."""
    return [run_task_episode(program, task, seed, **kwargs).episode_return for seed in seeds]


def mean_return(returns: list[float]) -> float:
    """Mean as the reference computes it: a left-to-right float sum from 0.0, divided by the count."""
    if len(returns) == 0:
        raise ValueError("mean_return of no returns: an evaluation needs at least one instance")
    total = 0.0
    for r in returns:
        total += r
    return total / len(returns)


__all__ = ["Call", "Episode", "Termination", "evaluate", "mean_return", "run_episode", "run_task_episode"]
