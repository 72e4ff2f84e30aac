"""The faithful reader of DSL programs written by a language model: brackets matched by their letter,
a repair only where exactly one reading is possible.

`read_dsl(text)` reads the program that starts at the first `DEF run` of `text` (`dsl_starts` lists
where programs start; `synthesis.llm.candidates` decides which one an answer means). The rules, in order
(docs/llm-reader.md has them with examples):

1. The program's text runs from `DEF` to the end of its code block (or, outside code blocks, to the next
   fence or blank line). `#` and `//` comments, backticks, quotes, commas and semicolons are dropped;
   `move()` becomes `move`; `R = 5` and `REPEAT(5)` become `R=5`; `w (` becomes `w(`; keywords may be written in lower
   or title case (`while`, `ifelse`, `Repeat`); MiniGrid arguments in any case and either form
   (`front_object_type("Lava")`, `front_object_type h( lava h)`).
2. A word outside the DSL ends the text there; if the program is still open, it is rejected ("unknown
   word"), never closed early.
3. Forced repairs (only one place is possible, listed in the reading's notes): a condition's missing
   `c(`/`c)` (a condition holds exactly one perception, optionally negated), the opener a keyword needs
   (`w(` after a WHILE condition, `i(` after IF, `r(` after `REPEAT R=n`, `e(` after ELSE, `m(` after
   `DEF run`), `ELSE` before an `e(` that follows an `i)`, IF/IFELSE named by whether an ELSE follows.
4. Closers: a closer closes the innermost open bracket when their letters agree (a bare `)` agrees with
   any). Otherwise the reader looks for the readings with the fewest bracket edits (insert a closer,
   delete one, change its letter; at most `MAX_EDITS`): the program is accepted only when all of them
   are the same program. The program's own `m)` must be written, except at the very end of the text,
   and no statement may follow it. So a missing `e)` whose place is not determined, or an extra closer
   that could end the program early, is a rejection whose reason names the readings.
5. The release's documented conversions (`reference/llm_gs.md` 1.4): `WHILE c( True c)` is
   `REPEAT R=19` (`False`: `R=0`), `R=n` is clamped to 0..19.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from karel.dsl import MAX_REPEAT
from karel.language import KAREL, Language
from karel.parser import ProgramSyntaxError, parse
from karel.program import Program

MAX_EDITS = 3  # bracket edits tried before a program is rejected as unreadable
KEYWORDS = {"def": "DEF", "while": "WHILE", "if": "IF", "ifelse": "IFELSE", "else": "ELSE", "repeat": "REPEAT"}
BODY = {"DEF": "m", "WHILE": "w", "IF": "i", "IFELSE": "i", "REPEAT": "r", "ELSE": "e"}
IFS = ("IF", "IFELSE")
START = re.compile(r"\b(?:DEF|def)\s+run\b(?!\s*\(\s*\)\s*:)")
TOKEN = re.compile(r"[mcwrieh][()]|R=-?\d+|\w+:\w+|-?\d+|\w+|[()]|\S")


class DslReadError(ValueError):
    """The text holds no program that can be read without guessing; the message says why."""


@dataclass(frozen=True)
class DslReading:
    program: Program
    notes: tuple[str, ...]  # the repairs and conversions applied, in order


def dsl_starts(text: str) -> list[int]:
    """Offsets of every `DEF run` (or `def run` not followed by `():`, which is Python) in `text`."""
    return [m.start() for m in START.finditer(text)]


def read_dsl(text: str, language: Language = KAREL) -> DslReading:
    """The program starting at the first `DEF run` of `text`, by the module's rules."""
    starts = dsl_starts(text)
    if not starts:
        raise DslReadError("no DEF run")
    tokens = _tokens(text[starts[0] :], language)
    items, notes = _items(tokens, language)
    readings, edits = _search(items)
    if not readings:
        cut = items[-1]
        if cut[0] == "cut":
            raise DslReadError(cut[1])
        raise DslReadError(f"the brackets do not match with up to {MAX_EDITS} edits")
    programs: dict[str, tuple] = {}
    for events in sorted(readings, key=repr):
        source = _text(events, items)
        programs.setdefault(source, events)
    if len(programs) > 1:
        shown = " | ".join(list(programs)[:2])
        raise DslReadError(f"ambiguous brackets: {len(programs)} readings with {edits} edit(s), e.g. {shown}")
    [(source, events)] = programs.items()
    try:
        program = parse(source, language)
    except ProgramSyntaxError as error:
        raise DslReadError(f"{error} (read as: {source})") from None
    notes += _edit_notes(events, items)
    if "IF?" in " ".join(_raw(events, items)):
        notes += _if_notes(events, items, source)
    return DslReading(program, tuple(notes))


# ---- tokens ------------------------------------------------------------------------------------


def _tokens(text: str, language: Language) -> list[str]:
    text = re.sub(r"(#|//)[^\n]*", " ", text)
    text = re.sub(r"[`'\",;]", " ", text)
    if language.arguments:
        parametric = "|".join(language.arguments)
        text = re.sub(r"\b(" + parametric + r")\s*(?:h\s*)?\(\s*(\w+)\s*(?:h\s*)?\)",
                      lambda m: f"{m.group(1)}:{m.group(2).lower()}", text)  # fmt: skip
    names = [*language.actions.__members__, *language.perceptions.__members__]
    text = re.sub(r"\b(" + "|".join(names) + r")\s*\(\s*\)", r"\1", text)
    text = re.sub(r"\b(REPEAT)\s*\(\s*(-?\d+)\s*\)", r"\1 R=\2", text, flags=re.IGNORECASE)
    text = re.sub(r"\b[Rr]\s*=\s*(-?\d+)", r"R=\1", text)
    text = re.sub(r"\b([mcwrieh])\s+([()])", r"\1\2", text)
    return TOKEN.findall(text)


def _is_feature(token: str, language: Language) -> bool:
    if ":" in token:
        name, argument = token.split(":")
        return argument in language.arguments.get(name, ())
    return language.perception(token) is not None and token not in language.arguments


def _bracket(token: str | None, side: str) -> str | None | bool:
    """The letter of a bracket token of `side` ("(" or ")"; None for a bare bracket), False if it is none."""
    if token == side:
        return None
    if token and len(token) == 2 and token[1] == side and token[0] in "mcwrieh":
        return token[0]
    return False


def _opener(token: str | None) -> str | None | bool:
    """The letter of an opening token (None for a bare `(`), False if not an opener."""
    return _bracket(token, "(")


def _closer(token: str | None) -> str | None | bool:
    """The letter of a closing token (None for a bare `)`), False if not a closer."""
    return _bracket(token, ")")


def _items(tokens: list[str], language: Language) -> tuple[list[tuple], list[str]]:
    """Rules 1-3 and 5: statements, block headers with their openers, closers; the last item is ("end",)
    or ("cut", reason) for a word outside the DSL."""
    notes: list[str] = []
    words = [KEYWORDS.get(t.lower(), t) if t.lower() in KEYWORDS else t for t in tokens]
    assert words[0] == "DEF" and words[1] == "run"
    i, items = 2, []
    i = _body_opener(words, i, "DEF", "DEF run", items, notes)
    while i < len(words):
        word = words[i]
        if word == "DEF":
            break  # the next program
        if language.action(word) is not None:
            items.append(("act", word))
            i += 1
        elif word in ("WHILE", "IF", "IFELSE"):
            try:
                header, i = _condition(words, i + 1, word, language, notes)
            except _Cut as cut:
                items.append(("cut", str(cut)))
                return items, notes
            kind = "REPEAT" if header.startswith("REPEAT") else word
            i = _body_opener(words, i, kind, header, items, notes, also="w" if kind == "REPEAT" else None)
        elif word == "REPEAT":
            count = words[i + 1] if i + 1 < len(words) else ""
            match = re.fullmatch(r"(?:R=)?(-?\d+)", count)
            if not match:
                items.append(("cut", f"REPEAT needs R=n (found {count or 'the end'})"))
                return items, notes
            n = int(match.group(1))
            clamped = min(max(n, 0), MAX_REPEAT)
            if clamped != n:
                notes.append(f"REPEAT R={n} clamped to R={clamped} (as the release)")
            i = _body_opener(words, i + 2, "REPEAT", f"REPEAT R={clamped}", items, notes)
        elif word == "ELSE":
            i = _body_opener(words, i + 1, "ELSE", "ELSE", items, notes)
        elif _opener(word) == "e" and items and items[-1][0] == "close":
            notes.append("ELSE added before e(")
            i = _body_opener(words, i, "ELSE", "ELSE", items, notes)
        elif _closer(word) is not False:
            items.append(("close", _closer(word), word))
            i += 1
        elif _opener(word) is not False:
            items.append(("cut", f"an opening {word} where a statement is expected"))
            return items, notes
        elif _is_feature(word, language) or word in ("not", "True", "False", "true", "false"):
            items.append(("cut", f"a condition ({word}) where a statement is expected"))
            return items, notes
        else:
            items.append(("cut", f"unknown word {word!r} inside the program"))
            return items, notes
    items.append(("end",))
    return items, notes


class _Cut(Exception):
    pass


def _condition(words: list[str], i: int, keyword: str, language: Language, notes: list[str]) -> tuple[str, int]:
    """The header `KEYWORD c( [not c(] feature [c)] c)` starting after the keyword, with missing condition
    brackets added; `WHILE c( True c)` is `REPEAT R=19`."""

    def at(k: int) -> str:
        return words[k] if k < len(words) else ""

    opened = 0
    if at(i) in ("c(", "("):
        opened, i = 1, i + 1
    negated = inner = False
    if at(i) in ("not", "NOT", "Not"):
        negated, i = True, i + 1
        if at(i) in ("c(", "("):
            inner, i = True, i + 1
    feature = at(i)
    constant = feature in ("True", "False", "true", "false")
    if not (constant or _is_feature(feature, language)):
        raise _Cut(f"{keyword} needs a perception as its condition (found {feature or 'the end'!r})")
    i += 1
    wanted, found = 1 + negated, 0  # c( feature c), or c( not c( feature c) c)
    while found < wanted and at(i) in ("c)", ")"):
        found, i = found + 1, i + 1
    if opened + inner < wanted or found < wanted:
        notes.append(f"condition brackets added in {keyword} {'not ' if negated else ''}{feature}")
    if constant:
        value = (feature.lower() == "true") != negated
        if keyword != "WHILE":
            raise _Cut(f"{keyword} with a constant condition is not in the DSL")
        count = MAX_REPEAT if value else 0
        notes.append(f"WHILE {feature} read as REPEAT R={count} (as the release)")
        return f"REPEAT R={count}", i
    name, _, argument = feature.partition(":")
    atom = f"{name} h( {argument} h)" if argument else name
    condition = f"not c( {atom} c)" if negated else atom
    return f"{keyword} c( {condition} c)", i


def _body_opener(words, i, kind, header, items, notes, also=None) -> int:
    """The opener after a header: consumed when written (any letter; a wrong one noted and accepted for
    its closers too), added when missing."""
    letter = BODY[kind]
    letters = {letter} | ({also} if also else set())
    written = _opener(words[i]) if i < len(words) else False
    if written is False:
        notes.append(f"{letter}( added after {header}")
    else:
        i += 1
        if written is not None and written not in letters:
            notes.append(f"{written}( read as {letter}( after {header}")
            letters.add(written)
    if kind != "DEF":
        items.append(("open", kind, frozenset(letters), header))
    return i


# ---- the search over bracket edits ---------------------------------------------------------------


def _search(items: list[tuple]) -> tuple[frozenset, int]:
    """All readings with the fewest edits (at most MAX_EDITS) and that number."""

    @cache
    def go(j: int, stack: tuple, after_if: bool, budget: int) -> frozenset:
        if not stack:
            rest = items[j:]
            return frozenset({()}) if not any(item[0] in ("act", "open") for item in rest) else frozenset()
        letters, kind, filled = stack[-1]
        item = items[j]
        out: set[tuple] = set()

        def then(event, j2, stack2, after2, budget2):
            for rest in go(j2, stack2, after2, budget2):
                out.add((event, *rest))

        popped = stack[:-1]
        if budget and filled and (kind != "DEF" or item[0] == "end"):
            then(("insert", BODY[kind] + ")"), j, popped, kind in IFS, budget - 1)
        if item[0] in ("end", "cut"):
            return frozenset(out)
        filled_stack = (*popped, (letters, kind, True))
        if item[0] == "act":
            then(("act", j), j + 1, filled_stack, False, budget)
        elif item[0] == "open":
            _, new_kind, new_letters, _ = item
            if new_kind != "ELSE" or after_if:
                then(("open", j), j + 1, (*filled_stack, (new_letters, new_kind, False)), False, budget)
        else:  # a closer
            letter = item[1]
            if filled and (letter is None or letter in letters):
                then(("close", j), j + 1, popped, kind in IFS, budget)
            elif filled and budget:
                then(("relabel", j), j + 1, popped, kind in IFS, budget - 1)
            if budget:
                then(("delete", j), j + 1, stack, after_if, budget - 1)
        return frozenset(out)

    root = ((frozenset({"m"}), "DEF", False),)
    for edits in range(MAX_EDITS + 1):
        readings = go(0, root, False, edits)
        if readings:
            return readings, edits
    return frozenset(), MAX_EDITS


def _closing(events: tuple, items: list[tuple]) -> list[str]:
    """The closer letter of every closing event, from the stack the events imply."""
    stack, out = ["m"], []
    for event, payload in events:
        if event == "open":
            stack.append(BODY[items[payload][1]])
        elif event in ("close", "relabel", "insert"):
            out.append(stack.pop() + ")")
    return out


def _raw(events: tuple, items: list[tuple]) -> list[str]:
    closers = iter(_closing(events, items))
    tokens = ["DEF", "run", "m("]
    for event, payload in events:
        if event == "act":
            tokens.append(items[payload][1])
        elif event == "open":
            _, kind, _, header = items[payload]
            header = "IF?" + header[len(kind) :] if kind in IFS else header
            tokens += [*header.split(), BODY[kind] + "("]
        elif event in ("close", "relabel", "insert"):
            tokens.append(next(closers))
    return tokens


def _text(events: tuple, items: list[tuple]) -> str:
    """Canonical text of a reading; IF? becomes IFELSE when an ELSE follows its `i)`, else IF."""
    tokens = _raw(events, items)
    for k, token in enumerate(tokens):
        if token == "IF?":
            end = _matching_close(tokens, tokens.index("i(", k))
            tokens[k] = "IFELSE" if end + 1 < len(tokens) and tokens[end + 1] == "ELSE" else "IF"
    return " ".join(tokens)


def _matching_close(tokens: list[str], opening: int) -> int:
    depth = 0
    for k in range(opening, len(tokens)):
        if tokens[k].endswith("(") and tokens[k] != "(":
            depth += 1
        elif tokens[k].endswith(")") and tokens[k] != ")":
            depth -= 1
            if depth == 0:
                return k
    return len(tokens)


def _edit_notes(events: tuple, items: list[tuple]) -> list[str]:
    notes, closers, before = [], iter(_closing(events, items)), []
    for event, payload in events:
        if event == "act":
            before.append(items[payload][1])
        elif event == "open":
            before.append(items[payload][3].split()[0])
        elif event in ("close", "relabel", "insert"):
            closer = next(closers)
            after = " ".join(before[-2:])
            if event == "insert":
                notes.append(f"{closer} added after '{after}' (the only place it can go)")
            elif event == "relabel":
                notes.append(f"{items[payload][2]} read as {closer} after '{after}'")
            before.append(closer)
        elif event == "delete":
            notes.append(f"extra {items[payload][2]} after '{' '.join(before[-2:])}' dropped")
    return notes


def _if_notes(events: tuple, items: list[tuple], source: str) -> list[str]:
    written = [items[p][1] for e, p in events if e == "open" and items[p][1] in IFS]
    read = [t for t in source.split() if t in IFS]
    return [f"{w} read as {r} (an ELSE {'follows' if r == 'IFELSE' else 'does not follow'})"
            for w, r in zip(written, read) if w != r]  # fmt: skip
