"""The batched executor against the reference interpreter: identical returns, terminations, call counts and
action traces on thousands of seeded random programs and mutants, on every task.

`pytest -m slow` runs a larger sweep (more programs, LEAPS-sampler programs, the full 10,000-call budget).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.mix import FIXTURE_PROGRAMS, program_mix
from karel.executor import execute
from karel.interpreter import run_episode
from karel.parser import parse
from karel.sampler import sample_leaps_program
from karel.tasks import TASKS, make
from karel.world import World, Worlds

FIXTURES = FIXTURE_PROGRAMS


def assert_same_as_reference(programs, task, instances, *, max_calls, trace=40, crashable=False, worlds=None):
    """Run the batched executor (the VM on the CPU) and compare every episode with the reference interpreter."""
    result = execute(programs, task, instances, worlds=worlds, max_calls=max_calls, record_actions=trace,
                     crashable=crashable)  # fmt: skip
    assert result.fallbacks == 0  # the CPU VM finishes every episode of these mixes itself
    starts = [inst.world for inst in instances] if task is not None else [worlds.world(i) for i in range(len(worlds))]
    for p, program in enumerate(programs):
        for e, world in enumerate(starts):
            rules = task.rules(instances[e]) if task is not None else None
            ref = run_episode(program, world, rules, max_calls=max_calls, crashable=crashable)
            where = f"{program} on world {e}"
            assert result.returns[p, e].item() == ref.episode_return, where
            assert result.termination[p, e].item() == int(ref.termination), where
            assert result.calls[p, e].item() == ref.calls, where
            assert result.num_actions[p, e].item() == len(ref.actions), where
            expected = ref.actions[:trace] + [5] * (trace - min(trace, len(ref.actions)))
            assert result.actions[p, e].tolist() == expected, where
    return result


@pytest.mark.parametrize("name", list(TASKS))
def test_matches_reference_on_random_programs_and_mutants(name):
    task = make(name)
    instances = [task.instance(i) for i in range(8)]
    programs = program_mix(seed=len(name) * 7919, count=280)
    assert_same_as_reference(programs, task, instances, max_calls=1000)


@pytest.mark.parametrize("name", ["Seeder", "CleanHouse", "Snake", "DoorKey"])
def test_budget_and_turn_around_on_a_small_budget(name):
    task = make(name)
    instances = [task.instance(i) for i in range(6)]
    programs = [
        parse(FIXTURES[-1]),
        parse(FIXTURES[6]),
        parse("DEF run m( REPEAT R=19 r( REPEAT R=19 r( move putMarker r) r) m)"),
    ]
    result = assert_same_as_reference(programs, task, instances, max_calls=157)
    assert (result.termination == 2).any()  # some episodes end on the budget


def test_crashable_reward_free_runs_match():
    rng = np.random.default_rng(5)
    worlds = []
    for _ in range(16):
        walls = rng.random((8, 8)) < 0.1
        walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = True
        free = np.argwhere(~walls)
        r, c = free[rng.integers(len(free))]
        markers = (rng.random((8, 8)) < 0.1).astype(np.int64) * ~walls
        worlds.append(World(walls, markers, int(r), int(c), int(rng.integers(4))))
    programs = [sample_leaps_program(rng) for _ in range(120)]
    result = assert_same_as_reference(programs, None, None, max_calls=300, crashable=True, worlds=Worlds.stack(worlds))
    assert (result.termination == 4).any()  # crashes happen


def test_snake_episodes_past_the_precomputed_food_draws_fall_back_with_identical_results(monkeypatch):
    from karel.vm import pack

    monkeypatch.setattr(pack, "SNAKE_CANDIDATES", 2)
    task = make("Snake")
    instances = [task.instance(i) for i in range(8)]
    programs = [parse(f) for f in FIXTURES] + program_mix(seed=4, count=60)
    result = execute(programs, task, instances, record_actions=20)
    for p, program in enumerate(programs):
        for e, instance in enumerate(instances):
            ref = run_episode(program, instance.world, task.rules(instance))
            assert result.returns[p, e].item() == ref.episode_return
            assert result.calls[p, e].item() == ref.calls
    assert result.fallbacks > 0


def test_full_fixture_evaluations_match_published_means():
    task = make("TopOff")
    result = execute([parse(FIXTURES[3])], task)
    assert result.returns.shape == (1, 32) and result.returns.mean().item() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TASKS))
def test_large_sweep_with_full_budget(name):
    task = make(name)
    instances = [task.instance(i) for i in range(32)]
    rng = np.random.default_rng(len(name))
    programs = program_mix(seed=len(name), count=600) + [sample_leaps_program(rng) for _ in range(200)]
    assert_same_as_reference(programs, task, instances, max_calls=10_000)


SIMULATED_CHECK = """
import sys, torch
from karel.executor import execute
from benchmarks.mix import program_mix
from karel.tasks import TASKS, make
for i, name in enumerate(TASKS):
    task = make(name)
    instances = [task.instance(s) for s in (i, i + 7)]
    programs = program_mix(seed=100 + i, count=3)
    cpu = execute(programs, task, instances, max_calls=120, record_actions=12)
    sim = execute(programs, task, instances, max_calls=120, record_actions=12, device="cuda")
    for field in ("returns", "termination", "calls", "num_actions", "actions"):
        assert torch.equal(getattr(cpu, field), getattr(sim, field)), (name, field)
    assert sim.fallbacks == cpu.fallbacks == 0, name
from benchmarks.mix import FIXTURE_PROGRAMS
from karel.parser import parse
task, programs = make("Harvester"), [parse(text) for text in FIXTURE_PROGRAMS[:4]]
instances = [task.instance(0), task.instance(1)]
small = execute(programs, task, instances, max_calls=300, device="cuda", loop_capacity=2)
full = execute(programs, task, instances, max_calls=300)
assert small.fallbacks > 0, small.fallbacks
for field in ("returns", "termination", "calls"):
    assert torch.equal(getattr(small, field), getattr(full, field)), field
print("simulated kernel ok")
"""


def test_cuda_kernel_in_the_simulator_gives_the_reference_results():
    """The CUDA kernel in numba's CUDA simulator (a subprocess with NUMBA_ENABLE_CUDASIM=1) against the CPU
    VM, which the tests above hold to the reference: 3 programs x 2 instances of every task, and full loop
    tables handed to the reference."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SIMULATED_CHECK], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "simulated kernel ok" in done.stdout


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["Snake", "DoorKey", "OneStroke", "CleanHouse", "TopOff", "WallAvoider"])
def test_cuda_gives_the_cpu_results(name):
    task = make(name)
    programs = program_mix(seed=11, count=200)
    cpu = execute(programs, task, record_actions=30)
    gpu = execute(programs, task, record_actions=30, device="cuda")
    for field in ("returns", "termination", "calls", "num_actions", "actions"):
        assert torch.equal(getattr(cpu, field), getattr(gpu, field).cpu()), field


def test_recorded_states_match_the_reference_worlds():
    task = make("DoorKey")
    instances = [task.instance(i) for i in range(4)]
    programs = program_mix(seed=2, count=12)
    steps = 15
    result = execute(programs, task, instances, record_actions=steps, record_states=True)
    states = result.states  # flattened [P * E * (T + 1)]
    for p, program in enumerate(programs):
        for e, instance in enumerate(instances):
            ref = run_episode(program, instance.world, task.rules(instance), record_worlds=True)
            for t, world in enumerate(ref.worlds[: steps + 1]):
                assert states.to_text((p * len(instances) + e) * (steps + 1) + t) == world.to_text(), (p, e, t)


def test_nothing_to_run_is_a_clear_value_error():
    task, move = make("TopOff"), parse("DEF run m( move m)")
    with pytest.raises(ValueError, match="^execute needs at least one program, got none$"):
        execute([], task)
    with pytest.raises(ValueError, match="^execute needs at least one task instance, got none$"):
        execute([move], task, [])
    with pytest.raises(ValueError, match="^execute needs at least one initial world, got none$"):
        execute([move], None, worlds=Worlds.stack([task.instance(0).world])[:0])


def test_one_compiled_vm_serves_every_task_and_recording_mode():
    """Every call, whatever the task, recording or budget, reuses the one compiled driver: a second
    specialisation would cost a full compilation (seconds) on a fresh machine."""
    from karel.executor import execute_pairs
    from karel.vm import cpu

    programs = program_mix(seed=3, count=4)
    for name in ("Snake", "TopOffSparse", "DoorKey"):
        task = make(name)
        execute(programs, task, [task.instance(0), task.instance(1)], max_calls=50, record_actions=3)
        execute(programs, task, [task.instance(2)], record_actions=2, record_states=True)
    worlds = make("Maze").initial_worlds(range(4))
    execute_pairs(programs, worlds, [0, 1, 2, 3], crashable=True, record_actions=4, record_states=True,
                  record_branches=True)  # fmt: skip
    init_range, run_range = cpu.engine()
    assert len(run_range.signatures) == 1 and len(init_range.signatures) == 1


def _harvester_returns(seed: int) -> list:
    return execute(program_mix(seed=seed, count=8), make("Harvester")).returns.tolist()


def test_a_forked_child_runs_the_threaded_vm(monkeypatch):
    """The CPU VM's threads do not survive a fork (multiprocessing, data loader workers): a child that
    inherits a used thread pool starts its own and gets the same returns."""
    import multiprocessing

    from karel.vm import cpu

    monkeypatch.setattr(cpu, "num_threads", lambda: 2)  # 8 programs x 32 episodes: two threads
    expected = _harvester_returns(5)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_harvester_returns, (5,)).get(timeout=120) == expected
