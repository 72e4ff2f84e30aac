"""Compile program ASTs to flat instruction tables for the batched executor.

One instruction per action, condition test, REPEAT set-up and REPEAT test; jumps are folded into each
instruction's successor fields, so every executed instruction is an action, a perception query or a
REPEAT counter operation (which costs no call). A row of the table is
`(op, arg, negate, next, alt, slot)`:

| op          | meaning                                                                                 |
|-------------|-----------------------------------------------------------------------------------------|
| ACT         | execute action `arg`, then go to `next`                                                 |
| TEST        | query perception `arg` (one call), xor `negate`; true: `next`, false: `alt` (IF, IFELSE) |
| WHILE       | as TEST; when true, run the loop detector of WHILE node `slot` before going to `next`    |
| REPEAT_SET  | counter `slot` = `arg`, go to `next` (the REPEAT_TEST)                                   |
| REPEAT_TEST | counter `slot` > 0: decrement it and go to `next` (the body); else go to `alt`           |
| HALT        | the program has ended                                                                   |

`negate` is the parity of the `not`s around the perception (a `not` costs no call). WHILE nodes and
REPEAT nodes are numbered per program (`slot`), which gives each WHILE node its own
loop-detector history, as in the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from karel.program import Act, Cond, Feature, If, Program, Repeat, Stmt, While

if TYPE_CHECKING:
    import torch


class Op(IntEnum):
    ACT = 0
    TEST = 1
    WHILE = 2
    REPEAT_SET = 3
    REPEAT_TEST = 4
    HALT = 5


FIELDS = 6  # op, arg, negate, next, alt, slot


@dataclass(frozen=True)
class CompiledPrograms:
    """Instruction tables of P programs, padded with HALT rows to a common length."""

    code: torch.Tensor  # [P, L, 6] int64: (op, arg, negate, next, alt, slot); pc 0 is the entry
    num_whiles: int  # most WHILE nodes in one program
    num_repeats: int  # most REPEAT nodes in one program

    def __len__(self) -> int:
        return self.code.shape[0]

    def to(self, device: torch.device | str) -> CompiledPrograms:
        return CompiledPrograms(self.code.to(device), self.num_whiles, self.num_repeats)


class _Builder:
    def __init__(self):
        self.rows: list[list[int]] = []
        self.whiles = 0
        self.repeats = 0

    def emit(self, op: Op, arg: int = 0, negate: int = 0, slot: int = 0) -> int:
        self.rows.append([int(op), arg, negate, -1, -1, slot])
        return len(self.rows) - 1

    def block(self, stmts: Sequence[Stmt], cont: int) -> int:
        """Emit `stmts` so that control flows on to pc `cont`; return the block's entry pc."""
        entry = cont
        for stmt in reversed(stmts):
            entry = self.stmt(stmt, entry)
        return entry

    def stmt(self, stmt: Stmt, cont: int) -> int:
        if isinstance(stmt, Act):
            pc = self.emit(Op.ACT, int(stmt.action))
            self.rows[pc][3] = cont
            return pc
        if isinstance(stmt, While):
            perception, negate = _flatten(stmt.cond)
            head = self.emit(Op.WHILE, perception, negate, slot=self.whiles)
            self.whiles += 1
            self.rows[head][3] = self.block(stmt.body, head)
            self.rows[head][4] = cont
            return head
        if isinstance(stmt, Repeat):
            setup = self.emit(Op.REPEAT_SET, stmt.count, slot=self.repeats)
            test = self.emit(Op.REPEAT_TEST, slot=self.repeats)
            self.repeats += 1
            self.rows[setup][3] = test
            self.rows[test][3] = self.block(stmt.body, test)
            self.rows[test][4] = cont
            return setup
        perception, negate = _flatten(stmt.cond)
        head = self.emit(Op.TEST, perception, negate)
        if isinstance(stmt, If):
            self.rows[head][3] = self.block(stmt.body, cont)
            self.rows[head][4] = cont
        else:  # IfElse
            self.rows[head][3] = self.block(stmt.then, cont)
            self.rows[head][4] = self.block(stmt.orelse, cont)
        return head


def _flatten(cond: Cond) -> tuple[int, int]:
    """(perception id, parity of the enclosing nots)."""
    negate = 0
    while not isinstance(cond, Feature):
        negate ^= 1
        cond = cond.cond
    return int(cond.perception), negate


def compile_program(program: Program) -> tuple[list[list[int]], int, int]:
    """Rows of one program with the entry at pc 0, plus its WHILE and REPEAT node counts."""
    builder = _Builder()
    builder.emit(Op.HALT)  # placeholder for the entry jump, replaced below
    halt = builder.emit(Op.HALT)
    entry = builder.block(program.body, halt)
    # pc 0 must be the entry: move the entry row there and point its referrers at 0.
    rows = builder.rows
    rows[0] = rows[entry]
    rows[entry] = [int(Op.HALT), 0, 0, -1, -1, 0]
    for row in rows:
        for f in (3, 4):
            if row[f] == entry:
                row[f] = 0
    return rows, builder.whiles, builder.repeats


def instruction_table(programs: Sequence[Program]) -> tuple[np.ndarray, int, int]:
    """The `[P, L, 6]` int64 table of P programs padded with HALT rows to a common length, the most WHILE
    nodes and the most REPEAT nodes in one program."""
    compiled = [compile_program(p) for p in programs]
    length = max(len(rows) for rows, _, _ in compiled)
    halt = [int(Op.HALT), 0, 0, -1, -1, 0]
    table = [rows + [halt] * (length - len(rows)) for rows, _, _ in compiled]
    code = np.array(table, dtype=np.int64).reshape(len(programs), length, FIELDS)
    return code, max((w for _, w, _ in compiled), default=0), max((r for _, _, r in compiled), default=0)


def compile_programs(programs: Sequence[Program], device: torch.device | str = "cpu") -> CompiledPrograms:
    """Compile and pad P programs into one `[P, L, 6]` table."""
    import torch

    code, whiles, repeats = instruction_table(programs)
    return CompiledPrograms(code=torch.from_numpy(code).to(device), num_whiles=whiles, num_repeats=repeats)
