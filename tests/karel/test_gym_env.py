"""Every task as a gymnasium environment: the env checker, registration, determinism, instances, rewards."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import karel.gym_env  # noqa: F401  (registers karel/<Task>-v0)
from karel.dsl import Action
from karel.gym_env import KarelEnv
from karel.tasks import TASKS, make


@pytest.mark.parametrize("name", list(TASKS))
def test_env_checker_passes(name):
    # Made through the registry, so the checker also builds and renders one env per declared render mode;
    # its warnings count as failures.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gymnasium.make(f"karel/{name}-v0").unwrapped)


@pytest.mark.parametrize("name", list(TASKS))
def test_registered_and_deterministic_by_seed(name):
    def rollout():
        env = gymnasium.make(f"karel/{name}-v0")
        obs, info = env.reset(seed=7)
        actions = np.random.default_rng(0).integers(0, 5, 50)
        trace = [obs]
        for a in actions:
            obs, reward, terminated, truncated, _ = env.step(int(a))
            trace += [obs, reward, terminated]
            if terminated or truncated:
                break
        return info["instance"], trace

    (i1, t1), (i2, t2) = rollout(), rollout()
    assert i1 == i2
    assert len(t1) == len(t2) and all(np.array_equal(a, b) for a, b in zip(t1, t2))


@pytest.mark.parametrize("name", list(TASKS))
def test_options_select_the_task_instance(name):
    env = KarelEnv(name)
    obs, info = env.reset(seed=1, options={"instance": 5})  # the option wins over the seed
    world = make(name).instance(5).world
    assert info == {"instance": 5}
    assert np.array_equal(obs, world.to_onehot().astype(np.uint8))
    assert env.world.to_text() == world.to_text()
    assert obs.shape == env.observation_space.shape and obs.dtype == np.uint8


@pytest.mark.parametrize("name", list(TASKS))
def test_rewards_match_the_rules_applied_by_hand(name):
    actions = [int(a) for a in np.random.default_rng(1).integers(0, 5, 200)]
    task = make(name)
    instance = task.instance(4)
    world, rules, expected = instance.world.copy(), task.rules(instance), []
    for a in actions:
        world.step(Action(a), crashable=False)
        terminated, reward = rules(world)
        expected.append((reward, terminated))
        if terminated:
            break
    env = KarelEnv(name)
    env.reset(options={"instance": 4})
    got = [env.step(a)[1:3] for a in actions[: len(expected)]]
    assert got == expected
    assert np.array_equal(env.world.to_onehot(), world.to_onehot())


def test_rewards_follow_the_task_rules():
    # StairClimberSparse instance 0: climbing twice (left, move, right, move) reaches the marker.
    env = KarelEnv("StairClimberSparse")
    env.reset(options={"instance": 0})
    results = [env.step(a)[1:4] for a in (1, 0, 2, 0)]
    assert results[-1] == (1.0, True, False)
    assert all(r == (0.0, False, False) for r in results[:-1])


def test_truncation_after_max_steps():
    env = KarelEnv("Seeder", max_steps=3)
    env.reset(seed=0)
    flags = [env.step(1)[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_render_modes():
    env = KarelEnv("MazeSparse", render_mode="ansi")
    env.reset(options={"instance": 0})
    assert env.render() == make("MazeSparse").instance(0).world.to_text()
    env = KarelEnv("MazeSparse", render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape == (8 * 32, 8 * 32, 3)
    with pytest.raises(ValueError, match="render_mode"):
        KarelEnv("MazeSparse", render_mode="human")


def test_invalid_action_is_rejected():
    env = KarelEnv("TopOff")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0..4"):
        env.step(7)


def test_module_prefixed_make():
    env = gymnasium.make("karel.gym_env:karel/DoorKey-v0")
    assert env.reset(seed=0)[0].shape == (16, 8, 8)


def test_step_after_the_episode_ended_is_refused_until_reset():
    env = KarelEnv("StairClimberSparse")
    env.reset(options={"instance": 0})
    assert [env.step(a)[1:4] for a in (1, 0, 2, 0)][-1] == (1.0, True, False)  # solved: +1, terminated
    for _ in range(2):  # no second reward, no terminated turning back to False
        with pytest.raises(RuntimeError, match=r"^the episode has ended \(terminated\); call reset\(\) before step"):
            env.step(0)
    env.reset(options={"instance": 0})
    assert env.step(1)[1:4] == (0.0, False, False)
    truncated = KarelEnv("Seeder", max_steps=1)
    truncated.reset(seed=0)
    assert truncated.step(1)[3] is True
    with pytest.raises(RuntimeError, match=r"ended \(truncated\)"):
        truncated.step(1)


def test_reset_refuses_instances_outside_the_seed_range():
    env = KarelEnv("TopOff")
    for bad in (-1, 2**32):
        with pytest.raises(ValueError, match=f"must be in 0 .. 2\\^32 - 1, got {bad}"):
            env.reset(options={"instance": bad})
    assert env.reset(options={"instance": 2**32 - 1})[1] == {"instance": 2**32 - 1}
