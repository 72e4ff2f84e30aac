"""Tests for karel/pythonic.py: exact renderings of each construct, and valid Python for sampled programs."""

import ast
from collections import Counter

import numpy as np
import pytest

from karel.dsl import Action, Perception
from karel.parser import parse
from karel.pythonic import to_python
from karel.sampler import sample_leaps_program, sample_search_program

NAMES = {a.name for a in Action} | {p.name for p in Perception}

CASES = {
    "action": ("DEF run m( move m)", "def run():\n    move()"),
    "all_actions": (
        "DEF run m( move turnLeft turnRight pickMarker putMarker m)",
        "def run():\n    move()\n    turnLeft()\n    turnRight()\n    pickMarker()\n    putMarker()",
    ),
    "while": (
        "DEF run m( WHILE c( frontIsClear c) w( move w) m)",
        "def run():\n    while frontIsClear():\n        move()",
    ),
    "repeat": (
        "DEF run m( REPEAT R=3 r( turnLeft move r) m)",
        "def run():\n    for _ in range(3):\n        turnLeft()\n        move()",
    ),
    "repeat_zero": ("DEF run m( REPEAT R=0 r( move r) m)", "def run():\n    for _ in range(0):\n        move()"),
    "if": (
        "DEF run m( IF c( markersPresent c) i( pickMarker i) m)",
        "def run():\n    if markersPresent():\n        pickMarker()",
    ),
    "ifelse": (
        "DEF run m( IFELSE c( leftIsClear c) i( turnLeft i) ELSE e( turnRight move e) m)",
        "def run():\n    if leftIsClear():\n        turnLeft()\n    else:\n        turnRight()\n        move()",
    ),
    "not": (
        "DEF run m( WHILE c( not c( rightIsClear c) c) w( putMarker w) m)",
        "def run():\n    while not rightIsClear():\n        putMarker()",
    ),
    "nested_not": (
        "DEF run m( IF c( not c( not c( noMarkersPresent c) c) c) i( move i) m)",
        "def run():\n    if not not noMarkersPresent():\n        move()",
    ),
    "nesting": (
        (
            "DEF run m( WHILE c( frontIsClear c) w( IFELSE c( markersPresent c) i( REPEAT R=19 r( pickMarker r) i) "
            "ELSE e( move e) w) turnLeft m)"
        ),
        (
            "def run():\n"
            "    while frontIsClear():\n"
            "        if markersPresent():\n"
            "            for _ in range(19):\n"
            "                pickMarker()\n"
            "        else:\n"
            "            move()\n"
            "    turnLeft()"
        ),
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=CASES.keys())
def test_to_python(text, expected):
    assert to_python(parse(text)) == expected
    ast.parse(expected)


def test_custom_indent():
    program = parse("DEF run m( IF c( frontIsClear c) i( move i) m)")
    assert to_python(program, indent="\t") == "def run():\n\tif frontIsClear():\n\t\tmove()"


def test_nested_not_parses_as_double_negation():
    tree = ast.parse(CASES["nested_not"][1])
    test = tree.body[0].body[0].test
    assert isinstance(test, ast.UnaryOp) and isinstance(test.operand, ast.UnaryOp)
    assert isinstance(test.operand.operand, ast.Call)


@pytest.mark.parametrize("sampler", [sample_leaps_program, sample_search_program])
def test_sampled_programs_are_valid_python(sampler):
    rng = np.random.default_rng(11)
    for _ in range(1_000):
        program = sampler(rng)
        tokens = program.tokens()
        nodes = list(ast.walk(ast.parse(to_python(program))))
        count = Counter(type(node) for node in nodes)

        assert count[ast.FunctionDef] == 1
        assert count[ast.While] == tokens.count("WHILE")
        assert count[ast.For] == tokens.count("REPEAT")
        assert count[ast.If] == tokens.count("IF") + tokens.count("IFELSE")
        assert sum(isinstance(n, ast.If) and bool(n.orelse) for n in nodes) == tokens.count("ELSE")
        assert count[ast.Not] == tokens.count("not")
        # one call per action and per perception, and range() once per REPEAT
        calls = sum(t in NAMES for t in tokens) + tokens.count("REPEAT")
        assert count[ast.Call] == calls
