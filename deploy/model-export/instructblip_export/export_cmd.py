"""`export.py export`: write a model directory (docs/model-format.md) from a checkpoint folder or a preset."""
import argparse
import os
import shutil
import sys
from typing import Any, Dict

from . import checkpoint as ckpt
from .configs import ConfigError
from .manifest import build_manifest, write_manifest
from .onnx_export import export_model, remove_stale
from .presets import DEFAULT_SEED, PRESET_NAMES, Preset, build_preset_model, get_preset

DTYPES = {"fp32": "float32", "fp16": "float16"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", metavar="DIR", help="HF InstructBlipForConditionalGeneration checkpoint folder")
    source.add_argument("--preset", choices=PRESET_NAMES, help="built-in random model (tests, fixtures, benchmarks)")
    parser.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp32", help="float type of the ONNX files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="weight seed of a preset (default 0)")
    parser.add_argument("--name", help="model name in the manifest (default: preset or checkpoint folder name)")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def preset_tokenizers(preset: Preset, out_dir: str) -> Dict[str, Any]:
    """Writes the preset's tokenizers (P2's generator) and checks they agree with the preset's ids and sizes."""
    try:
        from .tokenization import write_preset_tokenizers
    except ImportError:
        _log("warning: instructblip_export.tokenization is not available; no tokenizer files written")
        return {"files": {}, "special_tokens": preset.special_tokens, "prompt": preset.prompt}
    info = write_preset_tokenizers(preset.name, out_dir)
    cfg = preset.config
    mismatches = []
    if info.get("llm_vocab_size") != cfg.text_config.vocab_size:
        mismatches.append(f"llm_vocab_size {info.get('llm_vocab_size')} != {cfg.text_config.vocab_size}")
    if info.get("qformer_vocab_size") != cfg.qformer_config.vocab_size:
        mismatches.append(f"qformer_vocab_size {info.get('qformer_vocab_size')} != {cfg.qformer_config.vocab_size}")
    for key, value in preset.special_tokens.items():
        if info.get("special_tokens", {}).get(key) != value:
            mismatches.append(f"special_tokens.{key} {info.get('special_tokens', {}).get(key)} != {value}")
    if mismatches:
        raise ValueError(f"preset {preset.name}: tokenizers disagree with the model: {'; '.join(mismatches)}")
    return {
        "files": {"llm_tokenizer": "llm_tokenizer.json", "qformer_tokenizer": "qformer_tokenizer.json"},
        "special_tokens": info["special_tokens"],
        "prompt": info.get("prompt", preset.prompt),
    }


def export_preset(name: str, out_dir: str, dtype: str = "float32", seed: int = DEFAULT_SEED) -> Dict[str, Any]:
    """Writes the preset's model directory; returns the manifest."""
    preset = get_preset(name)
    model = build_preset_model(name, seed)
    os.makedirs(out_dir, exist_ok=True)
    files = export_model(model, out_dir, dtype, log=_log)
    remove_stale(out_dir, list(files.values()))
    tokenizers = preset_tokenizers(preset, out_dir)
    files.update(tokenizers["files"])
    manifest = build_manifest(
        name=name,
        config=preset.config,
        dtype=dtype,
        files=files,
        source={"kind": "preset", "preset": name, "checkpoint": None, "seed": seed},
        special_tokens=tokenizers["special_tokens"],
        prompt=tokenizers["prompt"],
    )
    write_manifest(out_dir, manifest)
    return manifest


def export_checkpoint(folder: str, out_dir: str, dtype: str = "float32", name: str = None) -> Dict[str, Any]:
    """Writes the model directory of a HF checkpoint folder; returns the manifest."""
    _log(f"reading {folder}")
    model = ckpt.load_model(folder)
    recipe = ckpt.tokenizer_recipe(folder, model.config)  # before the long export: fail fast
    preprocessing = ckpt.image_preprocessing(folder, model.config.vision_config.image_size)
    if dtype == "float16" and model.llm_family == "encoder_decoder":
        _log("warning: T5 in float16 can overflow; the graphs clamp hidden states as HF's T5 does in float16, "
             "but check the export's accuracy against --dtype fp32 (HF also keeps T5's `wo` in float32)")
    os.makedirs(out_dir, exist_ok=True)
    files = export_model(model, out_dir, dtype, log=_log)
    remove_stale(out_dir, list(files.values()))
    shutil.copyfile(recipe["llm_tokenizer_path"], os.path.join(out_dir, "llm_tokenizer.json"))
    shutil.copyfile(recipe["qformer_tokenizer_path"], os.path.join(out_dir, "qformer_tokenizer.json"))
    files.update({"llm_tokenizer": "llm_tokenizer.json", "qformer_tokenizer": "qformer_tokenizer.json"})
    manifest = build_manifest(
        name=name or os.path.basename(os.path.normpath(folder)),
        config=model.config,
        dtype=dtype,
        files=files,
        source={"kind": "checkpoint", "preset": None, "checkpoint": os.path.basename(os.path.normpath(folder)),
                "seed": None},
        special_tokens=recipe["special_tokens"],
        prompt=recipe["prompt"],
        image_preprocessing=preprocessing,
    )
    write_manifest(out_dir, manifest)
    return manifest


def run(args: argparse.Namespace) -> int:
    dtype = DTYPES[args.dtype]
    try:
        if args.preset:
            manifest = export_preset(args.preset, args.out, dtype, args.seed)
            if args.name:
                manifest["name"] = args.name
                write_manifest(args.out, manifest)
        else:
            export_checkpoint(args.checkpoint, args.out, dtype, args.name)
    except (ckpt.CheckpointError, ConfigError) as e:
        print(f"export failed: {e}", file=sys.stderr)
        return 1
    _log(f"wrote {args.out}")
    return 0
