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

from .modeling import MARKER_DOMAIN, InstructBlipModel, PrecisionCasts
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


def _float32_values(model: onnx.ModelProto, types: Dict[str, int]) -> set:
    """Float values that stay float32: outputs of `Upcast` markers and everything computed from them until a
    `Downcast` marker (nodes are in topological order in ONNX)."""
    keep = set()
    for node in model.graph.node:
        if node.domain == MARKER_DOMAIN:
            if node.op_type == "Upcast":
                keep.add(node.output[0])
            continue
        if any(i in keep for i in node.input):
            keep.update(o for o in node.output if types.get(o) == TensorProto.FLOAT)
    return keep


def _value_types(model: onnx.ModelProto) -> Dict[str, int]:
    """Element types of every value of the float32 graph (markers read as Identity)."""
    # a copy without the weights (declared as typed inputs): models over 2 GB cannot be serialized for inference
    initializers = list(model.graph.initializer)
    del model.graph.initializer[:]
    try:
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
    finally:
        model.graph.initializer.extend(initializers)
    probe.graph.input.extend(
        onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)) for init in initializers
    )
    del probe.graph.value_info[:]
    for node in probe.graph.node:
        if node.domain == MARKER_DOMAIN:
            node.CopyFrom(onnx.helper.make_node("Identity", list(node.input), list(node.output), name=node.name))
    kept_opsets = [o for o in probe.opset_import if o.domain != MARKER_DOMAIN]
    del probe.opset_import[:]
    probe.opset_import.extend(kept_opsets)
    probe = onnx.shape_inference.infer_shapes(probe)
    types: Dict[str, int] = {}
    for value in list(probe.graph.input) + list(probe.graph.output) + list(probe.graph.value_info):
        types[value.name] = value.type.tensor_type.elem_type
    return types


def convert_to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A float16 version of a float32 graph traced with `PrecisionCasts.enabled`.

    Every float32 tensor (initializers, constants, casts, boundary values) becomes float16, except the float32
    islands between the `Upcast` and `Downcast` markers, which become Cast nodes; a constant used both inside
    and outside an island is duplicated.
    """
    types = _value_types(model)
    keep = _float32_values(model, types)
    graph = model.graph
    del graph.value_info[:]  # intermediate types change; the checker infers them again
    for node in graph.node:  # the island markers become casts
        if node.domain == MARKER_DOMAIN:
            to = TensorProto.FLOAT if node.op_type == "Upcast" else TensorProto.FLOAT16
            node.CopyFrom(onnx.helper.make_node("Cast", list(node.input), list(node.output), name=node.name, to=to))
    kept_opsets = [o for o in model.opset_import if o.domain != MARKER_DOMAIN]
    del model.opset_import[:]
    model.opset_import.extend(kept_opsets)
    initializers = {init.name: init for init in graph.initializer}
    for name, init in initializers.items():
        types[name] = init.data_type
    marker_casts = {n.output[0] for n in graph.node if n.op_type == "Cast" and n.output[0] in keep}
    constants = {}
    for node in graph.node:
        if node.op_type == "Constant":
            value = next((a for a in node.attribute if a.name == "value"), None)
            if value is not None:
                types[node.output[0]] = value.t.data_type
                constants[node.output[0]] = node

    def is_float_constant(name):
        return (name in initializers or name in constants) and types.get(name) == TensorProto.FLOAT

    def in_island(node) -> bool:
        return any(i in keep for i in node.input) or any(o in keep for o in node.output)

    # which float constants are needed in float32 (inside an island) and which in float16
    need32, need16 = set(), set()
    for node in graph.node:
        for name in node.input:
            if is_float_constant(name):
                (need32 if in_island(node) else need16).add(name)
    renamed = {name: name + "__float32" for name in sorted(need32 & need16)}
    for node in list(graph.node):
        if node.op_type == "Constant" or not in_island(node):
            continue
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]
    for name, new_name in renamed.items():
        if name in initializers:
            copy = TensorProto()
            copy.CopyFrom(initializers[name])
            copy.name = new_name
            graph.initializer.append(copy)
        else:
            copy = onnx.NodeProto()
            copy.CopyFrom(constants[name])
            copy.output[0] = new_name
            copy.name = constants[name].name + "__float32"
            graph.node.insert(list(graph.node).index(constants[name]) + 1, copy)

    def to_half(t: TensorProto) -> None:
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))

    float32_constants = (need32 - set(renamed)) | set(renamed.values())
    for init in graph.initializer:
        if init.name not in float32_constants:
            to_half(init)
    for node in graph.node:
        output_is_float32 = node.output[0] in keep or node.output[0] in float32_constants
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and not output_is_float32:
                to_half(attr.t)
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                if node.output[0] not in marker_casts:
                    attr.i = TensorProto.FLOAT16
    for value in list(graph.input) + list(graph.output):
        tensor_type = value.type.tensor_type
        if tensor_type.elem_type == TensorProto.FLOAT and value.name not in keep:
            tensor_type.elem_type = TensorProto.FLOAT16
    return model


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
        PrecisionCasts.enabled = dtype == "float16"
        try:
            _trace(stage, args, traced_path, axes)
        finally:
            PrecisionCasts.enabled = False
        onnx_model = onnx.load(traced_path)  # also reads any external data torch wrote beside it
        with torch.no_grad():
            outputs = stage(*args)
    _set_boundary_shapes(onnx_model, stage.output_names(), outputs, axes)
    if dtype == "float16":
        onnx_model = convert_to_float16(onnx_model)
    _finalize(onnx_model)
    _save(onnx_model, path)


def _trace(stage, args, traced_path: str, axes) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns about the None past of decoder_init and the island markers; the graph is checked when saved
        warnings.filterwarnings("ignore", message="The shape inference of .* type is missing")
        warnings.filterwarnings("ignore", category=FutureWarning, module="instructblip_export")
        torch.onnx.export(
            stage,
            args,
            traced_path,
            input_names=stage.input_names(),
            output_names=stage.output_names(),
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            custom_opsets={MARKER_DOMAIN: 1} if PrecisionCasts.enabled else None,
        )


def _save(onnx_model: onnx.ModelProto, path: str) -> None:
    """Saves and checks; weights over the threshold go to one `<file>.data` beside it."""
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
