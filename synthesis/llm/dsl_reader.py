"""A tolerant reader of DSL programs written by a language model, with explicit repair rules.

The text goes through these rules in order, then through the strict parser (`karel.parser.parse`), whose
error, if any, is the reason the candidate is rejected:

1. Start at the last `DEF` in the text (models often restate a draft first); no `DEF` is an error.
2. Normalise: drop backticks, quotes, commas and semicolons; `move()` becomes `move` for every action
   and perception; `R = 5` becomes `R=5`; a bracket letter and a parenthesis written apart (`w (`,
   `c )`) are joined.
3. Conditions: a perception or `not` right after `WHILE`, `IF` or `IFELSE`, and a perception right after
   `not`, get the `c( ... c)` they lack.
4. Bodies: a missing opener is inserted where the grammar needs one: `m(` after `DEF run`, `w(` / `i(`
   after a WHILE / IF condition, `r(` after `REPEAT R=n`, `e(` after `ELSE`.
5. Closers: every closing token (or a bare `)`) is rewritten to close the innermost open bracket;
   reading stops at the `m)` that closes the program; brackets still open at the end are closed.
6. `IF` followed by `ELSE` after its body becomes `IFELSE`; `IFELSE` without `ELSE` becomes `IF`.
7. `WHILE c( True c)` becomes `REPEAT R=19`, `WHILE c( False c)` becomes `REPEAT R=0` (as the reference).
8. Stray bracket letters (`c`, `i`, `m`, `e`, `r`, `w`) are dropped; `R=n` is clamped to 0..19.

MiniGrid text (`language=MINIGRID`) is read with MiniGrid's names; a parametric perception written as
`front_object_type h( lava h)`, `front_object_type(lava)` or `front_object_type("lava")` is read as one
perception before the rules run (its argument is checked by the parser).
"""

from __future__ import annotations

import re

from karel.dsl import MAX_REPEAT
from karel.language import KAREL, Language
from karel.parser import ProgramSyntaxError, parse
from karel.program import Program

CONSTANTS = {"True", "False", "true", "false"}
LETTERS = set("mcwrie")
CLOSER = {f"{x}(": f"{x})" for x in LETTERS}


class DslReadError(ValueError):
    """The text holds no readable DSL program; the message says why."""


def read_dsl(text: str, language: Language = KAREL) -> Program:
    """The program of `language` in `text`, repaired by the module's rules."""
    perceptions = set(language.perceptions.__members__) | CONSTANTS
    tokens = _tokens(text, language)
    tokens = _conditions(tokens, lambda token: token in perceptions or ":" in token)
    tokens = _constant_loops(tokens)
    tokens = _openers(tokens)
    tokens = _closers(tokens)
    tokens = _if_else(tokens)
    source = " ".join(_expand_parametric(token) for token in tokens)
    try:
        return parse(source, language)
    except ProgramSyntaxError as error:
        raise DslReadError(f"{error} (after repairs: {source})") from None


def _tokens(text: str, language: Language) -> list[str]:
    """Rules 1, 2 and 8: normalised tokens from the last DEF on; a parametric perception becomes one
    `name:argument` token."""
    start = text.rfind("DEF")
    if start < 0:
        raise DslReadError("no DEF in the text")
    text = re.sub(r"[`'\",;]", " ", text[start:])
    if language.arguments:
        parametric = "|".join(language.arguments)
        text = re.sub(r"\b(" + parametric + r")\s*(?:h\s*)?\(\s*(\w+)\s*(?:h\s*)?\)", r"\1:\2", text)
    names = [*language.actions.__members__, *language.perceptions.__members__]
    text = re.sub(r"\b(" + "|".join(names) + r")\s*\(\s*\)", r"\1", text)
    text = re.sub(r"\bR\s*=\s*(-?\d+)", r"R=\1", text)
    text = re.sub(r"\b([mcwrie])\s+([()])", r"\1\2", text)
    tokens = re.findall(r"[mcwrie][()]|R=-?\d+|\w+:\w+|[A-Za-z_]+|[()]", text)
    out = []
    for token in tokens:
        if token.startswith("R="):
            token = f"R={min(max(int(token[2:]), 0), MAX_REPEAT)}"
        if token in LETTERS:
            continue  # a stray bracket letter
        out.append(token)
    return out


def _expand_parametric(token: str) -> str:
    if ":" not in token:
        return token
    name, argument = token.split(":")
    return f"{name} h( {argument} h)"


def _conditions(tokens: list[str], is_perception) -> list[str]:
    """Rule 3."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        out.append(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in ("WHILE", "IF", "IFELSE") and (is_perception(nxt) or nxt == "not"):
            if nxt == "not" and i + 2 < len(tokens) and is_perception(tokens[i + 2]):
                out += ["c(", "not", "c(", tokens[i + 2], "c)", "c)"]
                i += 3
                continue
            if is_perception(nxt):
                out += ["c(", nxt, "c)"]
                i += 2
                continue
        if token == "not" and is_perception(nxt):
            out += ["c(", nxt, "c)"]
            i += 2
            continue
        i += 1
    return out


def _constant_loops(tokens: list[str]) -> list[str]:
    """Rule 7: `WHILE c( True c) [w(]` becomes `REPEAT R=19 [r(]` (R=0 for False)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        window = tokens[i : i + 4]
        if len(window) == 4 and window[0] == "WHILE" and window[1] == "c(" and window[3] == "c)" \
                and window[2] in ("True", "true", "False", "false"):  # fmt: skip
            out += ["REPEAT", "R=19" if window[2] in ("True", "true") else "R=0"]
            i += 4
            if i < len(tokens) and tokens[i] == "w(":
                out.append("r(")
                i += 1
            continue
        out.append(tokens[i])
        i += 1
    return out


def _openers(tokens: list[str]) -> list[str]:
    """Rule 4; a bare `(` is taken as the opener the grammar expects there (else `c(`)."""
    out: list[str] = []
    stack: list[str] = []  # open brackets, so that a bare `)` can be named at once
    for token in tokens:
        expected = _expected_opener(out)
        if token == "(":
            token = expected or "c("
        elif expected and token not in CLOSER and not token.endswith(")"):
            out.append(expected)
            stack.append(expected)
        if token in CLOSER:
            stack.append(token)
        elif token.endswith(")"):
            token = CLOSER[stack.pop()] if stack else token
        out.append(token)
    return out


def _expected_opener(out: list[str]) -> str | None:
    if not out:
        return None
    last = out[-1]
    if last == "run":
        return "m("
    if last.startswith("R=") and len(out) > 1 and out[-2] == "REPEAT":
        return "r("
    if last == "ELSE":
        return "e("
    if last == "c)":
        # the condition just closed: find its keyword
        depth = 0
        for j in range(len(out) - 1, -1, -1):
            if out[j] == "c)":
                depth += 1
            elif out[j] == "c(":
                depth -= 1
                if depth == 0:
                    keyword = out[j - 1] if j > 0 else ""
                    return {"WHILE": "w(", "IF": "i(", "IFELSE": "i("}.get(keyword)
    return None


def _closers(tokens: list[str]) -> list[str]:
    """Rule 5."""
    out: list[str] = []
    stack: list[str] = []
    for token in tokens:
        if token in CLOSER:
            stack.append(token)
            out.append(token)
        elif token == ")" or (len(token) == 2 and token[0] in LETTERS and token[1] == ")"):
            if not stack:
                break
            opener = stack.pop()
            out.append(CLOSER[opener])
            if opener == "m(" and not stack:
                return out
        else:
            out.append(token)
    out += [CLOSER[opener] for opener in reversed(stack)]
    return out


def _if_else(tokens: list[str]) -> list[str]:
    """Rule 6 (brackets are balanced by now)."""
    tokens = list(tokens)
    for i, token in enumerate(tokens):
        if token not in ("IF", "IFELSE"):
            continue
        end = _body_end(tokens, i)
        has_else = end is not None and end + 1 < len(tokens) and tokens[end + 1] == "ELSE"
        tokens[i] = "IFELSE" if has_else else "IF"
    return tokens


def _body_end(tokens: list[str], start: int) -> int | None:
    """Index of the `i)` closing the body of the IF at `start`."""
    depth = 0
    for j in range(start + 1, len(tokens)):
        if tokens[j] in CLOSER:
            if tokens[j] == "i(" and depth == 0:
                return _matching(tokens, j)
            depth += 1
        elif len(tokens[j]) == 2 and tokens[j][1] == ")":
            depth -= 1
    return None


def _matching(tokens: list[str], open_index: int) -> int | None:
    depth = 0
    for j in range(open_index, len(tokens)):
        if tokens[j] in CLOSER:
            depth += 1
        elif len(tokens[j]) == 2 and tokens[j][1] == ")":
            depth -= 1
            if depth == 0:
                return j
    return None
