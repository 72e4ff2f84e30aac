"""Programs as Python-like text, the form the LLM prompts of LLM-GS use (its `PYTHON_TO_KAREL` table and
`prog_policies/utils/indent.py`).

    DEF run m( WHILE c( not c( frontIsClear c) c) w( turnLeft w) REPEAT R=3 r( move r) m)

prints as

    def run():
        while not frontIsClear():
            turnLeft()
        for _ in range(3):
            move()

IF is `if c:`, IFELSE is `if c:` ... `else:`, actions and perceptions are calls (`move()`,
`markersPresent()`; MiniGrid's parametric perceptions take their argument as a string,
`front_object_type("lava")`). A nested `not` prints as `not not frontIsClear()` (Python parses it as the same
nested negation, so no parentheses are needed). The text is valid Python; it has no trailing newline.
"""

from __future__ import annotations

from karel.program import Act, Cond, Feature, If, IfElse, Program, Repeat, Stmt, While


def to_python(program: Program, indent: str = "    ") -> str:
    """Render `program` as a Python function `run`, indenting each block level by `indent`."""
    return "\n".join(["def run():", *_block(program.body, indent, 1)])


def to_python_lines(program: Program, indent: str = "    ") -> list[tuple[str, tuple[int, ...]]]:
    """The lines of `to_python`, each with the position of its statement as the reference interpreter
    numbers them (statement i of a block at position p is (*p, i); a body is block 0 of its statement,
    an else block is block 1), so that a `karel.interpreter.Call` can be shown on its line. The
    `def run():` and `else:` lines carry the position of their statement."""
    return [("def run():", ()), *_lines(program.body, indent, 1, ())]


def _lines(
    block: tuple[Stmt, ...], indent: str, level: int, parent: tuple[int, ...]
) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for i, stmt in enumerate(block):
        position = (*parent, i)
        text = _stmt(stmt, indent, level)[0]
        out.append((text, position))
        if isinstance(stmt, (While, Repeat, If)):
            out += _lines(stmt.body, indent, level + 1, (*position, 0))
        elif isinstance(stmt, IfElse):
            out += _lines(stmt.then, indent, level + 1, (*position, 0))
            out.append((f"{indent * level}else:", position))
            out += _lines(stmt.orelse, indent, level + 1, (*position, 1))
    return out


def _cond(cond: Cond) -> str:
    if isinstance(cond, Feature):
        argument = "" if cond.argument is None else f'"{cond.argument}"'
        return f"{cond.perception.name}({argument})"
    return f"not {_cond(cond.cond)}"


def _block(block: tuple[Stmt, ...], indent: str, level: int) -> list[str]:
    return [line for stmt in block for line in _stmt(stmt, indent, level)]


def _stmt(stmt: Stmt, indent: str, level: int) -> list[str]:
    pad = indent * level
    if isinstance(stmt, Act):
        return [f"{pad}{stmt.action.name}()"]
    if isinstance(stmt, While):
        header, body = f"while {_cond(stmt.cond)}:", stmt.body
    elif isinstance(stmt, Repeat):
        header, body = f"for _ in range({stmt.count}):", stmt.body
    elif isinstance(stmt, If):
        header, body = f"if {_cond(stmt.cond)}:", stmt.body
    else:  # IfElse
        header, body = f"if {_cond(stmt.cond)}:", stmt.then
    lines = [pad + header, *_block(body, indent, level + 1)]
    if isinstance(stmt, IfElse):
        lines += [f"{pad}else:", *_block(stmt.orelse, indent, level + 1)]
    return lines


__all__ = ["to_python", "to_python_lines"]
