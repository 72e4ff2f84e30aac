"""The LLM-GS release's reading of a completion (`--reader release`), reproduced string for string.

The release (GitHub a015kh/LLM-GS, `llm/utils.py`, functions `get_program_str_from_llm_response_python`
and `get_program_str_from_llm_response_dsl`) turns every completion into up to two DSL strings, keeps
those its parser accepts and picks one with `np.random.RandomState(seed).choice`. This module rewrites
those two functions from their observed behaviour (`reference/llm_gs.md` 1.4): `release_python` and
`release_dsl` return the very strings the release returns, and raise `ReleaseReadError` wherever the
release raises (its caller drops such a path with a bare `except`). The equality is tested on a fixture
of inputs and the release's outputs (`tests/fixtures/llm_release_outputs.json`).

The strings are then accepted by `karel.parser.parse` (the release's own parser is laxer in places, e.g.
it never checks the opening tokens; this reader accepts only well-formed programs).

The release's steps, in the terms used below:

DSL text: whitespace runs become one space; `name()` becomes `name` for the listed actions and
perceptions; parentheses are padded with spaces, `;` and quotes deleted. A first scan remembers the last
`DEF`, pushes the token before each `(` as its bracket letter, and writes that letter before each `)`
that lacks it, stopping at the `)` that closes letter `m`; the slice from the `DEF` to there is re-glued
(`x (` -> `x(`). A second scan adds `c(`/`c)` (`h(`/`h)`) around conditions that lack them, and renames
IF/IFELSE by whether `ELSE` follows their `i)`; stray letters and fences are dropped; a fixed-point
rewrite turns `not c( markersPresent c)` into `noMarkersPresent` (and back), `true`/`false` into
`True`/`False`, and `WHILE c( True c) w(` into `REPEAT R=19 r(`; a last scan rewrites every closer to
close the innermost open bracket and clamps `R=n` to 0..19.

Python text: the first ```` ```python ```` block; its first line is dropped, one 4-space indent is
removed from each line, and the lines are converted by indentation level (a line holding `for` is a
REPEAT, `while` a WHILE, `if` an IF, IFELSE when its block holds an `else` line); the result goes
through the DSL steps above.
"""

from __future__ import annotations

import itertools
import re

from karel.language import KAREL, Language

INDENT = "    "
BRACKET_LETTERS = ("c", "i", "m", "e", "r", "w", "```")  # tokens the release drops after its scans
FIXED_POINT = (
    ("not c( markersPresent c)", "noMarkersPresent"),
    ("not c( noMarkersPresent c)", "markersPresent"),
    ("true", "True"),
    ("false", "False"),
    ("not c( False c)", "True"),
    ("not c( True c)", "False"),
    ("WHILE c( True c) w(", "REPEAT R=19 r("),
    ("WHILE c( False c) w(", "REPEAT R=0 r("),
)
# the release's name lists, in its order (`llm/karel_prompt.py`, `llm/minigrid_prompt.py`); its MiniGrid
# list names the parametric perceptions with their placeholder argument, as written there
NAMES = {
    "karel": ("move", "turnLeft", "turnRight", "pickMarker", "putMarker",
              "frontIsClear", "leftIsClear", "rightIsClear", "markersPresent", "noMarkersPresent"),
    "minigrid": ("forward", "left", "right", "pickup", "drop", "toggle",
                 "front_is_clear", "front_object_type(type)", "front_object_color(color)", "is_carrying_object"),
}  # fmt: skip


class ReleaseReadError(ValueError):
    """Where the release raises (and silently drops the path)."""


def release_python(text: str, language: Language = KAREL) -> str:
    """The release's Python-path string for `text`, or `ReleaseReadError` where the release raises."""
    match = re.search("```python.*?```", text, flags=re.DOTALL)
    if match is None:
        raise ReleaseReadError("no ```python block")
    block = match.group(0).replace("```python\n", "").replace("\n```", "")
    try:
        lines = [_dedent(line) for line in block.strip("\n").split("\n")[1:]]
        converted = " ".join(_block(lines).split())
    except (IndexError, ValueError) as error:
        raise ReleaseReadError(f"the release's converter fails: {type(error).__name__}") from None
    return release_dsl(f"DEF run m( {converted} m)", language)


def release_dsl(text: str, language: Language = KAREL) -> str:
    """The release's DSL-path string for `text`, or `ReleaseReadError` where the release raises."""
    try:
        return _dsl(text, NAMES[language.name])
    except (IndexError, ValueError) as error:
        raise ReleaseReadError(f"the release's repair fails: {type(error).__name__}") from None


# ---- the Python path -------------------------------------------------------------------------------


def _dedent(line: str) -> str:
    return line.replace(INDENT, "", 1)  # the first four spaces anywhere in the line, as the release


def _level(line: str) -> int:
    return line.count(INDENT)


def _block(lines: list[str]) -> str:
    """A list of lines at one level: its statement starts are the lines without any 4-space group."""
    starts = [i for i, line in enumerate(lines) if _level(line) == 0]
    if len(starts) == 1:
        return _statement(lines)
    if not starts:
        raise IndexError("no statement")
    out = ""
    for k, (start, following) in enumerate(itertools.pairwise(starts)):
        if "else" in lines[following]:
            stop = starts[k + 2] if k + 2 < len(starts) else len(lines)
            out += _statement(lines[start:stop])
        else:
            out += _statement(lines[start:following])
    if "else" not in lines[starts[-1]]:
        out += _statement(lines[starts[-1] :])
    return out


def _statement(lines: list[str]) -> str:
    head = lines[0]
    starts = [i for i, line in enumerate(lines) if _level(line) == 0]
    out = ""
    if len(lines) == 1:
        out += " " + head.replace("(", "").replace(")", "") + " "
    body = [_dedent(line) for line in lines[1:]]
    if "for" in head:
        count = head.split(" ")[-1].split("(")[1].split(")")[0]
        out += f"REPEAT R={count} r( " + _block(body) + " r)"
    elif "while" in head:
        out += f"WHILE c( {_condition(head)} c) w( " + _block(body) + " w)"
    elif "if" in head:
        if len(starts) == 2:
            split = starts[1]
            then = _block([_dedent(line) for line in lines[1:split]])
            otherwise = _block([_dedent(line) for line in lines[split + 1 :]])
            out += f"IFELSE c( {_condition(head)} c) i( " + then + " i) ELSE e( " + otherwise + " e)"
        else:
            out += f"IF c( {_condition(head)} c) i( " + _block(body) + " i)"
    return " " + out + " "


def _condition(line: str) -> str:
    line = line.replace('"', "").replace("'", "")
    last = line.split(" ")[-1]
    for name in ("front_object_type", "front_object_color"):
        if name in last:
            argument = last.split("(")[1].split(")")[0]
            feature = f"{name} h( {argument} h)"
            break
    else:
        feature = last.replace("(", "").replace(")", "").replace(":", "")
    return f"not c( {feature} c)" if "not" in line else feature


# ---- the DSL path ----------------------------------------------------------------------------------


def _dsl(text: str, names: tuple[str, ...]) -> str:
    text = " ".join(text.split())
    for name in names:
        text = text.replace(f"{name}()", name)
    for old, new in (("(", " ( "), (")", " ) "), (";", ""), ('"', ""), ("'", "")):
        text = text.replace(old, new)
    tokens = _letter_scan(text.split())
    tokens = _condition_scan(tokens)
    text = " ".join(t for t in tokens if t not in BRACKET_LETTERS)
    while True:
        before = text
        for old, new in FIXED_POINT:
            text = text.replace(old, new)
        if text == before:
            break
    return _closer_scan(text.split(" "))


def _letter_scan(tokens: list[str]) -> list[str]:
    """First scan: letters written before bare closers, the slice from the last DEF to the m closer."""
    start, end = 0, len(tokens)
    letters: list[str] = []
    for i, token in enumerate(tokens):
        if token == "DEF":
            start = i
        if token == "(":
            letters.append(tokens[i - 1])  # i = 0 takes the last token, as Python's indexing does
        if token == ")":
            letter = letters[-1]
            if tokens[i - 1] != letter:
                tokens[i] = letter + tokens[i]
            letters.pop()
            if letter == "m":
                end = i
                break
    text = " ".join(tokens[start : end + 1])
    return text.replace(" (", "(").replace(" )", ")").split()


def _condition_scan(tokens: list[str]) -> list[str]:
    """Second scan: missing condition brackets, IF/IFELSE by a following ELSE. One stack serves both
    rules, as in the release (the IF rule's `i(` entries stay on it and close later tokens)."""
    stack: list[str] = []
    for i, token in enumerate(list(tokens)):
        if token in ("WHILE", "IF", "IFELSE", "not"):
            if tokens[i + 1] != "c(":
                tokens[i] += " c("
                stack.append("c(")
        elif token in ("front_object_type", "front_object_color"):
            if tokens[i + 1] != "h(":
                tokens[i] += " h("
                stack.append("h(")
        elif token in ("c(", "h("):
            stack.append(token)
        elif stack:
            closer = stack.pop().replace("(", ")")
            if tokens[i + 1] != closer:
                tokens[i] += f" {closer}"
        if token in ("IF", "IFELSE"):
            for j in range(i + 1, len(tokens)):
                if tokens[j] == "i(":
                    stack.append("i(")
                elif tokens[j] == "i)" and "i(" in stack:
                    stack.pop()
                    if "i(" not in stack:
                        if tokens[j + 1] == "ELSE":
                            tokens[i] = tokens[i].replace("IFELSE", "IF").replace("IF", "IFELSE")
                        else:
                            tokens[i] = tokens[i].replace("IFELSE", "IF")
                        break
    return tokens


def _closer_scan(tokens: list[str]) -> str:
    """Last scan: each closer closes the innermost open bracket (the scan stops at an unmatched one and
    leaves the rest as it is); R=n clamped to 0..19."""
    stack: list[str] = []
    for i, token in enumerate(tokens):
        if "(" in token:
            stack.append(token)
        elif ")" in token:
            if not stack:
                break
            tokens[i] = stack.pop().replace("(", ")")
        elif "=" in token:
            parts = token.split("=")
            parts[-1] = str(min(max(0, int(parts[-1])), 19))
            tokens[i] = "=".join(parts)
    return " ".join(tokens)
