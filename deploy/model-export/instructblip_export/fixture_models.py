"""The committed tiny model directories: P1's preset export, fp32, default seed."""
from .export_cmd import export_preset
from .presets import DEFAULT_SEED


def export_model(name, out_dir):
    """Write fixtures/<name>/ (deterministic: the export fixes producer fields and the weight seed)."""
    return export_preset(name, out_dir, "float32", DEFAULT_SEED)
