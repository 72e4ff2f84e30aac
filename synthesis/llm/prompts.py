"""Prompts for LLM-written Karel and MiniGrid programs, in our own words with the structure of the LLM-GS
prompts (`reference/llm_gs.md` 1.3 and 6.4): a system prompt (the environment, the actions, the
perceptions, the limits of the Python the model may write, the Python-to-DSL table) and a user prompt per
task (its map, the agent's start, the goal, the return), asking for a short Python program and then its
DSL form.

Every task description says what our task code does (`karel/tasks/*.py`, `karel/minigrid/envs.py`),
penalties included, rather than repeating the reference's descriptions where they differ from its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from karel.language import KAREL, Language
from karel.tasks.protocol import TaskProtocol, domain_name

ENVIRONMENT = """You control Karel, an agent on a rectangular grid map. Some cells are walls; the outer border \
is always wall. Karel stands on one free cell and faces north, east, south or west. Cells can hold markers \
(0 to 10 per cell), and some markers may be on the map from the start. Karel can move, turn, and pick up or \
put down markers. Walking into a wall does not move Karel: it turns Karel around instead. Your job is to \
write a program, built only from the actions and perceptions below, that solves the task described by the \
user. The program is run on many random variants of the task's map, so it must not depend on one layout."""

ACTIONS = """Actions (each is one step):
- move(): go one cell forward; if a wall is in front, turn around instead
- turnLeft(): turn 90 degrees to the left
- turnRight(): turn 90 degrees to the right
- pickMarker(): pick up one marker from the current cell (nothing happens if there is none)
- putMarker(): put one marker on the current cell (nothing happens if it already holds 10)"""

PERCEPTIONS = """Perceptions (each returns True or False):
- frontIsClear(): no wall in front of Karel
- leftIsClear(): no wall to Karel's left
- rightIsClear(): no wall to Karel's right
- markersPresent(): the current cell holds at least one marker
- noMarkersPresent(): the current cell holds no marker"""


def _python_limits(calls: str) -> str:
    return f"""Write the program as one Python function `def run():` using only: the actions and \
perceptions above, `while`, `if`, `if ... else`, `for _ in range(n)` with a constant n from 0 to 19, and \
`not`. Do not define other functions, call anything else, use variables, `elif`, `and`, `or`, `==`, `!=`, \
`True`, `False`, `break`, `continue` or `return`. A program stops after {calls} actions and perceptions, \
and a `while` loop that comes back to a situation it has already seen ends the program."""


def _python_to_dsl(dsl: str, words: str, example: str) -> str:
    return f"""Then convert the Python program into the {dsl} with these rules:
| Python | {dsl} |
|---|---|
| def run(): s | DEF run m( s m) |
| while b: s | WHILE c( b c) w( s w) |
| if b: s | IF c( b c) i( s i) |
| if b: s else: t | IFELSE c( b c) i( s i) ELSE e( t e) |
| for _ in range(n): s | REPEAT R=n r( s r) |
| not b | not c( b c) |
{words}
Tokens are separated by single spaces, for example:
{example}"""


PYTHON_LIMITS = _python_limits("10,000")
PYTHON_TO_DSL = _python_to_dsl(
    "Karel DSL",
    """| frontIsClear(), leftIsClear(), rightIsClear(), markersPresent(), noMarkersPresent() | frontIsClear, \
leftIsClear, rightIsClear, markersPresent, noMarkersPresent |
| move(), turnLeft(), turnRight(), pickMarker(), putMarker() | move, turnLeft, turnRight, pickMarker, \
putMarker |""",
    "DEF run m( WHILE c( frontIsClear c) w( move w) turnLeft m)",
)


@dataclass(frozen=True)
class TaskDescription:
    map: str
    start: str
    goal: str
    dense_return: str
    sparse_return: str | None = None


DESCRIPTIONS: dict[str, TaskDescription] = {
    "StairClimber": TaskDescription(
        map="12 x 12. A diagonal staircase of wall cells rises from the bottom left to the top right.",
        start="On a random stair cell, facing east.",
        goal="Reach the marker that lies on a higher stair cell, staying on or just above the stairs.",
        dense_return="Each step earns the decrease of the Manhattan distance to the marker divided by the initial "
        "distance; leaving the stair cells gives -1 and ends the episode. Reaching the marker ends it.",
        sparse_return="1 for reaching the marker, 0 otherwise; leaving the stair cells gives -1 and ends the episode.",
    ),
    "Maze": TaskDescription(
        map="8 x 8. A random maze of corridors one cell wide.",
        start="In the bottom-left corner of the maze, facing east.",
        goal="Reach the single marker somewhere in the maze.",
        dense_return="Each step earns the decrease of the Manhattan distance to the marker divided by the initial "
        "distance. Reaching the marker ends the episode.",
        sparse_return="1 for reaching the marker, 0 otherwise.",
    ),
    "TopOff": TaskDescription(
        map="12 x 12 room without inner walls. Some cells of the bottom row hold one marker each.",
        start="In the bottom-left corner, facing east.",
        goal="Put exactly one more marker on every cell of the bottom row that holds a marker, so each holds "
        "two, and put no marker anywhere else.",
        dense_return="Each cell topped off to two markers earns 1 / (number of marked cells). Emptying a marked "
        "cell or putting a marker anywhere else gives -1 and ends the episode.",
        sparse_return="1 when every marked cell holds two markers, 0 otherwise; emptying a marked cell or "
        "putting a marker anywhere else gives -1 and ends the episode.",
    ),
    "FourCorners": TaskDescription(
        map="12 x 12 empty room without inner walls.",
        start="On a random cell of the bottom row, facing east.",
        goal="Put one marker in each of the four corners of the room and nowhere else.",
        dense_return="Each corner marked earns 0.25. A marker anywhere else, or a second marker on a corner, "
        "gives -1 and ends the episode.",
        sparse_return="1 when all four corners are marked, 0 otherwise; a marker anywhere else gives -1 and "
        "ends the episode.",
    ),
    "Harvester": TaskDescription(
        map="8 x 8 room without inner walls; every free cell holds one marker.",
        start="On a random cell of the bottom row, facing east.",
        goal="Pick up every marker.",
        dense_return="Each marker picked earns 1 / 36. Putting a marker down gives -1 and ends the episode.",
        sparse_return="1 when no marker is left, 0 otherwise; putting a marker down gives -1 and ends the episode.",
    ),
    "CleanHouse": TaskDescription(
        map="14 x 22 apartment of several rooms joined by corridors; 11 markers lie on free cells next to walls.",
        start="In the corridor at the top, facing south.",
        goal="Pick up every marker in the apartment.",
        dense_return="Each marker picked earns 1 / 11. Putting a marker down gives -1 and ends the episode.",
        sparse_return="1 when no marker is left, 0 otherwise; putting a marker down gives -1 and ends the episode.",
    ),
    "DoorKey": TaskDescription(
        map="8 x 8, split by a wall into a left and a right chamber. The left chamber holds one marker (the "
        "key), the right one holds one marker (the goal). Two cells of the dividing wall are a locked door.",
        start="On a random cell of the left chamber, facing east.",
        goal="Pick up the key, which opens the door, then go into the right chamber and put a marker on the "
        "goal marker.",
        dense_return="Picking up the key earns 0.5 and putting a marker on the goal earns 0.5 (which ends the "
        "episode). Putting a marker anywhere else, or picking up the goal marker, gives -1 and ends the "
        "episode.",
    ),
    "OneStroke": TaskDescription(
        map="8 x 8 empty room without inner walls (36 free cells).",
        start="On a random cell, facing east.",
        goal="Visit as many cells as possible: every cell Karel leaves turns into a wall behind it.",
        dense_return="Each move to a new cell earns 1 / 35; visiting all 36 cells ends the episode.",
    ),
    "Seeder": TaskDescription(
        map="8 x 8 empty room without inner walls (36 free cells).",
        start="On a random cell, facing east.",
        goal="Put exactly one marker on every free cell.",
        dense_return="Each marker put earns 1 / 36. Two markers on one cell, or picking a marker up, gives -1 "
        "and ends the episode. 36 markers end it.",
    ),
    "Snake": TaskDescription(
        map="8 x 8 empty room without inner walls; one cell holds a food marker.",
        start="On a random cell, facing east. Karel drags a body that starts with length 2.",
        goal="Eat 20 food markers by walking onto them. Each food makes the body one cell longer and a new "
        "food appears. The body is drawn as markers on the cells behind Karel and must not be entered.",
        dense_return="Each food eaten earns 1 / 20; walking into the body gives -1 and ends the episode. The "
        "20th food ends it.",
    ),
    "PathFollow": TaskDescription(
        map="8 x 8 room without inner walls. A trail of 11 markers leads from the bottom-left corner to the "
        "top-right corner, only going up or right.",
        start="In the bottom-left corner on the first marker, facing north.",
        goal="Follow the trail and pick up every marker.",
        dense_return="Each marker picked earns 1 / 11. Putting a marker down, or stepping on a cell that is "
        "neither on the trail nor next to it, gives -1 and ends the episode.",
    ),
    "WallAvoider": TaskDescription(
        map="8 rows x 5 columns empty room without inner walls. The four free cells of the middle column "
        "that do not touch the border wall are the targets.",
        start="On a random cell, facing a random direction.",
        goal="Put one marker on each target cell and none on the cells next to the border wall.",
        dense_return="Each marker on a target earns 0.25. A marker on a cell next to the wall, two markers on "
        "a cell, or picking a marker up, gives -1 and ends the episode.",
    ),
}


MINIGRID_ENVIRONMENT = """You control an agent on a MiniGrid map: a rectangular grid whose outer border is \
wall. The agent stands on one cell and faces east, south, west or north. Cells can hold walls, lava, doors, \
balls, boxes or the goal square; objects have colours (red, green, blue, purple, yellow or grey). Walls, \
closed doors, balls and boxes block the agent; lava, the goal and open doors can be walked onto, and \
stepping on lava or the goal ends the episode. The agent can carry one object. Your job is to write a \
program, built only from the actions and perceptions below, that solves the task described by the user. \
The program is run on many random variants of the task's map, so it must not depend on one layout."""

MINIGRID_ACTIONS = """Actions (each is one step):
- forward(): go one cell forward; nothing happens if a wall, a closed door or an object is in front
- left(): turn 90 degrees to the left
- right(): turn 90 degrees to the right
- pickup(): pick up the object in front (only if not carrying one already)
- drop(): put the carried object on the cell in front (only if that cell is empty)
- toggle(): open or close the door in front (a box in front is opened, which removes it)"""

MINIGRID_PERCEPTIONS = """Perceptions (each returns True or False):
- front_is_clear(): the cell in front can be walked onto (empty, lava, the goal or an open door)
- front_object_type(type): the object in front is of this type: "lava", "door", "ball", "box" (also \
"wall", "goal", "key", "floor")
- front_object_color(color): the object in front has this colour: "red", "blue" (also "green", "purple", \
"yellow", "grey"); lava is red, walls are grey
- is_carrying_object(): the agent carries an object"""

MINIGRID_PYTHON_LIMITS = _python_limits("1,000")
MINIGRID_PYTHON_TO_DSL = _python_to_dsl(
    "MiniGrid DSL",
    """| front_is_clear(), is_carrying_object() | front_is_clear, is_carrying_object |
| front_object_type("lava"), front_object_color("red") | front_object_type h( lava h), front_object_color h( red h) |
| forward(), left(), right(), pickup(), drop(), toggle() | forward, left, right, pickup, drop, toggle |""",
    "DEF run m( WHILE c( not c( front_object_type h( lava h) c) c) w( forward w) right m)",
)

MINIGRID_DESCRIPTIONS: dict[str, TaskDescription] = {
    "LavaGap": TaskDescription(
        map="6 x 6 with border walls (4 x 4 inside). A vertical strip of lava fills column 2 or 3 from the top row "
        "to the bottom row inside, except for one gap cell; the goal square is in the bottom-right corner.",
        start="In the top-left corner, facing east.",
        goal="Reach the goal square through the gap without stepping on lava.",
        dense_return="1 for reaching the goal; stepping on lava gives -1. Either ends the episode.",
    ),
    "PutNear": TaskDescription(
        map="6 x 6 with border walls (4 x 4 inside). One ball and one box, each of a random colour, at random "
        "cells that are not next to each other.",
        start="On a random free cell, facing a random direction.",
        goal="Pick up the ball and drop it on a cell next to the box (any of the 8 cells around it).",
        dense_return="Picking up the ball the first time earns 0.5; dropping it next to the box earns 0.5. Any "
        "drop of a carried object ends the episode; picking up the box gives -1 and ends it.",
    ),
    "RedBlueDoor": TaskDescription(
        map="12 x 6 with border walls, split by walls in columns 3 and 8 into a small left room, a 4 x 4 middle "
        "room and a small right room. A red door at a random row of the left wall of the middle room, a blue "
        "door at a random row of its right wall; both closed.",
        start="On a random cell of the middle room, facing a random direction.",
        goal="Open the red door, then open the blue door.",
        dense_return="Opening the red door the first time earns 0.5; then opening the blue door earns 0.5 and ends "
        "the episode. Opening the blue door before the red one gives -1 and ends it.",
    ),
}


DOMAIN_DESCRIPTIONS: dict[str, dict[str, TaskDescription]] = {"karel": DESCRIPTIONS, "minigrid": MINIGRID_DESCRIPTIONS}


def system_prompt(language: Language = KAREL) -> str:
    """The system prompt for programs of `language` (Karel or MiniGrid)."""
    if language is KAREL:
        return f"{ENVIRONMENT}\n\n{ACTIONS}\n\n{PERCEPTIONS}\n\n{PYTHON_LIMITS}\n\n{PYTHON_TO_DSL}"
    return (f"{MINIGRID_ENVIRONMENT}\n\n{MINIGRID_ACTIONS}\n\n{MINIGRID_PERCEPTIONS}\n\n{MINIGRID_PYTHON_LIMITS}\n\n"
            f"{MINIGRID_PYTHON_TO_DSL}")  # fmt: skip


REQUEST = (
    "1. Write one short, simple Python program for the task, without comments, in a ```python block.\n"
    "2. Convert it into a Karel DSL program with the table above, in a second code block."
)


def request(language: Language = KAREL) -> str:
    """The two-step request closing a user prompt."""
    return REQUEST if language is KAREL else REQUEST.replace("Karel DSL", "MiniGrid DSL")


def task_description(task: TaskProtocol) -> str:
    """Task name, map, start, goal and return, one labelled line each."""
    d = DOMAIN_DESCRIPTIONS[task.domain][task.family]
    returns = d.sparse_return if task.sparse and d.sparse_return else d.dense_return
    return (
        f"Task: {task.name.upper()}\n"
        f"Map: {d.map}\n"
        f"Start: {d.start}\n"
        f"Goal: {d.goal}\n"
        f"Return: {returns} The best possible return is 1."
    )


def user_prompt(task: TaskProtocol) -> str:
    """The task's description and the two-step request (Python first, then its DSL conversion)."""
    return f"Write a {domain_name(task)} program for this task.\n\n{task_description(task)}\n\n{request(task.language)}"
