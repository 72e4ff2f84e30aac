"""The compiled VM's copied constants against the Python enums they copy, and the VM's build rules."""

from __future__ import annotations

import ast
import inspect

from karel import dsl
from karel.compiler import FIELDS, Op
from karel.interpreter import Termination
from karel.tasks import TASKS, make
from karel.tasks.base import CRASH_PENALTY
from karel.vm import build, ops


def test_op_codes_and_fields_are_the_compilers():
    assert {op.name: op.value for op in Op} == {name[3:]: getattr(ops, name) for name in dir(ops)
                                                 if name.startswith("OP_")}  # fmt: skip
    fields = ("F_OP", "F_ARG", "F_NEGATE", "F_NEXT", "F_ALT", "F_SLOT")  # karel.compiler's row order
    assert [getattr(ops, f) for f in fields] == list(range(FIELDS))


def test_terminations_are_the_interpreters():
    names = {"PROGRAM_END": "END_PROGRAM", "TASK_END": "END_TASK", "BUDGET": "END_BUDGET", "LOOP": "END_LOOP",
             "CRASH": "END_CRASH"}  # fmt: skip
    assert {t.name: t.value for t in Termination} == {k: getattr(ops, v) for k, v in names.items()}


def test_actions_perceptions_and_limits_are_the_dsls():
    assert [ops.MOVE, ops.TURN_LEFT, ops.TURN_RIGHT, ops.PICK, ops.PUT] == [
        dsl.Action.move,
        dsl.Action.turnLeft,
        dsl.Action.turnRight,
        dsl.Action.pickMarker,
        dsl.Action.putMarker,
    ]
    assert len(dsl.Action) == 5 and ops.NOOP == dsl.NOOP_ACTION
    assert [ops.FRONT_IS_CLEAR, ops.LEFT_IS_CLEAR, ops.RIGHT_IS_CLEAR, ops.MARKERS_PRESENT,
            ops.NO_MARKERS_PRESENT] == [p.value for p in dsl.Perception]  # fmt: skip
    assert [d.value for d in dsl.Direction] == [0, 1, 2, 3] and dsl.DIRECTION_STEP == ((-1, 0), (0, 1), (1, 0), (0, -1))
    assert (ops.MAX_MARKERS, ops.CRASH_PENALTY) == (dsl.MAX_MARKERS, CRASH_PENALTY)


def test_every_task_family_has_its_own_rule_id():
    families = {make(name).family for name in TASKS}
    assert set(ops.RULE_IDS) == families
    rule_constants = {getattr(ops, n) for n in dir(ops) if n.startswith("RULE_") and n != "RULE_IDS"}
    assert set(ops.RULE_IDS.values()) | {ops.RULE_NONE} == rule_constants and len(rule_constants) == 12
    shared = [f for f in families if ops.RULE_IDS[f] == ops.RULE_HARVESTER]
    assert sorted(shared) == ["CleanHouse", "Harvester"]  # CleanHouse's rules are Harvester's


def test_vm_functions_allocate_nothing_and_use_no_array_expressions():
    """What both targets compile: no numpy calls or slices inside the VM's functions (scratch comes in)."""
    for module in build.MODULES:
        for name in module.COMPILED:
            tree = ast.parse(inspect.getsource(getattr(module, name)))
            for node in ast.walk(tree):
                assert not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                            and node.value.id in ("np", "numpy")), (name, ast.dump(node))  # fmt: skip
                assert not isinstance(node, ast.Slice), name


def test_source_digest_changes_with_the_sources():
    assert build.source_digest() == build.source_digest() and 0 <= build.source_digest() < 2**62
