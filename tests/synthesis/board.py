"""Reading a run's TensorBoard back, as TensorBoard itself reads it (tests only)."""

from pathlib import Path


def read_board(tb_dir: Path) -> dict:
    """{"scalars": {tag: [(step, value)]}, "texts": {tag: [(step, text)]}, "images": {tag: [(step, bytes)]},
    "histograms": {tag: [(step, count)]}, "hparams": {name: value}, "session_end": status name or None}
    from the events files in `tb_dir`, read as one run by the accumulator TensorBoard's server uses (so a
    resumed run's purge step drops what an earlier file wrote from that step on)."""
    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.util import tensor_util

    events = plugin_event_accumulator.EventAccumulator(str(tb_dir), size_guidance={"tensors": 0})
    events.Reload()
    out = {"scalars": {}, "texts": {}, "images": {}, "histograms": {}, "hparams": {}, "session_end": None}
    for tag in events.Tags()["tensors"]:
        plugin = events.SummaryMetadata(tag).plugin_data.plugin_name
        values = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]
        if plugin == "scalars":
            out["scalars"][tag] = [(step, float(value)) for step, value in values]
        elif plugin == "text":
            name = tag.removesuffix("/text_summary")
            out["texts"][name] = [(step, value.item().decode()) for step, value in values]
        elif plugin == "images":  # [width, height, encoded image]
            out["images"][tag] = [(step, value[2]) for step, value in values]
        elif plugin == "histograms":  # [buckets, 3]: left edge, right edge, count
            out["histograms"][tag] = [(step, int(value[:, 2].sum().round())) for step, value in values]
    content = events.PluginTagToContent("hparams") if "hparams" in events.ActivePlugins() else {}
    if metadata.SESSION_START_INFO_TAG in content:
        info = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
        out["hparams"] = {name: getattr(v, v.WhichOneof("kind")) for name, v in info.hparams.items()}
    if metadata.SESSION_END_INFO_TAG in content:
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        out["session_end"] = api_pb2.Status.Name(end.status)
    return out
