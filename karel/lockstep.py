"""The lock-step engine: P programs x E worlds advanced one instruction per step on torch tensors. It is the
executor's CUDA path (`karel.executor.execute` with a CUDA device); it runs on any device.

Every episode is a tiny virtual machine over its program's instruction table (`karel.compiler`): each
step executes one instruction in every unfinished episode at once: an action (`semantics.step_`), a
perception test, or a REPEAT counter operation. The task's batched rules (`Task.batch_rules`) run after
every action. Semantics are those of the reference interpreter (`karel.interpreter`): the call budget,
the budget-call turn-around, crashable mode, the WHILE loop detector (`karel.loop_detector`), and the
termination precedence CRASH, BUDGET, TASK_END.

Finished episodes are masked within a step and compacted away every few steps, so a few long episodes do
not make thousands of short ones cost their length; episodes are processed in chunks of at most
`max_episodes`, which bounds memory. An episode that the bounded loop-detector table cannot decide
exactly, or that its task rules flag, is re-run with the reference interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from karel.compiler import CompiledPrograms, Op
from karel.dsl import NOOP_ACTION, Action
from karel.interpreter import Termination
from karel.loop_detector import KeyHasher, LoopTable
from karel.semantics import query, step_
from karel.tasks.base import BatchRules, State
from karel.world import Worlds

TAIL_AFTER_STEPS = 256  # steps before `reference_tail` may hand the last episodes to the reference


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


def run_lockstep(
    compiled: CompiledPrograms,
    initial: Worlds,
    rules: BatchRules | None,
    *,
    crashable: bool,
    max_calls: int,
    record_actions: int,
    record_states: bool,
    max_episodes: int,
    loop_capacity: int,
    reference_tail: int,
) -> dict[str, torch.Tensor]:
    """Run every program of `compiled` on every world of `initial` (episode n: program n // E, world n % E),
    on their device. Returns flat [N, ...] outputs: "ret", "termination", "calls", "num_actions", "actions"
    (when recording), "state_<field>" [N, T+1, ...] (when recording states) and "fallback" [N] bool, the
    episodes that the caller must re-run with the reference interpreter.

    Args beyond `karel.executor.execute`'s:
        loop_capacity: loop-detector entries per episode before it falls back to the reference.
        reference_tail: once at most this many episodes of a chunk are still running (after the first
            `TAIL_AFTER_STEPS` steps), hand them to the reference interpreter: a lock-step step costs about
            the same for 1 episode as for a few hundred. 0 keeps every episode on the batched path.
    """
    runner = _Runner(compiled, initial, rules, crashable, max_calls, record_actions, record_states, loop_capacity,
                     reference_tail)  # fmt: skip
    total = len(compiled) * len(initial)
    chunks = [runner.chunk(start, min(start + max_episodes, total)) for start in range(0, total, max_episodes)]
    return {key: torch.cat([c[key] for c in chunks]) for key in chunks[0]}


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
        ep.pc = torch.where(
            is_act | is_rset, nxt, torch.where(is_test | is_rtest, torch.where(branch, nxt, alt), ep.pc)
        )

        termination = torch.full_like(ep.pc, -1)
        for flag, reason in (
            (op == Op.HALT, Termination.PROGRAM_END),
            (loop_end, Termination.LOOP),
            (terminated, Termination.TASK_END),
            (over, Termination.BUDGET),
            (crash, Termination.CRASH),
        ):
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
