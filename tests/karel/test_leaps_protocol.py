"""LEAPS' own evaluation (`karel.leaps_protocol`) against LEAPS' code, and its rules one by one.

`tests/fixtures/leaps_protocol_scores.json.gz` was produced by running clvrai/leaps' own `ExecEnv2`
(`karel_env`, `dsl_parse`, NumPy 1.23) locally: for each task and seeds 0 and 1, the worlds of its first three
resets (and three 100 x 100 worlds of five generators), and the per-world scores and mean reward of 1,300
programs (LEAPS' random programs, search-space programs, the reference solutions and their mutants, budget and
marker-cap cases) on the first world set.
"""

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from karel import leaps_protocol as lp
from karel.interpreter import Termination
from karel.parser import parse

with gzip.open(Path(__file__).parents[1] / "fixtures" / "leaps_protocol_scores.json.gz") as fixture_file:
    FIXTURE = json.loads(fixture_file.read())
PROGRAMS = [parse(text) for text in FIXTURE["programs"]]


def digest(world: lp.LeapsWorld) -> str:
    return hashlib.sha256(world.world.to_text().encode()).hexdigest()[:16]


@pytest.mark.parametrize("task", list(lp.TASKS))
def test_world_stream_is_leaps_generator_draw_for_draw(task):
    for run in FIXTURE["tasks"][task]:
        for index, digests in enumerate(run["sets"]):
            assert [digest(w) for w in lp.world_set(lp.TASKS[task], run["seed"], index)] == digests
    for run in FIXTURE["large"].get(task, []):
        assert [digest(w) for w in lp.stream_worlds(lp.TASKS[task], run["seed"], 3, size=(100, 100))] == run["worlds"]


@pytest.mark.parametrize("task", list(lp.TASKS))
def test_scores_equal_leaps_own_on_1300_programs_x_10_worlds(task):
    for run in FIXTURE["tasks"][task]:
        scores = lp.world_scores(PROGRAMS, lp.TASKS[task], lp.world_set(lp.TASKS[task], run["seed"], 0))
        assert scores.tolist() == run["scores"]
        assert [lp.program_score(p, s) for p, s in zip(PROGRAMS, scores)] == run["means"]


def test_node_budget_counts_as_leaps_dsl_parse():
    world = lp.stream_worlds(lp.TASKS["FourCorners"], 0, 1)[0].world
    cases = {  # program: (actions, node counter at the end), as LEAPS' interpreter counts them
        "DEF run m( move move move m)": (3, 8),
        "DEF run m( REPEAT R=19 r( turnLeft turnLeft r) m)": (38, 79),
        "DEF run m( REPEAT R=19 r( REPEAT R=19 r( turnLeft r) r) m)": (195, 221),
        "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft w) m)": (217, 221),
    }
    for text, (actions, nodes) in cases.items():
        episode = lp.run_leaps_episode(parse(text), world)
        assert (len(episode.actions), episode.nodes) == (actions, nodes), text
        assert episode.termination == (Termination.BUDGET if nodes > lp.MAX_NODES else Termination.PROGRAM_END)


def test_nine_marker_cap_and_last_action_off_by_one():
    world = lp.stream_worlds(lp.TASKS["FourCorners"], 0, 1)[0].world
    episode = lp.run_leaps_episode(parse("DEF run m( REPEAT R=12 r( putMarker r) m)"), world)
    assert episode.world.markers[world.row, world.col] == 9
    maze = lp.TASKS["MazeSparse"]
    start = next(w for w in lp.stream_worlds(maze, 0, 200) if w.marker == (w.world.row, w.world.col))
    one = lp.run_episodes(parse("DEF run m( turnLeft m)"), maze, [start])[0]
    two = lp.run_episodes(parse("DEF run m( turnLeft turnRight m)"), maze, [start])[0]
    assert (one.rewards, one.score) == ([1.0], 0.0)  # one action: LEAPS scores the world 0
    assert two.score == 1.0


def test_topoff_reset_quirk_marks_the_last_cell_of_every_redrawn_world():
    task = lp.TASKS["TopOff"]
    quirk = lp.world_set(task, 3, 0)
    fixed = lp.world_set(task, 3, 0, reset_quirk=False)
    assert all(w.world.markers[10, 10] == 1 for w in quirk) and all(w.world.markers[10, 10] == 0 for w in fixed)
    solution = parse("DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( putMarker i) move w) m)")
    assert lp.program_score(solution, lp.world_scores([solution], task, fixed)[0]) == 1.1
    assert lp.program_score(solution, lp.world_scores([solution], task, quirk)[0]) < 1.0


def test_unknown_task_names_the_six():
    with pytest.raises(lp.UnknownLeapsTaskError, match="StairClimberSparse, MazeSparse, TopOff"):
        lp.leaps_task("DoorKey")


def karel(*args):
    return subprocess.run(
        [sys.executable, "-m", "karel", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_karel_eval_prints_the_leaps_mean_without_the_bonus():
    text = FIXTURE["programs"][0]
    run = FIXTURE["tasks"]["TopOff"][1]
    done = karel("eval", "--protocol", "leaps", "--task", "TopOff", "--program", text, "--seed", "1", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["returns"] == run["scores"][0] and result["instances"] == 10 and result["protocol"] == "leaps"
    assert np.isclose(result["mean"], run["means"][0] - 0.1) and result["leaps_score"] == run["means"][0]
    bad = karel("eval", "--protocol", "leaps", "--task", "DoorKey", "--program", text)
    assert bad.returncode == 2 and "LEAPS' six tasks" in bad.stderr
    assert karel("eval", "--task", "TopOff", "--program", text, "--seed", "1").returncode == 2
