"""The WHILE loop detector of the reference, batched: hashed state keys in a bounded per-episode table.

The reference remembers, per WHILE node and episode, the keys of the states seen at the start of the
node's body iterations, and ends the episode when a key repeats. Its key is the decimal digits of row,
column, direction and every marker count concatenated without separators (`World.loop_key`), so we hash
exactly that digit string: three polynomial hashes modulo primes near 2^31, 93 bits in all. Equal keys
always give equal hashes; a false repeat needs a collision of all three (probability about 1e-19 per
comparison for keys of a few hundred digits), which we accept as exact.

Memory is bounded: each episode has room for `capacity` (node, hash) entries. An episode that would need
more is flagged `overflow`, and the executor re-runs it with the reference interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from karel.world import Worlds

_MODULI = (2_147_483_647, 2_147_483_629, 2_147_483_587)  # primes below 2^31: products fit in int64
_BASES = (1_000_003, 911_382_323, 972_663_749)


def _powers(base: int, modulus: int, length: int, device: torch.device) -> torch.Tensor:
    powers, value = [], 1
    for _ in range(length):
        powers.append(value)
        value = value * base % modulus
    return torch.tensor(powers, dtype=torch.int64, device=device)


def _digits(values: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Decimal digits of non-negative ints, most significant first, left-aligned in `width` slots.

    Returns digits [..., width] (0 in unused slots) and lengths [...]."""
    length = torch.ones_like(values)
    for k in range(1, width):
        length = length + (values >= 10**k).long()
    slots = torch.arange(width, device=values.device)
    exponent = (length.unsqueeze(-1) - 1 - slots).clamp(min=0)  # [..., width]
    digits = values.unsqueeze(-1) // (10**exponent) % 10
    return torch.where(slots < length.unsqueeze(-1), digits, 0), length


class KeyHasher:
    """Hashes of (WHILE node, reference loop key) for batches of worlds of one size.

    The hash of a digit string d_0 d_1 ... d_{L-1} is sum_j (d_j + 1) B^j + L B^S (mod p), for three
    (B, p) pairs, where S exceeds every string length; the WHILE node is folded in as (node + 1) B^(S+1).
    Worlds without a 10-marker cell take a fast path (every cell is one digit at a fixed offset after the
    position digits, so the cell part is one float64 matrix product, exact below 2^53); the others lay out
    their digits one by one. Both compute the same function of the digit string.
    """

    def __init__(self, height: int, width: int, device: torch.device):
        self.coord_width = len(str(max(height, width) - 1))
        self.cells = height * width
        self.span = 2 * self.coord_width + 1 + 2 * self.cells + 1  # S: longer than any key string
        self.powers = torch.stack(
            [_powers(b, m, self.span + 2, device) for b, m in zip(_BASES, _MODULI)], 1
        )  # [S+2, 3]
        self.moduli = torch.tensor(_MODULI, dtype=torch.int64, device=device)  # [3]
        self.cell_powers = self.powers[: self.cells].double()  # [H*W, 3]

    def __call__(self, worlds: Worlds, node: torch.Tensor) -> torch.Tensor:
        """[M, 2] int64 keys of `worlds` at WHILE nodes `node` [M]: two packed 31-bit hashes, one more."""
        markers = worlds.markers.flatten(1)  # [M, H*W]
        has_ten = (markers == 10).any(1)
        hashes = torch.empty(len(worlds), 3, dtype=torch.int64, device=markers.device)
        fast = ~has_ten
        prefix, prefix_length = self._position_hash(worlds.row, worlds.col, worlds.direction)  # [M, 3], [M]
        cell_sum = ((markers.double() + 1) @ self.cell_powers).long() % self.moduli  # [M, 3]
        fast_hash = prefix + self.powers[prefix_length] * cell_sum % self.moduli
        fast_hash = fast_hash + (prefix_length + self.cells).unsqueeze(1) * self.powers[self.span]
        hashes = torch.where(fast.unsqueeze(1), fast_hash, 0)
        if has_ten.any():  # rare: a cell with 10 markers is two digits and shifts every later cell
            slow = has_ten.nonzero().flatten()
            hashes[slow] = self._general_hash(worlds[slow])
        hashes = (hashes + (node + 1).unsqueeze(1) * self.powers[self.span + 1]) % self.moduli
        return torch.stack([hashes[:, 0] << 31 | hashes[:, 1], hashes[:, 2]], 1)

    def _position_hash(self, row, col, direction) -> tuple[torch.Tensor, torch.Tensor]:
        """Hash terms and length of the digits of row, col and direction."""
        digits, lengths = _digits(torch.stack([row, col, direction], 1), self.coord_width)  # [M, 3, w], [M, 3]
        starts = torch.cumsum(lengths, 1) - lengths  # [M, 3]
        slot = torch.arange(self.coord_width, device=row.device)
        offset = starts.unsqueeze(2) + slot  # [M, 3, w]
        used = slot < lengths.unsqueeze(2)
        terms = (digits + 1).unsqueeze(3) * self.powers[offset.clamp(max=self.span)] % self.moduli  # [M, 3, w, 3]
        return torch.where(used.unsqueeze(3), terms, 0).sum((1, 2)) % self.moduli, lengths.sum(1)

    def _general_hash(self, worlds: Worlds) -> torch.Tensor:
        """Hash without the fast path's assumption, digit by digit (before folding in the node)."""
        device = worlds.markers.device
        pos = torch.stack([worlds.row, worlds.col, worlds.direction], 1)  # [M, 3]
        pos_digits, pos_length = _digits(pos, self.coord_width)  # [M, 3, w], [M, 3]
        markers = worlds.markers.flatten(1).long()  # [M, H*W]
        cell_digits, cell_length = _digits(markers, 2)  # [M, H*W, 2], [M, H*W]
        digits = torch.cat([pos_digits.flatten(1), cell_digits.flatten(1)], 1)  # [M, D]
        lengths = torch.cat([pos_length, cell_length], 1)  # [M, F]
        width = [self.coord_width] * 3 + [2] * self.cells
        starts = torch.cumsum(lengths, 1) - lengths  # [M, F]
        slot = torch.cat([torch.arange(w, device=device) for w in width])  # [D]
        field = torch.repeat_interleave(torch.arange(len(width), device=device), torch.tensor(width, device=device))
        offset = (starts[:, field] + slot).clamp(max=self.span)  # [M, D]
        used = slot < lengths[:, field]  # [M, D]
        terms = (digits + 1).unsqueeze(2) * self.powers[offset] % self.moduli  # [M, D, 3]
        total = lengths.sum(1, keepdim=True)  # [M, 1]
        return (torch.where(used.unsqueeze(2), terms, 0).sum(1) + total * self.powers[self.span]) % self.moduli


@dataclass
class LoopTable:
    """Per-episode tables of (WHILE node, loop key) hashes, `capacity` entries per episode."""

    high: torch.Tensor  # [N, C] int64 packed hashes 1 and 2; unused entries hold -1 (never a hash)
    low: torch.Tensor  # [N, C] int64 hash 3
    size: torch.Tensor  # [N] int64 entries used

    @classmethod
    def empty(cls, n: int, capacity: int, device: torch.device) -> LoopTable:
        return cls(
            high=torch.full((n, capacity), -1, dtype=torch.int64, device=device),
            low=torch.full((n, capacity), -1, dtype=torch.int64, device=device),
            size=torch.zeros(n, dtype=torch.int64, device=device),
        )

    def select(self, index: torch.Tensor) -> LoopTable:
        return LoopTable(self.high[index], self.low[index], self.size[index])

    def check_and_add(self, rows: torch.Tensor, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For episodes `rows` [M] with keys `keys` [M, 2] (from `KeyHasher`): return (seen [M] bool,
        overflow [M] bool) and record the keys not seen before."""
        seen = ((self.high[rows] == keys[:, :1]) & (self.low[rows] == keys[:, 1:])).any(1)  # [M]
        size = self.size[rows]
        overflow = ~seen & (size >= self.high.shape[1])
        add = ~seen & ~overflow
        add_rows, slot = rows[add], size[add]
        self.high[add_rows, slot] = keys[add, 0]
        self.low[add_rows, slot] = keys[add, 1]
        self.size[add_rows] += 1
        return seen, overflow
