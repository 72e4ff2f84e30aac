"""From one model completion to at most one program: the Python path and the DSL path, as in LLM-GS
(`reference/llm_gs.md` 1.4).

Python path: the first ```python fence (else the first fence, else the whole text, when it holds a
`def`), converted through `synthesis.llm.python_to_dsl`. DSL path: the model's own DSL text, read by
`synthesis.llm.dsl_reader`. When both give a program, one of the two is chosen uniformly with the search's
seeded RNG, as the reference does; when neither does, the completion is rejected with both reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from karel.language import KAREL, Language
from karel.program import Program
from synthesis.llm.dsl_reader import DslReadError, read_dsl
from synthesis.llm.python_to_dsl import ConversionError, python_to_program

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Reading:
    """What one completion gave: the chosen program (or None) and why each path failed."""

    program: Program | None
    path: str | None  # "python" or "dsl"
    python_error: str | None
    dsl_error: str | None

    @property
    def reason(self) -> str:
        return f"python: {self.python_error}; dsl: {self.dsl_error}"


def python_code(text: str) -> str | None:
    fences = FENCE.findall(text)
    for language, body in fences:
        if language.lower() in ("python", "py", "python3"):
            return body
    for _, body in fences:
        if "def " in body:
            return body
    return text if "def " in text and "DEF run" not in text else None


def read_completion(text: str, rng: np.random.Generator, language: Language = KAREL) -> Reading:
    """The program one completion gives for `language` (Karel or MiniGrid), by the module's two paths."""
    python_program = dsl_program = None
    python_error = dsl_error = None
    code = python_code(text)
    if code is None:
        python_error = "no Python code block"
    else:
        try:
            python_program = python_to_program(code, language)
        except ConversionError as error:
            python_error = str(error)
    try:
        dsl_program = read_dsl(text, language)
    except DslReadError as error:
        dsl_error = str(error)
    if python_program is not None and dsl_program is not None:
        if rng.random() < 0.5:
            return Reading(python_program, "python", None, None)
        return Reading(dsl_program, "dsl", None, None)
    if python_program is not None:
        return Reading(python_program, "python", None, dsl_error)
    if dsl_program is not None:
        return Reading(dsl_program, "dsl", python_error, None)
    return Reading(None, None, python_error, dsl_error)
