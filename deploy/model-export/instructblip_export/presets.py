"""Built-in presets: small random InstructBLIP models for tests, fixtures and benchmarks.

`tiny-*` models are a few KB per ONNX file (the committed fixtures); `small-*` have real vocabulary sizes and
the shapes of a (much) smaller InstructBLIP, for load and throughput tests. Weights are random but
deterministic: a `torch.Generator` seeded with the preset seed fills every parameter in module registration
order, so the same command writes byte-identical ONNX files. Standard deviations are large enough that greedy
logits are far from ties (PyTorch and ONNX Runtime then pick the same tokens).
"""
from dataclasses import dataclass
from typing import Any, Dict

import torch
from torch import nn

from .configs import InstructBlipConfig, LlamaConfig, QFormerConfig, T5Config, VisionConfig
from .modeling import InstructBlipModel, RMSNorm

DEFAULT_SEED = 0


@dataclass(frozen=True)
class Preset:
    """A named model configuration with the token ids its generated tokenizers use."""

    name: str
    config: InstructBlipConfig
    special_tokens: Dict[str, Any]
    prompt: Dict[str, Any]


def _vision(tiny: bool) -> VisionConfig:
    if tiny:
        return VisionConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=32,
            patch_size=8,
        )
    return VisionConfig(
        hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=8, image_size=224,
        patch_size=14,
    )


def _qformer(tiny: bool) -> QFormerConfig:
    if tiny:
        return QFormerConfig(
            vocab_size=128,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=64,
            cross_attention_frequency=1,
            encoder_hidden_size=32,
        )
    return QFormerConfig(
        vocab_size=30522,
        hidden_size=256,
        num_hidden_layers=4,
        num_attention_heads=8,
        intermediate_size=1024,
        max_position_embeddings=512,
        cross_attention_frequency=2,
        encoder_hidden_size=256,
    )


def _llama(tiny: bool) -> LlamaConfig:
    if tiny:
        return LlamaConfig(
            vocab_size=256,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=256,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=3,
        )
    return LlamaConfig(
        vocab_size=32000,
        hidden_size=512,
        intermediate_size=1376,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=8,
        max_position_embeddings=2048,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
    )


def _t5(tiny: bool) -> T5Config:
    if tiny:
        return T5Config(
            vocab_size=256,
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            relative_attention_num_buckets=32,
            relative_attention_max_distance=128,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
            n_positions=256,
        )
    return T5Config(
        vocab_size=32000,
        d_model=512,
        d_kv=64,
        d_ff=1024,
        num_layers=4,
        num_decoder_layers=4,
        num_heads=8,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        n_positions=512,
    )


_QFORMER_IDS = {"qformer_cls": 2, "qformer_sep": 3, "qformer_pad": 0}


def _make(name: str) -> Preset:
    tiny = name.startswith("tiny-")
    vicuna = name.endswith("-vicuna")
    cfg = InstructBlipConfig(
        vision_config=_vision(tiny),
        qformer_config=_qformer(tiny),
        text_config=_llama(tiny) if vicuna else _t5(tiny),
        num_query_tokens=4 if tiny else 32,
    )
    qformer_max = min(cfg.qformer_config.max_position_embeddings, 512)
    llm_max = 128 if tiny else 256
    if vicuna:
        special = dict(_QFORMER_IDS, llm_bos=1, llm_eos=2, llm_pad=3, decoder_start=None)
        llm_prompt = {"prefix_ids": [2], "suffix_ids": [], "max_tokens": llm_max, "padding_side": "left"}
    else:
        special = dict(_QFORMER_IDS, llm_bos=None, llm_eos=1, llm_pad=0, decoder_start=0)
        llm_prompt = {"prefix_ids": [], "suffix_ids": [1], "max_tokens": llm_max, "padding_side": "right"}
    prompt = {
        "qformer": {"prefix_ids": [2], "suffix_ids": [3], "max_tokens": qformer_max, "padding_side": "right"},
        "llm": llm_prompt,
    }
    return Preset(name=name, config=cfg, special_tokens=special, prompt=prompt)


PRESET_NAMES = ("tiny-vicuna", "tiny-flant5", "small-vicuna", "small-flant5")


def get_preset(name: str) -> Preset:
    if name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESET_NAMES)}")
    return _make(name)


def _std_for(module: nn.Module, param_name: str, param: torch.Tensor, full_name: str):
    """(mean, std) of the initial values of one parameter."""
    if isinstance(module, (nn.LayerNorm, RMSNorm)):
        return (1.0, 0.1) if param_name == "weight" else (0.0, 0.1)
    if param_name in ("bias", "q_bias", "v_bias"):
        return 0.0, 0.1
    if isinstance(module, nn.Embedding) or param_name in ("class_embedding", "position_embedding", "query_tokens"):
        return 0.0, 0.5
    if full_name.endswith("lm_head.weight"):
        return 0.0, 0.4
    fan_in = param[0].numel() if param.dim() > 1 else param.numel()
    return 0.0, fan_in**-0.5


@torch.no_grad()
def init_weights(model: nn.Module, seed: int = DEFAULT_SEED) -> None:
    """Fills every parameter from one seeded generator, in module registration order."""
    generator = torch.Generator().manual_seed(seed)
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            full = f"{module_name}.{param_name}" if module_name else param_name
            mean, std = _std_for(module, param_name, param, full)
            values = torch.randn(param.shape, generator=generator, dtype=torch.float32) * std + mean
            param.copy_(values)


def build_preset_model(name: str, seed: int = DEFAULT_SEED) -> InstructBlipModel:
    """The preset's model with deterministic random weights, in eval mode."""
    model = InstructBlipModel(get_preset(name).config)
    init_weights(model, seed)
    return model.eval()
