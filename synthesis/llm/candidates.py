"""From one model completion to its programs, by one of two readers (docs/llm-reader.md).

`faithful` (the default) never changes what an answer means without saying so:

- An answer cut off by `max_tokens` (`finish_reason: length`) is rejected as cut off.
- A reasoning model's thinking, everything up to the last `</think>` (or `</thinking>`, `</reasoning>`), is
  drafts: only the answer after it is read.
- Python: the program comes from the last complete code block that defines it (a ```python block, an
  unlabelled block holding Python, or, without blocks, a `def` at the start of a line and its indented
  lines); an earlier block is a draft. It is converted by `synthesis.llm.python_to_dsl` (entry point
  `run()`, helpers inlined, `for ... else` as the loop then the else block).
- DSL: the first `DEF run` after that Python block that reads by `synthesis.llm.dsl_reader` (the
  conversion of that program; an alternative the answer mentions later is not reached), else the first
  one before it that reads; text inside Python blocks is never read as DSL.
- The two agree: one program (`path` "both"). They disagree: both programs are candidates (`path`
  "python+dsl", Python's first) and the disagreement is a reason; no coin is flipped. One path reads:
  its program. Neither: the completion is rejected with both reasons.

`release` reproduces the LLM-GS release (`synthesis.llm.release_reader`): its two strings, those that
parse kept, one of them chosen with `RandomState(seed).choice`; `finish_reason` is not looked at (the
release ignores it).

Every reason is `"<kind>: <message>"`; the kinds are counted in the run's summary (`REASON_KINDS`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from karel.language import KAREL, Language
from karel.parser import ProgramSyntaxError, parse
from karel.program import Program
from synthesis.llm.dsl_reader import START, DslReadError, read_dsl
from synthesis.llm.python_to_dsl import ConversionError, python_to_program
from synthesis.llm.release_reader import ReleaseReadError, release_dsl, release_python

READERS = ("faithful", "release")
REASON_KINDS = {
    "cut-off": "the answer was cut off (finish_reason length)",
    "no-python": "no Python code block defines a program",
    "python-error": "the Python code is not a DSL program",
    "no-dsl": "no DEF run outside the Python code",
    "dsl-error": "the DSL text cannot be read",
    "dsl-ambiguous": "the DSL's brackets allow several programs",
    "disagreement": "the Python and DSL readings differ (both kept)",
    "repair": "a repair or conversion made while reading",
    "skipped": "a DEF run that did not read, passed over for a later one",
    "reasoning": "the model's reasoning (<think> ... </think>), not read",
}
REASONING_END = re.compile(r"</(?:think|thinking|reasoning)\s*>", re.IGNORECASE)
PYTHON_TAGS = ("python", "py", "python3")


@dataclass(frozen=True)
class Reading:
    """What one completion gave: its candidate programs (none when rejected), the path they came from
    (`python`, `dsl`, `both`, `python+dsl`) and the reasons (rejections, repairs, disagreements)."""

    programs: tuple[Program, ...]
    path: str | None
    reasons: tuple[str, ...]

    @property
    def program(self) -> Program | None:
        return self.programs[0] if self.programs else None

    def to_json(self) -> dict:
        return {"program": str(self.program) if self.programs else None, "path": self.path,
                "reasons": list(self.reasons), "programs": [str(p) for p in self.programs]}  # fmt: skip


def read_completion(text: str, language: Language = KAREL, *, reader: str = "faithful",
                    finish_reason: str | None = None, rng: np.random.RandomState | None = None) -> Reading:  # fmt: skip
    """The programs one completion gives under `reader`; `rng` (the release's choice) only for `release`."""
    if reader == "release":
        return _read_release(text, language, rng if rng is not None else np.random.RandomState(0))
    if reader != "faithful":
        raise ValueError(f"unknown reader {reader!r}; known: {', '.join(READERS)}")
    if finish_reason == "length":
        return Reading((), None, ("cut-off: the answer was cut off by max_tokens (finish_reason length)",))
    return _read_faithful(text, language)


# ---- code blocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    start: int  # offset of the content
    end: int  # offset after the content (the closing fence's start, or the text's end)
    tag: str
    complete: bool


def code_blocks(text: str) -> list[Block]:
    """The fenced blocks of `text` in order; a fence never closed makes a last, incomplete block."""
    blocks, offset = [], 0
    while True:
        opening = text.find("```", offset)
        if opening < 0:
            return blocks
        line_end = text.find("\n", opening)
        if line_end < 0:
            return blocks
        tag = text[opening + 3 : line_end].strip().split(" ")[0].lower()
        closing = text.find("```", line_end + 1)
        if closing < 0:
            blocks.append(Block(line_end + 1, len(text), tag, False))
            return blocks
        blocks.append(Block(line_end + 1, closing, tag, True))
        offset = closing + 3


def _is_python(block: Block, text: str) -> bool:
    if block.tag in PYTHON_TAGS:
        return True
    if block.tag:
        return False
    body = text[block.start : block.end]
    if START.search(body):
        return False
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Call) for node in ast.walk(tree))


def _defines_program(body: str) -> bool:
    return bool(re.search(r"^\s*def \w+\s*\(", body, re.MULTILINE) or re.search(r"\b\w+\s*\(\s*\)", body))


def python_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of Python code: (complete ones that define a program, all of them incl. incomplete)."""
    blocks = code_blocks(text)
    python = [b for b in blocks if _is_python(b, text)]
    complete = [(b.start, b.end) for b in python if b.complete and _defines_program(text[b.start : b.end])]
    spans = [(b.start, b.end) for b in python]
    if not blocks:  # Python written without a fence: a `def` line and the indented lines under it
        match = re.search(r"^def \w+\s*\(\s*\)\s*:[^\n]*\n(?:(?:[ \t]+[^\n]*|[ \t]*)(?:\n|$))*", text, re.MULTILINE)
        if match:
            complete.append((match.start(), match.end()))
            spans.append((match.start(), match.end()))
    return complete, spans


def _fence_end(text: str, offset: int, blocks: list[Block]) -> int:
    """Where a DSL program starting at `offset` must end: its block's end, else the next fence or blank
    line."""
    for block in blocks:
        if block.start <= offset < block.end:
            return block.end
    stops = [m.start() for m in re.finditer(r"```|\n[ \t]*\n", text[offset:])]
    return offset + stops[0] if stops else len(text)


# ---- the faithful reader -----------------------------------------------------------------------


def _read_faithful(text: str, language: Language) -> Reading:
    reasons: list[str] = []
    closings = list(REASONING_END.finditer(text))
    if closings:
        end = closings[-1].end()
        reasons.append(f"reasoning: the first {end:,} characters, up to {closings[-1].group()}, are not read")
        text = text[end:]
    complete, spans = python_spans(text)
    python_program = None
    after = 0
    if complete:
        start, end = complete[-1]
        after = end
        try:
            python_program = python_to_program(text[start:end], language)
        except ConversionError as error:
            reasons.append(f"python-error: {error}")
    else:
        reasons.append("no-python: no complete Python code block defines a program")
    dsl_program, dsl_notes, dsl_failures = _first_dsl(text, spans, after, language)
    if dsl_program is None:
        reasons += dsl_failures or ["no-dsl: no DEF run outside the Python code"]
    elif dsl_failures:
        reasons += [f"skipped: {failure.split(': ', 1)[1]}" for failure in dsl_failures]
    reasons += [f"repair: {note}" for note in dsl_notes]
    if python_program is not None and dsl_program is not None:
        if _same(python_program, dsl_program):
            return Reading((python_program,), "both", tuple(reasons))
        reasons.append(f"disagreement: python reads {python_program}; dsl reads {dsl_program}")
        return Reading((python_program, dsl_program), "python+dsl", tuple(reasons))
    if python_program is not None:
        return Reading((python_program,), "python", tuple(reasons))
    if dsl_program is not None:
        return Reading((dsl_program,), "dsl", tuple(reasons))
    return Reading((), None, tuple(reasons))


def _first_dsl(text: str, python: list[tuple[int, int]], after: int, language: Language):
    """The first DEF run after `after` that reads, else the first before it; failures in text order."""
    masked = list(text)
    for start, end in python:
        masked[start:end] = " " * (end - start)
    masked = "".join(masked)
    blocks = code_blocks(text)
    starts = [m.start() for m in START.finditer(masked)]
    ordered = [s for s in starts if s >= after] + [s for s in starts if s < after]
    failures = []
    for start in ordered:
        try:
            reading = read_dsl(masked[start : _fence_end(masked, start, blocks)], language)
        except DslReadError as error:
            kind = "dsl-ambiguous" if str(error).startswith("ambiguous") else "dsl-error"
            failures.append(f"{kind}: {error}")
            continue
        return reading.program, reading.notes, failures
    return None, (), failures


def _same(a: Program, b: Program) -> bool:
    """Equal programs, `not c( markersPresent c)` and `noMarkersPresent` taken as the same condition."""

    def norm(p: Program) -> str:
        return (
            str(p)
            .replace("not c( markersPresent c)", "noMarkersPresent")
            .replace("not c( noMarkersPresent c)", "markersPresent")
        )

    return norm(a) == norm(b)


# ---- the release's reader ----------------------------------------------------------------------


def _read_release(text: str, language: Language, rng: np.random.RandomState) -> Reading:
    found: list[tuple[str, Program]] = []
    reasons: list[str] = []
    for path, function in (("python", release_python), ("dsl", release_dsl)):
        try:
            source = function(text, language)
        except ReleaseReadError as error:
            reasons.append(f"{path}-error: {error}")
            continue
        try:
            found.append((path, parse(source, language)))
        except ProgramSyntaxError as error:
            reasons.append(f"{path}-error: the release's string does not parse: {error} ({source})")
    if not found:
        return Reading((), None, tuple(reasons))
    path, program = found[int(rng.choice(len(found)))]  # the release draws even with one candidate
    return Reading((program,), path, tuple(reasons))
