"""Every task as a gymnasium environment: the env checker, registration, determinism, instances, rewards."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import karel.gym_env  # noqa: F401  (registers karel/<Task>-v0)
from karel.gym_env import KarelEnv
from karel.tasks import TASKS, make


@pytest.mark.parametrize("name", list(TASKS))
def test_env_checker_passes(name):
    check_env(KarelEnv(name), skip_render_check=True)


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


def test_options_select_the_task_instance():
    env = KarelEnv("Harvester")
    obs, info = env.reset(options={"instance": 5})
    assert info["instance"] == 5
    assert np.array_equal(obs, make("Harvester").instance(5).world.to_onehot().astype(np.uint8))
    assert obs.shape == (16, 8, 8) and obs.dtype == np.uint8


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
