"""Program AST: small frozen dataclasses, each printing its own canonical tokens.

A program's identity is its canonical text (`to_text`): tokens separated by single spaces, e.g.
`DEF run m( WHILE c( frontIsClear c) w( move w) m)`. Blocks are tuples of statements and are never
empty. Printing is iterative (`node_tokens`), so a program of any depth prints. Nodes are values: two
equal subtrees compare equal, so code that needs per-position state (the loop detector) keys it by
position, not by node.
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

    def parts(self) -> list:
        return ["not", "c(", self.cond, "c)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)


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

    def parts(self) -> list:
        return ["WHILE", "c(", self.cond, "c)", "w(", self.body, "w)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)


@dataclass(frozen=True)
class Repeat:
    count: int  # 0..19
    body: tuple[Stmt, ...]

    def parts(self) -> list:
        return ["REPEAT", f"R={self.count}", "r(", self.body, "r)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)


@dataclass(frozen=True)
class If:
    cond: Cond
    body: tuple[Stmt, ...]

    def parts(self) -> list:
        return ["IF", "c(", self.cond, "c)", "i(", self.body, "i)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)


@dataclass(frozen=True)
class IfElse:
    cond: Cond
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]

    def parts(self) -> list:
        return ["IFELSE", "c(", self.cond, "c)", "i(", self.then, "i)", "ELSE", "e(", self.orelse, "e)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)


Stmt = Act | While | Repeat | If | IfElse
CONTROL = (While, Repeat, If, IfElse)


@dataclass(frozen=True)
class Program:
    """`DEF run m( body m)`."""

    body: tuple[Stmt, ...]

    def parts(self) -> list:
        return ["DEF", "run", "m(", self.body, "m)"]

    def tokens(self) -> list[str]:
        return node_tokens(self)

    def __str__(self) -> str:
        return to_text(self)


def node_tokens(node) -> list[str]:
    """The canonical tokens of a node, printed with an explicit stack (no recursion: any depth prints).
    Each composite node lists its `parts()`: tokens, sub-nodes and blocks (tuples of statements)."""
    tokens: list[str] = []
    stack: list = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            tokens.append(item)
        elif isinstance(item, tuple):  # a block
            stack.extend(reversed(item))
        elif isinstance(item, (Act, Feature)):
            tokens.extend(item.tokens())
        else:
            stack.extend(reversed(item.parts()))
    return tokens


def block_tokens(block: tuple[Stmt, ...]) -> list[str]:
    return node_tokens(block)


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
