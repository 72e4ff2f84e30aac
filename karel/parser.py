"""Parser from canonical DSL text (or LEAPS token ids) to the AST of `karel.program`.

The grammar, written once (recursive descent below follows it rule by rule):

    program := DEF run m( block m)
    block   := stmt+
    stmt    := action
             | WHILE c( cond c) w( block w)
             | REPEAT R=n r( block r)                  n in 0..19
             | IF c( cond c) i( block i)
             | IFELSE c( cond c) i( block i) ELSE e( block e)
    cond    := perception | not c( cond c)
    action  := move | turnLeft | turnRight | pickMarker | putMarker
    perception := frontIsClear | leftIsClear | rightIsClear | markersPresent | noMarkersPresent

Actions and perceptions are those of the language (`karel.language`, Karel by default); MiniGrid adds
parametric perceptions, `perception := name h( argument h)`, whose argument must be one the language
accepts for that name. Tokens are separated by whitespace. Errors are `ProgramSyntaxError`s naming the 0-based token position and
what was expected there. Nested `not` is accepted (the LLM-GS parser accepts it too).

Nesting is limited to `MAX_DEPTH` (100) nested structures (WHILE, REPEAT, IF, IFELSE and `not` counted
alike); a deeper program is a `ProgramSyntaxError` "nested too deep" at the token that opens level 101.
Programs that search or people write nest a few levels (search limits: 3; 45-token programs: at most 10),
so the limit only stops input that would exhaust the stack of the recursive consumers (interpreter,
compiler); the printer (`karel.program`) is iterative and prints any depth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from karel.dsl import PAD_ID, TOKENS
from karel.language import KAREL, Language
from karel.program import Act, Cond, Feature, If, IfElse, Not, Program, Repeat, Stmt, While

_REPEAT_COUNT = re.compile(r"R=(-?\d+)")
MAX_DEPTH = 100  # nested structures (WHILE, REPEAT, IF, IFELSE, not) a program may have


class ProgramSyntaxError(ValueError):
    """A program that does not follow the grammar; `position` is the 0-based index of the bad token."""

    def __init__(self, position: int, found: str | None, expected: str, message: str | None = None):
        self.position, self.found, self.expected = position, found, expected
        where = f"'{found}'" if found is not None else "end of program"
        super().__init__(message or f"token {position}: expected {expected}, found {where}")


def parse(text: str, language: Language = KAREL) -> Program:
    """Parse canonical (whitespace-separated) program text of `language` into a `Program`."""
    return _Parser(text.split(), language).program()


def parse_ids(ids: Sequence[int]) -> Program:
    """Parse LEAPS token ids; reading stops at the first pad id (50) or beyond."""
    tokens = []
    for position, i in enumerate(ids):
        i = int(i)
        if i >= PAD_ID:
            break
        if i < 0:
            raise ProgramSyntaxError(position, str(i), "a token id in 0..50")
        tokens.append(TOKENS[i])
    return _Parser(tokens, KAREL).program()


class _Parser:
    def __init__(self, tokens: list[str], language: Language):
        self.tokens = tokens
        self.language = language
        self.pos = 0
        self.depth = 0  # structures open at the current token
        self.statement_starts = "a statement (action, WHILE, REPEAT, IF or IFELSE)"

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def fail(self, expected: str):
        raise ProgramSyntaxError(self.pos, self.peek(), expected)

    def enter(self) -> None:
        """Open one nested structure at the current token (refused beyond `MAX_DEPTH`)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ProgramSyntaxError(self.pos, self.peek(), "a shallower program",
                                     f"token {self.pos}: nested too deep (at most {MAX_DEPTH} nested WHILE, "
                                     "REPEAT, IF, IFELSE and not)")  # fmt: skip

    def expect(self, token: str) -> None:
        if self.peek() != token:
            self.fail(f"'{token}'")
        self.pos += 1

    def program(self) -> Program:
        for token in ("DEF", "run", "m("):
            self.expect(token)
        program = Program(self.block("m)"))
        if self.pos != len(self.tokens):
            self.fail("end of program after 'm)'")
        return program

    def block(self, close: str) -> tuple[Stmt, ...]:
        """One or more statements, then the closing token `close`."""
        if self.peek() == close:
            self.fail(f"{self.statement_starts} (blocks are non-empty)")
        stmts = []
        while self.peek() != close:
            stmts.append(self.stmt(close))
        self.pos += 1
        return tuple(stmts)

    def stmt(self, close: str) -> Stmt:
        token = self.peek()
        action = self.language.action(token) if token is not None else None
        if action is not None:
            self.pos += 1
            return Act(action)
        if token in ("WHILE", "REPEAT", "IF", "IFELSE"):
            self.enter()
            stmt = self.control(token)
            self.depth -= 1
            return stmt
        self.fail(f"{self.statement_starts} or '{close}'")

    def control(self, token: str) -> Stmt:
        if token == "WHILE":
            self.pos += 1
            cond = self.bracketed_cond()
            self.expect("w(")
            return While(cond, self.block("w)"))
        if token == "REPEAT":
            self.pos += 1
            count = self.repeat_count()
            self.expect("r(")
            return Repeat(count, self.block("r)"))
        if token == "IF":
            self.pos += 1
            cond = self.bracketed_cond()
            self.expect("i(")
            return If(cond, self.block("i)"))
        self.pos += 1  # IFELSE
        cond = self.bracketed_cond()
        self.expect("i(")
        then = self.block("i)")
        self.expect("ELSE")
        self.expect("e(")
        return IfElse(cond, then, self.block("e)"))

    def repeat_count(self) -> int:
        match = _REPEAT_COUNT.fullmatch(self.peek() or "")
        if match is None:
            self.fail("a repeat count R=0 .. R=19")
        count = int(match.group(1))
        if not 0 <= count <= 19:
            raise ProgramSyntaxError(self.pos, self.peek(), "a repeat count R=0 .. R=19 (count out of range)")
        self.pos += 1
        return count

    def bracketed_cond(self) -> Cond:
        self.expect("c(")
        cond = self.cond()
        self.expect("c)")
        return cond

    def cond(self) -> Cond:
        token = self.peek()
        perception = self.language.perception(token) if token is not None else None
        if perception is not None:
            self.pos += 1
            if not self.language.is_parametric(perception):
                return Feature(perception)
            accepted = self.language.arguments[perception.name]
            self.expect("h(")
            if self.peek() not in accepted:
                self.fail(f"an argument of {perception.name} ({', '.join(accepted)})")
            argument = self.tokens[self.pos]
            self.pos += 1
            self.expect("h)")
            return Feature(perception, argument)
        if token == "not":
            self.enter()
            self.pos += 1
            cond = Not(self.bracketed_cond())
            self.depth -= 1
            return cond
        self.fail("a perception or 'not'")
