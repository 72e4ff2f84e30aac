"""Validation curves joined across the version folders of a resumed run."""

import os

from torch.utils.tensorboard import SummaryWriter

from leaps.curves import main, read_scalars

TAG = "val/decoder_greedy_program_accuracy"


def write_events(folder, points, mtime):
    writer = SummaryWriter(str(folder))
    for step, value in points:
        writer.add_scalar(TAG, value, step)
        writer.add_scalar("train/loss", 1.0, step)
    writer.close()
    for file in folder.iterdir():
        os.utime(file, (mtime, mtime))


def test_resumed_versions_join_by_step_and_the_newer_log_wins(tmp_path, capsys):
    write_events(tmp_path / "version_1", [(20, 0.5), (30, 0.75)], mtime=2_000_000)
    write_events(tmp_path / "version_0", [(10, 0.125), (20, 0.25)], mtime=1_000_000)
    assert read_scalars([tmp_path]) == {TAG: [(10, 0.125), (20, 0.5), (30, 0.75)]}  # train/loss is not read
    out = tmp_path / "curves.png"
    assert main([str(tmp_path), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert f"{TAG}: 10: 0.125, 20: 0.500, 30: 0.750" in capsys.readouterr().out


def test_folders_without_logs_are_an_error(tmp_path, capsys):
    assert main([str(tmp_path), "--out", str(tmp_path / "c.png")]) == 2
    assert "no TensorBoard events files" in capsys.readouterr().err and not (tmp_path / "c.png").exists()
