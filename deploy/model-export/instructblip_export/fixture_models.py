"""The committed tiny model directories: P1's preset export, fp32, default seed."""
from .export_cmd import export_preset
from .presets import DEFAULT_SEED


def export_model(name, out_dir):
    """Write fixtures/<name>/ (deterministic: the export fixes producer fields and the weight seed)."""
    return export_preset(name, out_dir, "float32", DEFAULT_SEED)


# The float16 export of tiny-vicuna: the runtime's float16 boundary conversion is checked against it.
FLOAT16_MODEL = "tiny-vicuna-fp16"


def export_float16_model(out_dir):
    """Write fixtures/tiny-vicuna-fp16/ (the tiny-vicuna preset exported with --dtype fp16)."""
    return export_preset("tiny-vicuna", out_dir, "float16", DEFAULT_SEED)
