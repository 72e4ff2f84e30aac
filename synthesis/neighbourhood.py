"""The program-space neighbourhood of hill climbing: replace one node by a freshly sampled subtree.

Reproduces the LLM-GS release (`prog_policies/search_space/programmatic_space.py`, `get_neighbors` and
`_mutate_node`) on our AST. The reference AST writes a block of n >= 2 statements as a right-nested chain
of n - 1 Concatenate nodes, so its nodes (all but the root, chosen uniformly) are, in our terms:

* a chain node: replacing it replaces the statements i.. of a block (i < n - 1) by a fresh Statement slot;
* a statement (action or control structure): replaced by a fresh Statement slot; the slot may hold a
  chain only where the reference's slot may hold a Concatenate (the last statement of a block, or the
  only one; not statements i < n - 1, which are the first child of a Concatenate);
* a condition (a perception or a `not`): a fresh Bool slot (no `not` in an IFELSE condition), and the
  perception inside a `not` (a perception only);
* a REPEAT count: uniform over 0..19.

The replacement's type is drawn from the slot's table with no height or length limit; its children are
filled as in the reference: at the replaced node's height plus the new node's depth (which can count the
replaced node's own level once too many, a reference quirk that only makes fills shallower) and, for a
chain, one statement already placed. A neighbour is kept only if it is within the search limits (at most
3 nested control structures, 6 statements per block, 45 tokens); otherwise the mutation is redrawn from
the parent. Neighbours may equal the parent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from karel.dsl import MAX_BLOCK_LENGTH, MAX_NESTING, MAX_TOKENS
from karel.language import KAREL, Language
from karel.program import (
    Act,
    Cond,
    If,
    IfElse,
    Not,
    Program,
    Repeat,
    Stmt,
    While,
    max_block_length,
    nesting_depth,
    num_tokens,
    within_search_limits,
)
from karel.sampler import (
    SEARCH_MAX_HEIGHT,
    choose,
    sample_condition,
    sample_count,
    sample_single_statement,
    sample_statement,
    statement_table,
)

Rebuild = Callable[[object], Program]  # the program with one site's value replaced


@dataclass(frozen=True)
class Site:
    """One replaceable node of the reference AST: its slot type ("stmt", "bool", "int"), how to put a new
    value in its place, the sampling context of that slot, and what the search limits need to judge a
    replacement without rebuilding the program (`fits`)."""

    slot: str
    rebuild: Rebuild
    height: int = 0  # reference `get_node_current_height` of the node (stmt slots)
    chain: bool = False  # the slot may hold a Concatenate (stmt slots)
    allow_not: bool = True  # the slot may hold a `not` (bool slots)
    old_tokens: int = 0  # tokens of the replaced statements or condition
    kept: int = 0  # statements of the enclosing block that stay (stmt slots)
    controls: int = 0  # control structures around the slot (stmt slots)


def sites(program: Program) -> list[Site]:
    """Every node of the program's reference AST except the root, in pre-order."""
    out: list[Site] = []
    _block_sites(program.body, lambda block: Program(block), 1, out)
    return out


def _tokens(stmts: tuple[Stmt, ...]) -> int:
    return sum(len(s.tokens()) for s in stmts)


def _block_sites(block: tuple[Stmt, ...], rebuild: Callable[[tuple[Stmt, ...]], Program], height: int,
                 out: list[Site]) -> None:  # fmt: skip
    """Sites of a block whose enclosing nodes have total depth `height` (the program counts 1)."""
    n = len(block)
    for i, stmt in enumerate(block):
        if i < n - 1:  # the Concatenate node holding statements i..
            out.append(Site("stmt", lambda new, i=i: rebuild(block[:i] + new), height=height, chain=True,
                            old_tokens=_tokens(block[i:]), kept=i, controls=height - 1))  # fmt: skip
        replace = lambda new, i=i: rebuild(block[:i] + new + block[i + 1 :])
        _stmt_sites(stmt, replace, height, i == n - 1, n - 1, out)


def _stmt_sites(stmt: Stmt, rebuild: Callable[[tuple[Stmt, ...]], Program], height: int, chain: bool, kept: int,
                out: list[Site]) -> None:  # fmt: skip
    control = not isinstance(stmt, Act)
    out.append(Site("stmt", rebuild, height=height + int(control), chain=chain, old_tokens=len(stmt.tokens()),
                    kept=kept, controls=height - 1))  # fmt: skip
    inner = height + 1
    if isinstance(stmt, While):
        _cond_sites(stmt.cond, lambda c: rebuild((While(c, stmt.body),)), True, out)
        _block_sites(stmt.body, lambda b: rebuild((While(stmt.cond, b),)), inner, out)
    elif isinstance(stmt, Repeat):
        out.append(Site("int", lambda n: rebuild((Repeat(n, stmt.body),))))
        _block_sites(stmt.body, lambda b: rebuild((Repeat(stmt.count, b),)), inner, out)
    elif isinstance(stmt, If):
        _cond_sites(stmt.cond, lambda c: rebuild((If(c, stmt.body),)), True, out)
        _block_sites(stmt.body, lambda b: rebuild((If(stmt.cond, b),)), inner, out)
    elif isinstance(stmt, IfElse):
        _cond_sites(stmt.cond, lambda c: rebuild((IfElse(c, stmt.then, stmt.orelse),)), False, out)
        _block_sites(stmt.then, lambda b: rebuild((IfElse(stmt.cond, b, stmt.orelse),)), inner, out)
        _block_sites(stmt.orelse, lambda b: rebuild((IfElse(stmt.cond, stmt.then, b),)), inner, out)


def _cond_sites(cond: Cond, rebuild: Callable[[Cond], Program], allow_not: bool, out: list[Site]) -> None:
    out.append(Site("bool", rebuild, allow_not=allow_not, old_tokens=len(cond.tokens())))
    if isinstance(cond, Not):
        out.append(Site("bool", lambda c: rebuild(Not(c)), allow_not=False, old_tokens=len(cond.cond.tokens())))


def fits(site: Site, value: object, program_tokens: int) -> bool:
    """Whether putting `value` at `site` of a program that is within the search limits (with
    `program_tokens` tokens) keeps it within them: only the replaced part changes."""
    if site.slot == "int":
        return True
    if site.slot == "bool":
        return program_tokens - site.old_tokens + len(value.tokens()) <= MAX_TOKENS
    stmts: tuple[Stmt, ...] = value
    return (
        program_tokens - site.old_tokens + _tokens(stmts) <= MAX_TOKENS
        and site.kept + len(stmts) <= MAX_BLOCK_LENGTH
        and site.controls + max(nesting_depth(s) for s in stmts) <= MAX_NESTING
        and max(max_block_length(s) for s in stmts) <= MAX_BLOCK_LENGTH
    )


def fresh_statements(rng: np.random.Generator, height: int, chain: bool,
                     language: Language = KAREL) -> tuple[Stmt, ...]:  # fmt: skip
    """A replacement for a Statement slot (reference `_mutate_node`): the type from the whole table (a chain
    only if `chain`), children filled at `height` plus the new node's depth, a chain with one statement
    already placed."""
    kind = choose(rng, statement_table(True, chain))
    if kind != "sequence":
        return (sample_single_statement(rng, kind, height, SEARCH_MAX_HEIGHT, MAX_BLOCK_LENGTH, language),)
    first_kind = choose(rng, statement_table(height < SEARCH_MAX_HEIGHT, False))
    first = sample_single_statement(rng, first_kind, height, SEARCH_MAX_HEIGHT, MAX_BLOCK_LENGTH, language)
    return (first, *sample_statement(rng, height, 1, language=language))


def neighbours(program: Program, rng: np.random.Generator, language: Language = KAREL) -> Iterator[Program]:
    """An endless stream of independent neighbours (the reference's `get_neighbors`, drawn lazily: the
    neighbours are independent draws, so drawing them as they are needed gives the same distribution).
    `language` gives the leaves of fresh subtrees: Karel's, or MiniGrid's (`MinigridProgrammaticSpace`,
    same algorithm with its own action and perception tables)."""
    candidates = sites(program)
    tokens = num_tokens(program)
    local = within_search_limits(program)  # else judge each neighbour whole (a start program over the limits)
    while True:
        site = candidates[rng.integers(len(candidates))]
        if site.slot == "stmt":
            value: object = fresh_statements(rng, site.height, site.chain, language)
        elif site.slot == "bool":
            value = sample_condition(rng, site.allow_not, language)
        else:
            value = sample_count(rng)
        if local:
            if fits(site, value, tokens):
                yield site.rebuild(value)
        else:
            neighbour = site.rebuild(value)
            if within_search_limits(neighbour):
                yield neighbour


def mutate(program: Program, rng: np.random.Generator, language: Language = KAREL) -> Program:
    """One neighbour: a uniformly chosen node replaced, redrawn until within the search limits."""
    return next(neighbours(program, rng, language))


__all__ = ["Site", "fits", "fresh_statements", "mutate", "neighbours", "sites"]
