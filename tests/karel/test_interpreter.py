"""Reference interpreter semantics: illegal actions, the call budget, the loop detector, rewards."""

import pytest

from karel.dsl import Action
from karel.interpreter import Termination, run_episode
from karel.parser import parse
from karel.world import World

CORRIDOR = """
# # # # #
# > . . #
# # # # #
"""


def world(text: str = CORRIDOR) -> World:
    return World.from_text(text)


class CountingRules:
    """Reward 0.5 per action; terminates after `stop_after` actions (never if None)."""

    def __init__(self, stop_after=None):
        self.calls, self.stop_after = 0, stop_after

    def __call__(self, w):
        self.calls += 1
        return self.stop_after is not None and self.calls >= self.stop_after, 0.5


def run(program: str, w: World | None = None, **kwargs):
    return run_episode(parse(program), w or world(), **kwargs)


# --- illegal actions -------------------------------------------------------------------------------


def test_blocked_move_turns_around_in_non_crashable_mode():
    e = run("DEF run m( move move move m)")
    assert (e.world.row, e.world.col, e.world.direction) == (1, 3, 3)  # 2 moves east, bump turns to West
    assert e.termination == Termination.PROGRAM_END and e.actions == [0, 0, 0]


def test_blocked_move_ends_episode_in_crashable_mode_after_counting_its_reward():
    rules = CountingRules()
    e = run("DEF run m( move move move turnLeft m)", rules=rules, crashable=True)
    assert e.termination == Termination.CRASH
    assert e.actions == [0, 0, 0] and e.episode_return == 1.5
    assert (e.world.col, e.world.direction) == (3, 1)  # crashable: the world is left unchanged


@pytest.mark.parametrize("crashable, termination", [(False, Termination.PROGRAM_END), (True, Termination.CRASH)])
def test_pick_on_empty_cell(crashable, termination):
    e = run("DEF run m( pickMarker turnLeft m)", crashable=crashable)
    assert e.termination == termination
    assert e.world.markers.sum() == 0
    assert len(e.actions) == (2 if not crashable else 1)


@pytest.mark.parametrize("crashable, termination", [(False, Termination.PROGRAM_END), (True, Termination.CRASH)])
def test_put_on_full_cell(crashable, termination):
    e = run("DEF run m( REPEAT R=11 r( putMarker r) m)", crashable=crashable)
    assert e.world.markers[1, 1] == 10
    assert e.termination == termination
    assert len(e.actions) == 11


# --- call budget -----------------------------------------------------------------------------------


def test_budget_call_still_executes_and_counts_its_reward():
    rules = CountingRules()
    e = run("DEF run m( REPEAT R=19 r( turnLeft r) m)", rules=rules, max_calls=10)
    assert e.termination == Termination.BUDGET
    assert len(e.actions) == 11 and e.calls == 11  # the 11th call still executes
    assert e.episode_return == 5.5
    assert e.world.direction == (1 - 11) % 4


def test_move_as_the_budget_call_turns_around_instead_of_moving():
    e = run("DEF run m( turnLeft turnRight move m)", max_calls=2)
    assert e.termination == Termination.BUDGET
    assert (e.world.row, e.world.col, e.world.direction) == (1, 1, 3)


def test_perceptions_cost_calls_and_the_over_budget_query_stops_the_episode():
    # 1 query + 1 move per iteration; the 5th call is a query over a budget of 4.
    e = run("DEF run m( REPEAT R=9 r( IF c( noMarkersPresent c) i( turnLeft i) r) m)", max_calls=4)
    assert e.termination == Termination.BUDGET
    assert e.calls == 5 and len(e.actions) == 2


def test_default_budget_is_10000_calls():
    e = run("DEF run m( REPEAT R=19 r( REPEAT R=19 r( REPEAT R=19 r( turnLeft turnRight r) r) r) m)")
    assert e.termination == Termination.BUDGET and e.calls == 10_001 and len(e.actions) == 10_001


# --- loop detector ---------------------------------------------------------------------------------


def test_loop_detector_stops_a_body_that_repeats_the_state():
    e = run("DEF run m( WHILE c( frontIsClear c) w( turnLeft turnRight w) m)", rules=CountingRules())
    assert e.termination == Termination.LOOP
    assert e.actions == [Action.turnLeft, Action.turnRight]  # detected at the start of the 2nd iteration
    assert e.episode_return == 1.0  # reward so far is kept, no penalty


def test_loop_history_persists_when_the_loop_is_reentered():
    # Entry 1 sees "no markers" once and puts a marker; entry 2 starts in the same state: a repeat.
    e = run("DEF run m( REPEAT R=2 r( WHILE c( noMarkersPresent c) w( putMarker w) pickMarker r) m)")
    assert e.termination == Termination.LOOP
    assert e.actions == [Action.putMarker, Action.pickMarker]


def test_each_while_node_has_its_own_history_even_when_identical():
    loop = "WHILE c( noMarkersPresent c) w( putMarker w)"
    e = run(f"DEF run m( {loop} pickMarker {loop} m)")
    assert e.termination == Termination.PROGRAM_END
    assert e.actions == [Action.putMarker, Action.pickMarker, Action.putMarker]


def test_loop_detector_ignores_walls_and_uses_position_direction_markers():
    w = world()
    e = run("DEF run m( WHILE c( frontIsClear c) w( move turnLeft turnLeft move turnRight turnRight w) m)", w)
    assert e.termination == Termination.LOOP and len(e.actions) == 6


def test_loop_key_reproduces_the_reference_digit_concatenation():
    a = World.from_text("\n".join(" ".join(["."] * 14) for _ in range(14)).replace(".", ">", 1))
    b = a.copy()
    a.row, a.col = 1, 13
    b.row, b.col = 11, 3
    assert a.loop_key() == b.loop_key()  # "113..." for both: the reference treats them as the same state
    b.direction = 2
    assert a.loop_key() != b.loop_key()


# --- rewards and termination -----------------------------------------------------------------------


def test_rules_run_after_every_action_and_never_after_perceptions():
    rules = CountingRules()
    e = run("DEF run m( IF c( frontIsClear c) i( move i) IF c( not c( markersPresent c) c) i( turnLeft i) m)",
            rules=rules)  # fmt: skip
    assert rules.calls == 2 and e.calls == 4 and e.rewards == [0.5, 0.5]


def test_task_termination_stops_the_program():
    e = run("DEF run m( turnLeft turnLeft turnLeft m)", rules=CountingRules(stop_after=2))
    assert e.termination == Termination.TASK_END and len(e.actions) == 2 and e.episode_return == 1.0


def test_record_worlds_gives_one_world_per_action_plus_the_initial_one():
    e = run("DEF run m( move putMarker m)", record_worlds=True)
    assert len(e.worlds) == 3
    assert (e.worlds[0].col, e.worlds[1].col) == (1, 2) and e.worlds[2].markers[1, 2] == 1


def test_the_input_world_is_not_mutated():
    w = world()
    run("DEF run m( move putMarker m)", w)
    assert w.to_text() == world().to_text()


def test_mean_return_of_nothing_is_a_clear_value_error():
    from karel.interpreter import mean_return

    with pytest.raises(ValueError, match="^mean_return of no returns: an evaluation needs at least one instance$"):
        mean_return([])
    assert mean_return([1 / 6] * 6) == sum([1 / 6] * 6) / 6
