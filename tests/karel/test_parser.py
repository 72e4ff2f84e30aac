"""Tests for karel/parser.py (valid and malformed programs, token ids) and the size measures of
karel/program.py."""

import numpy as np
import pytest

from karel.dsl import PAD_ID, TOKEN_ID, Action, Perception
from karel.parser import MAX_DEPTH, ProgramSyntaxError, parse, parse_ids
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
from karel.sampler import sample_leaps_program

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


# Fuzzing: random and adversarial token streams either parse (and then print back to the same text and
# parse to the same program) or raise ProgramSyntaxError; nothing else escapes, whatever the input.

NESTERS = {
    "REPEAT": ("REPEAT R=3 r( ", "r) "),
    "WHILE": ("WHILE c( frontIsClear c) w( ", "w) "),
    "IF": ("IF c( markersPresent c) i( ", "i) "),
    "IFELSE": ("IFELSE c( frontIsClear c) i( move i) ELSE e( ", "e) "),
}


def check_parse_or_error(text: str) -> str:
    """'ok' after a verified round trip, 'error' after a ProgramSyntaxError; anything else fails the test."""
    try:
        program = parse(text)
    except ProgramSyntaxError as error:
        assert str(error).startswith(f"token {error.position}: ")
        assert 0 <= error.position <= len(text.split())
        return "error"
    printed = to_text(program)
    assert printed == " ".join(text.split())
    assert parse(printed) == program
    assert parse_ids([TOKEN_ID[token] for token in printed.split()]) == program
    return "ok"


def nested(kind: str, depth: int) -> str:
    opening, closing = NESTERS[kind]
    return "DEF run m( " + opening * depth + "move " + closing * depth + "m)"


@pytest.mark.parametrize("kind", NESTERS)
def test_nesting_up_to_the_limit_round_trips_and_beyond_is_a_clear_error(kind):
    assert check_parse_or_error(nested(kind, MAX_DEPTH)) == "ok"
    for depth in (MAX_DEPTH + 1, 350, 500, 100_000):
        with pytest.raises(ProgramSyntaxError, match="nested too deep") as caught:
            parse(nested(kind, depth))
        opening = len(NESTERS[kind][0].split())
        assert caught.value.position == 3 + opening * MAX_DEPTH  # the token that opens level 101


def test_nested_not_counts_toward_the_limit():
    def nots(depth):
        return "DEF run m( IF c( " + "not c( " * depth + "frontIsClear " + "c) " * depth + "c) i( move i) m)"

    assert check_parse_or_error(nots(MAX_DEPTH - 1)) == "ok"  # the IF is one level
    with pytest.raises(ProgramSyntaxError, match="token 203: nested too deep"):
        parse(nots(MAX_DEPTH))


def test_printer_is_iterative_on_any_depth():
    node = MOVE
    for _ in range(20_000):
        node = Repeat(1, (node,))
    tokens = Program((node,)).tokens()
    assert len(tokens) == 4 + 20_000 * 4 + 1
    assert tokens[:7] == ["DEF", "run", "m(", "REPEAT", "R=1", "r(", "REPEAT"]


def test_long_programs_round_trip():
    body = " ".join(["move", "IF c( frontIsClear c) i( turnLeft i)"] * 5_000)
    assert check_parse_or_error(f"DEF run m( {body} m)") == "ok"


def test_fuzz_random_token_streams():
    rng = np.random.default_rng(24)
    vocabulary = [*TOKEN_ID, "R=20", "R=-1", "moveX", "DEF(", "", "\x00", "é", "c((", "🙂"]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3_000):
        length = int(rng.integers(0, 60))
        tokens = [vocabulary[i] for i in rng.integers(0, len(vocabulary), length)]
        if rng.random() < 0.5:
            tokens = ["DEF", "run", "m(", *tokens, "m)"]
        outcomes[check_parse_or_error(" ".join(tokens))] += 1
    assert outcomes["error"] > 2_500  # random streams are nearly always malformed ...


def test_fuzz_mutated_valid_programs():
    """Valid programs with one token dropped, duplicated, swapped or replaced: mostly near misses."""
    rng = np.random.default_rng(7)
    vocabulary = list(TOKEN_ID)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(1_500):
        tokens = to_text(sample_leaps_program(rng)).split()
        assert check_parse_or_error(" ".join(tokens)) == "ok"
        i = int(rng.integers(0, len(tokens)))
        edit = int(rng.integers(0, 4))
        if edit == 0:
            del tokens[i]
        elif edit == 1:
            tokens.insert(i, tokens[i])
        elif edit == 2:
            j = int(rng.integers(0, len(tokens)))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens[i] = vocabulary[int(rng.integers(0, len(vocabulary)))]
        outcomes[check_parse_or_error(" ".join(tokens))] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0


def test_fuzz_binary_input():
    rng = np.random.default_rng(3)
    for _ in range(500):
        data = rng.integers(0, 256, int(rng.integers(0, 400)), dtype=np.uint8).tobytes()
        assert check_parse_or_error(data.decode("latin-1")) == "error"
        assert check_parse_or_error(data.decode("utf-8", errors="replace")) == "error"


def test_fuzz_token_ids():
    rng = np.random.default_rng(5)
    for _ in range(2_000):
        ids_ = rng.integers(-3, 60, int(rng.integers(0, 50))).tolist()
        try:
            program = parse_ids(ids_)
        except ProgramSyntaxError:
            continue
        assert parse(to_text(program)) == program
