"""Export of the stage modules to ONNX files (opset 17) as docs/model-format.md describes them.

Graphs are traced on the CPU in float32 with `torch.onnx.export`. For `float16` the traced graph is converted
afterwards (initializers, constants, casts and boundary tensors become float16): torch 1.13 cannot run half
precision on the CPU, so it cannot trace it. The model code keeps every precision-sensitive step independent
of float16 rounding (see `modeling`). Files are saved through `onnx.save` with fixed producer fields, so the
same model gives byte-identical files. Models over 2 GB keep their weights in `<file>.data` (ONNX external data).
"""
import os
import shutil
import tempfile
import warnings
from typing import Dict, List, Tuple

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper

from .modeling import InstructBlipModel
from .stages import load_stages

OPSET = 17
MAX_IR_VERSION = 10
EXTERNAL_DATA_THRESHOLD = 1_800_000_000  # bytes of initializers above which weights go to external data
PRODUCER_NAME = "instructblip-export"
PRODUCER_VERSION = "1"

# dummy sizes used for tracing; all distinct so that no axis is accidentally tied to another
_B, _T, _P, _E, _TQ = 2, 3, 5, 7, 6

BATCH, SEQUENCE, PAST, TOTAL, ENCODER, QTEXT = (
    "batch",
    "sequence",
    "past_sequence",
    "total_sequence",
    "encoder_sequence",
    "qformer_sequence",
)


def _kv_axes(names: List[str], seq_axis: str) -> Dict[str, Dict[int, str]]:
    return {name: {0: BATCH, 2: seq_axis} for name in names}


def stage_io(model: InstructBlipModel, name: str, stage) -> Tuple[tuple, Dict[str, Dict[int, str]]]:
    """Dummy inputs for tracing one stage and the dynamic axes of its inputs and outputs."""
    cfg = model.config
    v = cfg.vision_config
    lm = model.language_model
    dl = cfg.text_config.hidden_size
    gen = torch.Generator().manual_seed(1234)

    def rand(*shape):
        return torch.randn(shape, generator=gen)

    def ids(vocab, *shape):
        return torch.randint(0, vocab, shape, generator=gen, dtype=torch.long)

    ones = lambda *shape: torch.ones(shape, dtype=torch.long)  # noqa: E731
    if name == "vision_encoder":
        return (rand(_B, 3, v.image_size, v.image_size),), {"pixel_values": {0: BATCH}, "image_embeds": {0: BATCH}}
    if name == "qformer":
        qv = cfg.qformer_config.vocab_size
        return (rand(_B, v.num_positions, v.hidden_size), ids(qv, _B, _TQ), ones(_B, _TQ)), {
            "image_embeds": {0: BATCH},
            "qformer_input_ids": {0: BATCH, 1: QTEXT},
            "qformer_attention_mask": {0: BATCH, 1: QTEXT},
            "query_output": {0: BATCH},
        }
    if name == "embed_tokens":
        return (ids(cfg.text_config.vocab_size, _B, _T),), {
            "input_ids": {0: BATCH, 1: SEQUENCE},
            "inputs_embeds": {0: BATCH, 1: SEQUENCE},
        }
    layers = getattr(stage, "num_layers", 0)
    if name == "decoder" and model.llm_family == "decoder_only":
        kv_shape = (_B, lm.cfg.kv_heads, _P, lm.cfg.head_dim)
        past = tuple(rand(*kv_shape) for _ in range(2 * layers))
        mask = ones(_B, _P + _T)
        mask[0, :2] = 0  # left padding in the dummy, so the traced graph cannot specialise on all-ones
        positions = torch.arange(_P, _P + _T).unsqueeze(0).expand(_B, -1).contiguous()
        axes = {
            "inputs_embeds": {0: BATCH, 1: SEQUENCE},
            "attention_mask": {0: BATCH, 1: TOTAL},
            "position_ids": {0: BATCH, 1: SEQUENCE},
            "logits": {0: BATCH, 1: SEQUENCE},
        }
        names = stage.input_names()[3:]
        axes.update(_kv_axes(names, PAST))
        axes.update(_kv_axes(stage.output_names()[1:], TOTAL))
        return (rand(_B, _T, dl), mask, positions) + past, axes
    t5 = cfg.text_config
    if name == "encoder":
        return (rand(_B, _E, dl), ones(_B, _E)), {
            "inputs_embeds": {0: BATCH, 1: ENCODER},
            "attention_mask": {0: BATCH, 1: ENCODER},
            "encoder_hidden_states": {0: BATCH, 1: ENCODER},
        }
    if name == "decoder_init":
        axes = {
            "decoder_input_ids": {0: BATCH, 1: SEQUENCE},
            "decoder_attention_mask": {0: BATCH, 1: SEQUENCE},
            "encoder_hidden_states": {0: BATCH, 1: ENCODER},
            "encoder_attention_mask": {0: BATCH, 1: ENCODER},
            "logits": {0: BATCH, 1: SEQUENCE},
        }
        outs = stage.output_names()[1:]
        axes.update(_kv_axes(outs[: 2 * layers], SEQUENCE))
        axes.update(_kv_axes(outs[2 * layers :], ENCODER))
        return (ids(t5.vocab_size, _B, _T), ones(_B, _T), rand(_B, _E, dl), ones(_B, _E)), axes
    if name == "decoder":
        kv_shape = (_B, t5.num_heads, _P, t5.d_kv)
        cross_shape = (_B, t5.num_heads, _E, t5.d_kv)
        past = tuple(rand(*kv_shape) for _ in range(2 * layers))
        cross = tuple(rand(*cross_shape) for _ in range(2 * layers))
        dmask = ones(_B, _P + _T)
        dmask[0, :2] = 0
        axes = {
            "decoder_input_ids": {0: BATCH, 1: SEQUENCE},
            "decoder_attention_mask": {0: BATCH, 1: TOTAL},
            "encoder_attention_mask": {0: BATCH, 1: ENCODER},
            "logits": {0: BATCH, 1: SEQUENCE},
        }
        ins = stage.input_names()[3:]
        axes.update(_kv_axes(ins[: 2 * layers], PAST))
        axes.update(_kv_axes(ins[2 * layers :], ENCODER))
        axes.update(_kv_axes(stage.output_names()[1:], TOTAL))
        return (ids(t5.vocab_size, _B, _T), dmask, ones(_B, _E)) + past + cross, axes
    raise ValueError(f"no stage named {name!r}")


def convert_to_float16(model: onnx.ModelProto) -> None:
    """Turns every float32 tensor of a traced float32 graph into float16, in place."""

    def convert_tensor(t: TensorProto) -> None:
        if t.data_type == TensorProto.FLOAT:
            array = numpy_helper.to_array(t).astype(np.float16)
            t.CopyFrom(numpy_helper.from_array(array, t.name))

    graph = model.graph
    for init in graph.initializer:
        convert_tensor(init)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                convert_tensor(attr.t)
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16


def _set_boundary_shapes(model: onnx.ModelProto, names: List[str], outputs, axes) -> None:
    """Writes every output's shape as the format states it: named dynamic axes, other axes fixed.

    The tracer leaves some fixed axes symbolic (e.g. `Q` after a slice); the runtime checks them.
    """
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    shapes = dict(zip(names, (tuple(o.shape) for o in outputs)))
    for value in model.graph.output:
        shape = shapes[value.name]
        dims = value.type.tensor_type.shape.dim
        del dims[:]
        for axis, size in enumerate(shape):
            dim = dims.add()
            if axis in axes.get(value.name, {}):
                dim.dim_param = axes[value.name][axis]
            else:
                dim.dim_value = size


def _finalize(model: onnx.ModelProto) -> None:
    model.producer_name = PRODUCER_NAME
    model.producer_version = PRODUCER_VERSION
    model.doc_string = ""
    model.graph.doc_string = ""
    for node in model.graph.node:
        node.doc_string = ""
    if model.ir_version > MAX_IR_VERSION:
        model.ir_version = MAX_IR_VERSION


def _initializer_bytes(model: onnx.ModelProto) -> int:
    total = 0
    for init in model.graph.initializer:
        total += int(np.prod(init.dims)) * (2 if init.data_type == TensorProto.FLOAT16 else 4)
    return total


def export_stage(model: InstructBlipModel, name: str, stage, path: str, dtype: str) -> None:
    """Traces one stage to `path` (and `path.data` when external data is needed), checked by onnx.checker."""
    args, axes = stage_io(model, name, stage)
    with tempfile.TemporaryDirectory(prefix="ibexport-") as tmp:
        traced_path = os.path.join(tmp, "traced.onnx")
        with torch.no_grad(), warnings.catch_warnings():
            # torch 1.13 warns about the None past of decoder_init's trace; the graph is checked below
            warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
            torch.onnx.export(
                stage,
                args,
                traced_path,
                input_names=stage.input_names(),
                output_names=stage.output_names(),
                dynamic_axes=axes,
                opset_version=OPSET,
                do_constant_folding=True,
            )
        onnx_model = onnx.load(traced_path)  # also reads any external data torch wrote beside it
        with torch.no_grad():
            outputs = stage(*args)
    _set_boundary_shapes(onnx_model, stage.output_names(), outputs, axes)
    if dtype == "float16":
        convert_to_float16(onnx_model)
    _finalize(onnx_model)
    data_name = os.path.basename(path) + ".data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)
    if _initializer_bytes(onnx_model) > EXTERNAL_DATA_THRESHOLD:
        onnx.save_model(
            onnx_model,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
        onnx.checker.check_model(path)
    else:
        onnx.save_model(onnx_model, path)
        onnx.checker.check_model(onnx_model, full_check=True)


def export_model(model: InstructBlipModel, out_dir: str, dtype: str = "float32", log=print) -> Dict[str, str]:
    """Writes every stage of the model's family into `out_dir`; returns manifest `files` entries of the stages."""
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype {dtype!r} is not supported; use float32 or float16")
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for name, stage in load_stages(model).items():
        file_name = f"{name}.onnx"
        log(f"exporting {file_name} ({dtype})")
        export_stage(model, name, stage, os.path.join(out_dir, file_name), dtype)
        files[name] = file_name
    return files


def remove_stale(out_dir: str, keep: List[str]) -> None:
    """Deletes ONNX files of a previous export that the new one does not write."""
    for entry in os.listdir(out_dir):
        if (entry.endswith(".onnx") or entry.endswith(".onnx.data")) and entry not in keep:
            path = os.path.join(out_dir, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
