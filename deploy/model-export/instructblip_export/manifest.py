"""manifest.json of a model directory (docs/model-format.md, format_version 1)."""
import json
import os
from typing import Any, Dict, Optional

from .configs import InstructBlipConfig, LlamaConfig

FORMAT = "instructblip-onnx"
FORMAT_VERSION = 1

DEFAULT_IMAGE_PREPROCESSING = {
    "resample": "bicubic",
    "do_convert_rgb": True,
    "rescale_factor": 1.0 / 255.0,
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
}

GENERATION_DEFAULTS = {
    "max_new_tokens": 256,
    "min_new_tokens": 1,
    "num_beams": 5,
    "length_penalty": 1.0,
    "repetition_penalty": 1.5,
    "do_sample": False,
    "temperature": 1.0,
    "top_k": 0,
    "top_p": 0.9,
}

SPECIAL_TOKEN_FIELDS = ("qformer_cls", "qformer_sep", "qformer_pad", "llm_bos", "llm_eos", "llm_pad", "decoder_start")


def llm_section(config: InstructBlipConfig) -> Dict[str, Any]:
    text = config.text_config
    if isinstance(text, LlamaConfig):
        return {
            "hidden_size": text.hidden_size,
            "vocab_size": text.vocab_size,
            "num_layers": text.num_hidden_layers,
            "num_heads": text.num_attention_heads,
            "num_kv_heads": text.kv_heads,
            "head_dim": text.head_dim,
            "max_positions": text.max_position_embeddings,
        }
    return {
        "hidden_size": text.d_model,
        "vocab_size": text.vocab_size,
        "num_layers": text.decoder_layers,
        "num_heads": text.num_heads,
        "num_kv_heads": text.num_heads,
        "head_dim": text.d_kv,
        "max_positions": text.n_positions,
    }


def build_manifest(
    *,
    name: str,
    config: InstructBlipConfig,
    dtype: str,
    files: Dict[str, Optional[str]],
    source: Dict[str, Any],
    special_tokens: Dict[str, Any],
    prompt: Dict[str, Any],
    image_preprocessing: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The manifest dict; `files` holds the stage files written (other stage keys become null)."""
    vision = config.vision_config
    missing = [f for f in SPECIAL_TOKEN_FIELDS if f not in special_tokens]
    if missing:
        raise ValueError(f"special_tokens lacks {', '.join(missing)}")
    all_files = {key: files.get(key) for key in ("vision_encoder", "qformer", "embed_tokens", "decoder", "encoder",
                                                 "decoder_init")}
    all_files["llm_tokenizer"] = files.get("llm_tokenizer")
    all_files["qformer_tokenizer"] = files.get("qformer_tokenizer")
    preprocessing = dict(image_preprocessing or DEFAULT_IMAGE_PREPROCESSING)
    preprocessing = {"size": vision.image_size, **{k: v for k, v in preprocessing.items() if k != "size"}}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "source": source,
        "llm_family": config.llm_family,
        "dtype": dtype,
        "num_query_tokens": config.num_query_tokens,
        "files": all_files,
        "vision": {
            "image_size": vision.image_size,
            "patch_size": vision.patch_size,
            "hidden_size": vision.hidden_size,
            "num_positions": vision.num_positions,
        },
        "qformer": {
            "hidden_size": config.qformer_config.hidden_size,
            "max_text_tokens": config.qformer_config.max_position_embeddings,
        },
        "llm": llm_section(config),
        "image_preprocessing": preprocessing,
        "special_tokens": {k: special_tokens[k] for k in SPECIAL_TOKEN_FIELDS},
        "prompt": prompt,
        "ranking": {"append_eos": True},
        "generation_defaults": dict(GENERATION_DEFAULTS),
    }


def write_manifest(out_dir: str, manifest: Dict[str, Any]) -> str:
    path = os.path.join(out_dir, "manifest.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return path
