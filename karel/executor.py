"""Batched executor: P programs x E worlds in lock-step on torch tensors (CPU or CUDA).

Every episode is a tiny virtual machine over its program's instruction table (`karel.compiler`): each
step executes one instruction in every unfinished episode at once: an action (`semantics.step_`), a
perception test, or a REPEAT counter operation. The task's batched rules (`Task.batch_rules`) run after
every action. Semantics are those of the reference interpreter (`karel.interpreter`), which this module
is tested against: the call budget, the budget-call turn-around, crashable mode, the WHILE loop detector
(`karel.loop_detector`), and the termination precedence CRASH, BUDGET, TASK_END.

Finished episodes are masked within a step and compacted away every few steps, so a few long episodes do
not make thousands of short ones cost their length; episodes are processed in chunks of at most
`max_episodes`, which bounds memory. An episode that the bounded loop-detector table cannot decide
exactly, or that its task rules flag, is re-run with the reference interpreter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from karel.compiler import CompiledPrograms, Op, compile_programs
from karel.dsl import MAX_CALLS, NOOP_ACTION, Action
from karel.interpreter import Termination, run_episode
from karel.loop_detector import KeyHasher, LoopTable
from karel.program import Program
from karel.semantics import query, step_
from karel.tasks.base import Instance, State, Task
from karel.world import Worlds

TAIL_AFTER_STEPS = 256  # steps before `reference_tail` may hand the last episodes to the reference


@dataclass(frozen=True)
class ExecResult:
    """Outcome of P programs on E worlds each."""

    returns: torch.Tensor  # [P, E] float64 episode returns
    termination: torch.Tensor  # [P, E] int64 Termination
    calls: torch.Tensor  # [P, E] int64 actions plus perception queries
    num_actions: torch.Tensor  # [P, E] int64 executed actions
    actions: torch.Tensor | None = None  # [P, E, T] int64 action ids, NOOP_ACTION (5) after the end
    states: Worlds | None = None  # with record_states: worlds [P*E*(T+1)] flattened from [P, E, T+1]
    fallbacks: int = 0  # episodes finished by the reference interpreter (see `execute`)


@dataclass
class _Episodes:
    """The unfinished episodes of a chunk (rows compacted together)."""

    index: torch.Tensor  # [M] row in the chunk's outputs
    program: torch.Tensor  # [M] program index
    pc: torch.Tensor  # [M]
    calls: torch.Tensor  # [M]
    num_actions: torch.Tensor  # [M]
    ret: torch.Tensor  # [M] float64
    counters: torch.Tensor  # [M, R] REPEAT counters
    worlds: Worlds
    task_state: State
    loops: LoopTable

    def select(self, keep: torch.Tensor) -> _Episodes:
        return _Episodes(
            self.index[keep], self.program[keep], self.pc[keep], self.calls[keep], self.num_actions[keep],
            self.ret[keep], self.counters[keep], self.worlds[keep],
            {k: v[keep] for k, v in self.task_state.items()}, self.loops.select(keep),
        )  # fmt: skip


def execute(
    programs: Sequence[Program],
    task: Task | None,
    instances: Sequence[Instance] | None = None,
    worlds: Worlds | None = None,
    *,
    crashable: bool = False,
    max_calls: int = MAX_CALLS,
    record_actions: int = 0,
    record_states: bool = False,
    max_episodes: int = 1 << 15,
    loop_capacity: int = 128,
    reference_tail: int = 512,
    device: torch.device | str | None = None,
) -> ExecResult:
    """Run every program on every initial world: P programs x E worlds = N episodes.

    Args:
        programs: P programs.
        task: the task whose rules give rewards and termination; None for reward-free runs (datasets).
        instances: E task instances (default: instances 0..31 of `task`).
        worlds: E initial worlds, for reward-free runs (`task` None).
        crashable: end episodes on illegal actions (CRASH) instead of the LEAPS behaviour.
        max_calls: call budget per episode.
        record_actions: record up to this many actions per episode in `ExecResult.actions`.
        record_states: also record the worlds before the first and after each recorded action.
        max_episodes: episodes per chunk (bounds memory).
        loop_capacity: loop-detector entries per episode before it falls back to the reference.
        reference_tail: once at most this many episodes of a chunk are still running (after the first
            `TAIL_AFTER_STEPS` steps), finish them with the reference interpreter instead: a lock-step step
            costs about the same for 1 episode as for a few hundred, so a handful of long episodes is
            cheaper in plain Python. 0 keeps every episode on the batched path.
        device: where to run (default: the device of `worlds`, else the CPU).
    """
    if task is None and worlds is None:
        raise ValueError("execute needs a task or initial worlds")
    if record_states and record_actions < 1:
        raise ValueError("record_states needs record_actions >= 1 (the number of steps to keep)")
    if device is None:
        device = worlds.device if worlds is not None and task is None else torch.device("cpu")
    device = torch.device(device)
    if task is not None:
        instances = list(instances) if instances is not None else [task.instance(i) for i in range(32)]
        initial = Worlds.stack([inst.world for inst in instances], device)
    else:
        initial = worlds.to(device)
    compiled = compile_programs(programs, device)
    rules = task.batch_rules(instances, device) if task is not None else None
    runner = _Runner(compiled, initial, rules, crashable, max_calls, record_actions, record_states, loop_capacity,
                     reference_tail)  # fmt: skip
    total = len(compiled) * len(initial)
    chunks = [runner.chunk(start, min(start + max_episodes, total)) for start in range(0, total, max_episodes)]
    merged = {key: torch.cat([c[key] for c in chunks]) for key in chunks[0]}
    redo = merged.pop("fallback").nonzero().flatten().tolist()  # host sync: once per call
    for n in redo:
        _rerun_with_reference(merged, n, programs, task, instances, initial, crashable, max_calls, record_actions)
    shape = (len(compiled), len(initial))
    states = None
    if record_states:
        states = Worlds(*(merged.pop(f"state_{f}").flatten(0, 1) for f in ("walls", "markers", "row", "col", "direction")))
    return ExecResult(
        returns=merged["ret"].view(shape),
        termination=merged["termination"].view(shape),
        calls=merged["calls"].view(shape),
        num_actions=merged["num_actions"].view(shape),
        actions=merged["actions"].view(*shape, -1) if record_actions else None,
        states=states,
        fallbacks=len(redo),
    )


def _rerun_with_reference(out, n, programs, task, instances, initial, crashable, max_calls, record_actions) -> None:
    """Replace episode n's outputs by the reference interpreter's (exact, slow)."""
    num_worlds = len(initial)
    program, world_index = programs[n // num_worlds], n % num_worlds
    rules = task.rules(instances[world_index]) if task is not None else None
    world = instances[world_index].world if task is not None else initial.world(world_index)
    episode = run_episode(program, world, rules, crashable=crashable, max_calls=max_calls,
                          record_worlds="state_markers" in out)  # fmt: skip
    out["ret"][n] = episode.episode_return
    out["termination"][n] = int(episode.termination)
    out["calls"][n] = episode.calls
    out["num_actions"][n] = len(episode.actions)
    if record_actions:
        kept = episode.actions[:record_actions]
        out["actions"][n] = NOOP_ACTION
        out["actions"][n, : len(kept)] = torch.tensor(kept, dtype=torch.int64)
    if "state_markers" in out:
        kept_worlds = Worlds.stack(episode.worlds[: record_actions + 1], out["state_markers"].device)
        for f in ("walls", "markers", "row", "col", "direction"):
            out[f"state_{f}"][n, : len(kept_worlds)] = getattr(kept_worlds, f)


class _Runner:
    """Runs chunks of episodes; holds what every chunk shares (code, initial worlds, rules, settings)."""

    def __init__(self, compiled: CompiledPrograms, initial: Worlds, rules, crashable: bool, max_calls: int,
                 record_actions: int, record_states: bool, loop_capacity: int, reference_tail: int):  # fmt: skip
        self.code, self.initial, self.rules = compiled.code, initial, rules
        self.num_repeats = max(1, compiled.num_repeats)
        self.crashable, self.max_calls = crashable, max_calls
        self.record_actions, self.record_states, self.loop_capacity = record_actions, record_states, loop_capacity
        self.reference_tail = reference_tail
        device = initial.device
        self.hasher = KeyHasher(initial.height, initial.width, device)

    def chunk(self, start: int, stop: int) -> dict[str, torch.Tensor]:
        """Run episodes start..stop-1 (episode n = program n // E on world n % E) to the end."""
        device, num_worlds = self.initial.device, len(self.initial)
        flat = torch.arange(start, stop, device=device)
        size = stop - start
        program, world_index = flat // num_worlds, flat % num_worlds
        worlds = self.initial[world_index]  # [M] copies, mutated in place below
        ep = _Episodes(
            index=torch.arange(size, device=device), program=program,
            pc=torch.zeros(size, dtype=torch.int64, device=device),
            calls=torch.zeros(size, dtype=torch.int64, device=device),
            num_actions=torch.zeros(size, dtype=torch.int64, device=device),
            ret=torch.zeros(size, dtype=torch.float64, device=device),
            counters=torch.zeros(size, self.num_repeats, dtype=torch.int64, device=device),
            worlds=worlds, task_state=self.rules.reset(world_index) if self.rules is not None else {},
            loops=LoopTable.empty(size, self.loop_capacity, device),
        )  # fmt: skip
        out = {
            "ret": torch.zeros(size, dtype=torch.float64, device=device),
            "termination": torch.full((size,), -1, dtype=torch.int64, device=device),
            "calls": torch.zeros(size, dtype=torch.int64, device=device),
            "num_actions": torch.zeros(size, dtype=torch.int64, device=device),
            "fallback": torch.zeros(size, dtype=torch.bool, device=device),
        }
        if self.record_actions:
            out["actions"] = torch.full((size, self.record_actions), NOOP_ACTION, dtype=torch.int64, device=device)
        if self.record_states:
            steps = self.record_actions + 1
            for f in ("walls", "markers", "row", "col", "direction"):
                value = getattr(worlds, f)
                out[f"state_{f}"] = value.unsqueeze(1).repeat(1, steps, *([1] * (value.dim() - 1)))  # [M, T+1, ...]
        steps = 0
        while len(ep.index) > 0:
            finished = self.step(ep, out)
            steps += 1
            if finished.any():  # host sync; compaction keeps later steps proportional to live episodes
                ep = ep.select((~finished).nonzero().flatten())
            if steps >= TAIL_AFTER_STEPS and len(ep.index) <= self.reference_tail:
                out["fallback"][ep.index] = True  # the few long episodes left: see `reference_tail`
                break
        return out

    def step(self, ep: _Episodes, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Execute one instruction in every episode of `ep` (in place); return finished [M] bool."""
        op, arg, negate, nxt, alt, slot = self.code[ep.program, ep.pc].unbind(1)  # each [M]
        is_act, is_rset, is_rtest = op == Op.ACT, op == Op.REPEAT_SET, op == Op.REPEAT_TEST
        is_while = op == Op.WHILE
        is_test = (op == Op.TEST) | is_while
        ep.calls += is_act | is_test
        over = (is_act | is_test) & (ep.calls > self.max_calls)
        cond = query(ep.worlds, arg) ^ negate.bool()  # arg of non-test rows: ignored

        loop_end = torch.zeros_like(over)
        check = (is_while & cond & ~over).nonzero().flatten()
        if len(check) > 0:
            seen, overflow = ep.loops.check_and_add(check, self.hasher(ep.worlds[check], slot[check]))
            loop_end[check] = seen | overflow
            out["fallback"][ep.index[check[overflow]]] = True

        terminated, crash = self.act(ep, is_act, arg, over, out)

        repeat_slot = torch.where(is_rset | is_rtest, slot, 0).unsqueeze(1)  # [M, 1]
        counter = ep.counters.gather(1, repeat_slot).squeeze(1)  # [M]
        go = is_rtest & (counter > 0)
        counter = torch.where(is_rset, arg, torch.where(go, counter - 1, counter))
        ep.counters.scatter_(1, repeat_slot, counter.unsqueeze(1))
        branch = torch.where(is_test, cond, go)
        ep.pc = torch.where(is_act | is_rset, nxt, torch.where(is_test | is_rtest, torch.where(branch, nxt, alt), ep.pc))

        termination = torch.full_like(ep.pc, -1)
        for flag, reason in ((op == Op.HALT, Termination.PROGRAM_END), (loop_end, Termination.LOOP),
                             (terminated, Termination.TASK_END), (over, Termination.BUDGET), (crash, Termination.CRASH)):
            termination = torch.where(flag, int(reason), termination)  # later entries take precedence
        finished = termination >= 0
        rows = finished.nonzero().flatten()
        done = ep.index[rows]
        out["ret"][done] = ep.ret[rows]
        out["termination"][done] = termination[rows]
        out["calls"][done] = ep.calls[rows]
        out["num_actions"][done] = ep.num_actions[rows]
        return finished

    def act(self, ep: _Episodes, is_act, action, over, out) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the actions of the acting episodes and the task rules; return (terminated, crash) [M]."""
        # The call past the budget still executes, but a move made as that call turns around instead.
        turn_around = is_act & over & (action == Action.move)
        legal = step_(ep.worlds, torch.where(is_act & ~turn_around, action, -1), self.crashable)
        ep.worlds.direction.copy_(torch.where(turn_around, (ep.worlds.direction + 2) % 4, ep.worlds.direction))
        terminated = torch.zeros_like(is_act)
        if self.rules is not None:
            ep.worlds, ep.task_state, terminated, reward = self.rules.step(ep.worlds, ep.task_state, is_act)
            ep.ret += reward
        ep.num_actions += is_act
        if self.record_actions:
            self.record(ep, is_act, action, out)
        return terminated, is_act & ~legal & self.crashable

    def record(self, ep: _Episodes, is_act, action, out) -> None:
        rows = (is_act & (ep.num_actions <= self.record_actions)).nonzero().flatten()
        index, t = ep.index[rows], ep.num_actions[rows]
        out["actions"][index, t - 1] = action[rows]
        if self.record_states:
            for f in ("walls", "markers", "row", "col", "direction"):
                out[f"state_{f}"][index, t] = getattr(ep.worlds, f)[rows]
