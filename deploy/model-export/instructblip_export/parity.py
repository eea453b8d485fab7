"""Parity of the reference modules with HF `transformers` (where it is installed).

Builds HF `InstructBlipForConditionalGeneration` from the tiny presets' configs, loads the same state dict,
and compares the stage outputs, the LLM logits and greedy tokens with ours, for both LLM families. Prints a
JSON report. Exit codes: 0 all within tolerance, 1 a difference, 2 `transformers` is not installed.

    /usr/bin/python3 deploy/model-export/parity.py [--presets tiny-vicuna tiny-flant5] [--tolerance 1e-4]
"""
import argparse
import json
import sys
from typing import Any, Dict, List

import torch

from .presets import build_preset_model
from .stages import load_stages

NOT_INSTALLED = (
    "transformers not installed: parity needs HF transformers (pip install transformers) to build "
    "InstructBlipForConditionalGeneration; nothing was compared"
)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max())


def _our_greedy(stages, model, query_output, prompt_embeds, steps: int) -> List[int]:
    """Greedy decoding with our stages (no processors), batch 1."""
    lm = model.language_model
    embeds = torch.cat([query_output, prompt_embeds], 1)
    tokens: List[int] = []
    with torch.no_grad():
        if model.llm_family == "decoder_only":
            length = embeds.shape[1]
            past = [t for kv in lm.empty_past(1) for t in kv]
            out = stages["decoder"](embeds, torch.ones(1, length, dtype=torch.long), torch.arange(length)[None], *past)
            for _ in range(steps):
                token = int(out[0][0, -1].argmax())
                tokens.append(token)
                length += 1
                out = stages["decoder"](
                    stages["embed_tokens"](torch.tensor([[token]])),
                    torch.ones(1, length, dtype=torch.long),
                    torch.tensor([[length - 1]]),
                    *out[1:],
                )
        else:
            enc_mask = torch.ones(1, embeds.shape[1], dtype=torch.long)
            enc = stages["encoder"](embeds, enc_mask)
            start = model.config.text_config.decoder_start_token_id
            ids = [start]
            for _ in range(steps):
                out = stages["decoder_init"](
                    torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), enc, enc_mask
                )
                token = int(out[0][0, -1].argmax())
                tokens.append(token)
                ids.append(token)
    return tokens


def compare_preset(transformers, name: str, seed: int = 0, steps: int = 8) -> Dict[str, Any]:
    model = build_preset_model(name, seed)
    stages = load_stages(model)
    cfg = model.config
    hf_config = transformers.InstructBlipConfig.from_dict(cfg.to_hf_dict())
    hf = transformers.InstructBlipForConditionalGeneration(hf_config).eval()
    result = hf.load_state_dict(model.state_dict(), strict=False)
    report: Dict[str, Any] = {
        "hf_missing_keys": sorted(result.missing_keys),
        "hf_unexpected_keys": sorted(result.unexpected_keys),
    }
    gen = torch.Generator().manual_seed(5)
    size = cfg.vision_config.image_size
    pixel_values = torch.randn(2, 3, size, size, generator=gen)
    q_ids = torch.tensor([[2, 20, 21, 22, 3], [2, 30, 3, 0, 0]])
    q_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with torch.no_grad():
        ours_img = stages["vision_encoder"](pixel_values)
        hf_img = hf.vision_model(pixel_values=pixel_values).last_hidden_state
        report["vision_max_abs_diff"] = _max_diff(ours_img, hf_img)
        ours_q = stages["qformer"](hf_img, q_ids, q_mask)
        queries = hf.query_tokens.expand(2, -1, -1)
        full_mask = torch.cat([torch.ones(2, queries.shape[1], dtype=torch.long), q_mask], 1)
        hf_q = hf.qformer(
            input_ids=q_ids,
            attention_mask=full_mask,
            query_embeds=queries,
            encoder_hidden_states=hf_img,
            encoder_attention_mask=torch.ones(hf_img.shape[:2], dtype=torch.long),
        ).last_hidden_state
        hf_q = hf.language_projection(hf_q[:, : cfg.num_query_tokens])
        report["qformer_max_abs_diff"] = _max_diff(ours_q, hf_q)
        prompt = torch.tensor([[2, 40, 41, 42]]) if cfg.llm_family == "decoder_only" else torch.tensor([[40, 41, 1]])
        prompt_embeds = stages["embed_tokens"](prompt)
        embeds = torch.cat([hf_q[:1], prompt_embeds], 1)
        mask = torch.ones(1, embeds.shape[1], dtype=torch.long)
        if cfg.llm_family == "decoder_only":
            past = [t for kv in model.language_model.empty_past(1) for t in kv]
            ours_logits = stages["decoder"](embeds, mask, torch.arange(embeds.shape[1])[None], *past)[0]
            hf_logits = hf.language_model(inputs_embeds=embeds, attention_mask=mask).logits
        else:
            dec = torch.tensor([[0, 7, 8]])
            enc = stages["encoder"](embeds, mask)
            ours_logits = stages["decoder_init"](dec, torch.ones_like(dec), enc, mask)[0]
            hf_logits = hf.language_model(inputs_embeds=embeds, attention_mask=mask, decoder_input_ids=dec).logits
        report["llm_logits_max_abs_diff"] = _max_diff(ours_logits, hf_logits)
        report["greedy_ours"] = _our_greedy(stages, model, hf_q[:1], prompt_embeds, steps)
        try:
            generated = hf.generate(
                pixel_values=pixel_values[:1],
                qformer_input_ids=q_ids[:1],
                qformer_attention_mask=q_mask[:1],
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=steps,
                min_new_tokens=steps,
                num_beams=1,
                do_sample=False,
            )
            tokens = generated[0].tolist()
            # decoder-only HF versions differ in whether the prompt is echoed; T5 starts with decoder_start
            report["greedy_hf"] = tokens[-steps:]
        except Exception as e:  # HF generate signatures vary across versions: report, do not hide
            report["greedy_hf_error"] = f"{type(e).__name__}: {e}"
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["tiny-vicuna", "tiny-flant5"])
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args(argv)
    try:
        import transformers
    except ImportError:
        print(NOT_INSTALLED, file=sys.stderr)
        return 2
    report: Dict[str, Any] = {"transformers_version": transformers.__version__, "tolerance": args.tolerance,
                              "models": {}}
    ok = True
    for name in args.presets:
        r = compare_preset(transformers, name, steps=args.steps)
        diffs = [r[k] for k in ("vision_max_abs_diff", "qformer_max_abs_diff", "llm_logits_max_abs_diff")]
        r["ok"] = all(d <= args.tolerance for d in diffs) and r.get("greedy_hf") == r["greedy_ours"]
        ok = ok and r["ok"]
        report["models"][name] = r
    report["ok"] = ok
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
