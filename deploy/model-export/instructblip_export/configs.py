"""Model configuration of InstructBLIP, parsed from a HF `config.json` without `transformers`.

The field names and defaults follow HF `InstructBlipConfig` (`InstructBlipVisionConfig`,
`InstructBlipQFormerConfig`) and the text configs `LlamaConfig` / `T5Config`. Only the fields the
reference model needs are kept; everything else in the JSON is ignored.
"""
import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Union

SUPPORTED_MODEL_TYPES = ("instructblip",)
SUPPORTED_TEXT_MODEL_TYPES = ("llama", "t5")


class ConfigError(ValueError):
    """A config.json that this tool cannot turn into a model; the message says what to change."""


@dataclass(frozen=True)
class VisionConfig:
    """The ViT image encoder (HF `InstructBlipVisionConfig`)."""

    hidden_size: int = 1408
    intermediate_size: int = 6144
    num_hidden_layers: int = 39
    num_attention_heads: int = 16
    image_size: int = 224
    patch_size: int = 14
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-6
    qkv_bias: bool = True

    @property
    def num_positions(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + 1


@dataclass(frozen=True)
class QFormerConfig:
    """The instruction-aware Q-Former, a BERT with cross-attention (HF `InstructBlipQFormerConfig`)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    cross_attention_frequency: int = 2
    encoder_hidden_size: int = 1408


@dataclass(frozen=True)
class LlamaConfig:
    """A decoder-only LLaMA / Vicuna language model (HF `LlamaConfig`)."""

    vocab_size: int = 32000
    hidden_size: int = 4096
    intermediate_size: int = 11008
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: Optional[int] = None
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    hidden_act: str = "silu"
    tie_word_embeddings: bool = False
    bos_token_id: Optional[int] = 1
    eos_token_id: Optional[int] = 2
    pad_token_id: Optional[int] = None
    model_type: str = "llama"

    @property
    def kv_heads(self) -> int:
        return self.num_key_value_heads or self.num_attention_heads

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


@dataclass(frozen=True)
class T5Config:
    """An encoder-decoder T5 / FlanT5 language model (HF `T5Config`)."""

    vocab_size: int = 32128
    d_model: int = 512
    d_kv: int = 64
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: Optional[int] = None
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    layer_norm_epsilon: float = 1e-6
    feed_forward_proj: str = "relu"
    tie_word_embeddings: bool = True
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: int = 0
    n_positions: int = 512
    model_type: str = "t5"

    @property
    def decoder_layers(self) -> int:
        return self.num_decoder_layers if self.num_decoder_layers is not None else self.num_layers

    @property
    def is_gated_act(self) -> bool:
        return self.feed_forward_proj.startswith("gated-")

    @property
    def dense_act_fn(self) -> str:
        """As HF: `gated-gelu` means the tanh-approximated `gelu_new`."""
        act = self.feed_forward_proj.split("-")[-1]
        return "gelu_new" if act == "gelu" else act

    @property
    def hidden_size(self) -> int:
        return self.d_model


@dataclass(frozen=True)
class InstructBlipConfig:
    """The whole model: vision encoder, Q-Former, query tokens and one LLM."""

    vision_config: VisionConfig = field(default_factory=VisionConfig)
    qformer_config: QFormerConfig = field(default_factory=QFormerConfig)
    text_config: Union[LlamaConfig, T5Config] = field(default_factory=LlamaConfig)
    num_query_tokens: int = 32

    @property
    def llm_family(self) -> str:
        """`decoder_only` for LLaMA, `encoder_decoder` for T5 (the manifest's `llm_family`)."""
        return "decoder_only" if isinstance(self.text_config, LlamaConfig) else "encoder_decoder"

    def to_hf_dict(self) -> Dict[str, Any]:
        """A HF-style config.json dict that `from_dict` reads back (used for test checkpoints)."""
        text = dataclasses.asdict(self.text_config)
        if isinstance(self.text_config, LlamaConfig):
            text["architectures"] = ["LlamaForCausalLM"]
        else:
            text["architectures"] = ["T5ForConditionalGeneration"]
        return {
            "model_type": "instructblip",
            "architectures": ["InstructBlipForConditionalGeneration"],
            "num_query_tokens": self.num_query_tokens,
            "vision_config": dataclasses.asdict(self.vision_config),
            "qformer_config": dataclasses.asdict(self.qformer_config),
            "text_config": text,
        }

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "InstructBlipConfig":
        model_type = data.get("model_type")
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ConfigError(
                f"config.json has model_type {model_type!r}; supported: {', '.join(SUPPORTED_MODEL_TYPES)} "
                "(an InstructBlipForConditionalGeneration checkpoint)"
            )
        text = dict(data.get("text_config") or {})
        text_type = text.get("model_type")
        if text_type not in SUPPORTED_TEXT_MODEL_TYPES:
            raise ConfigError(
                f"config.json text_config.model_type is {text_type!r}; supported: "
                f"{', '.join(SUPPORTED_TEXT_MODEL_TYPES)}"
            )
        text_cls = LlamaConfig if text_type == "llama" else T5Config
        vision = _build(VisionConfig, data.get("vision_config") or {})
        qformer = _build(QFormerConfig, data.get("qformer_config") or {})
        if qformer.position_embedding_type != "absolute":
            raise ConfigError(
                f"qformer_config.position_embedding_type {qformer.position_embedding_type!r} is not supported; "
                "supported: absolute"
            )
        text_cfg = _build(text_cls, text)
        if isinstance(text_cfg, LlamaConfig):
            if text_cfg.hidden_act != "silu":
                raise ConfigError(f"text_config.hidden_act {text_cfg.hidden_act!r} is not supported; supported: silu")
            if text_cfg.hidden_size % text_cfg.num_attention_heads:
                raise ConfigError("text_config.hidden_size must be a multiple of num_attention_heads")
            if text_cfg.num_attention_heads % text_cfg.kv_heads:
                raise ConfigError("text_config.num_attention_heads must be a multiple of num_key_value_heads")
            rope_scaling = text.get("rope_scaling")
            if rope_scaling:
                raise ConfigError(f"text_config.rope_scaling {rope_scaling!r} is not supported; remove it or use null")
        else:
            act = text_cfg.dense_act_fn
            if act not in ("gelu_new", "relu"):
                raise ConfigError(
                    f"text_config.feed_forward_proj {text_cfg.feed_forward_proj!r} is not supported; "
                    "supported: relu, gated-gelu"
                )
        if vision.hidden_act != "gelu" or qformer.hidden_act != "gelu":
            raise ConfigError("vision_config.hidden_act and qformer_config.hidden_act must be 'gelu'")
        if vision.image_size % vision.patch_size:
            raise ConfigError("vision_config.image_size must be a multiple of patch_size")
        return InstructBlipConfig(
            vision_config=vision,
            qformer_config=qformer,
            text_config=text_cfg,
            num_query_tokens=int(data.get("num_query_tokens", 32)),
        )

    @staticmethod
    def from_json_file(path: str) -> "InstructBlipConfig":
        if not os.path.isfile(path):
            raise ConfigError(f"{path} not found: a checkpoint folder needs the HF config.json")
        with open(path, "r", encoding="utf-8") as f:
            return InstructBlipConfig.from_dict(json.load(f))


def _build(cls, values: Dict[str, Any]):
    """Instantiates a config dataclass from the known keys of `values` (HF configs carry many more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in values.items() if k in names}
    if cls is LlamaConfig and isinstance(kwargs.get("eos_token_id"), list):
        kwargs["eos_token_id"] = kwargs["eos_token_id"][0]
    return cls(**kwargs)
