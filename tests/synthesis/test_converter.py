"""Python-to-DSL conversion, the tolerant DSL reader, and reading whole completions."""

import re

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
    "snake_case names": (
        (
            "def run():\n    while not no_markers_present():\n        pick_marker()\n    if front_is_clear():\n"
            "        turn_left()\n        karel.put_marker()"
        ),
        (
            "DEF run m( WHILE c( not c( noMarkersPresent c) c) w( pickMarker w) IF c( frontIsClear c) i( turnLeft "
            "putMarker i) m)"
        ),
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
    "top-level code calling a helper": (
        "def step():\n    move()\n    turnLeft()\nwhile frontIsClear():\n    step()",
        "DEF run m( WHILE c( frontIsClear c) w( move turnLeft w) m)",
    ),
    "the function top-level code calls": (
        "def helper():\n    turnLeft()\ndef main():\n    helper()\n    move()\nmain()",
        "DEF run m( turnLeft move m)",
    ),
    "helpers inlined into run": (
        "def run():\n    turn_around()\n    move()\ndef turn_around():\n    turnLeft()\n    turnLeft()",
        "DEF run m( turnLeft turnLeft move m)",
    ),
    "main guard": ('def run():\n    move()\nif __name__ == "__main__":\n    run()', "DEF run m( move m)"),
    "for else": (
        "def run():\n    for _ in range(2):\n        move()\n    else:\n        putMarker()",
        "DEF run m( REPEAT R=2 r( move r) putMarker m)",
    ),
    "while else": (
        "def run():\n    while frontIsClear():\n        move()\n    else:\n        turnLeft()",
        "DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft m)",
    ),
    "nested": (
        "def run():\n    for _ in range(3):\n        while markersPresent():\n            pickMarker()\n        move()",
        "DEF run m( REPEAT R=3 r( WHILE c( markersPresent c) w( pickMarker w) move r) m)",
    ),
}

PYTHON_ERRORS = {
    "and": ("def run():\n    while frontIsClear() and markersPresent():\n        move()", "and/or"),
    "comparison": ("def run():\n    if markersPresent() == True:\n        move()", "compare"),
    "unknown call": ("def run():\n    jump()", "jump() is not an action"),
    "snake_case of no name": ("def run():\n    turn_around()", "line 2: turn_around() is not an action"),
    "unknown perception": ("def run():\n    while wallAhead():\n        move()", "not a perception"),
    "variable range": ("def run():\n    for _ in range(n):\n        move()", "integer constants"),
    "break": ("def run():\n    while frontIsClear():\n        break", "break statements"),
    "empty body": ("def run():\n    while frontIsClear():\n        pass", "is empty"),
    "syntax error": ("def run(:\n    move()", "not valid Python"),
    "arguments": ("def run():\n    move(2)", "takes no arguments"),
    "two functions": ("def a():\n    move()\ndef b():\n    move()", "several functions"),
    "recursion": ("def go():\n    move()\n    go()\ndef run():\n    go()", "go() is recursive"),
    "helper with parameters": ("def go(n):\n    move()\ndef run():\n    go(2)", "go() takes parameters"),
    "code besides run": ("def run():\n    move()\nturnLeft()\nrun()", "top-level code besides run()"),
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
    "repeat count in parentheses": (
        "DEF run m( REPEAT(4) r( move r) repeat ( 2 ) r( turnLeft r) m)",
        "DEF run m( REPEAT R=4 r( move r) REPEAT R=2 r( turnLeft r) m)",
    ),
    "spaced brackets": ("DEF run m ( WHILE c ( frontIsClear c ) w ( move w ) m )", f"DEF run m( {W} m)"),
    "bare parentheses": ("DEF run m( WHILE (frontIsClear) ( move ) m)", f"DEF run m( {W} m)"),
    "wrong closer letter": ("DEF run m( WHILE c( frontIsClear c) w( move r) m)", f"DEF run m( {W} m)"),
    "missing final closers, one place": ("DEF run m( WHILE c( frontIsClear c) w( move", f"DEF run m( {W} m)"),
    "missing body opener": ("DEF run m( WHILE c( frontIsClear c) move w) m)", f"DEF run m( {W} m)"),
    "extra closer dropped": (
        f"DEF run m( {W} w) turnLeft m)",
        f"DEF run m( {W} turnLeft m)",
    ),
    "an early m) dropped": ("DEF run m( move m) turnLeft m)", "DEF run m( move turnLeft m)"),
    "missing inner closer before a written outer one": (
        "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( pickMarker w) move m)",
        "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( pickMarker i) w) move m)",
    ),
    "IF with ELSE": (
        "DEF run m( IF c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
    ),
    "IFELSE without ELSE": (
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) m)",
        "DEF run m( IF c( markersPresent c) i( pickMarker i) m)",
    ),
    "ELSE keyword missing before e(": (
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) e( move e) m)",
        "DEF run m( IFELSE c( markersPresent c) i( pickMarker i) ELSE e( move e) m)",
    ),
    "not without brackets": (
        "DEF run m( WHILE c( not frontIsClear c) w( turnLeft w) m)",
        "DEF run m( WHILE c( not c( frontIsClear c) c) w( turnLeft w) m)",
    ),
    "WHILE True": ("DEF run m( WHILE c( True c) w( move w) m)", "DEF run m( REPEAT R=19 r( move r) m)"),
    "WHILE not False": ("DEF run m( WHILE c( not c( False c) c) w( move w) m)", "DEF run m( REPEAT R=19 r( move r) m)"),
    "R out of range": ("DEF run m( REPEAT R=42 r( move r) m)", "DEF run m( REPEAT R=19 r( move r) m)"),
    "R with spaces": ("DEF run m( REPEAT R = 3 r( move r) m)", "DEF run m( REPEAT R=3 r( move r) m)"),
    "REPEAT without R=": ("DEF run m( REPEAT 3 r( move r) m)", "DEF run m( REPEAT R=3 r( move r) m)"),
    "lower-case keywords": ("def run m( while c( frontIsClear c) w( move w) m)", f"DEF run m( {W} m)"),
    "comments": ("DEF run m( # walk\n WHILE c( frontIsClear c) w( move w) // to the wall\n m)", f"DEF run m( {W} m)"),
    "semicolons and quotes": ("`DEF run m( move; 'turnLeft' m)`", "DEF run m( move turnLeft m)"),
    "text after the program": (f"DEF run m( {W} m) This walks to the wall.", f"DEF run m( {W} m)"),
    "the first DEF of the text": ("DEF run m( move m) then better: DEF run m( turnLeft m)", "DEF run m( move m)"),
}

DSL_ERRORS = {
    "no program": ("no program here", "no DEF run"),
    "unknown action": ("DEF run m( jump m)", "unknown word 'jump'"),
    "empty program": ("DEF run m( m)", "brackets do not match"),
    "missing closer, two places": ("DEF run m( WHILE c( frontIsClear c) w( move turnLeft", "ambiguous brackets"),
    "missing e), two places": (
        f"DEF run m( IFELSE c( markersPresent c) i( move i) ELSE e( turnLeft {W} m)",
        "ambiguous brackets: 2 readings",
    ),
    "an unknown word cuts an open program": ("DEF run m( move and then turnLeft m)", "unknown word 'and'"),
    "IF with a constant": ("DEF run m( IF c( True c) i( move i) m)", "constant condition"),
    "a perception as a statement": ("DEF run m( frontIsClear m)", "a condition (frontIsClear)"),
}


@pytest.mark.parametrize(("text", "expected"), DSL_CASES.values(), ids=DSL_CASES.keys())
def test_dsl_reader_repairs(text, expected):
    assert str(read_dsl(text).program) == expected


@pytest.mark.parametrize(("text", "message"), DSL_ERRORS.values(), ids=DSL_ERRORS.keys())
def test_dsl_reader_rejects_with_a_reason(text, message):
    with pytest.raises(DslReadError, match=re.escape(message)):
        read_dsl(text)


def test_repairs_are_named_in_the_notes():
    reading = read_dsl("DEF run m( WHILE frontIsClear w( move r) m)")
    assert reading.notes == ("condition brackets added in WHILE frontIsClear", "r) read as w) after 'WHILE move'")


def test_completion_whose_paths_disagree_gives_both_programs_and_says_so():
    text = ("Here is my plan.\n```python\ndef run():\n    while frontIsClear():\n        move()\n```\n"
            "Converted:\n```\nDEF run m( WHILE c( frontIsClear c) w( move w) turnLeft m)\n```\nGood luck!")  # fmt: skip
    reading = read_completion(text)
    assert [str(p) for p in reading.programs] == [f"DEF run m( {W} m)", f"DEF run m( {W} turnLeft m)"]
    assert reading.path == "python+dsl" and reading.reasons[0].startswith("disagreement: python reads")


def test_completion_with_several_fences_uses_the_python_one():
    text = "```text\nsome notes\n```\n```python\ndef run():\n    putMarker()\n```\n"
    reading = read_completion(text)
    assert reading.path == "python" and str(reading.program) == "DEF run m( putMarker m)"
    assert reading.reasons == ("no-dsl: no DEF run outside the Python code",)


def test_malformed_completion_is_rejected_with_both_reasons():
    reading = read_completion("```python\ndef run():\n    while x > 1:\n        move()\n```")
    assert reading.program is None and reading.path is None
    assert [r.split(":")[0] for r in reading.reasons] == ["python-error", "no-dsl"]
    assert "perception call" in reading.reasons[0]


def test_a_reasoning_models_thinking_is_not_read():
    thinking = "<Thinking>\nFirst try: DEF run m( move m)\n```python\ndef run():\n    move()\n```\n</Thinking>\n"
    reading = read_completion(thinking + f"Final:\n```\nDEF run m( {W} m)\n```")
    assert reading.path == "dsl" and str(reading.program) == f"DEF run m( {W} m)"
    assert reading.reasons[0] == "reasoning: the first 88 characters, up to </Thinking>, are not read"
    only_thinking = read_completion(thinking + "The program above solves it.")
    assert only_thinking.program is None
    assert [r.split(":")[0] for r in only_thinking.reasons] == ["reasoning", "no-python", "no-dsl"]
    unclosed = read_completion(f"<think>\nDEF run m( {W} m)")  # no </think>: nothing marks a draft
    assert str(unclosed.program) == f"DEF run m( {W} m)" and unclosed.reasons[0].startswith("no-python")


def test_cut_off_answer_is_rejected_by_the_faithful_reader_only():
    text = f"```\n{'DEF run m( ' + W + ' m)'}\n```"
    assert read_completion(text, finish_reason="length").reasons == (
        "cut-off: the answer was cut off by max_tokens (finish_reason length)",
    )
    assert str(read_completion(text, finish_reason="length", reader="release").program) == f"DEF run m( {W} m)"


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
    reading = read_completion(f"```python\n{source}```")
    assert reading.program is None and reading.reasons[0].startswith("python-error")
