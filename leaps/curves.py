"""Validation curves of a training run, read from its TensorBoard logs and drawn into one figure.

    python -m leaps.curves runs/leaps/leaps --out curves.png

A run resumed with `--ckpt_path` logs into a new version folder; every events file under the given folders
is read and the curves are joined by step (for a step logged twice, the newer file wins).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from karel.atomic import atomic_path

METRICS = (
    "val/decoder_greedy_program_accuracy",
    "val/decoder_greedy_token_accuracy",
    "val/condition_greedy_action_accuracy",
    "val/condition_greedy_demo_accuracy",
)


def read_scalars(folders: list[str | Path], tags: tuple[str, ...] = METRICS) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...] sorted by step} from every TensorBoard events file under `folders`."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted((f for folder in folders for f in Path(folder).rglob("events.out.tfevents.*")),
                   key=lambda f: f.stat().st_mtime)  # fmt: skip
    if not files:
        raise FileNotFoundError(f"no TensorBoard events files under {', '.join(map(str, folders))}")
    curves: dict[str, dict[int, float]] = {tag: {} for tag in tags}
    for file in files:
        events = EventAccumulator(str(file), size_guidance={"scalars": 0})
        events.Reload()
        for tag in set(tags) & set(events.Tags()["scalars"]):
            curves[tag].update((e.step, e.value) for e in events.Scalars(tag))
    return {tag: sorted(points.items()) for tag, points in curves.items() if points}


def plot_curves(curves: dict[str, list[tuple[int, float]]], out: str | Path) -> None:
    """One line per metric against training steps, written atomically to `out` (any matplotlib format)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for tag, points in curves.items():
        steps, values = zip(*points)
        ax.plot(steps, values, marker="o", markersize=3, label=tag.removeprefix("val/"))
    ax.set_xlabel("training step")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".") or None, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leaps.curves", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="run folders (e.g. runs/leaps/leaps) holding events files")
    parser.add_argument("--out", default="curves.png", help="figure file (default curves.png)")
    args = parser.parse_args(argv)
    try:
        curves = read_scalars(args.folders)
    except FileNotFoundError as error:
        print(f"leaps.curves: error: {error}", file=sys.stderr)
        return 2
    if not curves:
        print(f"leaps.curves: error: no validation metrics ({', '.join(METRICS)}) in the logs", file=sys.stderr)
        return 2
    plot_curves(curves, args.out)
    for tag, points in curves.items():
        print(f"{tag}: " + ", ".join(f"{step}: {value:.3f}" for step, value in points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
