"""Episode rendering: frame counts, sizes, formats and atomic writes."""

import pytest
from PIL import Image

from karel.interpreter import run_task_episode
from karel.parser import parse
from karel.render import episode_captions, render_episode, render_world, save_episode
from karel.tasks import make

PROGRAM = parse("DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move w) m)")


@pytest.fixture(scope="module")
def episode():
    return run_task_episode(PROGRAM, make("StairClimberSparse"), 0, record_worlds=True)


def test_one_frame_per_world_of_the_expected_size(episode):
    frames = render_episode(episode.worlds, cell=16)
    assert len(frames) == len(episode.worlds) == len(episode.actions) + 1
    assert frames[0].size == (12 * 16, 12 * 16) and frames[0].mode == "RGB"


def test_frames_show_the_agent_moving(episode):
    first, last = render_world(episode.worlds[0], 16), render_world(episode.worlds[-1], 16)
    assert first.tobytes() != last.tobytes()
    assert render_world(episode.worlds[0], 16).tobytes() == first.tobytes()  # deterministic


def test_gif_holds_every_captioned_frame(tmp_path, episode):
    out = tmp_path / "episode.gif"
    save_episode(episode.worlds, out, captions=episode_captions(episode.actions, episode.rewards))
    with Image.open(out) as gif:
        assert gif.n_frames == len(episode.worlds)
        assert gif.info.get("loop") == 0
    assert [p.name for p in tmp_path.iterdir()] == ["episode.gif"]  # no temporary file left behind


def test_png_is_the_first_frame(tmp_path, episode):
    out = tmp_path / "first.png"
    save_episode(episode.worlds, out, cell=10)
    with Image.open(out) as png:
        assert png.size == (120, 120) and getattr(png, "n_frames", 1) == 1
        assert png.convert("RGB").tobytes() == render_world(episode.worlds[0], 10).tobytes()


def test_bad_suffix_names_the_allowed_ones(tmp_path, episode):
    with pytest.raises(ValueError, match=r"\.gif, \.png"):
        save_episode(episode.worlds, tmp_path / "x.jpg")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_file(tmp_path, episode):
    with pytest.raises(ValueError):
        save_episode(episode.worlds, tmp_path / "x.gif", captions=["too few"])
    assert list(tmp_path.iterdir()) == []


def test_captions_follow_the_return(episode):
    captions = episode_captions(episode.actions, episode.rewards)
    assert captions[0] == "step 0" and captions[-1].endswith("return 1.000")


def test_render_command_writes_a_gif(tmp_path):
    from karel.cli import main

    out = tmp_path / "maze.gif"
    program = "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( rightIsClear c) i( turnRight move i) ELSE e( move e) w) m)"
    assert main(["render", "--task", "MazeSparse", "--program", program, "--instance", "2", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames > 1


def test_animated_panels_look_like_rendered_frames_side_by_side(episode):
    import io

    import numpy as np

    from karel.render import PALETTE, animate_panels

    worlds = episode.worlds[:5]
    data = animate_panels([worlds, worlds[::-1]], [[f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)]],
                          cell=16, title="title")  # fmt: skip
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.n_frames == 5 and gif.size == (2 * 12 * 16 + 4, 16 + 12 * 16 + 16) and gif.info["loop"] == 0
        durations = []
        for f in range(5):
            gif.seek(f)
            durations.append(gif.info["duration"])
            frame = np.asarray(gif.convert("RGB")).astype(int)
            for panel, world in ((0, worlds[f]), (1, worlds[4 - f])):
                drawn = frame[16 : 16 + 192, panel * 196 : panel * 196 + 192]
                assert np.abs(drawn - np.asarray(render_world(world, 16)).astype(int)).mean() < 4  # palette only
        assert durations == [120, 120, 120, 120, 1500]
    assert len(PALETTE) <= 256
    with pytest.raises(ValueError, match="one non-zero length"):
        animate_panels([worlds, worlds[:2]])
