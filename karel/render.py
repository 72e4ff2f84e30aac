"""Pictures of Karel worlds: one frame per world, animated GIFs of episodes.

`render_world` draws a light grid, wall cells dark, markers as filled circles (the count written inside
when it is above 1) and the agent as a triangle pointing where it faces, on top. Shapes are drawn at
`SUPERSAMPLE` times the size and scaled down, which smooths their edges. `render_episode` turns the
worlds of an episode (`Episode.worlds`: the initial world, then one after each action) into frames, with an
optional caption strip under each (`episode_captions` writes step, action and return); `save_episode`
writes them as an animated GIF or the first one as a PNG, atomically.

GIF note: Pillow merges consecutive identical frames into one frame shown for their summed duration, so
a GIF of an episode with repeated worlds (a blocked `pickMarker`, say) has fewer frames than worlds but
the same running time. Captions that include the step number make every frame distinct.

`animate_panels` is the fast path for many frames (run logs, reports): several episodes side by side, each
cell drawn once per (wall, markers, agent heading) by `render_world` and then copied, in a fixed palette,
so that no frame is drawn shape by shape or colour-quantised. It looks like `render_episode` up to the
palette (anti-aliased edges take the nearest of 242 colours); for a 16-frame TopOff episode at 16 px cells
it took 0.02 s where `render_episode` and `save_frames` took 0.27 s (this 2-core machine, loaded).
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from karel.atomic import atomic_path
from karel.dsl import Action
from karel.world import World

SUPERSAMPLE = 3
BACKGROUND = (250, 250, 246)
GRID_LINE = (212, 212, 206)
WALL = (58, 63, 78)
MARKER = (224, 122, 31)
MARKER_TEXT = (255, 255, 255)
MARKER_TEXT_STROKE = (110, 52, 6)
AGENT = (37, 99, 235)
AGENT_OUTLINE = (15, 33, 86)
CAPTION_BACKGROUND = (255, 255, 255)
CAPTION_TEXT = (40, 40, 48)
SAVE_FORMATS = {".gif": "GIF", ".png": "PNG"}

# Agent triangle in cell units, facing North (tip up); other headings rotate it about the centre.
_AGENT_NORTH = ((0.5, 0.16), (0.82, 0.8), (0.18, 0.8))


def render_world(world: World, cell: int = 32) -> Image.Image:
    """One RGB frame of `world`, `world.width * cell` by `world.height * cell` pixels."""
    s = cell * SUPERSAMPLE
    image = Image.new("RGB", (world.width * s, world.height * s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _draw_grid(draw, world, s)
    _draw_markers(draw, world, s)
    _draw_agent(draw, world, s)
    _draw_counts(draw, world, s)
    return image.resize((world.width * cell, world.height * cell), Image.Resampling.LANCZOS)


def _draw_grid(draw: ImageDraw.ImageDraw, world: World, s: int) -> None:
    line = max(1, s // 32)
    for r in range(world.height):
        for c in range(world.width):
            fill = WALL if world.walls[r, c] else BACKGROUND
            draw.rectangle((c * s, r * s, (c + 1) * s - 1, (r + 1) * s - 1), fill=fill, outline=GRID_LINE, width=line)


def _draw_markers(draw: ImageDraw.ImageDraw, world: World, s: int) -> None:
    radius = 0.3 * s
    for r, c in zip(*world.markers.nonzero()):
        cx, cy = (c + 0.5) * s, (r + 0.5) * s
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=MARKER)


def _draw_agent(draw: ImageDraw.ImageDraw, world: World, s: int) -> None:
    points = []
    for x, y in _AGENT_NORTH:
        for _ in range(world.direction):  # a quarter turn clockwise about the cell centre, per heading step
            x, y = 1.0 - y, x
        points.append(((world.col + x) * s, (world.row + y) * s))
    draw.polygon(points, fill=AGENT, outline=AGENT_OUTLINE, width=max(1, s // 20))


def _draw_counts(draw: ImageDraw.ImageDraw, world: World, s: int) -> None:
    """Marker counts above 1, drawn last. Under the agent the count moves to a small badge in the cell's
    top-right corner, so that neither hides the other."""
    for r, c in zip(*world.markers.nonzero()):
        count = int(world.markers[r, c])
        if count <= 1:
            continue
        if (r, c) == (world.row, world.col):
            cx, cy, size = (c + 0.8) * s, (r + 0.2) * s, 0.28 * s
            draw.ellipse((cx - 0.19 * s, cy - 0.19 * s, cx + 0.19 * s, cy + 0.19 * s), fill=MARKER,
                         outline=MARKER_TEXT, width=max(1, s // 32))  # fmt: skip
        else:
            cx, cy, size = (c + 0.5) * s, (r + 0.5) * s, 0.4 * s
        draw.text((cx, cy), str(count), fill=MARKER_TEXT, font=_font(int(size)), anchor="mm",
                  stroke_width=max(1, s // 24), stroke_fill=MARKER_TEXT_STROKE)  # fmt: skip


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _add_caption(frame: Image.Image, caption: str, cell: int) -> Image.Image:
    """`frame` with a strip of text under it; the strip height depends only on `cell`."""
    strip = max(14, int(0.6 * cell))
    out = Image.new("RGB", (frame.width, frame.height + strip), CAPTION_BACKGROUND)
    out.paste(frame, (0, 0))
    draw = ImageDraw.Draw(out)
    draw.line((0, frame.height, frame.width, frame.height), fill=GRID_LINE)
    draw.text((max(3, cell // 8), frame.height + strip / 2), caption, fill=CAPTION_TEXT,
              font=_font(int(0.6 * strip)), anchor="lm")  # fmt: skip
    return out


def episode_captions(actions: Sequence[int], rewards: Sequence[float]) -> list[str]:
    """Captions for the len(actions) + 1 frames of an episode: step, last action and return so far."""
    if len(actions) != len(rewards):
        raise ValueError(f"got {len(actions)} actions but {len(rewards)} rewards")
    captions, total = ["step 0"], 0.0
    for t, (action, reward) in enumerate(zip(actions, rewards), start=1):
        total += reward
        captions.append(f"step {t} · {Action(action).name} · return {total:.3f}")
    return captions


def render_episode(worlds: Sequence[World], cell: int = 32, captions: Sequence[str] | None = None) -> list[Image.Image]:
    """One frame per world; with `captions` (one string per world) each frame gets a caption strip."""
    if captions is not None and len(captions) != len(worlds):
        raise ValueError(f"got {len(captions)} captions for {len(worlds)} worlds")
    frames = [render_world(w, cell) for w in worlds]
    if captions is not None:
        frames = [_add_caption(f, text, cell) for f, text in zip(frames, captions)]
    return frames


def save_episode(
    worlds: Sequence[World],
    path: str | os.PathLike,
    duration_ms: int = 150,
    cell: int = 32,
    captions: Sequence[str] | None = None,
) -> None:
    """Write an animated GIF of all worlds (looping forever, `duration_ms` per frame) for a `.gif` path, or the
    first world as a PNG for a `.png` path. The file is written to a temporary file in the same folder and
    moved into place, so an interrupted run never leaves a partial file at `path`."""
    if not worlds:
        raise ValueError("no worlds to save")
    if _format(Path(path)) == "PNG":
        worlds, captions = worlds[:1], None if captions is None else captions[:1]
    save_frames(render_episode(worlds, cell, captions), path, duration_ms)


def _format(path: Path) -> str:
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save an episode as {path.suffix or 'a file without suffix'!r}; "
                         f"allowed suffixes: {', '.join(SAVE_FORMATS)}")  # fmt: skip
    return fmt


def save_frames(frames: Sequence[Image.Image], path: str | os.PathLike, duration_ms: int = 150) -> None:
    """Write frames as an animated GIF (a `.gif` path) or the first frame as a PNG (a `.png` path), through a
    temporary file in the same folder moved into place."""
    path = Path(path)
    fmt = _format(path)
    if not frames:
        raise ValueError("no frames to save")
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        if fmt == "GIF":
            frames[0].save(f, format=fmt, save_all=True, append_images=list(frames[1:]), duration=duration_ms, loop=0)
        else:
            frames[0].save(f, format=fmt)


def _palette() -> np.ndarray:
    """[N, 3] uint8: the drawing colours, 16 caption greys (CAPTION_TEXT to white), then a 6x6x6 colour cube."""
    base = [BACKGROUND, GRID_LINE, WALL, MARKER, MARKER_TEXT, MARKER_TEXT_STROKE, AGENT, AGENT_OUTLINE,
            CAPTION_BACKGROUND, CAPTION_TEXT]  # fmt: skip
    text, white = np.array(CAPTION_TEXT, float), np.array((255, 255, 255), float)
    greys = [tuple(np.rint(text + (white - text) * k / 15).astype(int)) for k in range(16)]
    cube = [(r, g, b) for r in range(0, 256, 51) for g in range(0, 256, 51) for b in range(0, 256, 51)]
    return np.array(base + greys + cube, dtype=np.uint8)


PALETTE = _palette()
_GREYS = 10  # index of the first caption grey in PALETTE


def _indices(rgb: np.ndarray) -> np.ndarray:
    """Nearest PALETTE index of every pixel of rgb [..., 3]."""
    flat = rgb.reshape(-1, 3).astype(np.int32)
    distance = ((flat[:, None, :] - PALETTE[None].astype(np.int32)) ** 2).sum(-1)  # [pixels, N]
    return distance.argmin(1).astype(np.uint8).reshape(rgb.shape[:-1])


@functools.lru_cache(maxsize=4096)
def _tile(cell: int, wall: bool, markers: int, direction: int) -> np.ndarray:
    """[cell, cell] palette indices of one cell as `render_world` draws it; direction -1: no agent on it
    (the agent of the two-cell world drawn stands on the second cell, which is cut off)."""
    world = World(np.array([[wall, False]]), np.array([[markers, 0]], dtype=np.int64), 0,
                  0 if direction >= 0 else 1, max(direction, 0))  # fmt: skip
    return _indices(np.asarray(render_world(world, cell))[:, :cell])


@functools.lru_cache(maxsize=8)
def _tiles(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """A lazily filled table [2 * 11 * 5, cell, cell] of `_tile`s indexed by `_tile_keys`, and which are filled."""
    return np.zeros((2 * 11 * 5, cell, cell), dtype=np.uint8), np.zeros(2 * 11 * 5, dtype=bool)


def _panel(world: World, cell: int) -> np.ndarray:
    """[H * cell, W * cell] palette indices of `world`."""
    agent = np.full(world.walls.shape, -1)
    agent[world.row, world.col] = world.direction
    keys = (world.walls.astype(np.int64) * 11 + np.minimum(world.markers, 10)) * 5 + agent + 1  # [H, W]
    table, filled = _tiles(cell)
    for key in np.unique(keys[~filled[keys]]):
        wall, rest = divmod(int(key), 55)
        table[key], filled[key] = _tile(cell, bool(wall), rest // 5, rest % 5 - 1), True
    h, w = keys.shape
    return table[keys].transpose(0, 2, 1, 3).reshape(h * cell, w * cell)  # [H, W, cell, cell] -> rows


def _caption_strip(text: str, width: int, height: int) -> np.ndarray:
    strip = Image.new("L", (width, height), 255)
    ImageDraw.Draw(strip).text((3, height / 2), text, fill=0, font=_font(int(0.7 * height)), anchor="lm")
    return (_GREYS + np.rint(np.asarray(strip) / 255 * 15)).astype(np.uint8)


def animate_panels(panels: Sequence[Sequence[World]], captions: Sequence[Sequence[str]] | None = None,
                   cell: int = 16, duration_ms: int = 120, hold_ms: int = 1500, title: str | None = None) -> bytes:  # fmt: skip
    """An animated GIF (its bytes, looping forever): frame f shows `panels[p][f]` for every panel p side by
    side, 4 px apart, each with `captions[p][f]` under it, and `title` (if any) in a strip above them all;
    every frame lasts `duration_ms`, the last `hold_ms`. All panels have the same number of frames."""
    lengths = {len(p) for p in panels}
    if not panels or len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"need panels of one non-zero length, got lengths {sorted(lengths)}")
    if captions is not None and [len(c) for c in captions] != [len(p) for p in panels]:
        raise ValueError("need one caption per frame of every panel")
    strip = max(14, cell) if captions is not None else 0
    gap = 4
    heights = [p[0].height * cell + strip for p in panels]
    widths = [p[0].width * cell for p in panels]
    canvas_width = sum(widths) + gap * (len(panels) - 1)
    top = max(14, cell) if title else 0
    header = _caption_strip(title, canvas_width, top) if title else None
    frames = []
    for f in range(lengths.pop()):
        canvas = np.full((top + max(heights), canvas_width), 8, dtype=np.uint8)  # CAPTION_BACKGROUND
        if header is not None:
            canvas[:top] = header
        x = 0
        for p, panel in enumerate(panels):
            image = _panel(panel[f], cell)
            bottom = top + image.shape[0]
            canvas[top:bottom, x : x + widths[p]] = image
            if captions is not None:
                canvas[bottom : bottom + strip, x : x + widths[p]] = _caption_strip(captions[p][f], widths[p], strip)
            x += widths[p] + gap
        frame = Image.fromarray(canvas, "P")
        frame.putpalette(PALETTE.tobytes())
        frames.append(frame)
    durations = [duration_ms] * (len(frames) - 1) + [hold_ms]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return buffer.getvalue()


def caption_frame(frame: Image.Image, caption: str, cell: int = 32) -> Image.Image:
    """`frame` with a caption strip below it."""
    return _add_caption(frame, caption, cell)


__all__ = [
    "animate_panels",
    "caption_frame",
    "episode_captions",
    "render_episode",
    "render_world",
    "save_episode",
    "save_frames",
]
