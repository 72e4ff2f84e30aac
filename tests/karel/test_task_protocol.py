"""The task protocol both domains implement, and the registry: lazy entries, `register` for new tasks."""

import json
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from PIL import Image

from karel.cli import main
from karel.executor import execute
from karel.language import KAREL
from karel.parser import parse
from karel.program import Program, to_text
from karel.tasks import MINIGRID_TASKS, TASKS, RenderedEpisode, TaskProtocol, UnknownTaskError, make, register, registry
from synthesis.evaluator import Evaluator

ROOT = Path(__file__).resolve().parents[2]
STAIRS = "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move w) m)"
LAVAGAP = "DEF run m( REPEAT R=19 r( IFELSE c( front_object_type h( lava h) c) i( right forward left i) ELSE e( forward e) r) m)"


@pytest.mark.parametrize("name", [*TASKS, *MINIGRID_TASKS])
def test_every_registered_task_satisfies_the_protocol(name):
    task = make(name)
    assert isinstance(task, TaskProtocol)
    assert task.name == name and name.startswith(task.family) and task.domain in ("karel", "minigrid")
    assert task.default_budget == {"karel": 1_000_000, "minigrid": 10_000}[task.domain]
    assert task.devices == {"karel": ("cpu", "cuda"), "minigrid": ("cpu",)}[task.domain]
    assert isinstance(task.description, str) and task.description
    assert task.sparse == name.endswith("Sparse")


def test_returns_are_p_by_e_float64_in_both_domains():
    karel, minigrid = make("StairClimberSparse"), make("LavaGap")
    stairs = [parse(STAIRS, KAREL), parse("DEF run m( move m)", KAREL)]
    got = karel.returns(stairs, 5)
    assert got.shape == (2, 5) and got.dtype == np.float64
    assert got.tolist() == [[1.0] * 5, [0.0] * 5]
    # The CPU path (no torch) gives execute's values exactly, on any instance indices.
    chosen = [3, 1000, 7]
    expected = execute(stairs, karel, [karel.instance(i) for i in chosen]).returns.numpy()
    assert np.array_equal(karel.returns(stairs, chosen), expected)
    lava = minigrid.returns([parse(LAVAGAP, minigrid.language)] * 2, 32)
    assert lava.shape == (2, 32) and lava.dtype == np.float64
    assert float(np.cumsum(lava[0])[-1] / 32) == 0.3125  # what `karel eval` prints for it
    assert minigrid.returns([parse(LAVAGAP, minigrid.language)], [4, 0]).shape == (1, 2)
    with pytest.raises(ValueError, match=r"^LavaGap runs on cpu only, not on 'cuda'$"):
        minigrid.returns([parse(LAVAGAP, minigrid.language)], 1, device="cuda")
    with pytest.raises(ValueError, match="runs on cpu only"):
        Evaluator(minigrid, 10, device="cuda")


def test_make_env_and_render_episode_in_both_domains(tmp_path):
    for name, text, end in (("StairClimberSparse", STAIRS, "task_end"), ("LavaGap", LAVAGAP, "terminated")):
        task = make(name)
        env = task.make_env()
        assert isinstance(env, gymnasium.Env)
        env.reset(seed=0)
        out = tmp_path / f"{name}.png"
        episode = task.render_episode(parse(text, task.language), 4, out)
        assert isinstance(episode, RenderedEpisode) and episode.episode_return == 1.0
        assert episode.frames == episode.actions + 1 and episode.end == end
        assert Image.open(out).format == "PNG"
    assert make("Harvester").make_env(height=6, width=7).observation_space.shape == (16, 6, 7)


class MoveCount:
    """A toy task outside both domains: the return on instance e is 1 when the program holds more than
    e % 4 `move` tokens, else 0."""

    family = domain = "toy"
    language = KAREL
    sparse = False
    version = 1
    description = "count the moves"
    devices = ("cpu",)
    engines = ("count",)
    grid_size = (1, 1)

    def __init__(self, name: str, default_budget: int = 50):
        self.name, self.default_budget = name, default_budget

    def returns(self, programs: list[Program], instances=32, *, device: str = "cpu") -> np.ndarray:
        seeds = range(instances) if isinstance(instances, int) else instances
        moves = [to_text(p).split().count("move") for p in programs]
        return np.array([[float(m > e % 4) for e in seeds] for m in moves])

    def make_env(self, **kwargs):
        raise NotImplementedError

    def render_episode(self, program, instance, out_path):
        raise NotImplementedError


@pytest.fixture
def toy_task():
    register("MoveCount", f"{__name__}:MoveCount", name="MoveCount")
    yield "MoveCount"
    del registry["MoveCount"]


def test_a_task_registered_from_outside_is_made_evaluated_and_listed(toy_task, capsys):
    task = make(toy_task, default_budget=7)
    assert isinstance(task, TaskProtocol) and task.default_budget == 7 and toy_task not in TASKS
    evaluator = Evaluator(task, budget=3, instances=4)
    counted = evaluator.evaluate([parse("DEF run m( move move m)", KAREL)] * 4)
    assert [(e.score, e.index, e.unique) for e in counted] == [(0.5, 1, 1), (0.5, 2, 1), (0.5, 3, 1)]
    assert evaluator.executed == 1
    assert main(["eval", "--task", toy_task, "--program", "DEF run m( move m)", "--instances", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["returns"], result["mean"], result["engine"]) == ([1.0, 0.0, 0.0, 0.0], 0.25, "count")
    with pytest.raises(UnknownTaskError, match="; MiniGrid: LavaGap, PutNear, RedBlueDoor; registered: MoveCount$"):
        make("Nope")
    with pytest.raises(ValueError, match=r"^task 'MoveCount' is registered already \(tests\.karel"):
        register(toy_task, "somewhere:Else")


def test_register_refuses_an_entry_point_without_module_and_attribute():
    with pytest.raises(ValueError, match="entry_point must be 'module:attribute', got 'karel.tasks.top_off'"):
        register("Broken", "karel.tasks.top_off")
    assert "Broken" not in registry


LAZY = """
import sys
import karel.tasks
loaded = lambda: sorted(m for m in sys.modules if m.split(".")[0] in ("gymnasium", "minigrid", "torch")
                        or m.startswith(("karel.minigrid", "karel.tasks.top_off")))
before = loaded()
print(karel.tasks.make("TopOff").name, before, loaded())
print(karel.tasks.make("LavaGap").grid_size, "minigrid" in sys.modules)
"""


def test_task_modules_gymnasium_and_minigrid_load_on_first_make_only():
    done = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["TopOff [] ['karel.tasks.top_off']", "(6, 6) True"]
