"""Realistic LLM answers to the LLM-GS prompt, written as the model families write them, with what each
answer means and what each reader reads.

Every case: `family`, `task`, `text`, `finish_reason`, `meant` (the programs the answer means: one, two
where the answer itself gives two different programs, none where it means no one program: cut off,
ambiguous brackets, not expressible), `faithful` (the faithful reader's candidates, in order). The
release reader's strings are in tests/fixtures/llm_release_outputs.json (made by the release's code).
"""

WALK = "DEF run m( WHILE c( frontIsClear c) w( move w) m)"
DOORKEY = (
    "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) w) "
    "pickMarker m)"
)
DOORKEY_PY = """def run():
    while noMarkersPresent():
        if frontIsClear():
            move()
        else:
            turnLeft()
    pickMarker()"""
STAIRS = "DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move w) m)"
STAIRS_PY = """def run():
    while noMarkersPresent():
        turnLeft()
        move()
        turnRight()
        move()"""
HARVEST = "DEF run m( REPEAT R=6 r( WHILE c( markersPresent c) w( pickMarker move w) turnLeft move turnLeft r) m)"
HARVEST_PY = """def run():
    for _ in range(6):
        while markersPresent():
            pickMarker()
            move()
        turnLeft()
        move()
        turnLeft()"""
TOPOFF = (
    "DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( putMarker i) move w) "
    "IF c( markersPresent c) i( putMarker i) m)"
)
TOPOFF_PY = """def run():
    while frontIsClear():
        if markersPresent():
            putMarker()
        move()
    if markersPresent():
        putMarker()"""
CORNERS = "DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) putMarker turnLeft r) m)"
CORNERS_PY = """def run():
    for i in range(4):
        while frontIsClear():
            move()
        putMarker()
        turnLeft()"""
CLEAN = (
    "DEF run m( REPEAT R=19 r( IF c( markersPresent c) i( pickMarker i) IFELSE c( leftIsClear c) i( turnLeft "
    "move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( turnRight e) e) r) m)"
)
MAZE = (
    "DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( rightIsClear c) i( turnRight move i) ELSE e( "
    "IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e) e) w) m)"
)
LAVA = (
    "DEF run m( WHILE c( front_is_clear c) w( IFELSE c( front_object_type h( lava h) c) i( right forward left "
    "i) ELSE e( forward e) w) m)"
)
LAVA_PY = """def run():
    while front_is_clear():
        if front_object_type("lava"):
            right()
            forward()
            left()
        else:
            forward()"""
PUTNEAR = "DEF run m( WHILE c( not c( front_object_type h( ball h) c) c) w( forward w) pickup right drop m)"
DOOR = "DEF run m( WHILE c( not c( front_object_color h( red h) c) c) w( left w) toggle forward m)"

CORNERS_IF = (
    "DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) IF c( noMarkersPresent c) i( putMarker i) "
    "turnLeft r) m)"
)
STAIRS_FIXED = "DEF run m( REPEAT R=5 r( turnLeft move turnRight move r) m)"
MAZE_RIGHT = "DEF run m( WHILE c( noMarkersPresent c) w( IF c( rightIsClear c) i( turnRight i) move w) m)"


def case(family: str, task: str, text: str, meant: list[str], faithful: list[str], finish_reason: str = "stop") -> dict:
    return {"family": family, "task": task, "text": text, "meant": meant, "faithful": faithful,
            "finish_reason": finish_reason}  # fmt: skip


CASES = {
    # ---- GPT-4-style: a plan, a ```python block, the DSL in a block ------------------------------
    "gpt4 doorkey": case(
        family="gpt-4",
        task="DoorKey",
        text=f"""To solve the DOORKEY task, the agent needs to find the key (a marker) in the left room, pick it up, and then head to the goal.

Here is a simple strategy: keep moving forward while there is no marker, turning left whenever a wall blocks the way.

```python
{DOORKEY_PY}
```

Now, converting this Python program into the Karel DSL:

```
{DOORKEY}
```

This program walks along the walls until it reaches the key and picks it up.""",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "gpt4 stairs": case(
        family="gpt-4",
        task="StairClimber",
        text=f"""### Step 1: Python program

```python
{STAIRS_PY}
```

### Step 2: Karel DSL

```
{STAIRS}
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "gpt4 harvester": case(
        family="gpt-4",
        task="Harvester",
        text=f"""The agent starts at the bottom-left corner of a field fully covered by markers. It should collect all of them row by row.

1. **Python program:**

```python
{HARVEST_PY}
```

2. **Karel DSL program:**

```
{HARVEST}
```

Each iteration of the outer loop harvests one row and moves up to the next.""",
        meant=[HARVEST],
        faithful=[HARVEST],
    ),
    "gpt4 topoff": case(
        family="gpt-4",
        task="TopOff",
        text=f"""Here's a concise solution.

```python
{TOPOFF_PY}
```

In the Karel DSL this is:

```karel
{TOPOFF}
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "gpt4 corners elif": case(
        family="gpt-4",
        task="FourCorners",
        text="""```python
def run():
    for i in range(4):
        while frontIsClear():
            move()
        if noMarkersPresent():
            putMarker()
        turnLeft()
```

```
DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) IF c( noMarkersPresent c) i( putMarker i) turnLeft r) m)
```""",
        meant=[CORNERS_IF],
        faithful=[CORNERS_IF],
    ),
    "gpt4 maze one line dsl": case(
        family="gpt-4",
        task="Maze",
        text="""The agent follows the right-hand wall until it finds the marker.

```python
def run():
    while noMarkersPresent():
        if rightIsClear():
            turnRight()
            move()
        elif frontIsClear():
            move()
        else:
            turnLeft()
```

Converted to the DSL (the `elif` becomes a nested IFELSE):

`"""
        + MAZE
        + "`",
        meant=[MAZE],
        faithful=[MAZE],
    ),
    "gpt4 while true": case(
        family="gpt-4",
        task="CleanHouse",
        text="""```python
def run():
    while True:
        if markersPresent():
            pickMarker()
        if leftIsClear():
            turnLeft()
            move()
        elif frontIsClear():
            move()
        else:
            turnRight()
```

```
DEF run m( WHILE c( True c) w( IF c( markersPresent c) i( pickMarker i) IFELSE c( leftIsClear c) i( turnLeft move i) ELSE e( IFELSE c( frontIsClear c) i( move i) ELSE e( turnRight e) e) w) m)
```""",
        meant=[CLEAN],
        faithful=[CLEAN],
    ),
    "gpt4 python only": case(
        family="gpt-4",
        task="StairClimber",
        text=f"""Here is the Python program:

```python
{STAIRS_PY}
```

It climbs one stair per iteration until it stands on the marker.""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    # ---- Claude-style: explanation, drafts, alternatives --------------------------------------
    "claude draft then fix": case(
        family="claude",
        task="DoorKey",
        text=f"""Let me think about this step by step.

A first idea:

```python
def run():
    while frontIsClear():
        move()
    pickMarker()
```

Wait, this stops at the first wall and never searches the room for the key. Let me fix that by turning when blocked:

```python
{DOORKEY_PY}
```

Converting to the DSL:

```
{DOORKEY}
```""",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "claude alternative after": case(
        family="claude",
        task="FourCorners",
        text=f"""I'll write a program that visits each corner and places a marker there.

**Python:**
```python
{CORNERS_PY}
```

**DSL:**
```
{CORNERS}
```

Alternatively, if you wanted to avoid placing markers twice, you could write:
```
DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) IF c( noMarkersPresent c) i( putMarker i) turnLeft r) m)
```
but the first version is simpler and matches the task description.""",
        meant=[CORNERS],
        faithful=[CORNERS],
    ),
    "claude python alternative after": case(
        family="claude",
        task="StairClimber",
        text=f"""Here's a solution.

```python
{STAIRS_PY}
```

As a Karel DSL program:

```
{STAIRS}
```

If you prefer, an equivalent formulation with a fixed number of steps also works on this map:

```python
def run():
    for _ in range(5):
        turnLeft()
        move()
        turnRight()
        move()
```""",
        meant=[STAIRS_FIXED, STAIRS],
        faithful=[STAIRS_FIXED, STAIRS],
    ),
    "claude for else": case(
        family="claude",
        task="Harvester",
        text="""Here's my approach: sweep each row, then step up.

```python
def run():
    for _ in range(6):
        while markersPresent():
            pickMarker()
            move()
    else:
        turnLeft()
```

Note the `for ... else`: the else block runs once after the loop finishes.

DSL conversion:
```
DEF run m( REPEAT R=6 r( WHILE c( markersPresent c) w( pickMarker move w) r) turnLeft m)
```""",
        meant=["DEF run m( REPEAT R=6 r( WHILE c( markersPresent c) w( pickMarker move w) r) turnLeft m)"],
        faithful=["DEF run m( REPEAT R=6 r( WHILE c( markersPresent c) w( pickMarker move w) r) turnLeft m)"],
    ),
    "claude helper": case(
        family="claude",
        task="StairClimber",
        text="""I'll use a small helper to climb one step, which keeps `run()` readable.

```python
def climb_step():
    turnLeft()
    move()
    turnRight()
    move()

def run():
    while noMarkersPresent():
        climb_step()
```

Since the DSL has no functions, the helper is inlined:

```
"""
        + STAIRS
        + """
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "claude top-level with helper": case(
        family="claude",
        task="TopOff",
        text="""Here is a program. The
main logic is at the top level, with a helper for topping off a cell.

```python
def top_off():
    if markersPresent():
        putMarker()

while frontIsClear():
    top_off()
    move()
top_off()
```

DSL:
```
"""
        + TOPOFF
        + """
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "claude disagreeing conversion": case(
        family="claude",
        task="Maze",
        text="""```python
def run():
    while noMarkersPresent():
        if rightIsClear():
            turnRight()
        move()
```

In the DSL I'll also handle dead ends by turning left:

```
"""
        + MAZE
        + """
```""",
        meant=[MAZE_RIGHT, MAZE],
        faithful=[MAZE_RIGHT, MAZE],
    ),
    "claude grammar recital": case(
        family="claude",
        task="DoorKey",
        text="""The DSL's program form is `DEF run m( s m)` where `s` is a statement list. Following that form:

```
"""
        + DOORKEY
        + """
```""",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "claude recursive helper": case(
        family="claude",
        task="Maze",
        text="""```python
def explore():
    if noMarkersPresent():
        move()
        explore()

def run():
    explore()
```

This cannot be written in the DSL directly, as it has no recursion.""",
        meant=[],
        faithful=[],
    ),
    # ---- Llama-3-70B: headings, lower-case DSL without fences, comments ---------------------------
    "llama lower case no fence": case(
        family="llama-3-70b",
        task="StairClimber",
        text=f"""**Python Program:**

```python
{STAIRS_PY}
```

**Karel DSL Program:**

def run m( while c( noMarkersPresent c) w( turnLeft move turnRight move w) m)

This program makes the agent climb the stairs until it reaches the marker.""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "llama comments in dsl": case(
        family="llama-3-70b",
        task="DoorKey",
        text="""Here is the program in the Karel DSL:

```
DEF run m(
  WHILE c( noMarkersPresent c) w(   # search for the key
    IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft e)
  w)
  pickMarker   # pick up the key
m)
```""",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "llama multiline lower": case(
        family="llama-3-70b",
        task="FourCorners",
        text="""Python:
```python
"""
        + CORNERS_PY
        + """
```
Karel DSL:
def run m(
  repeat R=4 r(
    while c( frontIsClear c) w( move w)
    putMarker
    turnLeft
  r)
m)""",
        meant=[CORNERS],
        faithful=[CORNERS],
    ),
    "llama top-level call": case(
        family="llama-3-70b",
        task="Harvester",
        text="""```python
def harvest():
    for _ in range(6):
        while markersPresent():
            pickMarker()
            move()
        turnLeft()
        move()
        turnLeft()

harvest()
```

The Karel DSL version:
```
"""
        + HARVEST
        + """
```""",
        meant=[HARVEST],
        faithful=[HARVEST],
    ),
    "llama main guard": case(
        family="llama-3-70b",
        task="StairClimber",
        text="""```python
def run():
    while noMarkersPresent():
        turnLeft()
        move()
        turnRight()
        move()

if __name__ == "__main__":
    run()
```
""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "llama spaced brackets": case(
        family="llama-3-70b",
        task="Maze",
        text="""Karel DSL:
```
DEF run m ( WHILE c ( noMarkersPresent c ) w ( IFELSE c ( rightIsClear c ) i ( turnRight move i ) ELSE e ( IFELSE c ( frontIsClear c ) i ( move i ) ELSE e ( turnLeft e ) e ) w ) m )
```""",
        meant=[MAZE],
        faithful=[MAZE],
    ),
    "llama lower case keywords fenced": case(
        family="llama-3-70b",
        task="TopOff",
        text="""```
def run m( while c( frontIsClear c) w( if c( markersPresent c) i( putMarker i) move w) if c( markersPresent c) i( putMarker i) m)
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    # ---- Qwen2.5-Coder: terse ---------------------------------------------------------------------
    "qwen dsl only": case(
        family="qwen2.5-coder", task="Harvester", text=f"```\n{HARVEST}\n```", meant=[HARVEST], faithful=[HARVEST]
    ),
    "qwen both terse": case(
        family="qwen2.5-coder",
        task="DoorKey",
        text=f"```python\n{DOORKEY_PY}\n```\n```\n{DOORKEY}\n```",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "qwen py tag": case(
        family="qwen2.5-coder",
        task="TopOff",
        text=f"```py\n{TOPOFF_PY}\n```\n\n{TOPOFF}",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "qwen bare dsl": case(
        family="qwen2.5-coder", task="FourCorners", text=CORNERS, meant=[CORNERS], faithful=[CORNERS]
    ),
    "qwen call parentheses": case(
        family="qwen2.5-coder",
        task="StairClimber",
        text="""```
DEF run m( WHILE c( noMarkersPresent() c) w( turnLeft() move() turnRight() move() w) m)
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "qwen no brackets on conditions": case(
        family="qwen2.5-coder",
        task="TopOff",
        text="""```
DEF run m( WHILE frontIsClear w( IF markersPresent i( putMarker i) move w) IF markersPresent i( putMarker i) m)
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "qwen repeat clamp": case(
        family="qwen2.5-coder",
        task="CleanHouse",
        text="""```python
def run():
    for _ in range(100):
        if markersPresent():
            pickMarker()
        if leftIsClear():
            turnLeft()
            move()
        elif frontIsClear():
            move()
        else:
            turnRight()
```""",
        meant=[CLEAN],
        faithful=[CLEAN],
    ),
    # ---- a 7B model that makes mistakes -----------------------------------------------------------
    "7b missing final closers": case(
        family="7b",
        task="StairClimber",
        text="""```
DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move
```""",
        meant=[],
        faithful=[],
    ),
    "7b missing closers one place": case(
        family="7b",
        task="DoorKey",
        text="""```
DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move
```""",
        meant=["DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) r) m)"],
        faithful=["DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) r) m)"],
    ),
    "7b missing e closer": case(
        family="7b",
        task="DoorKey",
        text="""DSL:
```
DEF run m( WHILE c( noMarkersPresent c) w( IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft w) pickMarker m)
```""",
        meant=[DOORKEY],
        faithful=[DOORKEY],
    ),
    "7b missing e closer moves statements": case(
        family="7b",
        task="Maze",
        text="""```
DEF run m( IFELSE c( frontIsClear c) i( move i) ELSE e( turnLeft WHILE c( noMarkersPresent c) w( move w) m)
```""",
        meant=[],
        faithful=[],
    ),
    "7b extra closer": case(
        family="7b",
        task="FourCorners",
        text="""```
DEF run m( REPEAT R=4 r( WHILE c( frontIsClear c) w( move w) w) putMarker turnLeft r) m)
```""",
        meant=[CORNERS],
        faithful=[CORNERS],
    ),
    "7b wrong letter": case(
        family="7b",
        task="StairClimber",
        text="""```
DEF run m( WHILE c( noMarkersPresent c) w( turnLeft move turnRight move r) m)
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "7b wrong letter inner": case(
        family="7b",
        task="TopOff",
        text="""```
DEF run m( WHILE c( frontIsClear c) w( IF c( markersPresent c) i( putMarker w) move w) IF c( markersPresent c) i( putMarker i) m)
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "7b truncated": case(
        family="7b",
        task="Harvester",
        finish_reason="length",
        text="""```python
def run():
    for _ in range(6):
        while markersPresent():
            pickMarker()
            move()
        turnLeft()
```

```
DEF run m( REPEAT R=6 r( WHILE c( markersPresent c) w( pickMarker move w) turnLeft""",
        meant=[],
        faithful=[],
    ),
    "7b truncated python": case(
        family="7b",
        task="DoorKey",
        finish_reason="length",
        text="""```python
def run():
    while noMarkersPresent():
        if frontIsClear():
            move()""",
        meant=[],
        faithful=[],
    ),
    "7b unknown action": case(
        family="7b",
        task="DoorKey",
        text="""```
DEF run m( WHILE c( noMarkersPresent c) w( moveForward w) pickMarker m)
```""",
        meant=[],
        faithful=[],
    ),
    "7b and condition": case(
        family="7b",
        task="Maze",
        text="""```python
def run():
    while noMarkersPresent() and frontIsClear():
        move()
```
```
DEF run m( WHILE c( noMarkersPresent c) w( move w) m)
```""",
        meant=["DEF run m( WHILE c( noMarkersPresent c) w( move w) m)"],
        faithful=["DEF run m( WHILE c( noMarkersPresent c) w( move w) m)"],
    ),
    "7b missing body opener": case(
        family="7b",
        task="StairClimber",
        text="""```
DEF run m( WHILE c( noMarkersPresent c) turnLeft move turnRight move w) m)
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "7b ifelse without else": case(
        family="7b",
        task="TopOff",
        text="""```
DEF run m( WHILE c( frontIsClear c) w( IFELSE c( markersPresent c) i( putMarker i) move w) IF c( markersPresent c) i( putMarker i) m)
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    "7b blank line in python": case(
        family="7b",
        task="StairClimber",
        text="""```python
def run():
    while noMarkersPresent():
        turnLeft()
        move()

        turnRight()
        move()
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    # ---- Reasoning models and Python habits: a <think> draft, snake_case names -----------------------
    "r1 think draft then snake case": case(
        family="deepseek-r1",
        task="StairClimber",
        text=f"""<think>
The agent has to climb the stairs until it stands on the marker. A first idea:

```python
def run():
    move()
```

No, that moves once only. It has to repeat turn left, move, turn right, move until it finds the marker.
</think>

The agent climbs the staircase one step at a time until it stands on the marker.

```python
def run():
    while no_markers_present():
        turn_left()
        move()
        turn_right()
        move()
```

In the DSL:

```
{STAIRS}
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "r1 dsl draft in think": case(
        family="deepseek-r1",
        task="StairClimber",
        text=f"""Okay, the agent climbs a staircase. Would DEF run m( WHILE c( noMarkersPresent c) w( move w) m)
work? No: each step needs a turn left, a move, a turn right and a move.
</think>

Climb one step per iteration until the marker:

```
{STAIRS}
```""",
        meant=[STAIRS],
        faithful=[STAIRS],
    ),
    "gemini snake case python only": case(
        family="gemini",
        task="TopOff",
        text="""Walk along the bottom row and put a marker wherever one is already present.

```python
def run():
    while front_is_clear():
        if markers_present():
            karel.put_marker()
        move()
    if markers_present():
        karel.put_marker()
```""",
        meant=[TOPOFF],
        faithful=[TOPOFF],
    ),
    # ---- MiniGrid ---------------------------------------------------------------------------------
    "gpt4 lavagap": case(
        family="gpt-4",
        task="LavaGap",
        text=f"""```python
{LAVA_PY}
```

```
{LAVA}
```""",
        meant=[LAVA],
        faithful=[LAVA],
    ),
    "claude lavagap capitalised": case(
        family="claude",
        task="LavaGap",
        text="""The agent must avoid the lava, so it checks the cell in front first.

```python
def run():
    while front_is_clear():
        if front_object_type("Lava"):
            right()
            forward()
            left()
        else:
            forward()
```

In the DSL:
```
DEF run m( WHILE c( front_is_clear c) w( IFELSE c( front_object_type h( Lava h) c) i( right forward left i) ELSE e( forward e) w) m)
```""",
        meant=[LAVA],
        faithful=[LAVA],
    ),
    "qwen putnear function style": case(
        family="qwen2.5-coder",
        task="PutNear",
        text="""```
DEF run m( WHILE c( not c( front_object_type(ball) c) c) w( forward w) pickup right drop m)
```""",
        meant=[PUTNEAR],
        faithful=[PUTNEAR],
    ),
    "llama redbluedoor": case(
        family="llama-3-70b",
        task="RedBlueDoor",
        text="""**Python Program:**
```python
def run():
    while not front_object_color("red"):
        left()
    toggle()
    forward()
```
**Minigrid DSL Program:**
```
DEF run m( WHILE c( not c( front_object_color h( red h) c) c) w( left w) toggle forward m)
```""",
        meant=[DOOR],
        faithful=[DOOR],
    ),
    "7b lavagap missing closer": case(
        family="7b",
        task="LavaGap",
        text="""```
DEF run m( WHILE c( front_is_clear c) w( forward m)
```""",
        meant=["DEF run m( WHILE c( front_is_clear c) w( forward w) m)"],
        faithful=["DEF run m( WHILE c( front_is_clear c) w( forward w) m)"],
    ),
}


def measure() -> dict:
    """Per reader: answers meaning a program that are read, and answers where a program they do not mean is
    accepted (docs/llm-reader.md, "Measured"). The release reader draws with seed 0."""
    import numpy as np

    from karel.tasks import make
    from synthesis.llm.candidates import read_completion

    meaning = [c for c in CASES.values() if c["meant"]]
    rows = {}
    for reader in ("faithful", "release"):
        readings = [
            read_completion(c["text"], make(c["task"]).language, reader=reader, finish_reason=c["finish_reason"],
                            rng=np.random.RandomState(0))
            for c in CASES.values()
        ]  # fmt: skip
        read = sum(bool(r.programs) for r, c in zip(readings, CASES.values()) if c["meant"])
        wrong = sum(any(str(p) not in c["meant"] for p in r.programs) for r, c in zip(readings, CASES.values()))
        rows[reader] = {"read": read, "meaning_a_program": len(meaning), "share": round(read / len(meaning), 3),
                        "not_meant_accepted": wrong}  # fmt: skip
    return rows


if __name__ == "__main__":
    import json

    for reader, row in measure().items():
        print(json.dumps({"reader": reader, **row}))
