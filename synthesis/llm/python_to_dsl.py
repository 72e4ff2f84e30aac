"""Python-like Karel programs (what the LLM writes) to DSL programs, through Python's `ast` module.

Mappings (the LLM-GS table, `reference/llm_gs.md` 1.3, plus what a real parser makes possible):

| Python | DSL |
|---|---|
| `def run(): s` (the entry point: see below) | `DEF run m( s m)` |
| `helper()` (a function defined in the answer, without parameters) | its body, inlined (recursion is rejected) |
| `move()`, `turnLeft()`, ... (also `self.move()`, `karel.move()`) | `move`, `turnLeft`, ... |
| `while b: s` | `WHILE c( b c) w( s w)` |
| `while True: s` | `REPEAT R=19 r( s r)` (as the reference's repair pass) |
| `for ...: s` / `while b: s` with `else: t` | the loop, then `t` (without `break`, the else block always runs) |
| `if b: s` / `if b: s else: t` | `IF c( b c) i( s i)` / `IFELSE c( b c) i( s i) ELSE e( t e)` |
| `if a: s elif b: t else: u` | `IFELSE c( a c) i( s i) ELSE e( IFELSE c( b c) ... e)` (nested) |
| `for _ in range(n)`, `range(a, b)`, `range(a, b, k)` | `REPEAT R=len(range(...)) r( s r)`, clamped to 0..19 |
| `not b`, `not not b` | `not c( b c)`, `b` |
| `frontIsClear()`, ... | `frontIsClear`, ... |
| `front_is_clear()`, `turn_left()`, ... (the snake_case spelling of a name) | `frontIsClear`, `turnLeft`, ... |
| MiniGrid: `forward()`, ...; `front_object_type("lava")` (or `(lava)`, `("Lava")`) | `forward`, ...; `front_object_type h( lava h)` |

The entry point: `run()` when the code defines it (top-level code may only call it); otherwise, when the
top-level code is one call of a defined function, that function; otherwise, when there is top-level code,
that code (the functions it calls are helpers); otherwise the only function. Imports and an
`if __name__ == "__main__":` guard are looked through.

Comments, blank lines, docstrings, `pass` and tabs are accepted; a block left empty, an unknown call,
`and`/`or`, comparisons, variables, `break`/`return`, helpers with parameters and other statements
are rejected with a `ConversionError` that names the line.
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
    functions: dict[str, ast.FunctionDef] = {}
    top: list[ast.stmt] = []
    for node in _top_level(module.body):
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
        else:
            top.append(node)
    calls = [_called(node) for node in top]
    if "run" in functions:
        entry = "run"
        if any(name != "run" for name in calls):
            line = top[next(i for i, name in enumerate(calls) if name != "run")].lineno
            raise ConversionError(f"line {line}: top-level code besides run() (which is the program)")
    elif len(top) == 1 and calls[0] in functions:
        entry = calls[0]
    elif top:
        entry = None
    elif len(functions) == 1:
        [entry] = functions
    elif functions:
        raise ConversionError(f"several functions and none named run or called: {', '.join(functions)}")
    else:
        raise ConversionError("no code")
    converter = _Converter(language, functions)
    if entry is None:
        return Program(converter.block(top, "the program"))
    return Program(converter.function(entry, functions[entry].lineno))


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module statements without imports and docstrings, an `if __name__ == "__main__":` guard opened."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
                isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__":  # fmt: skip
            out += _top_level(node.body)
            continue
        out.append(node)
    return out


def _called(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
        return node.value.func.id
    return None


class _Converter:
    """Statements to DSL statements; calls of the answer's own functions are inlined."""

    def __init__(self, language: Language, functions: dict[str, ast.FunctionDef]):
        self.language, self.functions = language, functions
        self.active: list[str] = []  # functions being inlined (a repeat is recursion)

    def function(self, name: str, line: int) -> tuple[Stmt, ...]:
        node = self.functions[name]
        if name in self.active:
            raise ConversionError(f"line {line}: {name}() is recursive (not expressible in the DSL)")
        if node.args.args or node.args.posonlyargs or node.args.kwonlyargs or node.args.vararg or node.args.kwarg:
            raise ConversionError(f"line {node.lineno}: {name}() takes parameters (not in the DSL)")
        self.active.append(name)
        try:
            return self.block(node.body, f"{name}()")
        finally:
            self.active.pop()

    def block(self, statements: list[ast.stmt], where: str) -> tuple[Stmt, ...]:
        return _block(statements, where, self.language, self)


def _block(statements: list[ast.stmt], where: str, language: Language, converter: _Converter) -> tuple[Stmt, ...]:
    converted: list[Stmt] = []
    for node in statements:
        converted.extend(_statement(node, language, converter))
    if not converted:
        raise ConversionError(f"{where} is empty (DSL blocks need at least one statement)")
    return tuple(converted)


def _statement(node: ast.stmt, language: Language, converter: _Converter) -> list[Stmt]:
    line = f"line {node.lineno}"

    def block(statements: list[ast.stmt], where: str) -> tuple[Stmt, ...]:
        return _block(statements, where, language, converter)

    if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        return []  # `pass` and docstrings
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Name) and func.id in converter.functions:  # the answer's own function
            return list(converter.function(func.id, node.lineno))
        name, _ = _call(node.value, line, language)
        action = language.action(name)
        if action is None:
            raise ConversionError(f"{line}: {name}() is not an action ({', '.join(language.actions.__members__)})")
        return [Act(action)]
    if isinstance(node, ast.While):
        loop_body = block(node.body, f"the while loop at {line}")
        if isinstance(node.test, ast.Constant):
            loop: Stmt = Repeat(MAX_REPEAT if node.test.value else 0, loop_body)
        else:
            loop = While(_condition(node.test, line, language), loop_body)
        return [loop, *_else(node, language, converter)]
    if isinstance(node, ast.If):
        cond = _condition(node.test, line, language)
        then = block(node.body, f"the if at {line}")
        if not node.orelse:
            return [If(cond, then)]
        return [IfElse(cond, then, block(node.orelse, f"the else of the if at {line}"))]
    if isinstance(node, ast.For):
        loop = Repeat(_range_count(node.iter, line), block(node.body, f"the for loop at {line}"))
        return [loop, *_else(node, language, converter)]
    kind = type(node).__name__.lower()
    raise ConversionError(f"{line}: {kind} statements are not in the DSL")


def _else(loop: ast.For | ast.While, language: Language, converter: _Converter) -> tuple[Stmt, ...]:
    """A loop's else block runs once the loop ends (there is no `break` to skip it)."""
    if not loop.orelse:
        return ()
    return _block(loop.orelse, f"the else of the loop at line {loop.lineno}", language, converter)


def _call(call: ast.Call, line: str, language: Language) -> tuple[str, str | None]:
    """The called name and, for a parametric perception, its one argument (a string or a bare name)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    if name is None:
        raise ConversionError(f"{line}: only plain calls like move() are allowed")
    name = _spelling(name, language)
    if name not in language.arguments:
        if call.args or call.keywords:
            raise ConversionError(f"{line}: {name}() takes no arguments")
        return name, None
    arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return name, arg.value.lower()  # "Lava" is lava
    if isinstance(arg, ast.Name):
        return name, arg.id.lower()
    raise ConversionError(f'{line}: {name}() takes one argument, a name such as "{language.arguments[name][0]}"')


def _spelling(name: str, language: Language) -> str:
    """The language's name for `name`: itself, or the camelCase name it spells in snake_case (`turn_left`
    is `turnLeft`, `no_markers_present` is `noMarkersPresent`); an unknown name is returned as it is."""
    known = {*language.actions.__members__, *language.perceptions.__members__}
    if name in known or "_" not in name.strip("_"):
        return name
    head, *rest = name.strip("_").split("_")
    camel = head.lower() + "".join(part.capitalize() for part in rest)
    return camel if camel in known else name


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
