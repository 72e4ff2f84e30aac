"""Karel worlds: one mutable world for the reference interpreter, and a batch of worlds as tensors.

`World` is one world in plain numpy, mutated in place by the reference interpreter and the task rules.
`Worlds` is the batch-first, immutable tensor form (on any device) that the batched executor, datasets and
models use; `Worlds.stack` and `Worlds.world` convert between the two.

Text form (for tests and docs): one line per row, cells separated by spaces. A cell is `.` when empty,
otherwise the concatenation of `#` (wall), an agent arrow `^ > v <` (facing N, E, S, W) and a marker count
1..10, in that order, e.g. `#`, `3`, `>`, `v2`. Columns are padded to a common width.

One-hot view (LEAPS): 16 channels, 0-3 agent facing N/E/S/W, 4 wall, 5 + k "exactly k markers" for
k = 0..10; channels-first `[N, 16, H, W]` here (the HDF5 dataset stores `[H, W, 16]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from karel.dsl import DIRECTION_STEP, MAX_MARKERS, Action, Perception

NUM_CHANNELS = 16
WALL_CHANNEL = 4
MARKER_CHANNEL = 5  # channel of "0 markers"; k markers is MARKER_CHANNEL + k
ARROWS = "^>v<"

if TYPE_CHECKING:  # torch loads with the first batch of worlds: `karel eval` on the CPU never needs it
    import torch


@dataclass
class World:
    """One Karel world, mutable. Rows grow downward; the agent may stand on any cell."""

    walls: np.ndarray  # [H, W] bool
    markers: np.ndarray  # [H, W] int64, 0..10
    row: int
    col: int
    direction: int  # Direction: 0 N, 1 E, 2 S, 3 W

    @property
    def height(self) -> int:
        return self.walls.shape[0]

    @property
    def width(self) -> int:
        return self.walls.shape[1]

    def copy(self) -> World:
        return World(self.walls.copy(), self.markers.copy(), self.row, self.col, self.direction)

    def is_clear(self, row: int, col: int) -> bool:
        """Inside the grid and not a wall."""
        return 0 <= row < self.height and 0 <= col < self.width and not self.walls[row, col]

    def _neighbour_clear(self, turn: int) -> bool:
        dr, dc = DIRECTION_STEP[(self.direction + turn) % 4]
        return self.is_clear(self.row + dr, self.col + dc)

    def perceive(self, perception: Perception) -> bool:
        if perception == Perception.frontIsClear:
            return self._neighbour_clear(0)
        if perception == Perception.leftIsClear:
            return self._neighbour_clear(-1)
        if perception == Perception.rightIsClear:
            return self._neighbour_clear(1)
        present = bool(self.markers[self.row, self.col] > 0)
        return present if perception == Perception.markersPresent else not present

    def step(self, action: Action, crashable: bool = False, max_markers: int = MAX_MARKERS) -> bool:
        """Apply one action in place; return False if it was illegal.

        Illegal actions: `move` into a wall or off the grid, `pickMarker` on an empty cell, `putMarker` on a
        full cell (`max_markers`: 10, or 9 under LEAPS' own evaluation). Non-crashable (LEAPS behaviour): a
        blocked move turns the agent 180 degrees, an illegal pick or put does nothing. Crashable: the world
        is left unchanged and the caller ends the episode.
        """
        if action == Action.move:
            dr, dc = DIRECTION_STEP[self.direction]
            if self.is_clear(self.row + dr, self.col + dc):
                self.row, self.col = self.row + dr, self.col + dc
                return True
            if not crashable:
                self.turn_around()
            return False
        if action == Action.turnLeft:
            self.direction = (self.direction - 1) % 4
            return True
        if action == Action.turnRight:
            self.direction = (self.direction + 1) % 4
            return True
        count = self.markers[self.row, self.col]
        if action == Action.pickMarker:
            if count == 0:
                return False
            self.markers[self.row, self.col] = count - 1
            return True
        if count >= max_markers:
            return False
        self.markers[self.row, self.col] = count + 1
        return True

    def turn_around(self) -> None:
        self.direction = (self.direction + 2) % 4

    def to_onehot(self) -> np.ndarray:
        """The LEAPS one-hot view of this world, `[16, H, W]` bool (as `Worlds.to_onehot`)."""
        onehot = np.zeros((NUM_CHANNELS, self.height, self.width), dtype=bool)
        onehot[self.direction, self.row, self.col] = True
        onehot[WALL_CHANNEL] = self.walls
        np.put_along_axis(onehot, (MARKER_CHANNEL + self.markers)[None], True, axis=0)
        return onehot

    def loop_key(self) -> str:
        """The LLM-GS loop-detector key: decimal digits of row, col, direction and every marker count,
        concatenated without separators (walls excluded). Distinct states can share a key, e.g. agent
        (1, 13) and (11, 3) with equal markers; the reference treats them as equal and so do we."""
        return f"{self.row}{self.col}{self.direction}" + "".join(map(str, self.markers.ravel().tolist()))

    def to_text(self) -> str:
        return format_text([[self._cell_text(r, c) for c in range(self.width)] for r in range(self.height)])

    def _cell_text(self, r: int, c: int) -> str:
        text = "#" if self.walls[r, c] else ""
        if (r, c) == (self.row, self.col):
            text += ARROWS[self.direction]
        if self.markers[r, c]:
            text += str(int(self.markers[r, c]))
        return text or "."

    @classmethod
    def from_text(cls, text: str) -> World:
        """Parse the text form; raises ValueError naming the row and column of a bad cell."""
        rows = [line.split() for line in text.strip("\n").splitlines() if line.strip()]
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise ValueError("world text must have the same number of cells on every row")
        walls = np.zeros((len(rows), len(rows[0])), dtype=bool)
        markers = np.zeros(walls.shape, dtype=np.int64)
        agents = []
        for r, cells in enumerate(rows):
            for c, cell in enumerate(cells):
                rest = cell
                if rest.startswith("#"):
                    walls[r, c], rest = True, rest[1:]
                if rest[:1] and rest[0] in ARROWS:
                    agents.append((r, c, ARROWS.index(rest[0])))
                    rest = rest[1:]
                if rest in ("", ".") and cell != "":
                    continue
                if not rest.isdigit() or not 1 <= int(rest) <= MAX_MARKERS:
                    raise ValueError(f"row {r}, column {c}: cannot read cell {cell!r}")
                markers[r, c] = int(rest)
        if len(agents) != 1:
            raise ValueError(f"world text must place exactly one agent (^ > v <), found {len(agents)}")
        return cls(walls, markers, *agents[0])


def format_text(cells: list[list[str]]) -> str:
    width = max(len(cell) for row in cells for cell in row)
    return "\n".join(" ".join(cell.ljust(width) for cell in row).rstrip() for row in cells)


@dataclass(frozen=True)
class Worlds:
    """A batch of N Karel worlds of one size, as tensors on one device."""

    walls: torch.Tensor  # [N, H, W] bool
    markers: torch.Tensor  # [N, H, W] uint8, 0..10
    row: torch.Tensor  # [N] int64
    col: torch.Tensor  # [N] int64
    direction: torch.Tensor  # [N] int64, 0 N, 1 E, 2 S, 3 W

    def __len__(self) -> int:
        return self.walls.shape[0]

    @property
    def height(self) -> int:
        return self.walls.shape[1]

    @property
    def width(self) -> int:
        return self.walls.shape[2]

    @property
    def device(self) -> torch.device:
        return self.walls.device

    def to(self, device: torch.device | str) -> Worlds:
        return Worlds(*(getattr(self, f).to(device) for f in _FIELDS))

    def __getitem__(self, index) -> Worlds:
        """Select worlds with an int tensor, a bool mask or a slice; the result is still batched."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Worlds(*(getattr(self, f)[index] for f in _FIELDS))

    @classmethod
    def stack(cls, worlds: Sequence[World], device: torch.device | str = "cpu") -> Worlds:
        """Batch single worlds of equal size."""
        import torch

        return cls(
            walls=torch.as_tensor(np.stack([w.walls for w in worlds]), device=device),
            markers=torch.as_tensor(np.stack([w.markers for w in worlds]).astype(np.uint8), device=device),
            row=torch.tensor([w.row for w in worlds], dtype=torch.int64, device=device),
            col=torch.tensor([w.col for w in worlds], dtype=torch.int64, device=device),
            direction=torch.tensor([w.direction for w in worlds], dtype=torch.int64, device=device),
        )

    def world(self, i: int) -> World:
        """World i as a mutable numpy `World` (copied to the CPU)."""
        return World(
            walls=self.walls[i].cpu().numpy().copy(),
            markers=self.markers[i].cpu().numpy().astype(np.int64),
            row=int(self.row[i]),
            col=int(self.col[i]),
            direction=int(self.direction[i]),
        )

    def to_onehot(self) -> torch.Tensor:
        """The LEAPS one-hot view, `[N, 16, H, W]` bool; the "0 markers" channel is set on empty cells."""
        import torch

        n, h, w = self.walls.shape
        onehot = torch.zeros(n, NUM_CHANNELS, h, w, dtype=torch.bool, device=self.device)
        idx = torch.arange(n, device=self.device)
        onehot[idx, self.direction, self.row, self.col] = True
        onehot[:, WALL_CHANNEL] = self.walls
        onehot.scatter_(1, (MARKER_CHANNEL + self.markers.long()).unsqueeze(1), True)  # [N, 1, H, W] index
        return onehot

    @classmethod
    def from_onehot(cls, onehot: torch.Tensor) -> Worlds:
        """Inverse of `to_onehot` for `[N, 16, H, W]` (any dtype, nonzero = set). A cell with no marker
        channel set reads as 0 markers. Raises ValueError unless each world has exactly one agent cell."""
        import torch

        if onehot.dim() != 4 or onehot.shape[1] != NUM_CHANNELS:
            raise ValueError(f"expected a one-hot tensor of shape [N, 16, H, W], got {list(onehot.shape)}")
        onehot = onehot != 0
        agent = onehot[:, :4].flatten(1)  # [N, 4*H*W]
        counts = agent.sum(1)
        if (counts != 1).any():
            bad = int((counts != 1).nonzero()[0, 0])
            raise ValueError(f"world {bad} has {int(counts[bad])} agent channels set, expected exactly 1")
        h, w = onehot.shape[2:]
        flat = agent.float().argmax(1)  # [N] index into 4*H*W
        direction, cell = flat // (h * w), flat % (h * w)
        return cls(
            walls=onehot[:, WALL_CHANNEL].clone(),
            markers=onehot[:, MARKER_CHANNEL:].float().argmax(1).to(torch.uint8),  # [N, H, W]
            row=cell // w,
            col=cell % w,
            direction=direction,
        )

    @classmethod
    def from_text(cls, *texts: str, device: torch.device | str = "cpu") -> Worlds:
        return cls.stack([World.from_text(t) for t in texts], device=device)

    def to_text(self, i: int = 0) -> str:
        return self.world(i).to_text()


_FIELDS = ("walls", "markers", "row", "col", "direction")
