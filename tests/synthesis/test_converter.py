"""Python-to-DSL conversion, the tolerant DSL reader, and reading whole completions."""

import re

import numpy as np
import pytest

from synthesis.llm.candidates import read_completion
from synthesis.llm.dsl_reader import DslReadError, read_dsl
from synthesis.llm.python_to_dsl import ConversionError, python_to_program

W = "WHILE c( frontIsClear c) w( move w)"

PYTHON_CASES = {
    "plain": ("def run():\n    move()\n    turnLeft()", "DEF run m( move turnLeft m)"),
    "while": ("def run():\n    while frontIsClear():\n        move()", f"DEF run m( {W} m)"),
    "if": (
        "def run():\n    if markersPresent():\n        pickMarker()",
        "DEF run m( IF c( markersPresent c) i( pickMarker i) m)",
    ),
    "if else": (
        "def run():\n    if markersPresent():\n        pickMarker()\n    else:\n        move()",
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
    ),
    "elif chain": (
        (
            "def run():\n    if frontIsClear():\n        move()\n    elif leftIsClear():\n        turnLeft()\n"
            "    else:\n        turnRight()"
        ),
        (
            "DEF run m( IFELSE c( frontIsClear c) i( move i) ELSE e( IFELSE c( leftIsClear c) i( turnLeft i) "
            "ELSE e( turnRight e) e) m)"
        ),
    ),
    "elif without else": (
        "def run():\n    if frontIsClear():\n        move()\n    elif leftIsClear():\n        turnLeft()",
        "DEF run m( IFELSE c( frontIsClear c) i( move i) ELSE e( IF c( leftIsClear c) i( turnLeft i) e) m)",
    ),
    "blank lines inside a block": (
        "def run():\n    while frontIsClear():\n        move()\n\n        putMarker()\n",
        "DEF run m( WHILE c( frontIsClear c) w( move putMarker w) m)",
    ),
    "tabs": ("def run():\n\twhile frontIsClear():\n\t\tmove()", f"DEF run m( {W} m)"),
    "comments": (
        "def run():\n    # walk\n    while frontIsClear():  # until the wall\n        move()",
        f"DEF run m( {W} m)",
    ),
    "docstring and pass": ('def run():\n    """Walk."""\n    pass\n    move()', "DEF run m( move m)"),
    "while True": ("def run():\n    while True:\n        move()", "DEF run m( REPEAT R=19 r( move r) m)"),
    "while False": (
        "def run():\n    while False:\n        move()\n    turnLeft()",
        "DEF run m( REPEAT R=0 r( move r) turnLeft m)",
    ),
    "range n": ("def run():\n    for i in range(4):\n        move()", "DEF run m( REPEAT R=4 r( move r) m)"),
    "range a b": ("def run():\n    for _ in range(2, 7):\n        move()", "DEF run m( REPEAT R=5 r( move r) m)"),
    "range step": ("def run():\n    for _ in range(0, 10, 3):\n        move()", "DEF run m( REPEAT R=4 r( move r) m)"),
    "range clamped high": (
        "def run():\n    for _ in range(100):\n        move()",
        "DEF run m( REPEAT R=19 r( move r) m)",
    ),
    "range empty": ("def run():\n    for _ in range(5, 2):\n        move()", "DEF run m( REPEAT R=0 r( move r) m)"),
    "not": (
        "def run():\n    while not frontIsClear():\n        turnLeft()",
        "DEF run m( WHILE c( not c( frontIsClear c) c) w( turnLeft w) m)",
    ),
    "double not": ("def run():\n    while not not frontIsClear():\n        move()", f"DEF run m( {W} m)"),
    "triple not": (
        "def run():\n    if not not not markersPresent():\n        putMarker()",
        "DEF run m( IF c( not c( markersPresent c) c) i( putMarker i) m)",
    ),
    "method style": ("def run():\n    karel.move()\n    self.turnLeft()", "DEF run m( move turnLeft m)"),
    "other function name": ("def solve():\n    move()", "DEF run m( move m)"),
    "top-level statements": ("move()\nturnLeft()", "DEF run m( move turnLeft m)"),
    "nested": (
        "def run():\n    for _ in range(3):\n        while markersPresent():\n            pickMarker()\n        move()",
        "DEF run m( REPEAT R=3 r( WHILE c( markersPresent c) w( pickMarker w) move r) m)",
    ),
}

PYTHON_ERRORS = {
    "and": ("def run():\n    while frontIsClear() and markersPresent():\n        move()", "and/or"),
    "comparison": ("def run():\n    if markersPresent() == True:\n        move()", "compare"),
    "unknown call": ("def run():\n    jump()", "jump() is not an action"),
    "unknown perception": ("def run():\n    while wallAhead():\n        move()", "not a perception"),
    "variable range": ("def run():\n    for _ in range(n):\n        move()", "integer constants"),
    "break": ("def run():\n    while frontIsClear():\n        break", "break statements"),
    "empty body": ("def run():\n    while frontIsClear():\n        pass", "is empty"),
    "syntax error": ("def run(:\n    move()", "not valid Python"),
    "arguments": ("def run():\n    move(2)", "takes no arguments"),
    "two functions": ("def a():\n    move()\ndef b():\n    move()", "several functions"),
    "assignment": ("def run():\n    x = 1\n    move()", "assign statements"),
}


@pytest.mark.parametrize(("source", "expected"), PYTHON_CASES.values(), ids=PYTHON_CASES.keys())
def test_python_to_dsl(source, expected):
    assert str(python_to_program(source)) == expected


@pytest.mark.parametrize(("source", "message"), PYTHON_ERRORS.values(), ids=PYTHON_ERRORS.keys())
def test_python_to_dsl_errors_name_the_problem(source, message):
    with pytest.raises(ConversionError, match=re.escape(message)):
        python_to_program(source)


DSL_CASES = {
    "canonical": (f"DEF run m( {W} m)", f"DEF run m( {W} m)"),
    "missing c brackets": ("DEF run m( WHILE frontIsClear w( move w) m)", f"DEF run m( {W} m)"),
    "call parentheses": ("DEF run m( WHILE c( frontIsClear() c) w( move() w) m)", f"DEF run m( {W} m)"),
    "spaced brackets": ("DEF run m ( WHILE c ( frontIsClear c ) w ( move w ) m )", f"DEF run m( {W} m)"),
    "bare parentheses": ("DEF run m( WHILE (frontIsClear) ( move ) m)", f"DEF run m( {W} m)"),
    "wrong closers": ("DEF run m( WHILE c( frontIsClear c) w( move r) m)", f"DEF run m( {W} m)"),
    "missing final closers": ("DEF run m( WHILE c( frontIsClear c) w( move", f"DEF run m( {W} m)"),
    "missing body opener": ("DEF run m( WHILE c( frontIsClear c) move w) m)", f"DEF run m( {W} m)"),
    "IF with ELSE": (
        "DEF run m( IF c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
    ),
    "IFELSE without ELSE": (
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) m)",
        "DEF run m( IF c( markersPresent c) i( pickMarker i) m)",
    ),
    "not without brackets": (
        "DEF run m( WHILE c( not frontIsClear c) w( turnLeft w) m)",
        "DEF run m( WHILE c( not c( frontIsClear c) c) w( turnLeft w) m)",
    ),
    "WHILE True": ("DEF run m( WHILE c( True c) w( move w) m)", "DEF run m( REPEAT R=19 r( move r) m)"),
    "R out of range": ("DEF run m( REPEAT R=42 r( move r) m)", "DEF run m( REPEAT R=19 r( move r) m)"),
    "R with spaces": ("DEF run m( REPEAT R = 3 r( move r) m)", "DEF run m( REPEAT R=3 r( move r) m)"),
    "last DEF wins": ("DEF run m( move m) then better: DEF run m( turnLeft m)", "DEF run m( turnLeft m)"),
    "semicolons and quotes": ("`DEF run m( move; 'turnLeft' m)`", "DEF run m( move turnLeft m)"),
    "text after the program": (f"DEF run m( {W} m) This walks to the wall.", f"DEF run m( {W} m)"),
}


@pytest.mark.parametrize(("text", "expected"), DSL_CASES.values(), ids=DSL_CASES.keys())
def test_dsl_reader_repairs(text, expected):
    assert str(read_dsl(text)) == expected


@pytest.mark.parametrize("text", ["no program here", "DEF run m( jump m)", "DEF run m( m)"])
def test_dsl_reader_rejects_with_a_reason(text):
    with pytest.raises(DslReadError):
        read_dsl(text)


def test_completion_with_prose_and_both_fences_chooses_a_path_with_the_seeded_rng():
    text = ("Here is my plan.\n```python\ndef run():\n    while frontIsClear():\n        move()\n```\n"
            "Converted:\n```\nDEF run m( WHILE c( frontIsClear c) w( move w) turnLeft m)\n```\nGood luck!")  # fmt: skip
    paths = {read_completion(text, np.random.default_rng(seed)).path for seed in range(20)}
    assert paths == {"python", "dsl"}
    first = [read_completion(text, np.random.default_rng(3)).program for _ in range(3)]
    assert first[0] == first[1] == first[2]  # seeded


def test_completion_with_several_fences_uses_the_python_one():
    text = "```text\nsome notes\n```\n```python\ndef run():\n    putMarker()\n```\n"
    reading = read_completion(text, np.random.default_rng(0))
    assert reading.path == "python" and str(reading.program) == "DEF run m( putMarker m)"
    assert "no DEF" in reading.dsl_error


def test_malformed_completion_is_rejected_with_both_reasons():
    reading = read_completion("```python\ndef run():\n    while x > 1:\n        move()\n```", np.random.default_rng(0))
    assert reading.program is None and "perception call" in reading.python_error and "no DEF" in reading.dsl_error


@pytest.mark.parametrize(
    "source, message",
    [
        ("def run():\n    if " + "not " * 5000 + "frontIsClear():\n        move()\n",
         r"^nested too deep \(at most 100 nested structures\)$"),
        ("def run():\n    if frontIsClear():\n        move()\n" + "    elif frontIsClear():\n        move()\n" * 3000,
         r"^nested too deep \(at most 100 nested structures\)$"),
        ("def run():\n    if frontIsClear():\n        move()\n" + "    elif frontIsClear():\n        move()\n" * 150,
         r"^not a DSL program: token 903: nested too deep"),
        ("def run():\n    if " + "(" * 300 + "frontIsClear()" + ")" * 300 + ":\n        move()\n",
         r"^not valid Python \(line 2\): too many nested parentheses$"),
    ],
)  # fmt: skip
def test_code_nested_too_deep_is_a_conversion_error(source, message):
    with pytest.raises(ConversionError, match=message):
        python_to_program(source)
    reading = read_completion(f"```python\n{source}```", np.random.default_rng(0))
    assert reading.program is None and reading.python_error
