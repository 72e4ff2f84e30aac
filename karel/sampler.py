"""Random Karel programs: the LEAPS dataset sampler and the search papers' random-program distribution.

Both distributions draw the same production probabilities; they differ in how they bound program size.

* Statement: WHILE .15, REPEAT .03, sequence .50, action .20, IF .08, IFELSE .04.
* Condition: a perception .9, `not c( perception c)` .1 (never a double `not`).
* Perception: frontIsClear .5, leftIsClear .15, rightIsClear .15, markersPresent .1, noMarkersPresent .1.
* Action: move .5, turnRight .15, turnLeft .15, pickMarker .1, putMarker .1.
  (The leaf tables live in `karel.language.KAREL`; the search distribution also runs over MiniGrid's,
  `karel.minigrid.language.MINIGRID`.)
* REPEAT count: uniform over 0..19.

**LEAPS** (`sample_leaps_program`), from clvrai/leaps `karel_env/dsl/dsl_prob.py` (`DSLProb.random_tokens`
and the `prob_*` tables beside each production). A top-down expansion of the grammar
`stmt := while | repeat | stmt stmt | action | if | ifelse`. Every nonterminal expansion goes one grammar
level deeper (`prog` is level 0, its `stmt` level 1; `stmt -> while -> stmt` is two levels, as is
`stmt -> stmt_stmt -> stmt`); entering WHILE/REPEAT/IF/IFELSE adds one nesting level. A `stmt` at level
> `max_depth` or nesting > `max_nesting` is expanded as an action instead. With the defaults (6, 4) the
level rule is the one that binds: at most 3 nested control structures and at most 8 statements in a block.
No rejection: every draw is kept (the dataset generator deduplicates and filters afterwards).

**Search** (`sample_search_program`), from the LLM-GS release of prog_policies:
`prog_policies/search_space/programmatic_space.py` (`ProgrammaticSpace._fill_children`,
`initialize_individual`), probabilities from `prog_policies/karel/dsl.py` (`KarelDSL`), slot rules from
`prog_policies/base/dsl.py` (`BaseDSL.prod_rules`). Each slot has a type: a Statement, a Bool or an Int.

* A Statement slot draws from the statement table above, renormalised over the types its slot allows:
  a Concatenate (our sequence) is a first statement that is not itself a Concatenate followed by another
  Statement slot, so a chain fills one block left to right; control flow is forbidden once the slot's
  height is >= 4 (the program body is height 1, each enclosing control structure adds 1); the slot for
  statement i (0-based) of a block may be a Concatenate only if i + 1 < 6, so blocks hold <= 6 statements.
* A Bool slot draws feature .9 / `not` .1; the IFELSE condition and the child of a `not` may not be `not`.
* An Int slot (REPEAT count) is uniform over 0..19 (R=0 included).
* The whole program is redrawn until `within_search_limits` holds (<= 3 nested control structures,
  <= 6 statements per block, <= 45 tokens); only the token bound can fail, the others hold by construction.

The slot samplers (`sample_statement`, `sample_condition`, `sample_count`, dispatched by `sample_slot`) are
public so that the hill-climbing mutation can replace a node by a fresh subtree of the same slot type.

Neither reference's RNG stream is reproduced (both use `numpy.random.RandomState`); the distributions are.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TypeVar

import numpy as np

from karel.dsl import MAX_BLOCK_LENGTH, MAX_NESTING, MAX_REPEAT, MAX_TOKENS
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
    num_tokens,
    within_search_limits,
)

STATEMENT_PROBS: dict[str, float] = {
    "while": 0.15, "repeat": 0.03, "sequence": 0.50, "action": 0.20, "if": 0.08, "ifelse": 0.04,
}  # fmt: skip

SEARCH_MAX_HEIGHT = MAX_NESTING + 1  # LLM-GS `max_height` 4: the program node counts as one level

K = TypeVar("K")


def choose(rng: np.random.Generator, table: Mapping[K, float]) -> K:
    """One key of `table`, with probability proportional to its weight (so sub-tables renormalise)."""
    u = rng.random() * sum(table.values())
    for key, weight in table.items():
        u -= weight
        if u < 0:
            return key
    return key  # float round-off left u at 0: the last key


def _action(rng: np.random.Generator, language: Language = KAREL) -> Act:
    return choose(rng, language.action_probs)


def sample_count(rng: np.random.Generator) -> int:
    """An Int slot: a REPEAT count, uniform over 0..19."""
    return int(rng.integers(MAX_REPEAT + 1))


def sample_condition(rng: np.random.Generator, allow_not: bool = True, language: Language = KAREL) -> Cond:
    """A Bool slot: a perception, or `not` of a perception with the language's `not_prob` (Karel .1,
    MiniGrid .5); only a perception if not `allow_not`.

    Pass `allow_not=False` for an IFELSE condition in the search distribution (LLM-GS forbids `not` there).
    """
    if allow_not and rng.random() < language.not_prob:
        return Not(sample_condition(rng, allow_not=False, language=language))
    return choose(rng, language.feature_probs)


# ---------------------------------------------------------------------------------------------------------
# LEAPS dataset sampler


def sample_leaps_program(rng: np.random.Generator, max_depth: int = 6, max_nesting: int = 4) -> Program:
    """A program from the LEAPS dataset sampler (`DSLProb.random_tokens`, see the module docstring).

    Args:
        rng: the only source of randomness.
        max_depth: LEAPS `--max_program_stmt_depth`; a `stmt` deeper than this grammar level becomes an action.
        max_nesting: LEAPS `--max_program_nesting_depth`; a `stmt` nested deeper becomes an action.
    """
    return Program(tuple(_leaps_stmt(rng, 1, 0, max_depth, max_nesting)))


def _leaps_stmt(rng: np.random.Generator, depth: int, nesting: int, max_depth: int, max_nesting: int) -> list[Stmt]:
    """Expand one `stmt` at grammar level `depth` inside `nesting` control structures; a sequence expands to
    several statements, flattened into the enclosing block."""
    if depth > max_depth or nesting > max_nesting:
        return [_action(rng)]
    kind = choose(rng, STATEMENT_PROBS)
    if kind == "action":
        return [_action(rng)]
    child = depth + 2  # stmt -> (while | repeat | ... | stmt_stmt) -> stmt

    if kind == "sequence":
        return _leaps_stmt(rng, child, nesting, max_depth, max_nesting) + _leaps_stmt(
            rng, child, nesting, max_depth, max_nesting
        )

    def body() -> tuple[Stmt, ...]:
        return tuple(_leaps_stmt(rng, child, nesting + 1, max_depth, max_nesting))

    if kind == "repeat":
        count = sample_count(rng)
        return [Repeat(count, body())]
    cond = sample_condition(rng)  # LEAPS allows `not` in every condition, IFELSE included
    if kind == "while":
        return [While(cond, body())]
    if kind == "if":
        return [If(cond, body())]
    then = body()
    return [IfElse(cond, then, body())]


# ---------------------------------------------------------------------------------------------------------
# Search papers' random programs (LLM-GS `ProgrammaticSpace._fill_children`)


@cache
def statement_table(control: bool, sequence: bool) -> dict[str, float]:
    """The statement table restricted to the allowed types (`choose` renormalises)."""
    return {
        kind: p
        for kind, p in STATEMENT_PROBS.items()
        if (control or kind in ("action", "sequence")) and (sequence or kind != "sequence")
    }


def sample_statement(
    rng: np.random.Generator,
    height: int = 1,
    sequence: int = 0,
    *,
    max_height: int = SEARCH_MAX_HEIGHT,
    max_sequence: int = MAX_BLOCK_LENGTH,
    language: Language = KAREL,
) -> tuple[Stmt, ...]:
    """A Statement slot of the search distribution: one statement, or a Concatenate chain of several.

    Args:
        rng: the only source of randomness.
        height: LLM-GS `current_height` of the slot's parent: 1 for the program body, plus 1 per enclosing
            WHILE/REPEAT/IF/IFELSE. Control flow may be drawn only while `height < max_height`.
        sequence: statements already placed before this slot in its block's Concatenate chain (0 for a
            whole block, i for the slot holding statements i.. of a block). Another Concatenate may be
            drawn only while `sequence + 1 < max_sequence`.
        max_height, max_sequence: LLM-GS `max_height` 4 and `max_sequence` 6.
        language: the actions and perceptions drawn at the leaves (Karel or MiniGrid).

    Returns:
        The statements filling the slot, in order (a chain is flattened into one tuple).
    """
    control = height < max_height
    kind = choose(rng, statement_table(control, sequence + 1 < max_sequence))
    if kind != "sequence":
        return (sample_single_statement(rng, kind, height, max_height, max_sequence, language),)
    first_kind = choose(rng, statement_table(control, False))  # a Concatenate's first child is no Concatenate
    first = sample_single_statement(rng, first_kind, height, max_height, max_sequence, language)
    rest = sample_statement(rng, height, sequence + 1, max_height=max_height, max_sequence=max_sequence,
                            language=language)  # fmt: skip
    return (first, *rest)


def sample_single_statement(rng: np.random.Generator, kind: str, height: int, max_height: int, max_sequence: int,
                            language: Language = KAREL) -> Stmt:  # fmt: skip
    """One statement of a drawn type (not a sequence); bodies are fresh blocks one level higher."""
    if kind == "action":
        return _action(rng, language)

    def body() -> tuple[Stmt, ...]:
        return sample_statement(rng, height + 1, max_height=max_height, max_sequence=max_sequence, language=language)

    if kind == "repeat":
        count = sample_count(rng)
        return Repeat(count, body())
    if kind == "ifelse":
        cond = sample_condition(rng, allow_not=False, language=language)
        then = body()
        return IfElse(cond, then, body())
    cond = sample_condition(rng, language=language)
    return While(cond, body()) if kind == "while" else If(cond, body())


def sample_slot(
    rng: np.random.Generator,
    slot: str,
    height: int = 1,
    sequence: int = 0,
    allow_not: bool = True,
    language: Language = KAREL,
) -> tuple[Stmt, ...] | Cond | int:
    """A fresh subtree for a slot of type "stmt" (statements), "bool" (a condition) or "int" (a count)."""
    if slot == "stmt":
        return sample_statement(rng, height, sequence, language=language)
    if slot == "bool":
        return sample_condition(rng, allow_not, language)
    if slot == "int":
        return sample_count(rng)
    raise ValueError(f"unknown slot type {slot!r}; expected 'stmt', 'bool' or 'int'")


def sample_search_program(rng: np.random.Generator, language: Language = KAREL) -> Program:
    """A random program of the search distribution (LLM-GS `initialize_individual`, or
    `MinigridProgrammaticSpace` with `language=MINIGRID`), redrawn until it is within the search limits."""
    while True:
        program = Program(sample_statement(rng, language=language))
        # Only the token bound can fail; testing it first skips walking the large rejected trees twice.
        if num_tokens(program) <= MAX_TOKENS and within_search_limits(program):
            return program


__all__ = [
    "STATEMENT_PROBS",
    "choose",
    "sample_condition",
    "sample_count",
    "sample_leaps_program",
    "sample_search_program",
    "sample_single_statement",
    "sample_slot",
    "sample_statement",
    "statement_table",
]
