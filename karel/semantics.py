"""Batched Karel semantics: perceptions and actions on `Worlds`, as pure functions.

The same rules as `World.perceive` and `World.step` (the reference), for N worlds at once on any device:
`perceive(worlds) -> [N, 5]` and `step(worlds, actions) -> (Worlds, legal)`. Nothing here branches on
tensor values, so the functions never synchronise with the device.
"""

from __future__ import annotations

import torch

from karel.dsl import DIRECTION_STEP, MAX_MARKERS, Action
from karel.world import Worlds

_STEP_TABLE = torch.tensor(DIRECTION_STEP, dtype=torch.int64)  # [4, 2] (d_row, d_col) per direction


def _steps(direction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    table = _STEP_TABLE.to(direction.device)[direction]  # [N, 2]
    return table[:, 0], table[:, 1]


def is_clear(worlds: Worlds, row: torch.Tensor, col: torch.Tensor) -> torch.Tensor:
    """[N] bool: cell (row[i], col[i]) of world i is inside the grid and not a wall."""
    inside = (row >= 0) & (row < worlds.height) & (col >= 0) & (col < worlds.width)
    n = torch.arange(len(worlds), device=worlds.device)
    wall = worlds.walls[n, row.clamp(0, worlds.height - 1), col.clamp(0, worlds.width - 1)]  # [N]
    return inside & ~wall


def neighbour_clear(worlds: Worlds, turn: int) -> torch.Tensor:
    """[N] bool: the cell in direction (heading + turn) is clear; turn 0 front, -1 left, +1 right."""
    d_row, d_col = _steps((worlds.direction + turn) % 4)
    return is_clear(worlds, worlds.row + d_row, worlds.col + d_col)


def markers_here(worlds: Worlds) -> torch.Tensor:
    """[N] marker count under the agent (same dtype as `markers`)."""
    n = torch.arange(len(worlds), device=worlds.device)
    return worlds.markers[n, worlds.row, worlds.col]


_TURN_OF_PERCEPTION = torch.tensor([0, -1, 1, 0, 0], dtype=torch.int64)  # front, left, right, then markers


def query(worlds: Worlds, perception: torch.Tensor) -> torch.Tensor:
    """[N] bool: perception `perception[n]` (ids 0..4, taken modulo 5) evaluated in world n."""
    perception = perception % 5
    d_row, d_col = _steps((worlds.direction + _TURN_OF_PERCEPTION.to(perception.device)[perception]) % 4)
    clear = is_clear(worlds, worlds.row + d_row, worlds.col + d_col)
    present = markers_here(worlds) > 0
    return torch.where(perception < 3, clear, torch.where(perception == 3, present, ~present))


def perceive(worlds: Worlds) -> torch.Tensor:
    """[N, 5] bool: frontIsClear, leftIsClear, rightIsClear, markersPresent, noMarkersPresent."""
    present = markers_here(worlds) > 0
    return torch.stack(
        [neighbour_clear(worlds, 0), neighbour_clear(worlds, -1), neighbour_clear(worlds, 1), present, ~present],
        dim=1,
    )


def step(worlds: Worlds, actions: torch.Tensor, crashable: bool = False) -> tuple[Worlds, torch.Tensor]:
    """Apply one action per world; `actions` [N] int64 with ids 0..4 (other ids leave a world unchanged).

    Returns the new worlds and `legal` [N] bool. Illegal actions as in `World.step`: non-crashable, a
    blocked move turns the agent 180 degrees and an illegal pick or put does nothing; crashable, the world
    is left unchanged. The input is not modified.
    """
    new = Worlds(worlds.walls, worlds.markers.clone(), worlds.row.clone(), worlds.col.clone(), worlds.direction.clone())
    return new, step_(new, actions, crashable)


def step_(worlds: Worlds, actions: torch.Tensor, crashable: bool = False) -> torch.Tensor:
    """`step` in place: updates the tensors of `worlds` (markers, row, col, direction); returns `legal` [N]."""
    n = torch.arange(len(worlds), device=worlds.device)
    d_row, d_col = _steps(worlds.direction)
    ahead_clear = is_clear(worlds, worlds.row + d_row, worlds.col + d_col)
    count = worlds.markers[n, worlds.row, worlds.col]  # [N]

    move = actions == Action.move
    moves = move & ahead_clear
    bumps = move & ~ahead_clear
    pick = (actions == Action.pickMarker) & (count > 0)
    put = (actions == Action.putMarker) & (count < MAX_MARKERS)
    turn = torch.where(actions == Action.turnLeft, -1, 0) + torch.where(actions == Action.turnRight, 1, 0)
    if not crashable:
        turn = turn + torch.where(bumps, 2, 0)

    worlds.markers[n, worlds.row, worlds.col] = count + put.to(count.dtype) - pick.to(count.dtype)
    worlds.row.add_(torch.where(moves, d_row, 0))
    worlds.col.add_(torch.where(moves, d_col, 0))
    worlds.direction.copy_((worlds.direction + turn) % 4)
    return ~bumps & ~((actions == Action.pickMarker) & ~pick) & ~((actions == Action.putMarker) & ~put)
