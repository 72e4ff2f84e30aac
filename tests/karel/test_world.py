"""World text form, one-hot view and batching."""

import numpy as np
import pytest
import torch

from karel.world import World, Worlds

TEXT = """
#  #  #  #  #
#  >2 .  10 #
#  .  #  1  #
#  #  #  #  #
"""


def test_text_round_trip():
    w = World.from_text(TEXT)
    assert (w.row, w.col, w.direction) == (1, 1, 1)
    assert w.markers[1, 1] == 2 and w.markers[1, 3] == 10 and w.markers[2, 3] == 1
    assert w.walls[2, 2] and not w.walls[1, 2]
    assert w.to_text() == "\n".join(line.rstrip() for line in TEXT.strip("\n").splitlines())
    again = World.from_text(w.to_text())
    assert np.array_equal(again.walls, w.walls) and np.array_equal(again.markers, w.markers)


@pytest.mark.parametrize(
    "text, message",
    [
        ("# # #\n# > #\n# #", "same number of cells"),
        ("# # #\n# . #\n# # #", "exactly one agent"),
        ("# > #\n# < #", "exactly one agent"),
        ("# > 11", "row 0, column 2"),
        ("# > x", "row 0, column 2"),
    ],
)
def test_text_errors_name_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        World.from_text(text)


def test_agent_on_a_wall_cell_round_trips():
    w = World.from_text("#v # #\n# . #")
    assert w.walls[0, 0] and (w.row, w.col, w.direction) == (0, 0, 2)
    assert World.from_text(w.to_text()).to_text() == w.to_text()


def test_onehot_channels():
    onehot = Worlds.stack([World.from_text(TEXT)]).to_onehot()  # [1, 16, H, W]
    assert onehot.shape == (1, 16, 4, 5) and onehot.dtype == torch.bool
    assert onehot[0, 1, 1, 1] and onehot[0, :4].sum() == 1  # agent facing East
    assert onehot[0, 4].sum() == 15  # walls
    assert onehot[0, 5 + 2, 1, 1] and onehot[0, 5 + 10, 1, 3] and onehot[0, 5, 1, 2]
    assert (onehot[0, 5:].sum(0) == 1).all()  # exactly one marker-count channel per cell, "0 markers" included


def test_onehot_round_trip_on_random_worlds():
    rng = np.random.default_rng(0)
    worlds = []
    for _ in range(20):
        walls = rng.random((6, 7)) < 0.2
        markers = rng.integers(0, 11, (6, 7))
        worlds.append(World(walls, markers, int(rng.integers(6)), int(rng.integers(7)), int(rng.integers(4))))
    batch = Worlds.stack(worlds)
    back = Worlds.from_onehot(batch.to_onehot().float())
    for field in ("walls", "markers", "row", "col", "direction"):
        assert torch.equal(getattr(back, field), getattr(batch, field)), field
    assert [back.to_text(i) for i in range(20)] == [w.to_text() for w in worlds]


def test_from_onehot_rejects_missing_or_extra_agents():
    onehot = Worlds.stack([World.from_text(TEXT)]).to_onehot()
    onehot[0, 2, 2, 1] = True
    with pytest.raises(ValueError, match="world 0 has 2 agent channels"):
        Worlds.from_onehot(onehot)
    with pytest.raises(ValueError, match=r"\[N, 16, H, W\]"):
        Worlds.from_onehot(onehot[0])


def test_batch_selection_and_unstacking():
    a, b = World.from_text(TEXT), World.from_text(TEXT)
    b.row, b.col = 2, 1
    batch = Worlds.stack([a, b])
    assert len(batch) == 2 and (batch.height, batch.width) == (4, 5)
    picked = batch[torch.tensor([1])]
    assert len(picked) == 1 and picked.world(0).row == 2
    assert batch[1].world(0).to_text() == b.to_text()
    assert batch.markers.dtype == torch.uint8 and batch.row.dtype == torch.int64


def test_step_semantics_on_a_single_world():
    w = World.from_text("# # # #\n# > 10 #\n# # # #")
    assert w.step(0) and w.col == 2  # move
    assert not w.step(4) and w.markers[1, 2] == 10  # put on a full cell: illegal, no-op
    assert not w.step(0) and w.direction == 3  # bump: turn around
    assert w.step(3) and w.markers[1, 2] == 9
    w.direction = 1
    assert not w.step(0, crashable=True) and w.direction == 1 and w.col == 2  # crashable: unchanged


def test_single_world_onehot_matches_the_batched_view():
    w = World.from_text(TEXT)
    assert np.array_equal(Worlds.stack([w]).to_onehot()[0].numpy(), w.to_onehot())
