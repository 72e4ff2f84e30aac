"""A run's TensorBoard: step quantities, the best program as text and animated, HParams, throttling; and the
episodes an animation shows (Karel, LEAPS' worlds replayed, MiniGrid)."""

import io

import pytest
from PIL import Image

from karel.interpreter import run_task_episode
from karel.leaps_protocol import leaps_task, run_leaps_episode, world_set
from karel.parser import parse
from karel.pythonic import to_python
from karel.tasks import make
from synthesis import inspection
from synthesis.config import RunConfig
from synthesis.evaluator import Evaluator
from synthesis.inspection import episode_gif, frame_steps, record_episodes
from synthesis.run import Run
from synthesis.search import HillClimbing, RandomConfig, RandomSearch
from tests.synthesis.board import read_board

MAZE = parse("DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( rightIsClear c) i( turnRight move i) ELSE e( "
             "IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) e) w) m)")  # fmt: skip


def gif_frames(data: bytes) -> tuple[int, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.n_frames, image.size


@pytest.fixture(scope="module")
def hc_run(tmp_path_factory):
    """A hill climbing run that solves MazeSparse, with media only for the final program (the default for
    a run shorter than MEDIA_SECONDS)."""
    out = tmp_path_factory.mktemp("runs")
    config = RunConfig(task="MazeSparse", method="hc", budget=100_000, instances=8)
    result = Run(config, out, progress=False).execute()
    return result, read_board(out / "MazeSparse" / "hc" / "seed_0" / "tb")


def test_board_leaves_the_search_as_it_is(hc_run):
    result, _ = hc_run
    bare = HillClimbing(Evaluator(make("MazeSparse"), 100_000, instances=8), seed=0, k=250)
    bare.run()
    assert (result["best_program"], result["evaluations"], result["best_return"]) == (
        str(bare.best_program), bare.evaluator.evaluations, bare.best_return)  # fmt: skip


def test_hc_board_has_the_climb_the_best_program_and_its_animation(hc_run):
    result, board = hc_run
    scalars = board["scalars"]
    for tag in (
        "climb/return",
        "climb/k",
        "climb/restarts",
        "search/evaluations_per_second",
        "search/cache_hits",
        "search/cache_hit_rate",
        "search/unique_evaluations",
        "final/heldout_return",
        "final/wall_seconds",
    ):
        assert tag in scalars, tag
    assert {value for _, value in scalars["climb/k"]} == {250}
    assert scalars["climb/return"][-1] == (result["evaluations"], pytest.approx(1.0))
    assert scalars["final/heldout_return"] == [(result["evaluations"], pytest.approx(result["heldout_return"]))]
    # every improvement as text, with both forms of its program
    improvements = board["scalars"]["best_return"]
    texts = board["texts"]["best/program"]
    assert [step for step, _ in texts] == [step for step, _ in improvements]
    best = parse(result["best_program"])
    assert result["best_program"] in texts[-1][1] and to_python(best) in texts[-1][1]
    # the final best program animated (the run is far shorter than MEDIA_SECONDS: no other animation)
    [(step, gif)] = board["images"]["best/episode"]
    assert step == result["evaluations"]
    longest = max(len(run_task_episode(best, make("MazeSparse"), i).actions) for i in inspection.INSTANCES) + 1
    frames, (width, height) = gif_frames(gif)
    assert frames == min(longest, inspection.MAX_FRAMES)
    assert (width, height) == (3 * 8 * 16 + 2 * 4, 8 * 16 + 2 * 16)  # 3 panels of 8 x 8 cells, title, captions
    [(_, text)] = board["texts"]["best/episode"]
    assert f"heldout_return {result['heldout_return']:.4f}" in text


def test_settings_are_hparams_and_the_session_ends(hc_run):
    _, board = hc_run
    hparams = board["hparams"]
    assert (hparams["task"], hparams["method"], hparams["budget"], hparams["k"]) == ("MazeSparse", "hc", 100_000, 250)
    assert hparams["topoff_reset_quirk"] == "true" and hparams["init_programs"] == 0
    assert board["session_end"] == "STATUS_SUCCESS"
    assert "| budget | `100000` |" in board["texts"]["config"][0][1]


def test_throttles_off_give_a_point_per_step_and_media_per_improving_step(tmp_path, monkeypatch):
    monkeypatch.setattr(inspection, "STEP_SECONDS", 0.0)
    monkeypatch.setattr(inspection, "MEDIA_SECONDS", 0.0)
    steps = []
    original = RandomSearch.step

    def counted(self):
        original(self)
        steps.append(self.evaluator.evaluations)

    monkeypatch.setattr(RandomSearch, "step", counted)
    config = RunConfig(task="DoorKey", method="random", budget=640, instances=4, settings=RandomConfig(batch=64))
    result = Run(config, tmp_path, progress=False).execute()
    board = read_board(tmp_path / "DoorKey" / "random" / "seed_0" / "tb")
    assert [step for step, _ in board["scalars"]["random/batch_best"]] == steps == list(range(64, 641, 64))
    assert [count for _, count in board["histograms"]["random/batch_returns"]] == [64] * 10
    improvements = [step for step, _ in board["scalars"]["best_return"]]
    shown = [step for step, _ in board["images"]["best/episode"]]
    # the last improvement of each step that improved, then nothing at the end (its best was already shown)
    per_step = sorted(
        {max(i for i in improvements if i <= s) for s in steps if any(s - 64 < i <= s for i in improvements)}
    )
    assert shown == per_step and shown[-1] == improvements[-1] <= result["evaluations"]
    assert [step for step, _ in board["scalars"]["best/heldout_return"]] == shown


def test_frame_steps_are_all_or_evenly_spaced():
    assert frame_steps(5, 48) == [0, 1, 2, 3, 4]
    assert frame_steps(11, 6) == [0, 2, 4, 6, 8, 10]
    assert frame_steps(10_001, 48)[:3] == [0, 213, 426] and frame_steps(10_001, 48)[-1] == 10_000


def test_leaps_episodes_are_replayed_exactly():
    program = parse("DEF run m( WHILE c( frontIsClear c) w( move putMarker w) turnLeft move m)")
    [shown] = record_episodes("TopOff", "leaps", program, [1], seed=3)
    world = world_set(leaps_task("TopOff"), 3, 0)[1]
    episode = run_leaps_episode(program, world.world, leaps_task("TopOff").rules(world))
    final = shown.worlds[-1]
    assert len(shown.worlds) == len(episode.actions) + 1 and shown.episode_return == episode.score
    assert (final.markers == episode.world.markers).all()
    assert (final.row, final.col, final.direction) == (episode.world.row, episode.world.col, episode.world.direction)


def test_minigrid_episodes_are_animated_from_their_frames():
    program = parse("DEF run m( WHILE c( front_is_clear c) w( forward w) right forward m)", make("LavaGap").language)
    shown = record_episodes("LavaGap", "llm-gs", program, [0, 1])
    assert [len(s.frames) for s in shown] == [len(s.rewards) + 1 for s in shown]
    data, width, height = episode_gif(shown, "LavaGap")
    frames, size = gif_frames(data)
    assert frames == min(max(len(s.frames) for s in shown), inspection.MAX_FRAMES) and size == (width, height)
