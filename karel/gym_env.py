"""Every task as a gymnasium environment, `karel/<Task>-v0`, so that deep-RL libraries can train on them.

Observation: the LEAPS one-hot view `[16, H, W]` uint8 (`World.to_onehot`). Actions: `Discrete(5)` with
the LEAPS action ids (0 move, 1 turnLeft, 2 turnRight, 3 pickMarker, 4 putMarker), non-crashable
semantics. Reward and termination: the task's rules after every action. Truncation: after `max_steps`
actions (default 10,000, the program call budget). `reset(options={"instance": i})` starts task instance
i (0 <= i < 2^32); without it the instance id is drawn from the environment's seeded generator.

After an episode has ended (`terminated` or `truncated`), `step` raises `RuntimeError` until `reset`:
gymnasium leaves stepping a finished episode undefined, and continuing it would pay rewards again and let
`terminated` turn back to False, so it is refused as the usage error it is.

Registration happens on import of this module: `import karel.gym_env; gymnasium.make("karel/TopOff-v0")`,
or in one call `gymnasium.make("karel.gym_env:karel/TopOff-v0")`. The MiniGrid tasks are registered too,
`karel/LavaGap-v0` etc.: they are MiniGrid environments (`karel.minigrid.envs`: MiniGrid's observations,
actions and `max_steps` truncation (LavaGap 144, PutNear 30, RedBlueDoor 720 steps), the tasks' rewards).
Every id's entry point is `task_env`, which builds `make(task).make_env(**kwargs)`: each task says what
its environment is, and so does a task added with `karel.tasks.register` before `register_envs()`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces

from karel.dsl import MAX_CALLS, Action
from karel.tasks import Task, make, registry
from karel.world import NUM_CHANNELS, World

MAX_INSTANCE = 2**31  # instance ids drawn by reset lie in [0, MAX_INSTANCE)


class KarelEnv(gymnasium.Env):
    """One Karel task as a gymnasium environment."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 8}

    def __init__(self, task: str | Task, max_steps: int = MAX_CALLS, render_mode: str | None = None,
                 **task_params):  # fmt: skip
        """`task`: a Karel task or its registry name; `task_params` (`height`, `width`) resize it."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if isinstance(task, str):
            task = make(task, **task_params)
        elif task_params:
            task = type(task)(task.sparse, **{"height": task.height, "width": task.width, **task_params})
        self.task = task
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 1, (NUM_CHANNELS, self.task.height, self.task.width), np.uint8)
        self.action_space = spaces.Discrete(len(Action))
        self.world: World | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        instance_id = int(options["instance"]) if "instance" in options else int(self.np_random.integers(MAX_INSTANCE))
        if not 0 <= instance_id < 2**32:
            raise ValueError(f"options['instance'] must be in 0 .. 2^32 - 1, got {instance_id}")
        instance = self.task.instance(instance_id)
        self.world = instance.world.copy()
        self.rules = self.task.rules(instance)
        self.steps = 0
        self.ended: str | None = None  # "terminated" or "truncated" once the episode is over
        self.instance_id = instance_id
        return self._observation(), {"instance": instance_id}

    def step(self, action):
        if self.world is None:
            raise RuntimeError("call reset() before step()")
        if self.ended is not None:
            raise RuntimeError(f"the episode has ended ({self.ended}); call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in 0..{len(Action) - 1}, got {action!r}")
        self.world.step(Action(int(action)))
        terminated, reward = self.rules(self.world)
        self.steps += 1
        truncated = not terminated and self.steps >= self.max_steps
        self.ended = "terminated" if terminated else "truncated" if truncated else None
        return self._observation(), float(reward), bool(terminated), truncated, {"instance": self.instance_id}

    def render(self):
        if self.world is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self.world.to_text()
        from karel.render import render_world

        return np.asarray(render_world(self.world).convert("RGB"))

    def _observation(self) -> np.ndarray:
        return self.world.to_onehot().astype(np.uint8)


def task_env(task: str, **kwargs) -> gymnasium.Env:
    """The gymnasium entry point of `karel/<task>-v0`: the task's own environment, `kwargs` passed on."""
    return make(task).make_env(**kwargs)


def register_envs() -> None:
    """Register `karel/<Task>-v0` for every task in the task registry (idempotent)."""
    for name in registry:
        env_id = f"karel/{name}-v0"
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point="karel.gym_env:task_env", kwargs={"task": name})


register_envs()
