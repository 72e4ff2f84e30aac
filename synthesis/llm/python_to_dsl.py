"""Python-like Karel programs (what the LLM writes) to DSL programs, through Python's `ast` module.

Mappings (the LLM-GS table, `reference/llm_gs.md` 1.3, plus what a real parser makes possible):

| Python | DSL |
|---|---|
| `def run(): s` (or the only function, or top-level statements) | `DEF run m( s m)` |
| `move()`, `turnLeft()`, ... (also `self.move()`, `karel.move()`) | `move`, `turnLeft`, ... |
| `while b: s` | `WHILE c( b c) w( s w)` |
| `while True: s` | `REPEAT R=19 r( s r)` (as the reference's repair pass) |
| `if b: s` / `if b: s else: t` | `IF c( b c) i( s i)` / `IFELSE c( b c) i( s i) ELSE e( t e)` |
| `if a: s elif b: t else: u` | `IFELSE c( a c) i( s i) ELSE e( IFELSE c( b c) ... e)` (nested) |
| `for _ in range(n)`, `range(a, b)`, `range(a, b, k)` | `REPEAT R=len(range(...)) r( s r)`, clamped to 0..19 |
| `not b`, `not not b` | `not c( b c)`, `b` |
| `frontIsClear()`, ... | `frontIsClear`, ... |
| MiniGrid: `forward()`, ...; `front_object_type("lava")` (or `(lava)`) | `forward`, ...; `front_object_type h( lava h)` |

Comments, blank lines, docstrings, `pass` and tabs are accepted; a block left empty, an unknown call,
`and`/`or`, comparisons, variables, `break`/`return` and other statements are rejected with a
`ConversionError` that names the line.
"""

from __future__ import annotations

import ast

from karel.dsl import MAX_REPEAT
from karel.language import KAREL, Language
from karel.parser import MAX_DEPTH, ProgramSyntaxError, parse
from karel.program import Act, Cond, Feature, If, IfElse, Not, Program, Repeat, Stmt, While, to_text


class ConversionError(ValueError):
    """The Python text cannot be turned into a DSL program; the message says why and where."""


def python_to_program(source: str, language: Language = KAREL) -> Program:
    """Convert Python-like code of `language` (Karel or MiniGrid) to a program (see the module table).

    Code nested deeper than the DSL parser's limit (`karel.parser.MAX_DEPTH`, counting `elif` chains and
    `not`), or too deep for Python's own parser, is a `ConversionError`, as any other unconvertible text."""
    try:
        program = _convert(source, language)
    except RecursionError:
        raise ConversionError(f"nested too deep (at most {MAX_DEPTH} nested structures)") from None
    try:
        parse(to_text(program), language)  # the DSL's own limits, nesting depth first
    except ProgramSyntaxError as error:
        raise ConversionError(f"not a DSL program: {error}") from None
    return program


def _convert(source: str, language: Language) -> Program:
    try:
        module = ast.parse(source.expandtabs(4))
    except (SyntaxError, MemoryError) as error:  # MemoryError: CPython's parser stack on deep nesting
        line = getattr(error, "lineno", None)
        raise ConversionError(f"not valid Python (line {line}): {getattr(error, 'msg', 'too deeply nested')}") from None
    functions = [node for node in module.body if isinstance(node, ast.FunctionDef)]
    run = next((f for f in functions if f.name == "run"), functions[0] if len(functions) == 1 else None)
    if run is not None:
        body = run.body
    elif functions:
        raise ConversionError(f"several functions and none named run: {', '.join(f.name for f in functions)}")
    else:
        body = module.body
    return Program(_block(body, "the program", language))


def _block(statements: list[ast.stmt], where: str, language: Language) -> tuple[Stmt, ...]:
    converted: list[Stmt] = []
    for node in statements:
        converted.extend(_statement(node, language))
    if not converted:
        raise ConversionError(f"{where} is empty (DSL blocks need at least one statement)")
    return tuple(converted)


def _statement(node: ast.stmt, language: Language) -> list[Stmt]:
    line = f"line {node.lineno}"
    if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        return []  # `pass` and docstrings
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name, _ = _call(node.value, line, language)
        action = language.action(name)
        if action is None:
            raise ConversionError(f"{line}: {name}() is not an action ({', '.join(language.actions.__members__)})")
        return [Act(action)]
    if isinstance(node, ast.While):
        if node.orelse:
            raise ConversionError(f"{line}: while ... else is not in the DSL")
        if isinstance(node.test, ast.Constant):
            count = MAX_REPEAT if node.test.value else 0
            return [Repeat(count, _block(node.body, f"the while loop at {line}", language))]
        return [While(_condition(node.test, line, language), _block(node.body, f"the while loop at {line}", language))]
    if isinstance(node, ast.If):
        cond = _condition(node.test, line, language)
        then = _block(node.body, f"the if at {line}", language)
        if not node.orelse:
            return [If(cond, then)]
        return [IfElse(cond, then, _block(node.orelse, f"the else of the if at {line}", language))]
    if isinstance(node, ast.For):
        return [Repeat(_range_count(node.iter, line), _block(node.body, f"the for loop at {line}", language))]
    kind = type(node).__name__.lower()
    raise ConversionError(f"{line}: {kind} statements are not in the DSL")


def _call(call: ast.Call, line: str, language: Language) -> tuple[str, str | None]:
    """The called name and, for a parametric perception, its one argument (a string or a bare name)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name is None:
        raise ConversionError(f"{line}: only plain calls like move() are allowed")
    if name not in language.arguments:
        if call.args or call.keywords:
            raise ConversionError(f"{line}: {name}() takes no arguments")
        return name, None
    arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return name, arg.value
    if isinstance(arg, ast.Name):
        return name, arg.id
    raise ConversionError(f'{line}: {name}() takes one argument, a name such as "{language.arguments[name][0]}"')


def _condition(node: ast.expr, line: str, language: Language) -> Cond:
    negations = 0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        negations += 1
        node = node.operand
    if not isinstance(node, ast.Call):
        what = "and/or" if isinstance(node, ast.BoolOp) else type(node).__name__.lower()
        raise ConversionError(f"{line}: conditions must be a perception call, optionally negated (found {what})")
    name, argument = _call(node, line, language)
    perception = language.perception(name)
    if perception is None:
        known = ", ".join(language.perceptions.__members__)
        raise ConversionError(f"{line}: {name}() is not a perception ({known})")
    accepted = language.arguments.get(name)
    if accepted is not None and argument not in accepted:
        raise ConversionError(f"{line}: {name}() needs one of {', '.join(accepted)} (got {argument!r})")
    feature = Feature(perception, argument)
    return Not(feature) if negations % 2 else feature


def _range_count(node: ast.expr, line: str) -> int:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"):
        raise ConversionError(f"{line}: for loops must run over range(...)")
    try:
        bounds = [ast.literal_eval(arg) for arg in node.args]
        count = len(range(*bounds))
    except (ValueError, TypeError):
        raise ConversionError(f"{line}: range() needs integer constants") from None
    return min(max(count, 0), MAX_REPEAT)
