"""Karel tasks: registry conformance, instance 0 of every task, exact LLM-GS returns, hand-checked rules.

`fixtures/instance0.json` and `fixtures/reference_returns.json` were produced by running the LLM-GS release
code (`prog_policies/karel_tasks/*.py`, non-crashable, LEAPS behaviour, 10,000 calls) on instances 0..31;
our generation and rewards must match them exactly (==, not approximately).
"""

import json

import numpy as np
import pytest

from karel.dsl import Action
from karel.interpreter import evaluate
from karel.parser import parse
from karel.tasks import TASKS, Instance, UnknownTaskError, make
from karel.tasks.snake import FOODS, SnakeLayout
from karel.world import World


def _step(world: World, rules, action: Action) -> tuple[bool, float]:
    world.step(action)
    return rules(world)


# --- conformance over the whole registry --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_conformance(name):
    task = make(name)
    assert task.name == name and isinstance(task.version, int)
    for seed in (0, 1, 7):
        instance = task.instance(seed)
        again = task.instance(seed)
        assert instance.world.to_text() == again.world.to_text() and instance.layout == again.layout
        world = instance.world
        assert world.walls.shape == world.markers.shape == (task.height, task.width) == task.default_size
        assert world.walls.dtype == bool and world.markers.dtype == np.int64
        assert World.from_text(world.to_text()).to_text() == world.to_text()  # exactly one agent
        before = world.copy()
        rules = task.rules(instance)
        episode_world = world.copy()
        for action in [Action.move, Action.turnLeft, Action.putMarker, Action.pickMarker, Action.move] * 4:
            terminated, reward = _step(episode_world, rules, action)
            assert type(terminated) is bool and type(reward) is float
            if terminated:
                break
        assert world.to_text() == before.to_text()  # episodes never touch the instance's world


def test_unknown_task_name_lists_the_known_ones():
    with pytest.raises(UnknownTaskError) as error:
        make("Harvest")
    assert all(name in str(error.value) for name in TASKS)


def test_every_llm_gs_task_is_registered():
    assert len(TASKS) == 18 and {"DoorKey", "Snake", "CleanHouseSparse", "WallAvoider", "PathFollow"} <= set(TASKS)


# --- agreement with the LLM-GS release ----------------------------------------------------------------------


def test_instance_0_matches_the_reference(fixtures_dir):
    expected = json.loads((fixtures_dir / "instance0.json").read_text())
    assert sorted(expected) == sorted(TASKS)
    for name, text in expected.items():
        assert make(name).instance(0).world.to_text() == text, name


def _reference_cases(fixtures_dir):
    records = json.loads((fixtures_dir / "reference_returns.json").read_text())
    by_task: dict[str, list] = {}
    for record in records:
        by_task.setdefault(record["task"], []).append(record)
    return by_task


@pytest.mark.parametrize("name", sorted(TASKS))
def test_returns_equal_the_reference_exactly(name, fixtures_dir):
    cases = _reference_cases(fixtures_dir)[name]
    assert len(cases) >= 20
    task = make(name)
    for case in cases:
        assert evaluate(parse(case["program"]), task, range(32)) == case["returns"], case["program"]


# --- hand-checked rules -------------------------------------------------------------------------------------


def _place(world: World, row: int, col: int, direction: int = 1) -> None:
    world.row, world.col, world.direction = row, col, direction


def test_door_key_opens_the_door_after_the_key_is_picked_then_rewards_the_topped_off_goal():
    task = make("DoorKey")
    instance = task.instance(0)
    layout, world = instance.layout, instance.world.copy()
    rules = task.rules(instance)
    assert all(world.walls[cell] for cell in layout.doors)
    _place(world, *layout.key)
    assert _step(world, rules, Action.pickMarker) == (False, 0.5)
    assert not any(world.walls[cell] for cell in layout.doors)
    _place(world, *layout.goal)
    assert _step(world, rules, Action.putMarker) == (True, 0.5)


def test_door_key_penalises_picking_the_goal_and_extra_markers():
    task = make("DoorKey")
    instance = task.instance(3)
    world, rules = instance.world.copy(), task.rules(instance)
    assert _step(world, rules, Action.putMarker) == (True, -1.0)  # 3 markers while locked
    world, rules = instance.world.copy(), task.rules(instance)
    _place(world, *instance.layout.key)
    _step(world, rules, Action.pickMarker)
    _place(world, *instance.layout.goal)
    assert _step(world, rules, Action.pickMarker) == (True, -1.0)


def test_snake_grows_and_its_body_shows_as_markers():
    task = make("Snake")
    world = World.from_text(
        """
        # # # # # # # #
        # . . . . . . #
        # . . . . . . #
        # . > 1 . . . #
        # . . . . . . #
        # . . . . . . #
        # . . . . . . #
        # # # # # # # #
        """
    )
    instance = Instance(5, world, SnakeLayout(start=(3, 2), food=(3, 3)))
    world, rules = world.copy(), task.rules(instance)
    assert _step(world, rules, Action.move) == (False, 1 / FOODS)
    assert rules.length == 3 and rules.body == [(3, 2), (3, 3)]
    assert world.markers[3, 2] == 1 and world.markers[3, 3] == 0  # body behind the head; the food was eaten
    assert rules.food not in rules.body and world.markers[rules.food] == 1  # the next food is a marker
    assert world.markers.sum() == 2
    for _ in range(2):
        world.step(Action.turnLeft)
        rules(world)
    assert _step(world, rules, Action.move) == (True, -1.0)  # back into the body


def test_snake_food_sequence_is_the_same_every_episode():
    task = make("Snake")
    instance = task.instance(4)
    program = parse(
        "DEF run m( REPEAT R=19 r( REPEAT R=19 r( IFELSE c( frontIsClear c) i( move i) "
        "ELSE e( turnRight move turnRight e) r) r) m)"
    )
    assert evaluate(program, task, [4, 4]) == evaluate(program, task, [4]) * 2
    assert instance.world.markers.sum() == 1


def test_one_stroke_walls_the_cell_it_leaves():
    task = make("OneStroke")
    instance = task.instance(0)
    world, rules = instance.world.copy(), task.rules(instance)
    _place(world, *instance.layout.start, direction=0 if instance.layout.start[0] > 1 else 2)
    start = (world.row, world.col)
    assert _step(world, rules, Action.move) == (False, 1 / 35)
    assert world.walls[start]
    assert _step(world, rules, Action.turnLeft) == (False, 0.0)


def test_top_off_penalises_emptying_a_target_and_sparse_overwrites_the_penalty():
    task = make("TopOff")
    instance = task.instance(0)
    target = instance.layout.targets[0]
    world, rules = instance.world.copy(), task.rules(instance)
    _place(world, *target)
    assert _step(world, rules, Action.pickMarker) == (True, -1.0)

    sparse = make("TopOffSparse")
    world, rules = instance.world.copy(), sparse.rules(instance)
    world.markers[1, 1] = 1  # a stray marker...
    for cell in instance.layout.targets:
        world.markers[cell] = 2  # ...and every target topped off: the +1 check wins
    assert rules(world) == (True, 1.0)
    assert task.rules(instance)(world) == (True, -1.0)


def test_harvester_sparse_never_updates_its_previous_count():
    for name, expected in (("Harvester", (True, -1.0)), ("HarvesterSparse", (False, 0.0))):
        task = make(name)
        instance = task.instance(0)
        world, rules = instance.world.copy(), task.rules(instance)
        _step(world, rules, Action.pickMarker)
        assert _step(world, rules, Action.putMarker) == expected, name


def test_seeder_penalises_a_second_marker_on_a_cell():
    task = make("Seeder")
    instance = task.instance(0)
    world, rules = instance.world.copy(), task.rules(instance)
    assert _step(world, rules, Action.putMarker) == (False, 1 / 36)
    assert _step(world, rules, Action.putMarker) == (True, -1.0)


def test_wall_avoider_starts_anywhere_in_the_offset_free_range():
    instances = [make("WallAvoider").instance(s).world for s in range(64)]
    assert any(w.row == 0 or w.col == 0 for w in instances)  # on the border wall (no +1 offset)
    assert {w.direction for w in instances} == {0, 1, 2, 3}
    assert all(w.row <= 5 and w.col <= 2 for w in instances)


def test_path_follow_penalises_leaving_the_path():
    task = make("PathFollow")
    instance = task.instance(0)
    world, rules = instance.world.copy(), task.rules(instance)
    assert _step(world, rules, Action.pickMarker) == (False, 1 / 11)
    world.step(Action.turnRight)  # facing East: along row 6 the path's neighbours are legal...
    assert rules(world) == (False, 0.0)
    off_path = [(r, c) for r in range(1, 7) for c in range(1, 7) if r * 8 + c not in instance.layout.legal_ids]
    _place(world, *off_path[0])  # ...but not every interior cell is
    assert rules(world) == (True, -1.0)


def test_clean_house_has_one_size():
    assert make("CleanHouse").instance(0).layout.initial_markers == 11
    with pytest.raises(ValueError, match="14 x 22"):
        make("CleanHouse", height=8, width=8)
