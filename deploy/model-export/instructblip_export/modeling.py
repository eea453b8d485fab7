"""PyTorch reference implementation of InstructBLIP (vision encoder, Q-Former, LLaMA or T5).

Parameter names mirror the state-dict keys of HF `InstructBlipForConditionalGeneration`, so a real checkpoint
loads strictly (see `checkpoint.load_state_dict_strict`). Written from the HF and LAVIS descriptions; notes:

- Vision encoder: as HF `InstructBlipVisionModel`; `image_embeds` is the last hidden state after
  `post_layernorm` (LAVIS: the EVA ViT-g features of the second-to-last block through `ln_vision`; HF's
  converted checkpoints keep 39 of the 40 blocks and map `ln_vision` to `post_layernorm`, so both agree).
- Q-Former: as HF `InstructBlipQFormerModel`. The embeddings layer norm is applied to
  `[query_tokens ; word + position embeddings of the text]`; positions count from 0 over the text only.
  Query positions use `intermediate_query`/`output_query`, text positions `intermediate`/`output`;
  cross-attention (to the image embeddings, all visible) only for the query positions, on layers
  `i % cross_attention_frequency == 0`. LAVIS truncates the instruction at 128 tokens, HF does not;
  we follow HF and the runtime refuses over-long instructions.
- LLaMA: rotary embeddings from explicit `position_ids` (rotate-half convention of HF), grouped KV heads,
  RMSNorm computed as HF (mean of squares, no mean subtraction).
- T5: RMS layer norm without bias, relative position buckets (bidirectional in the encoder, causal in the decoder),
  no 1/sqrt(d) scaling, decoder output scaled by d_model**-0.5 only when `tie_word_embeddings` (FlanT5: false).
- Float16: the graphs are traced in float32 and converted (see `onnx_export`). So that no precision-sensitive
  step depends on float16 rounding, RoPE angles are looked up in float32-computed tables, T5 buckets use integer
  thresholds, RMS norms and softmax run in float32 islands (`upcast`/`downcast`), as in HF's float16 models.
- Masks are applied by *replacing* masked scores with `MASK_VALUE` (HF adds the dtype minimum). For a row with
  at least one visible key the result is identical; a fully masked row (only padding positions) gets a uniform
  distribution either way. Replacing avoids `-inf`/overflow when the graph is converted to float16.
"""
import math
from typing import List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .configs import InstructBlipConfig, LlamaConfig, QFormerConfig, T5Config, VisionConfig

MASK_VALUE = -65504.0  # the float16 minimum: representable in both float32 and float16

KV = Tuple[torch.Tensor, torch.Tensor]


class PrecisionCasts:
    """Whether traced graphs carry explicit float32 islands (set by `onnx_export` while tracing for float16).

    Eager modules run in float32, where upcasts and downcasts are no-ops that tracing drops. For a float16 export the
    precision-sensitive steps (RMS norms, softmax) are marked with Cast nodes, as HF's float16 models compute them:
    the float16 conversion keeps what lies between `upcast` and `downcast` in float32.
    """

    enabled = False


MARKER_DOMAIN = "instructblip.export"


class _PrecisionCast(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, to_float32):  # eager: the model is float32, nothing to do
        return x.clone()

    @staticmethod
    def symbolic(g, x, to_float32):
        if not PrecisionCasts.enabled:
            return x
        # placeholder ops that keep the traced type; onnx_export turns them into Cast(FLOAT) / Cast(FLOAT16)
        marker = g.op(MARKER_DOMAIN + "::" + ("Upcast" if to_float32 else "Downcast"), x)
        marker.setType(x.type())
        return marker


def upcast(x: torch.Tensor) -> torch.Tensor:
    """Start of a float32 island (no-op in float32 graphs)."""
    return _PrecisionCast.apply(x, True) if PrecisionCasts.enabled else x


def downcast(x: torch.Tensor) -> torch.Tensor:
    """End of a float32 island (no-op in float32 graphs)."""
    return _PrecisionCast.apply(x, False) if PrecisionCasts.enabled else x


FLOAT16_CLAMP = 65504.0 - 1000.0  # HF T5: torch.finfo(torch.float16).max - 1000


def clamp_float16(x: torch.Tensor) -> torch.Tensor:
    """HF T5's float16 guard: hidden states are clamped to +-(float16 max - 1000) after every attention and
    feed-forward residual, so that one overflow does not turn the rest of the sequence into inf/NaN. Only in graphs
    traced for float16 (`PrecisionCasts.enabled`); float32 graphs and eager training are unchanged."""
    return torch.clamp(x, -FLOAT16_CLAMP, FLOAT16_CLAMP) if PrecisionCasts.enabled else x


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    """The tanh approximation of GELU (HF `gelu_new`, used by FlanT5's gated-gelu)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def split_heads(x: torch.Tensor, num_heads: int, head_dim: int) -> torch.Tensor:
    """[B, T, H*hd] -> [B, H, T, hd]."""
    return x.view(x.shape[0], x.shape[1], num_heads, head_dim).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[B, H, T, hd] -> [B, T, H*hd]."""
    return x.transpose(1, 2).flatten(2)


def masked_softmax(scores: torch.Tensor, visible: Optional[torch.Tensor]) -> torch.Tensor:
    """Softmax over the last axis in float32; positions where `visible` is false get no weight."""
    scores = upcast(scores)
    if visible is not None:
        scores = scores.masked_fill(~visible, MASK_VALUE)
    return downcast(torch.softmax(scores, dim=-1))


# ---------------------------------------------------------------------------------------------------------------
# Vision encoder (HF InstructBlipVisionModel)
# ---------------------------------------------------------------------------------------------------------------


class VisionEmbeddings(nn.Module):
    """Patch convolution, a learned class token and learned absolute position embeddings."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.zeros(1, 1, cfg.hidden_size))
        self.patch_embedding = nn.Conv2d(3, cfg.hidden_size, kernel_size=cfg.patch_size, stride=cfg.patch_size)
        self.position_embedding = nn.Parameter(torch.zeros(1, cfg.num_positions, cfg.hidden_size))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(pixel_values.shape[0], -1, -1).to(patches.dtype)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.to(patches.dtype)


class VisionAttention(nn.Module):
    """Fused qkv projection without bias; separate q and v biases, the k bias is zero (EVA/BLIP-2)."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size, bias=False)
        if cfg.qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(cfg.hidden_size))
            self.v_bias = nn.Parameter(torch.zeros(cfg.hidden_size))
        else:
            self.q_bias = None
            self.v_bias = None
        self.projection = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)
        q, k, v = qkv.chunk(3, dim=-1)
        q = split_heads(q, self.num_heads, self.head_dim)
        k = split_heads(k, self.num_heads, self.head_dim)
        v = split_heads(v, self.num_heads, self.head_dim)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (self.head_dim**-0.5)
        context = torch.matmul(masked_softmax(scores, None), v)
        return self.projection(merge_heads(context))


class VisionMlp(nn.Module):
    """fc1 -> exact (erf) GELU -> fc2."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class VisionLayer(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.self_attn = VisionAttention(cfg)
        self.layer_norm1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.mlp = VisionMlp(cfg)
        self.layer_norm2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class VisionEncoder(nn.Module):
    """The stack of vision blocks (`encoder.layers.{i}`)."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList([VisionLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class VisionModel(nn.Module):
    """pixel_values [B,3,S,S] -> image_embeds [B,N,Dv] (after `post_layernorm`)."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.embeddings = VisionEmbeddings(cfg)
        self.encoder = VisionEncoder(cfg)
        self.post_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.post_layernorm(self.encoder(self.embeddings(pixel_values)))


# ---------------------------------------------------------------------------------------------------------------
# Q-Former (HF InstructBlipQFormerModel)
# ---------------------------------------------------------------------------------------------------------------


class QFormerEmbeddings(nn.Module):
    """Word + absolute position embeddings of the text, then layer norm over [queries ; text]."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, query_embeds: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], dtype=torch.long, device=input_ids.device)
        text = self.word_embeddings(input_ids) + self.position_embeddings(positions).unsqueeze(0)
        return self.layernorm(torch.cat([query_embeds.to(text.dtype), text], dim=1))


class QFormerAttentionCore(nn.Module):
    """BERT multi-head attention (`attention.attention`); key/value read `kv_size`-wide states."""

    def __init__(self, cfg: QFormerConfig, kv_size: int):
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(kv_size, cfg.hidden_size)
        self.value = nn.Linear(kv_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor, kv_states: torch.Tensor, visible: Optional[torch.Tensor]) -> torch.Tensor:
        q = split_heads(self.query(x), self.num_heads, self.head_dim)
        k = split_heads(self.key(kv_states), self.num_heads, self.head_dim)
        v = split_heads(self.value(kv_states), self.num_heads, self.head_dim)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        return merge_heads(torch.matmul(masked_softmax(scores, visible), v))


class QFormerSelfOutput(nn.Module):
    """dense -> LayerNorm(residual + dense)."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(hidden) + residual)


class QFormerAttention(nn.Module):
    """`attention` / `crossattention`: attention core plus output projection and layer norm."""

    def __init__(self, cfg: QFormerConfig, kv_size: int):
        super().__init__()
        self.attention = QFormerAttentionCore(cfg, kv_size)
        self.output = QFormerSelfOutput(cfg)

    def forward(self, x: torch.Tensor, kv_states: torch.Tensor, visible: Optional[torch.Tensor]) -> torch.Tensor:
        return self.output(self.attention(x, kv_states, visible), x)


class QFormerIntermediate(nn.Module):
    """dense -> exact GELU."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class QFormerOutput(nn.Module):
    """dense -> LayerNorm(residual + dense)."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(hidden) + residual)


class QFormerLayer(nn.Module):
    """Self-attention over [queries ; text], cross-attention for the queries, separate FFNs."""

    def __init__(self, cfg: QFormerConfig, layer_idx: int):
        super().__init__()
        self.attention = QFormerAttention(cfg, cfg.hidden_size)
        self.has_cross_attention = layer_idx % cfg.cross_attention_frequency == 0
        if self.has_cross_attention:
            self.crossattention = QFormerAttention(cfg, cfg.encoder_hidden_size)
        self.intermediate = QFormerIntermediate(cfg)
        self.output = QFormerOutput(cfg)
        self.intermediate_query = QFormerIntermediate(cfg)
        self.output_query = QFormerOutput(cfg)

    def forward(
        self, x: torch.Tensor, visible: torch.Tensor, image_embeds: torch.Tensor, num_queries: int
    ) -> torch.Tensor:
        attended = self.attention(x, x, visible)
        queries = attended[:, :num_queries, :]
        text = attended[:, num_queries:, :]
        if self.has_cross_attention:
            queries = self.crossattention(queries, image_embeds, None)
        queries = self.output_query(self.intermediate_query(queries), queries)
        text = self.output(self.intermediate(text), text)
        return torch.cat([queries, text], dim=1)


class QFormerEncoder(nn.Module):
    """`encoder.layer.{i}`."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.layer = nn.ModuleList([QFormerLayer(cfg, i) for i in range(cfg.num_hidden_layers)])

    def forward(self, x, visible, image_embeds, num_queries):
        for layer in self.layer:
            x = layer(x, visible, image_embeds, num_queries)
        return x


class QFormerModel(nn.Module):
    """(query_tokens, instruction ids and mask, image_embeds) -> hidden states [B, Q+T, Dq]."""

    def __init__(self, cfg: QFormerConfig):
        super().__init__()
        self.embeddings = QFormerEmbeddings(cfg)
        self.encoder = QFormerEncoder(cfg)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        query_embeds: torch.Tensor,
        image_embeds: torch.Tensor,
    ) -> torch.Tensor:
        num_queries = query_embeds.shape[1]
        hidden = self.embeddings(input_ids, query_embeds)
        query_mask = torch.ones_like(attention_mask[:, :1]).expand(-1, num_queries)
        mask = torch.cat([query_mask, attention_mask], dim=1)
        visible = (mask != 0)[:, None, None, :]
        return self.encoder(hidden, visible, image_embeds.to(hidden.dtype), num_queries)


# ---------------------------------------------------------------------------------------------------------------
# LLaMA (HF LlamaForCausalLM)
# ---------------------------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    """weight * x / sqrt(mean(x^2) + eps): LLaMA RMSNorm and T5LayerNorm (no mean subtraction, no bias).

    Written as HF writes it (float32 inside, also in float16 graphs), so that ONNX Runtime fuses it into
    `SimplifiedLayerNormalization`.
    """

    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = upcast(x)
        normed = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * downcast(normed)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def causal_visible(attention_mask: torch.Tensor, past_length, new_length) -> torch.Tensor:
    """[B,1,T,P+T] bool: key j visible to new position t iff mask[b,j] == 1 and j <= P + t.

    Built from arange comparisons so that P = 0 (an empty past) needs no special case.
    """
    key_pos = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    query_pos = torch.arange(new_length, device=attention_mask.device) + past_length
    causal = key_pos[None, :] <= query_pos[:, None]
    return causal[None, None, :, :] & (attention_mask != 0)[:, None, None, :]


class LlamaAttention(nn.Module):
    """Multi-head attention with rotary positions and grouped key/value heads."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.num_heads = cfg.num_attention_heads
        self.kv_heads = cfg.kv_heads
        self.head_dim = cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, self.num_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, cfg.hidden_size, bias=False)

    def forward(self, x, cos, sin, visible, past: KV) -> Tuple[torch.Tensor, KV]:
        q = split_heads(self.q_proj(x), self.num_heads, self.head_dim)
        k = split_heads(self.k_proj(x), self.kv_heads, self.head_dim)
        v = split_heads(self.v_proj(x), self.kv_heads, self.head_dim)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past[0], k], dim=2)
        v = torch.cat([past[1], v], dim=2)
        groups = self.num_heads // self.kv_heads
        k_all = k.unsqueeze(2).expand(-1, -1, groups, -1, -1).flatten(1, 2) if groups > 1 else k
        v_all = v.unsqueeze(2).expand(-1, -1, groups, -1, -1).flatten(1, 2) if groups > 1 else v
        scores = torch.matmul(q, k_all.transpose(-1, -2)) / math.sqrt(self.head_dim)
        context = torch.matmul(masked_softmax(scores, visible), v_all)
        return self.o_proj(merge_heads(context)), (k, v)


class LlamaMlp(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    """Pre-norm decoder block."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.self_attn = LlamaAttention(cfg)
        self.mlp = LlamaMlp(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, visible, past: KV) -> Tuple[torch.Tensor, KV]:
        attended, present = self.self_attn(self.input_layernorm(x), cos, sin, visible, past)
        x = x + attended
        return x + self.mlp(self.post_attention_layernorm(x)), present


class LlamaModel(nn.Module):
    """`language_model.model`: embeddings, blocks, final norm."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([LlamaLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        hd = cfg.head_dim
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        freqs = torch.outer(torch.arange(cfg.max_position_embeddings, dtype=torch.int64).float(), inv_freq)
        emb = torch.cat([freqs, freqs], dim=-1)
        # not in the state dict (HF checkpoints at most carry rotary_emb.inv_freq, which is ignored)
        self.register_buffer("cos_table", emb.cos(), persistent=False)
        self.register_buffer("sin_table", emb.sin(), persistent=False)

    def rotary(self, position_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """cos/sin [B,1,T,hd] of explicit positions, looked up in tables computed in float32 (as HF does).

        A lookup keeps the angles exact when the graph runs in float16; positions must be < max_positions.
        """
        return self.cos_table[position_ids][:, None], self.sin_table[position_ids][:, None]

    def forward(self, inputs_embeds, attention_mask, position_ids, past: List[KV]):
        cos, sin = self.rotary(position_ids)
        visible = causal_visible(attention_mask, past[0][0].shape[2], inputs_embeds.shape[1])
        x = inputs_embeds
        presents = []
        for layer, layer_past in zip(self.layers, past):
            x, present = layer(x, cos, sin, visible, layer_past)
            presents.append(present)
        return self.norm(x), presents


class LlamaForCausalLM(nn.Module):
    """`language_model`: LlamaModel + lm_head."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.embed_tokens(input_ids)

    def empty_past(self, batch: int, dtype=torch.float32) -> List[KV]:
        shape = (batch, self.cfg.kv_heads, 0, self.cfg.head_dim)
        return [(torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype)) for _ in self.model.layers]

    def forward(self, inputs_embeds, attention_mask, position_ids, past: List[KV]):
        hidden, presents = self.model(inputs_embeds, attention_mask, position_ids, past)
        return self.lm_head(hidden), presents


# ---------------------------------------------------------------------------------------------------------------
# T5 (HF T5ForConditionalGeneration)
# ---------------------------------------------------------------------------------------------------------------


def relative_position_bucket_reference(relative_position: torch.Tensor, bidirectional: bool, num_buckets: int,
                                       max_distance: int) -> torch.Tensor:
    """HF T5 bucketing of key_index - query_index, in float32 as HF computes it (eager use only)."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    safe = torch.clamp(relative_position, min=1).float()  # log(0) is never selected; avoid -inf
    large = max_exact + (
        torch.log(safe / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(is_small, relative_position, large)


def bucket_thresholds(bidirectional: bool, num_buckets: int, max_distance: int) -> torch.Tensor:
    """Smallest distance of each logarithmic bucket, from the float32 formula of HF evaluated on integers.

    The float formula is monotone in the distance and reaches the last bucket by `max_distance`, so
    `bucket = max_exact + count(distance >= threshold)` reproduces it exactly with integer comparisons only
    (no float rounding in float16 graphs).
    """
    half = num_buckets // 2 if bidirectional else num_buckets
    max_exact = half // 2
    distances = torch.arange(0, 2 * max_distance + 2, dtype=torch.long)
    buckets = relative_position_bucket_reference(-distances, False, half, max_distance)
    return torch.tensor([int(distances[buckets >= b][0]) for b in range(max_exact + 1, half)], dtype=torch.long)


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool, num_buckets: int,
                             thresholds: torch.Tensor) -> torch.Tensor:
    """HF T5 bucketing of key_index - query_index with integer ops (see `bucket_thresholds`)."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).to(torch.long) * num_buckets
        distance = torch.abs(relative_position)
    else:
        distance = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    large = max_exact + (distance[..., None] >= thresholds).to(torch.long).sum(-1)
    return buckets + torch.where(distance < max_exact, distance, large)


class T5Attention(nn.Module):
    """T5 attention (`SelfAttention` / `EncDecAttention`): no bias, no scaling, optional relative bias table."""

    def __init__(self, cfg: T5Config, has_relative_attention_bias: bool, bidirectional: bool):
        super().__init__()
        self.cfg = cfg
        self.bidirectional = bidirectional
        inner = cfg.num_heads * cfg.d_kv
        self.q = nn.Linear(cfg.d_model, inner, bias=False)
        self.k = nn.Linear(cfg.d_model, inner, bias=False)
        self.v = nn.Linear(cfg.d_model, inner, bias=False)
        self.o = nn.Linear(inner, cfg.d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(cfg.relative_attention_num_buckets, cfg.num_heads)
            thresholds = bucket_thresholds(
                bidirectional, cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance
            )
            self.register_buffer("bucket_thresholds", thresholds, persistent=False)

    def compute_bias(self, query_positions: torch.Tensor, key_positions: torch.Tensor) -> torch.Tensor:
        """[1,H,Tq,Tk] from the index differences key - query."""
        relative = key_positions[None, :] - query_positions[:, None]
        buckets = relative_position_bucket(
            relative, self.bidirectional, self.cfg.relative_attention_num_buckets, self.bucket_thresholds
        )
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

    def project_kv(self, states: torch.Tensor) -> KV:
        return (
            split_heads(self.k(states), self.cfg.num_heads, self.cfg.d_kv),
            split_heads(self.v(states), self.cfg.num_heads, self.cfg.d_kv),
        )

    def attend(self, x, kv: KV, bias: Optional[torch.Tensor], visible: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q(x), self.cfg.num_heads, self.cfg.d_kv)
        scores = torch.matmul(q, kv[0].transpose(-1, -2))
        if bias is not None:
            scores = scores + bias.to(scores.dtype)
        return self.o(merge_heads(torch.matmul(masked_softmax(scores, visible), kv[1])))


class T5DenseActDense(nn.Module):
    """`DenseReluDense` of non-gated T5: wo(relu(wi(x)))."""

    def __init__(self, cfg: T5Config):
        super().__init__()
        self.wi = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.wo(F.relu(self.wi(x)))


class T5DenseGatedActDense(nn.Module):
    """`DenseReluDense` of FlanT5: wo(gelu_new(wi_0(x)) * wi_1(x))."""

    def __init__(self, cfg: T5Config):
        super().__init__()
        self.wi_0 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wi_1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.wo(gelu_new(self.wi_0(x)) * self.wi_1(x))


class T5LayerFF(nn.Module):
    def __init__(self, cfg: T5Config):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(cfg) if cfg.is_gated_act else T5DenseActDense(cfg)
        self.layer_norm = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)

    def forward(self, x):
        return clamp_float16(x + self.DenseReluDense(self.layer_norm(x)))


class T5LayerSelfAttention(nn.Module):
    def __init__(self, cfg: T5Config, has_bias: bool, bidirectional: bool):
        super().__init__()
        self.SelfAttention = T5Attention(cfg, has_bias, bidirectional)
        self.layer_norm = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)


class T5LayerCrossAttention(nn.Module):
    def __init__(self, cfg: T5Config):
        super().__init__()
        self.EncDecAttention = T5Attention(cfg, False, True)
        self.layer_norm = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)


class T5Block(nn.Module):
    """`block.{i}`: layer.0 self-attention, (decoder) layer.1 cross-attention, last layer feed-forward."""

    def __init__(self, cfg: T5Config, is_decoder: bool, has_bias: bool):
        super().__init__()
        layers = [T5LayerSelfAttention(cfg, has_bias, bidirectional=not is_decoder)]
        if is_decoder:
            layers.append(T5LayerCrossAttention(cfg))
        layers.append(T5LayerFF(cfg))
        self.layer = nn.ModuleList(layers)


class T5Stack(nn.Module):
    """`encoder` or `decoder`: blocks and `final_layer_norm` (the embedding is the shared one)."""

    def __init__(self, cfg: T5Config, is_decoder: bool):
        super().__init__()
        count = cfg.decoder_layers if is_decoder else cfg.num_layers
        self.block = nn.ModuleList([T5Block(cfg, is_decoder, i == 0) for i in range(count)])
        self.final_layer_norm = RMSNorm(cfg.d_model, cfg.layer_norm_epsilon)

    def self_attention_bias(self, query_positions, key_positions):
        return self.block[0].layer[0].SelfAttention.compute_bias(query_positions, key_positions)

    def encode(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(inputs_embeds.shape[1], device=inputs_embeds.device)
        bias = self.self_attention_bias(positions, positions)
        visible = (attention_mask != 0)[:, None, None, :]
        x = inputs_embeds
        for block in self.block:
            sa = block.layer[0]
            h = sa.layer_norm(x)
            x = clamp_float16(x + sa.SelfAttention.attend(h, sa.SelfAttention.project_kv(h), bias, visible))
            x = block.layer[1](x)
        return self.final_layer_norm(x)

    def decode(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        past: Optional[List[KV]],
        cross: List[KV],
    ) -> Tuple[torch.Tensor, List[KV]]:
        new_length = inputs_embeds.shape[1]
        past_length = past[0][0].shape[2] if past is not None else 0
        key_positions = torch.arange(attention_mask.shape[1], device=inputs_embeds.device)
        query_positions = torch.arange(new_length, device=inputs_embeds.device) + past_length
        bias = self.self_attention_bias(query_positions, key_positions)
        visible = causal_visible(attention_mask, past_length, new_length)
        cross_visible = (encoder_attention_mask != 0)[:, None, None, :]
        x = inputs_embeds
        presents = []
        for i, block in enumerate(self.block):
            sa = block.layer[0]
            h = sa.layer_norm(x)
            k, v = sa.SelfAttention.project_kv(h)
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            presents.append((k, v))
            x = clamp_float16(x + sa.SelfAttention.attend(h, (k, v), bias, visible))
            ca = block.layer[1]
            x = clamp_float16(x + ca.EncDecAttention.attend(ca.layer_norm(x), cross[i], None, cross_visible))
            x = block.layer[2](x)
        return self.final_layer_norm(x), presents

    def cross_kv(self, encoder_hidden_states: torch.Tensor) -> List[KV]:
        return [block.layer[1].EncDecAttention.project_kv(encoder_hidden_states) for block in self.block]


class T5ForConditionalGeneration(nn.Module):
    """`language_model`: shared embedding, encoder, decoder, lm_head."""

    def __init__(self, cfg: T5Config):
        super().__init__()
        self.cfg = cfg
        self.shared = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.encoder = T5Stack(cfg, is_decoder=False)
        self.decoder = T5Stack(cfg, is_decoder=True)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.shared(input_ids)

    def logits(self, decoder_hidden: torch.Tensor) -> torch.Tensor:
        if self.cfg.tie_word_embeddings:
            decoder_hidden = decoder_hidden * (self.cfg.d_model**-0.5)
        return self.lm_head(decoder_hidden)


# ---------------------------------------------------------------------------------------------------------------
# The whole model (HF InstructBlipForConditionalGeneration)
# ---------------------------------------------------------------------------------------------------------------


class InstructBlipModel(nn.Module):
    """Parameters named exactly as the HF `InstructBlipForConditionalGeneration` state dict."""

    def __init__(self, config: InstructBlipConfig):
        super().__init__()
        self.config = config
        qcfg = config.qformer_config
        self.vision_model = VisionModel(config.vision_config)
        self.query_tokens = nn.Parameter(torch.zeros(1, config.num_query_tokens, qcfg.hidden_size))
        self.qformer = QFormerModel(qcfg)
        self.language_projection = nn.Linear(qcfg.hidden_size, config.text_config.hidden_size)
        if isinstance(config.text_config, LlamaConfig):
            self.language_model = LlamaForCausalLM(config.text_config)
        else:
            self.language_model = T5ForConditionalGeneration(config.text_config)

    @property
    def llm_family(self) -> str:
        return self.config.llm_family

    def query_output(self, image_embeds, qformer_input_ids, qformer_attention_mask) -> torch.Tensor:
        """The first Q Q-Former outputs through `language_projection`: [B, Q, Dl]."""
        batch = image_embeds.shape[0]
        queries = self.query_tokens.expand(batch, -1, -1)
        hidden = self.qformer(qformer_input_ids, qformer_attention_mask, queries, image_embeds)
        return self.language_projection(hidden[:, : self.config.num_query_tokens, :])
