"""The VM's compiled task rules against the reference rules, step by step, on random and purposeful action
sequences (each played as a straight-line program).

Both must give the same return (exactly), the same termination step and the same world after every action
(walls, markers, agent), for every task, on many instances, with episodes of different lengths in one batch.

Random actions rarely get far in a task (open DoorKey's door, eat a second Snake food, finish OneStroke or
Seeder), so every instance also plays scripted episodes: a policy that solves the task by looking at the
reference world and rules (shortest routes to the next goal cell), played in full, and cut at a random point
and continued with random actions (which reaches the failure branches of a half-solved task).
"""

from collections import deque

import numpy as np
import pytest

from karel.compiler import compile_programs
from karel.dsl import DIRECTION_STEP, NOOP_ACTION, Action
from karel.program import Act, Program
from karel.tasks import TASKS, make
from karel.tasks.path_follow import cell_id
from karel.tasks.snake import FOODS, food_candidates
from karel.vm import cpu, pack
from karel.world import World, Worlds

STEPS = 400
SCRIPT_LIMIT = 600  # actions at most in a scripted episode


def action_sequences(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """[n, length] action ids from a mix of policies: uniform, move-heavy, put-heavy and pick-heavy."""
    mixes = [
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.6, 0.15, 0.15, 0.05, 0.05],
        [0.35, 0.15, 0.15, 0.05, 0.3],
        [0.35, 0.15, 0.15, 0.3, 0.05],
    ]
    return np.stack([rng.choice(5, size=length, p=mixes[i % len(mixes)]) for i in range(n)])


def reference_rollout(task, instance, actions):
    world, rules = instance.world.copy(), task.rules(instance)
    trace = []
    for a in actions:
        world.step(int(a))
        terminated, reward = rules(world)
        trace.append((terminated, reward, world.copy()))
        if terminated:
            break
    return trace


# --- scripted policies ----------------------------------------------------------------------------------------


def toward(world: World, goals, allowed=None, avoid=()) -> int | None:
    """The first action of a shortest route (turns count) from the agent to the nearest cell of `goals`,
    through clear cells in `allowed` (any when None) and not in `avoid`; None if at a goal or none is
    reachable."""
    goals = set(goals)
    start = (world.row, world.col)
    if start in goals:
        return None
    first_step: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for dr, dc in DIRECTION_STEP:
            nxt = (cell[0] + dr, cell[1] + dc)
            if nxt in first_step or not world.is_clear(*nxt) or nxt in avoid:
                continue
            if allowed is not None and nxt not in allowed:
                continue
            first_step[nxt] = first_step[cell] or nxt
            if nxt in goals:
                return _face_and_move(world, first_step[nxt])
            queue.append(nxt)
    return None


def _face_and_move(world: World, cell: tuple[int, int]) -> int:
    heading = DIRECTION_STEP.index((cell[0] - world.row, cell[1] - world.col))
    turn = (heading - world.direction) % 4
    return Action.move if turn == 0 else Action.turnLeft if turn == 3 else Action.turnRight


def _interior(world: World):
    return [(r, c) for r in range(1, world.height - 1) for c in range(1, world.width - 1) if not world.walls[r, c]]


def _fill_or_clear(world: World, cells, put: bool, **route) -> int | None:
    """Put a marker on (or pick every marker from) the cells of `cells` that need it, nearest first."""
    here = (world.row, world.col)
    if here in cells:
        return Action.putMarker if put else Action.pickMarker
    return toward(world, cells, **route)


def _hamiltonian_path(start, cells):
    """A path from `start` through every cell of `cells` (4-neighbours), by backtracking with Warnsdorff's
    order (fewest onward neighbours first)."""
    cells = set(cells)

    def onward(cell, seen):
        return [n for n in ((cell[0] + dr, cell[1] + dc) for dr, dc in DIRECTION_STEP) if n in cells and n not in seen]

    path, seen = [start], {start}

    def extend() -> bool:
        if len(path) == len(cells):
            return True
        for nxt in sorted(onward(path[-1], seen), key=lambda n: len(onward(n, seen))):
            path.append(nxt)
            seen.add(nxt)
            if extend():
                return True
            seen.discard(path.pop())
        return False

    assert extend(), "no Hamiltonian path"
    return path


def scripted_policy(task, instance):
    """`policy(world, rules) -> action | None` that solves `instance` (None: nothing left to do)."""
    family, layout = task.family, instance.layout
    if family in ("StairClimber", "Maze"):
        allowed = layout.valid_cells if family == "StairClimber" else None
        return lambda world, rules: toward(world, [layout.marker], allowed=allowed)
    if family == "FourCorners":
        return lambda world, rules: _fill_or_clear(world, [c for c in layout.corners if not world.markers[c]], put=True)
    if family == "TopOff":
        return lambda world, rules: _fill_or_clear(
            world, [c for c in layout.targets if world.markers[c] == 1], put=True
        )
    if family in ("Harvester", "CleanHouse"):
        return lambda world, rules: _fill_or_clear(world, list(zip(*np.nonzero(world.markers))), put=False)
    if family == "PathFollow":
        legal = {
            (r, c)
            for r in range(task.height)
            for c in range(task.width)
            if cell_id(r, c, task.height) in layout.legal_ids
        }
        return lambda world, rules: _fill_or_clear(
            world, list(zip(*np.nonzero(world.markers))), put=False, allowed=legal
        )
    if family == "Seeder":
        return lambda world, rules: _fill_or_clear(
            world, [c for c in _interior(world) if not world.markers[c]], put=True
        )
    if family == "WallAvoider":
        h, w = task.height, task.width
        inner = [(r, c) for r in range(2, h - 2) for c in range(2, w - 2)]
        return lambda world, rules: _fill_or_clear(world, [c for c in inner if not world.markers[c]], put=True)
    if family == "DoorKey":

        def door_key(world, rules):
            if rules.locked:
                return _fill_or_clear(world, [layout.key], put=False)
            return _fill_or_clear(world, [layout.goal], put=True)

        return door_key
    if family == "OneStroke":
        path = _hamiltonian_path(layout.start, _interior(instance.world))

        def one_stroke(world, rules):
            position = path.index((world.row, world.col))
            return _face_and_move(world, path[position + 1]) if position + 1 < len(path) else None

        return one_stroke
    if family == "Snake":

        def snake(world, rules):
            avoid = set(rules.body[:-1])
            action = toward(world, [rules.food], avoid=avoid)
            if action is not None:
                return action
            for turn in range(4):  # no route: step anywhere safe, or turn
                dr, dc = DIRECTION_STEP[(world.direction + turn) % 4]
                cell = (world.row + dr, world.col + dc)
                if world.is_clear(*cell) and cell not in avoid:
                    return Action.move if turn == 0 else Action.turnRight
            return Action.turnLeft

        return snake
    raise AssertionError(f"no scripted policy for {family}")


def scripted_actions(task, instance, prefix=()) -> list[int]:
    """`prefix`, then the scripted policy's actions until the episode ends, the policy has nothing left, or
    SCRIPT_LIMIT."""
    policy = scripted_policy(task, instance)
    world, rules = instance.world.copy(), task.rules(instance)
    actions = []
    while len(actions) < SCRIPT_LIMIT:
        action = prefix[len(actions)] if len(actions) < len(prefix) else policy(world, rules)
        if action is None:
            break
        actions.append(int(action))
        world.step(action)
        if rules(world)[0]:
            break
    return actions


# --- the comparison -----------------------------------------------------------------------------------------


def run_side_by_side(task, instances, instance_index: np.ndarray, actions: np.ndarray) -> tuple[list, np.ndarray]:
    """Play every action sequence as a straight-line program in the VM (episode k on instance
    `instance_index[k]`) and with the reference rules; assert they agree wherever the VM did not flag a
    fallback. Returns the reference traces and the VM's fallback flags."""
    name = task.name
    n, steps = actions.shape
    traces = [reference_rollout(task, instances[i], actions[k]) for k, i in enumerate(instance_index.tolist())]
    programs = [Program(tuple(Act(Action(int(a))) for a in row)) for row in actions]
    code = compile_programs(programs).code.numpy()
    worlds = Worlds.stack([inst.world for inst in instances])
    pose = np.stack([worlds.row.numpy(), worlds.col.numpy(), worlds.direction.numpy()], 1)
    out = cpu.run_episodes(code, np.arange(n), instance_index, worlds.walls.numpy().astype(np.uint8),
                           worlds.markers.numpy(), pose, pack.pack_task(task, instances), crashable=False,
                           max_calls=10 * steps, record_actions=steps, record_states=True)  # fmt: skip
    for k, trace in enumerate(traces):
        if out.fallback[k]:
            continue
        where = (name, k)
        assert out.num_actions[k] == len(trace), where
        assert out.returns[k] == sum(reward for _, reward, _ in trace), where
        assert out.termination[k] == (1 if trace[-1][0] else 0), where
        assert out.actions[k].tolist() == actions[k, : len(trace)].tolist() + [NOOP_ACTION] * (steps - len(trace))
        for t, (_, _, world) in enumerate(trace):
            got = World(out.state_walls[k, t + 1].astype(bool), out.state_markers[k, t + 1].astype(np.int64),
                        *map(int, out.state_pose[k, t + 1]))  # fmt: skip
            assert got.to_text() == world.to_text(), (name, k, t)
    return traces, out.fallback


@pytest.mark.parametrize("name", list(TASKS))
def test_vm_rules_match_reference_rules(name):
    task = make(name)
    seeds = list(range(24))
    instances = [task.instance(s) for s in seeds]
    rng = np.random.default_rng(len(name))
    scripts = [scripted_actions(task, instance) for instance in instances]
    # A full pile (and one illegal put) on the start cell first: Snake's body then meets a full cell.
    piles = [scripted_actions(task, instance, prefix=[Action.putMarker] * 11) for instance in instances]
    steps = max(STEPS, max(map(len, scripts + piles)))

    # Per instance: 4 random episodes, the full script, the script cut at a random point (then random
    # actions), and the script after the pile (then random actions).
    random_episodes = 4
    n = len(seeds) * (random_episodes + 3)
    instance_index = np.arange(n) % len(seeds)  # [N]
    actions = action_sequences(rng, n, steps)  # [N, T]
    full = [random_episodes * len(seeds) + i for i in range(len(seeds))]
    for i, (script, pile) in enumerate(zip(scripts, piles)):
        stop = int(rng.integers(0, len(script) + 1))
        actions[full[i], : len(script)] = script
        actions[full[i] + len(seeds), :stop] = script[:stop]
        actions[full[i] + 2 * len(seeds), : len(pile)] = pile

    traces, fallback = run_side_by_side(task, instances, instance_index, actions)
    assert not fallback.any()

    # The scripts reach the branches they are there for: every task solved (Snake: several foods eaten).
    # (WallAvoider: an agent that starts in the corner (0, 0) is walled in, and its script is empty.)
    played = [k for k, script in zip(full, scripts) if script]
    assert len(played) == len(full) or task.family == "WallAvoider"
    returns = [sum(reward for _, reward, _ in traces[k]) for k in played]
    if task.family == "Snake":
        foods = [round(r * FOODS) for r in returns]
        assert min(foods) >= 3 and max(foods) >= 10, foods
    else:
        assert returns == pytest.approx([1.0] * len(played)), returns
        assert all(traces[k][-1][0] for k in played)


def test_snake_food_candidates_are_the_reference_draws():
    for seed in (0, 5, 123):
        for height, width in ((8, 8), (8, 11), (12, 12)):
            rng = np.random.RandomState(seed)
            expected = [(rng.randint(1, height - 1), rng.randint(1, width - 1)) for _ in range(300)]
            assert food_candidates(seed, height, width, 300).tolist() == [list(p) for p in expected]


class _CountingRandomState:
    """Wraps SnakeRules' food RNG to count its draws."""

    def __init__(self, rng: np.random.RandomState):
        self.rng, self.draws = rng, 0

    def randint(self, *args):
        self.draws += 1
        return self.rng.randint(*args)


def snake_food_draws(task, instance, actions) -> list[int]:
    """Food candidates (row, col pairs) the reference draws for each food placement of an episode."""
    world, rules = instance.world.copy(), task.rules(instance)
    rules.rng = _CountingRandomState(rules.rng)
    placements = []
    for action in actions:
        world.step(int(action))
        before = rules.rng.draws
        terminated, _ = rules(world)
        if rules.rng.draws > before:
            placements.append((rules.rng.draws - before) // 2)
        if terminated:
            break
    return placements


def test_snake_flags_fallback_instead_of_guessing(monkeypatch):
    """With few precomputed food draws, exactly the episodes that need more are flagged; all the others
    stay exact."""
    task = make("Snake")
    instances = [task.instance(s) for s in range(16)]
    actions = np.zeros((len(instances), SCRIPT_LIMIT), dtype=np.int64)  # the scripts, then moves
    for k, instance in enumerate(instances):
        script = scripted_actions(task, instance)
        actions[k, : len(script)] = script
    draws = [snake_food_draws(task, instance, actions[k]) for k, instance in enumerate(instances)]
    monkeypatch.setattr(pack, "SNAKE_CANDIDATES", 20)
    expected = [sum(d) > 20 for d in draws]
    assert any(expected) and not all(expected)
    _, fallback = run_side_by_side(task, instances, np.arange(len(instances)), actions)
    assert fallback.astype(bool).tolist() == expected


@pytest.mark.parametrize("name", [n for n in TASKS if make(n).family != "DoorKey"])
def test_reference_rules_are_idempotent_on_an_unchanged_world(name):
    """What lets the VM skip the rules after an action that moved nobody and changed no marker: applied a
    second time to the world they just saw, every task's reference rules (but DoorKey's) give (not
    terminated, 0) and change neither the world nor their own state."""
    import copy

    task = make(name)
    rng = np.random.default_rng(7)
    checked = 0
    for seed in range(6):
        instance = task.instance(seed)
        script = scripted_actions(task, instance)
        for actions in (script, action_sequences(rng, 1, 300)[0].tolist(), script[: len(script) // 2] + [0] * 50):
            world, rules = instance.world.copy(), task.rules(instance)
            for a in actions:
                world.step(int(a))
                terminated, _ = rules(world)
                if terminated:
                    break
                again_world, again_rules = world.copy(), copy.deepcopy(rules)
                assert again_rules(again_world) == (False, 0.0), (name, seed)
                assert again_world.to_text() == world.to_text() and vars(again_rules).keys() == vars(rules).keys()
                for key, value in vars(rules).items():
                    other = vars(again_rules)[key]
                    same = np.array_equal(other, value) if isinstance(value, np.ndarray) else other == value
                    assert same or key == "rng", (name, key)
                checked += 1
    assert checked > 300
