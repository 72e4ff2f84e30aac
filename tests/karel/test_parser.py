"""Tests for karel/parser.py (valid and malformed programs, token ids) and the size measures of
karel/program.py."""

import pytest

from karel.dsl import PAD_ID, TOKEN_ID, Action, Perception
from karel.parser import ProgramSyntaxError, parse, parse_ids
from karel.program import (
    Act,
    Feature,
    If,
    IfElse,
    Not,
    Program,
    Repeat,
    While,
    max_block_length,
    nesting_depth,
    num_tokens,
    to_text,
    within_search_limits,
)

MOVE, TURN_LEFT = Act(Action.move), Act(Action.turnLeft)
FRONT = Feature(Perception.frontIsClear)

VALID = {
    "action": ("DEF run m( move m)", Program((MOVE,))),
    "sequence": ("DEF run m( move turnLeft move m)", Program((MOVE, TURN_LEFT, MOVE))),
    "while": ("DEF run m( WHILE c( frontIsClear c) w( move w) m)", Program((While(FRONT, (MOVE,)),))),
    "repeat_0": ("DEF run m( REPEAT R=0 r( move r) m)", Program((Repeat(0, (MOVE,)),))),
    "repeat_19": ("DEF run m( REPEAT R=19 r( move r) m)", Program((Repeat(19, (MOVE,)),))),
    "if_not": (
        "DEF run m( IF c( not c( frontIsClear c) c) i( turnLeft i) m)",
        Program((If(Not(FRONT), (TURN_LEFT,)),)),
    ),
    "nested_not": (
        "DEF run m( IF c( not c( not c( frontIsClear c) c) c) i( move i) m)",
        Program((If(Not(Not(FRONT)), (MOVE,)),)),
    ),
    "ifelse": (
        "DEF run m( IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) m)",
        Program((IfElse(FRONT, (MOVE,), (TURN_LEFT,)),)),
    ),
    "nested": (
        "DEF run m( WHILE c( frontIsClear c) w( REPEAT R=2 r( IF c( frontIsClear c) i( move i) r) turnLeft w) m)",
        Program((While(FRONT, (Repeat(2, (If(FRONT, (MOVE,)),)), TURN_LEFT)),)),
    ),
}


@pytest.mark.parametrize("text, program", VALID.values(), ids=VALID.keys())
def test_parse_valid(text, program):
    assert parse(text) == program
    assert to_text(program) == text
    assert parse_ids([TOKEN_ID[t] for t in text.split()]) == program


def test_parse_tolerates_extra_whitespace():
    assert parse("  DEF run\nm(\tmove   m) ") == VALID["action"][1]


STATEMENT = "a statement (action, WHILE, REPEAT, IF or IFELSE)"
MALFORMED = {
    "empty_text": ("", 0, "expected 'DEF', found end of program"),
    "missing_def": ("run m( move m)", 0, "expected 'DEF', found 'run'"),
    "empty_program": ("DEF run m( m)", 3, f"expected {STATEMENT} (blocks are non-empty), found 'm)'"),
    "empty_while_block": (
        "DEF run m( WHILE c( frontIsClear c) w( w) m)", 8,
        f"expected {STATEMENT} (blocks are non-empty), found 'w)'",
    ),
    "missing_c_close": ("DEF run m( IF c( frontIsClear i( move i) m)", 6, "expected 'c)', found 'i('"),
    "wrong_body_bracket": (
        "DEF run m( WHILE c( frontIsClear c) i( move i) m)", 7, "expected 'w(', found 'i('",
    ),
    "wrong_close": (
        "DEF run m( WHILE c( frontIsClear c) w( move r) m)", 9, f"expected {STATEMENT} or 'w)', found 'r)'",
    ),
    "ifelse_without_else": (
        "DEF run m( IFELSE c( frontIsClear c) i( move i) e( move e) m)", 10, "expected 'ELSE', found 'e('",
    ),
    "action_as_condition": (
        "DEF run m( IF c( move c) i( move i) m)", 5, "expected a perception or 'not', found 'move'",
    ),
    "perception_as_statement": (
        "DEF run m( frontIsClear m)", 3, f"expected {STATEMENT} or 'm)', found 'frontIsClear'",
    ),
    "repeat_20": (
        "DEF run m( REPEAT R=20 r( move r) m)", 4,
        "expected a repeat count R=0 .. R=19 (count out of range), found 'R=20'",
    ),
    "repeat_minus_1": (
        "DEF run m( REPEAT R=-1 r( move r) m)", 4,
        "expected a repeat count R=0 .. R=19 (count out of range), found 'R=-1'",
    ),
    "repeat_without_count": (
        "DEF run m( REPEAT r( move r) m)", 4, "expected a repeat count R=0 .. R=19, found 'r('",
    ),
    "trailing_tokens": ("DEF run m( move m) move", 5, "expected end of program after 'm)', found 'move'"),
    "unknown_token": ("DEF run m( jump m)", 3, f"expected {STATEMENT} or 'm)', found 'jump'"),
    "truncated": (
        "DEF run m( WHILE c( frontIsClear c) w( move", 9, f"expected {STATEMENT} or 'w)', found end of program",
    ),
    "truncated_condition": ("DEF run m( IF c( not c(", 7, "expected a perception or 'not', found end of program"),
}  # fmt: skip


@pytest.mark.parametrize("text, position, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_parse_malformed(text, position, message):
    with pytest.raises(ProgramSyntaxError) as info:
        parse(text)
    assert info.value.position == position
    assert str(info.value) == f"token {position}: {message}"


def ids(text: str) -> list[int]:
    return [TOKEN_ID[t] for t in text.split()]


def test_parse_ids_stops_at_pad():
    assert parse_ids([*ids("DEF run m( move m)"), PAD_ID, *ids("move move")]) == VALID["action"][1]
    assert parse_ids([*ids("DEF run m( move m)"), PAD_ID, PAD_ID]) == VALID["action"][1]


def test_parse_ids_pad_truncates_program():
    with pytest.raises(ProgramSyntaxError) as info:
        parse_ids([*ids("DEF run m( move"), PAD_ID, *ids("m)")])
    assert info.value.position == 4
    assert str(info.value) == f"token 4: expected {STATEMENT} or 'm)', found end of program"


def test_parse_ids_negative_id():
    with pytest.raises(ProgramSyntaxError) as info:
        parse_ids([*ids("DEF run m("), -3])
    assert info.value.position == 3
    assert str(info.value) == "token 3: expected a token id in 0..50, found '-3'"


def test_parse_ids_accepts_tensor_like_ints():
    import numpy as np

    assert parse_ids(np.array([*ids("DEF run m( move m)"), PAD_ID])) == VALID["action"][1]


# Size measures, counted by hand: tokens include `DEF run m( ... m)`; nesting counts control structures.
MEASURES = {
    "action": ("DEF run m( move m)", 5, 0, 1),
    "sequence": ("DEF run m( move turnLeft move m)", 7, 0, 3),
    "while": ("DEF run m( WHILE c( frontIsClear c) w( move w) m)", 11, 1, 1),
    "repeat_if_not": (
        "DEF run m( REPEAT R=3 r( IF c( not c( markersPresent c) c) i( putMarker move i) r) turnLeft m)", 20, 2, 2,
    ),
    "ifelse_deep_else": (
        ("DEF run m( IFELSE c( leftIsClear c) i( turnLeft i) "
        "ELSE e( WHILE c( frontIsClear c) w( move move move w) e) m)"),
        23, 2, 3,
    ),
    "three_levels": (
        "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( REPEAT R=1 r( move r) i) w) m)", 21, 3, 1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("text, tokens, nesting, block", MEASURES.values(), ids=MEASURES.keys())
def test_size_measures(text, tokens, nesting, block):
    program = parse(text)
    assert (num_tokens(program), nesting_depth(program), max_block_length(program)) == (tokens, nesting, block)


def test_search_limits_boundaries():
    repeat6 = "REPEAT R=1 r( " + "move " * 6 + "r) "  # 10 tokens, a block of 6
    at_45 = parse("DEF run m( " + repeat6 * 4 + "move m)")  # 4 + 40 + 1 tokens
    over_45 = parse("DEF run m( " + repeat6 * 4 + "move move m)")
    assert (num_tokens(at_45), max_block_length(at_45), nesting_depth(at_45)) == (45, 6, 1)
    assert within_search_limits(at_45)
    assert num_tokens(over_45) == 46 and not within_search_limits(over_45)

    assert within_search_limits(parse("DEF run m( " + "move " * 6 + "m)"))
    assert not within_search_limits(parse("DEF run m( " + "move " * 7 + "m)"))

    def nest(levels: int) -> str:
        return "WHILE c( frontIsClear c) w( " * levels + "move" + " w)" * levels

    assert within_search_limits(parse(f"DEF run m( {nest(3)} m)"))
    assert nesting_depth(parse(f"DEF run m( {nest(4)} m)")) == 4
    assert not within_search_limits(parse(f"DEF run m( {nest(4)} m)"))
