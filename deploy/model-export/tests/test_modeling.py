"""The reference modules against straightforward re-statements of the HF formulas, and the KV-cache/padding
properties the runtime relies on (prefill + steps == one pass; padding does not change real positions)."""
import dataclasses
import math
import os
import sys
import unittest

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export.modeling import (  # noqa: E402
    RMSNorm,
    bucket_thresholds,
    relative_position_bucket,
    relative_position_bucket_reference,
)
from instructblip_export.modeling import InstructBlipModel  # noqa: E402
from instructblip_export.presets import build_preset_model, get_preset, init_weights  # noqa: E402
from instructblip_export.stages import load_stages  # noqa: E402

ATOL = 2e-5


def hf_rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def naive_llama_logits(sd, cfg, embeds):
    """HF LlamaForCausalLM forward for one unpadded batch (positions 0..T-1), additive causal mask."""
    p = "language_model.model."
    b, t, _ = embeds.shape
    h, kvh, hd = cfg.num_attention_heads, cfg.kv_heads, cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.arange(t).float()[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos(), emb.sin()

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)
    x = embeds
    for i in range(cfg.num_hidden_layers):
        lp = f"{p}layers.{i}."
        a = hf_rms(x, sd[lp + "input_layernorm.weight"], cfg.rms_norm_eps)
        q = (a @ sd[lp + "self_attn.q_proj.weight"].T).view(b, t, h, hd).transpose(1, 2)
        k = (a @ sd[lp + "self_attn.k_proj.weight"].T).view(b, t, kvh, hd).transpose(1, 2)
        v = (a @ sd[lp + "self_attn.v_proj.weight"].T).view(b, t, kvh, hd).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(h // kvh, dim=1)
        v = v.repeat_interleave(h // kvh, dim=1)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1)
        x = x + (w @ v).transpose(1, 2).reshape(b, t, h * hd) @ sd[lp + "self_attn.o_proj.weight"].T
        a = hf_rms(x, sd[lp + "post_attention_layernorm.weight"], cfg.rms_norm_eps)
        gate = F.silu(a @ sd[lp + "mlp.gate_proj.weight"].T) * (a @ sd[lp + "mlp.up_proj.weight"].T)
        x = x + gate @ sd[lp + "mlp.down_proj.weight"].T
    x = hf_rms(x, sd[p + "norm.weight"], cfg.rms_norm_eps)
    return x @ sd["language_model.lm_head.weight"].T


def naive_t5(sd, cfg, enc_embeds, dec_ids):
    """HF T5ForConditionalGeneration forward (no padding): encoder then teacher-forced decoder logits."""
    nh, dk = cfg.num_heads, cfg.d_kv

    def bias(prefix, tq, tk, bidirectional):
        rel = torch.arange(tk)[None, :] - torch.arange(tq)[:, None]
        buckets = relative_position_bucket_reference(rel, bidirectional, cfg.relative_attention_num_buckets,
                                                     cfg.relative_attention_max_distance)
        return sd[prefix + "relative_attention_bias.weight"][buckets].permute(2, 0, 1)[None]

    def attn(prefix, x, kv, pos_bias):
        b, tq, tk = x.shape[0], x.shape[1], kv.shape[1]
        q = (x @ sd[prefix + "q.weight"].T).view(b, tq, nh, dk).transpose(1, 2)
        k = (kv @ sd[prefix + "k.weight"].T).view(b, tk, nh, dk).transpose(1, 2)
        v = (kv @ sd[prefix + "v.weight"].T).view(b, tk, nh, dk).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) + pos_bias, -1)
        return (w @ v).transpose(1, 2).reshape(b, tq, nh * dk) @ sd[prefix + "o.weight"].T

    def ff(prefix, x):
        n = hf_rms(x, sd[prefix + "layer_norm.weight"], cfg.layer_norm_epsilon)
        g = n @ sd[prefix + "DenseReluDense.wi_0.weight"].T
        g = 0.5 * g * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (g + 0.044715 * g.pow(3))))
        return x + (g * (n @ sd[prefix + "DenseReluDense.wi_1.weight"].T)) @ sd[prefix + "DenseReluDense.wo.weight"].T

    p = "language_model."
    e = enc_embeds.shape[1]
    eb = bias(p + "encoder.block.0.layer.0.SelfAttention.", e, e, True)
    x = enc_embeds
    for i in range(cfg.num_layers):
        bp = f"{p}encoder.block.{i}.layer."
        x = x + attn(bp + "0.SelfAttention.", hf_rms(x, sd[bp + "0.layer_norm.weight"], cfg.layer_norm_epsilon),
                     hf_rms(x, sd[bp + "0.layer_norm.weight"], cfg.layer_norm_epsilon), eb)
        x = ff(bp + "1.", x)
    enc = hf_rms(x, sd[p + "encoder.final_layer_norm.weight"], cfg.layer_norm_epsilon)
    t = dec_ids.shape[1]
    causal = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)
    db = bias(p + "decoder.block.0.layer.0.SelfAttention.", t, t, False) + causal
    y = sd[p + "shared.weight"][dec_ids]
    for i in range(cfg.decoder_layers):
        bp = f"{p}decoder.block.{i}.layer."
        n = hf_rms(y, sd[bp + "0.layer_norm.weight"], cfg.layer_norm_epsilon)
        y = y + attn(bp + "0.SelfAttention.", n, n, db)
        n = hf_rms(y, sd[bp + "1.layer_norm.weight"], cfg.layer_norm_epsilon)
        y = y + attn(bp + "1.EncDecAttention.", n, enc, torch.zeros(1))
        y = ff(bp + "2.", y)
    y = hf_rms(y, sd[p + "decoder.final_layer_norm.weight"], cfg.layer_norm_epsilon)
    return enc, y @ sd[p + "lm_head.weight"].T


def naive_vision(sd, cfg, pixels):
    """HF InstructBlipVisionModel.last_hidden_state."""
    p = "vision_model."
    d, h = cfg.hidden_size, cfg.num_attention_heads
    hd = d // h
    patches = F.conv2d(pixels, sd[p + "embeddings.patch_embedding.weight"], sd[p + "embeddings.patch_embedding.bias"],
                       stride=cfg.patch_size).flatten(2).transpose(1, 2)
    b = pixels.shape[0]
    x = torch.cat([sd[p + "embeddings.class_embedding"].expand(b, 1, d), patches], 1)
    x = x + sd[p + "embeddings.position_embedding"]
    n = x.shape[1]
    for i in range(cfg.num_hidden_layers):
        lp = f"{p}encoder.layers.{i}."
        a = F.layer_norm(x, (d,), sd[lp + "layer_norm1.weight"], sd[lp + "layer_norm1.bias"], cfg.layer_norm_eps)
        bias = torch.cat([sd[lp + "self_attn.q_bias"], torch.zeros(d), sd[lp + "self_attn.v_bias"]])
        qkv = F.linear(a, sd[lp + "self_attn.qkv.weight"], bias).reshape(b, n, 3, h, hd).permute(2, 0, 3, 1, 4)
        w = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) * hd ** -0.5, -1)
        ctx = (w @ qkv[2]).permute(0, 2, 1, 3).reshape(b, n, d)
        x = x + F.linear(ctx, sd[lp + "self_attn.projection.weight"], sd[lp + "self_attn.projection.bias"])
        a = F.layer_norm(x, (d,), sd[lp + "layer_norm2.weight"], sd[lp + "layer_norm2.bias"], cfg.layer_norm_eps)
        a = F.gelu(F.linear(a, sd[lp + "mlp.fc1.weight"], sd[lp + "mlp.fc1.bias"]))
        x = x + F.linear(a, sd[lp + "mlp.fc2.weight"], sd[lp + "mlp.fc2.bias"])
    return F.layer_norm(x, (d,), sd[p + "post_layernorm.weight"], sd[p + "post_layernorm.bias"], cfg.layer_norm_eps)


def naive_qformer(sd, cfg, num_queries, image_embeds, ids, mask):
    """HF InstructBlipForConditionalGeneration: Q-Former outputs of the queries through language_projection."""
    p = "qformer."
    d, h = cfg.hidden_size, cfg.num_attention_heads
    hd = d // h
    eps = cfg.layer_norm_eps

    def lin(x, name):
        return F.linear(x, sd[name + ".weight"], sd[name + ".bias"])

    def ln(x, name):
        return F.layer_norm(x, (d,), sd[name + ".weight"], sd[name + ".bias"], eps)

    def attention(prefix, x, kv, additive):
        b, tq, tk = x.shape[0], x.shape[1], kv.shape[1]
        q = lin(x, prefix + "attention.query").view(b, tq, h, hd).transpose(1, 2)
        k = lin(kv, prefix + "attention.key").view(b, tk, h, hd).transpose(1, 2)
        v = lin(kv, prefix + "attention.value").view(b, tk, h, hd).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + additive, -1)
        ctx = (w @ v).transpose(1, 2).reshape(b, tq, d)
        return ln(lin(ctx, prefix + "output.dense") + x, prefix + "output.LayerNorm")

    b, t = ids.shape
    text = sd[p + "embeddings.word_embeddings.weight"][ids] + sd[p + "embeddings.position_embeddings.weight"][:t]
    x = ln(torch.cat([sd["query_tokens"].expand(b, -1, -1), text], 1), p + "embeddings.layernorm")
    full = torch.cat([torch.ones(b, num_queries), mask.float()], 1)
    additive = ((1.0 - full) * torch.finfo(torch.float32).min)[:, None, None, :]
    for i in range(cfg.num_hidden_layers):
        lp = f"{p}encoder.layer.{i}."
        x = attention(lp + "attention.", x, x, additive)
        queries, txt = x[:, :num_queries], x[:, num_queries:]
        if i % cfg.cross_attention_frequency == 0:
            queries = attention(lp + "crossattention.", queries, image_embeds, 0.0)
        inter = F.gelu(lin(queries, lp + "intermediate_query.dense"))
        queries = ln(lin(inter, lp + "output_query.dense") + queries, lp + "output_query.LayerNorm")
        inter = F.gelu(lin(txt, lp + "intermediate.dense"))
        txt = ln(lin(inter, lp + "output.dense") + txt, lp + "output.LayerNorm")
        x = torch.cat([queries, txt], 1)
    return lin(x[:, :num_queries], "language_projection")


class FormulaTest(unittest.TestCase):
    def test_rms_norm_matches_the_hf_formula(self):
        gen = torch.Generator().manual_seed(3)
        x = torch.randn(3, 5, 16, generator=gen) * torch.tensor([0.01, 1.0, 300.0])[:, None, None]
        w = torch.randn(16, generator=gen)
        norm = RMSNorm(16, 1e-6)
        norm.weight.data.copy_(w)
        torch.testing.assert_close(norm(x), hf_rms(x, w, 1e-6), rtol=1e-5, atol=1e-5)

    def test_integer_buckets_match_the_float_formula(self):
        rel = torch.arange(-3000, 3001)
        for bidirectional in (True, False):
            for buckets, distance in ((32, 128), (32, 64), (8, 20)):
                thresholds = bucket_thresholds(bidirectional, buckets, distance)
                self.assertTrue(torch.equal(
                    relative_position_bucket(rel, bidirectional, buckets, thresholds),
                    relative_position_bucket_reference(rel, bidirectional, buckets, distance)))


class LlamaStagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.model = build_preset_model("tiny-vicuna")
        cls.stages = load_stages(cls.model)
        cls.lm = cls.model.language_model

    def prefill(self, embeds, mask, positions):
        past = [t for kv in self.lm.empty_past(embeds.shape[0]) for t in kv]
        with torch.no_grad():
            return self.stages["decoder"](embeds, mask, positions, *past)

    def test_prefill_matches_naive_hf_forward(self):
        embeds = torch.randn(2, 9, 32)
        out = self.prefill(embeds, torch.ones(2, 9, dtype=torch.long), torch.arange(9).expand(2, 9))
        expected = naive_llama_logits(self.model.state_dict(), self.lm.cfg, embeds)
        torch.testing.assert_close(out[0], expected, rtol=1e-4, atol=1e-4)

    def test_prefill_then_steps_equals_one_pass(self):
        embeds = torch.randn(1, 8, 32)
        full = self.prefill(embeds, torch.ones(1, 8, dtype=torch.long), torch.arange(8)[None])
        out = self.prefill(embeds[:, :5], torch.ones(1, 5, dtype=torch.long), torch.arange(5)[None])
        presents = out[1:]
        for t in range(5, 8):
            with torch.no_grad():
                out = self.stages["decoder"](embeds[:, t:t + 1], torch.ones(1, t + 1, dtype=torch.long),
                                             torch.tensor([[t]]), *presents)
            presents = out[1:]
            torch.testing.assert_close(out[0][:, 0], full[0][:, t], rtol=0, atol=ATOL)
        self.assertEqual(tuple(presents[0].shape), (1, 2, 8, 8))
        torch.testing.assert_close(presents[3], full[4], rtol=0, atol=ATOL)

    def test_left_padding_does_not_change_real_positions(self):
        long_seq, short_seq = torch.randn(1, 7, 32), torch.randn(1, 4, 32)
        batch = torch.cat([long_seq, torch.cat([torch.zeros(1, 3, 32), short_seq], 1)], 0)
        mask = torch.tensor([[1] * 7, [0, 0, 0, 1, 1, 1, 1]])
        positions = torch.tensor([list(range(7)), [0, 0, 0, 0, 1, 2, 3]])
        out = self.prefill(batch, mask, positions)
        alone = self.prefill(short_seq, torch.ones(1, 4, dtype=torch.long), torch.arange(4)[None])
        torch.testing.assert_close(out[0][1, 3:], alone[0][0], rtol=0, atol=ATOL)
        # one step for both, the padded past stays masked
        step_embeds = torch.randn(2, 1, 32)
        with torch.no_grad():
            step = self.stages["decoder"](step_embeds, torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1),
                                          torch.tensor([[7], [4]]), *out[1:])
            step_alone = self.stages["decoder"](step_embeds[1:], torch.ones(1, 5, dtype=torch.long),
                                                torch.tensor([[4]]), *alone[1:])
        torch.testing.assert_close(step[0][1], step_alone[0][0], rtol=0, atol=ATOL)


class QFormerStageTest(unittest.TestCase):
    def test_vision_and_qformer_match_naive_hf_forward(self):
        tiny = get_preset("tiny-vicuna").config
        every_other = dataclasses.replace(
            tiny, qformer_config=dataclasses.replace(tiny.qformer_config, cross_attention_frequency=2,
                                                     num_hidden_layers=3))
        for cfg in (tiny, every_other):
            model = InstructBlipModel(cfg)
            init_weights(model, seed=11)
            model.eval()
            stages = load_stages(model)
            sd = model.state_dict()
            size = cfg.vision_config.image_size
            pixels = torch.randn(2, 3, size, size)
            ids = torch.tensor([[2, 9, 10, 11, 3], [2, 12, 3, 0, 0]])
            mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
            with torch.no_grad():
                image = stages["vision_encoder"](pixels)
                torch.testing.assert_close(image, naive_vision(sd, cfg.vision_config, pixels), rtol=1e-4, atol=1e-4)
                out = stages["qformer"](image, ids, mask)
                expected = naive_qformer(sd, cfg.qformer_config, cfg.num_query_tokens, image, ids, mask)
            torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)

    def test_text_padding_does_not_change_query_output(self):
        model = build_preset_model("tiny-vicuna")
        stages = load_stages(model)
        image_embeds = torch.randn(1, 17, 32)
        with torch.no_grad():
            alone = stages["qformer"](image_embeds, torch.tensor([[2, 9, 10, 3]]), torch.ones(1, 4, dtype=torch.long))
            padded = stages["qformer"](image_embeds, torch.tensor([[2, 9, 10, 3, 0, 0]]),
                                       torch.tensor([[1, 1, 1, 1, 0, 0]]))
            other = stages["qformer"](image_embeds, torch.tensor([[2, 11, 3]]), torch.ones(1, 3, dtype=torch.long))
        self.assertEqual(tuple(alone.shape), (1, 4, 32))
        torch.testing.assert_close(padded, alone, rtol=0, atol=ATOL)
        self.assertGreater((other - alone).abs().max().item(), 1e-3, "the instruction must reach the queries")


class T5StagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = build_preset_model("tiny-flant5")
        cls.stages = load_stages(cls.model)

    def run_stage(self, name, *args):
        with torch.no_grad():
            return self.stages[name](*args)

    def ones(self, *shape):
        return torch.ones(shape, dtype=torch.long)

    def test_encoder_and_decoder_init_match_naive_hf_forward(self):
        embeds = torch.randn(2, 6, 32)
        ids = torch.tensor([[0, 5, 9, 200], [0, 17, 17, 3]])
        enc = self.run_stage("encoder", embeds, self.ones(2, 6))
        init = self.run_stage("decoder_init", ids, self.ones(2, 4), enc, self.ones(2, 6))
        exp_enc, exp_logits = naive_t5(self.model.state_dict(), self.model.language_model.cfg, embeds, ids)
        torch.testing.assert_close(enc, exp_enc, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(init[0], exp_logits, rtol=1e-4, atol=1e-4)

    def test_tied_embeddings_scale_the_decoder_output(self):
        base = get_preset("tiny-flant5").config
        tied = dataclasses.replace(base, text_config=dataclasses.replace(base.text_config, tie_word_embeddings=True))
        model = InstructBlipModel(tied)
        init_weights(model, seed=5)
        model.eval()
        lm = model.language_model
        hidden = torch.randn(1, 3, 32)
        with torch.no_grad():
            torch.testing.assert_close(lm.logits(hidden), (hidden * 32 ** -0.5) @ lm.lm_head.weight.T)
            untied = build_preset_model("tiny-flant5").language_model
            torch.testing.assert_close(untied.logits(hidden), hidden @ untied.lm_head.weight.T)

    def test_init_then_steps_equals_one_pass(self):
        enc = self.run_stage("encoder", torch.randn(1, 6, 32), self.ones(1, 6))
        ids = torch.tensor([[0, 4, 8, 15, 16]])
        full = self.run_stage("decoder_init", ids, self.ones(1, 5), enc, self.ones(1, 6))
        out = self.run_stage("decoder_init", ids[:, :2], self.ones(1, 2), enc, self.ones(1, 6))
        layers = 2
        past, cross = out[1:1 + 2 * layers], out[1 + 2 * layers:]
        for t in range(2, 5):
            out = self.run_stage("decoder", ids[:, t:t + 1], self.ones(1, t + 1), self.ones(1, 6), *past, *cross)
            past = out[1:]
            torch.testing.assert_close(out[0][:, 0], full[0][:, t], rtol=0, atol=ATOL)

    def test_encoder_right_padding_and_decoder_left_padding(self):
        embeds = torch.randn(1, 4, 32)
        enc_alone = self.run_stage("encoder", embeds, self.ones(1, 4))
        padded = torch.cat([embeds, torch.zeros(1, 2, 32)], 1)
        enc_mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
        enc_padded = self.run_stage("encoder", padded, enc_mask)
        torch.testing.assert_close(enc_padded[:, :4], enc_alone, rtol=0, atol=ATOL)
        ids = torch.tensor([[0, 7, 9]])
        alone = self.run_stage("decoder_init", ids, self.ones(1, 3), enc_alone, self.ones(1, 4))
        left = self.run_stage("decoder_init", torch.tensor([[0, 0, 7, 9]]), torch.tensor([[0, 1, 1, 1]]),
                              enc_padded, enc_mask)
        torch.testing.assert_close(left[0][:, 1:], alone[0], rtol=0, atol=ATOL)


if __name__ == "__main__":
    unittest.main()
