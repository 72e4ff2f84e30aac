"""Program AST: small frozen dataclasses, each printing its own canonical tokens.

A program's identity is its canonical text (`to_text`): tokens separated by single spaces, e.g.
`DEF run m( WHILE c( frontIsClear c) w( move w) m)`. Blocks are tuples of statements and are never
empty. Nodes are values: two equal subtrees compare equal, so code that needs per-position state (the
loop detector) keys it by position, not by node.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from karel.dsl import MAX_BLOCK_LENGTH, MAX_NESTING, MAX_TOKENS, TOKEN_ID, Action, Perception


@dataclass(frozen=True)
class Feature:
    """A perception query, e.g. `frontIsClear`, or a parametric one with its argument, e.g. MiniGrid's
    `front_object_type h( lava h)`. `perception` is a member of the language's perception enum."""

    perception: Perception | IntEnum
    argument: str | None = None

    def tokens(self) -> list[str]:
        if self.argument is None:
            return [self.perception.name]
        return [self.perception.name, "h(", self.argument, "h)"]


@dataclass(frozen=True)
class Not:
    """`not c( cond c)`."""

    cond: Cond

    def tokens(self) -> list[str]:
        return ["not", "c(", *self.cond.tokens(), "c)"]


Cond = Feature | Not


@dataclass(frozen=True)
class Act:
    """One action statement, e.g. `move`."""

    action: Action | IntEnum  # a member of the language's action enum

    def tokens(self) -> list[str]:
        return [self.action.name]


@dataclass(frozen=True)
class While:
    cond: Cond
    body: tuple[Stmt, ...]

    def tokens(self) -> list[str]:
        return ["WHILE", "c(", *self.cond.tokens(), "c)", "w(", *block_tokens(self.body), "w)"]


@dataclass(frozen=True)
class Repeat:
    count: int  # 0..19
    body: tuple[Stmt, ...]

    def tokens(self) -> list[str]:
        return ["REPEAT", f"R={self.count}", "r(", *block_tokens(self.body), "r)"]


@dataclass(frozen=True)
class If:
    cond: Cond
    body: tuple[Stmt, ...]

    def tokens(self) -> list[str]:
        return ["IF", "c(", *self.cond.tokens(), "c)", "i(", *block_tokens(self.body), "i)"]


@dataclass(frozen=True)
class IfElse:
    cond: Cond
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]

    def tokens(self) -> list[str]:
        return [
            "IFELSE", "c(", *self.cond.tokens(), "c)",
            "i(", *block_tokens(self.then), "i)", "ELSE", "e(", *block_tokens(self.orelse), "e)",
        ]  # fmt: skip


Stmt = Act | While | Repeat | If | IfElse
CONTROL = (While, Repeat, If, IfElse)


@dataclass(frozen=True)
class Program:
    """`DEF run m( body m)`."""

    body: tuple[Stmt, ...]

    def tokens(self) -> list[str]:
        return ["DEF", "run", "m(", *block_tokens(self.body), "m)"]

    def __str__(self) -> str:
        return to_text(self)


def block_tokens(block: tuple[Stmt, ...]) -> list[str]:
    return [token for stmt in block for token in stmt.tokens()]


def to_text(program: Program) -> str:
    """Canonical text of a program: its tokens joined by single spaces."""
    return " ".join(program.tokens())


def to_ids(program: Program) -> list[int]:
    """LEAPS token ids of a program, `DEF run m( ... m)` included, no padding."""
    return [TOKEN_ID[token] for token in program.tokens()]


def blocks(stmt: Stmt | Program) -> tuple[tuple[Stmt, ...], ...]:
    """The statement blocks directly inside a node (none for an action)."""
    if isinstance(stmt, (Program, While, Repeat, If)):
        return (stmt.body,)
    if isinstance(stmt, IfElse):
        return (stmt.then, stmt.orelse)
    return ()


def num_tokens(program: Program) -> int:
    """Token count including `DEF run m( ... m)`."""
    return len(program.tokens())


def nesting_depth(node: Program | Stmt) -> int:
    """Deepest chain of nested control structures (WHILE, REPEAT, IF, IFELSE); 0 for straight-line code."""
    inner = max((nesting_depth(s) for block in blocks(node) for s in block), default=0)
    return inner + (1 if isinstance(node, CONTROL) else 0)


def max_block_length(node: Program | Stmt) -> int:
    """Most statements in any one block of the program."""
    return max(
        (max(len(block), *(max_block_length(s) for s in block)) for block in blocks(node)),
        default=0,
    )


def within_search_limits(program: Program) -> bool:
    """True if the program satisfies the program-space search limits of SPEC section 3."""
    return (
        nesting_depth(program) <= MAX_NESTING
        and max_block_length(program) <= MAX_BLOCK_LENGTH
        and num_tokens(program) <= MAX_TOKENS
    )
