"""Stage modules: one torch.nn.Module per ONNX file of docs/model-format.md.

Each forward takes exactly the ONNX inputs (same order and names) and returns the ONNX outputs in the order of
`output_names()`. Past/present/cross key-values are flat tuples in layer order: key0, value0, key1, value1, ...
These modules are what `onnx_export` exports and what the PyTorch reference runs.
"""
from typing import Dict, List, Tuple

import torch
from torch import nn

from .modeling import InstructBlipModel, KV


def _pairs(flat) -> List[KV]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def _flatten(pairs: List[KV]) -> Tuple[torch.Tensor, ...]:
    return tuple(t for pair in pairs for t in pair)


def kv_names(prefix: str, layers: int) -> List[str]:
    """`prefix.0.key, prefix.0.value, prefix.1.key, ...`."""
    return [f"{prefix}.{i}.{part}" for i in range(layers) for part in ("key", "value")]


class VisionEncoderStage(nn.Module):
    """pixel_values [B,3,S,S] -> image_embeds [B,N,Dv]."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.vision_model = model.vision_model

    @staticmethod
    def input_names() -> List[str]:
        return ["pixel_values"]

    @staticmethod
    def output_names() -> List[str]:
        return ["image_embeds"]

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.vision_model(pixel_values)


class QFormerStage(nn.Module):
    """image_embeds, qformer_input_ids, qformer_attention_mask -> query_output [B,Q,Dl]."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.model = model

    @staticmethod
    def input_names() -> List[str]:
        return ["image_embeds", "qformer_input_ids", "qformer_attention_mask"]

    @staticmethod
    def output_names() -> List[str]:
        return ["query_output"]

    def forward(self, image_embeds, qformer_input_ids, qformer_attention_mask) -> torch.Tensor:
        return self.model.query_output(image_embeds, qformer_input_ids, qformer_attention_mask)


class EmbedTokensStage(nn.Module):
    """input_ids [B,T] -> inputs_embeds [B,T,Dl] (LLaMA `embed_tokens`, T5 `shared`)."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.language_model = model.language_model

    @staticmethod
    def input_names() -> List[str]:
        return ["input_ids"]

    @staticmethod
    def output_names() -> List[str]:
        return ["inputs_embeds"]

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.language_model.embed(input_ids)


class LlamaDecoderStage(nn.Module):
    """inputs_embeds, attention_mask [B,P+T], position_ids [B,T], past... -> logits, present..."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.language_model = model.language_model
        self.num_layers = len(model.language_model.model.layers)

    def input_names(self) -> List[str]:
        return ["inputs_embeds", "attention_mask", "position_ids"] + kv_names("past_key_values", self.num_layers)

    def output_names(self) -> List[str]:
        return ["logits"] + kv_names("present", self.num_layers)

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_key_values):
        logits, presents = self.language_model(inputs_embeds, attention_mask, position_ids, _pairs(past_key_values))
        return (logits,) + _flatten(presents)


class T5EncoderStage(nn.Module):
    """inputs_embeds [B,E,Dl], attention_mask [B,E] -> encoder_hidden_states [B,E,Dl]."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.language_model = model.language_model

    @staticmethod
    def input_names() -> List[str]:
        return ["inputs_embeds", "attention_mask"]

    @staticmethod
    def output_names() -> List[str]:
        return ["encoder_hidden_states"]

    def forward(self, inputs_embeds, attention_mask) -> torch.Tensor:
        return self.language_model.encoder.encode(inputs_embeds, attention_mask)


class T5DecoderInitStage(nn.Module):
    """First decoder pass: also returns the cross-attention KV computed from the encoder states."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.language_model = model.language_model
        self.num_layers = len(model.language_model.decoder.block)

    @staticmethod
    def input_names() -> List[str]:
        return ["decoder_input_ids", "decoder_attention_mask", "encoder_hidden_states", "encoder_attention_mask"]

    def output_names(self) -> List[str]:
        return ["logits"] + kv_names("present", self.num_layers) + kv_names("cross", self.num_layers)

    def forward(self, decoder_input_ids, decoder_attention_mask, encoder_hidden_states, encoder_attention_mask):
        lm = self.language_model
        cross = lm.decoder.cross_kv(encoder_hidden_states)
        hidden, presents = lm.decoder.decode(
            lm.embed(decoder_input_ids), decoder_attention_mask, encoder_attention_mask, None, cross
        )
        return (lm.logits(hidden),) + _flatten(presents) + _flatten(cross)


class T5DecoderStage(nn.Module):
    """Decoder step: self-attention past and the cross KV of `T5DecoderInitStage`."""

    def __init__(self, model: InstructBlipModel):
        super().__init__()
        self.language_model = model.language_model
        self.num_layers = len(model.language_model.decoder.block)

    def input_names(self) -> List[str]:
        return (
            ["decoder_input_ids", "decoder_attention_mask", "encoder_attention_mask"]
            + kv_names("past_key_values", self.num_layers)
            + kv_names("cross", self.num_layers)
        )

    def output_names(self) -> List[str]:
        return ["logits"] + kv_names("present", self.num_layers)

    def forward(self, decoder_input_ids, decoder_attention_mask, encoder_attention_mask, *kv):
        lm = self.language_model
        n = 2 * self.num_layers
        past, cross = _pairs(kv[:n]), _pairs(kv[n:])
        hidden, presents = lm.decoder.decode(
            lm.embed(decoder_input_ids), decoder_attention_mask, encoder_attention_mask, past, cross
        )
        return (lm.logits(hidden),) + _flatten(presents)


def load_stages(model: InstructBlipModel) -> Dict[str, nn.Module]:
    """The stage modules keyed by the manifest `files` keys of the model's LLM family."""
    stages: Dict[str, nn.Module] = {
        "vision_encoder": VisionEncoderStage(model),
        "qformer": QFormerStage(model),
        "embed_tokens": EmbedTokensStage(model),
    }
    if model.llm_family == "decoder_only":
        stages["decoder"] = LlamaDecoderStage(model)
    else:
        stages["encoder"] = T5EncoderStage(model)
        stages["decoder_init"] = T5DecoderInitStage(model)
        stages["decoder"] = T5DecoderStage(model)
    for stage in stages.values():
        stage.eval()
    return stages
