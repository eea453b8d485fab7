"""The PyTorch reference pipeline: images + instruction -> REFERENCE_OUTPUT of docs/model-format.md.

Runs the stage modules (the same modules that are exported to ONNX) with the token-level recipe, the image
preprocessing and the generation semantics of the format, one request at a time.
"""
import json
import os
from typing import Dict, List, Optional, Sequence

import torch

from . import generation, preprocess
from .tokenization import Recipe, SentencePieceTokenizer, load_tokenizer, preset_token_fields, preset_tokenizers

DEFAULT_GENERATION = {
    "max_new_tokens": 256,
    "min_new_tokens": 1,
    "num_beams": 5,
    "length_penalty": 1.0,
    "repetition_penalty": 1.5,
}


def _round7(x):
    """Scores are printed with 7 significant digits (float32 precision)."""
    return float(f"{x:.7g}")


class ReferencePipeline:
    """Stage modules + recipe + preprocessing settings of one model."""

    def __init__(self, name, stages, recipe: Recipe, llm_family, image_preprocessing, generation_defaults=None):
        self.name = name
        self.stages = stages
        self.recipe = recipe
        self.llm_family = llm_family
        self.image_preprocessing = image_preprocessing
        self.generation_defaults = dict(DEFAULT_GENERATION)
        if generation_defaults:
            self.generation_defaults.update({k: v for k, v in generation_defaults.items() if k in DEFAULT_GENERATION})

    # -- construction -----------------------------------------------------------------------------------------

    @classmethod
    def from_preset(cls, preset_name, seed=None):
        from . import presets
        from .stages import load_stages

        seed = presets.DEFAULT_SEED if seed is None else seed
        model = presets.build_preset_model(preset_name, seed)
        fields = preset_token_fields(preset_name)
        qtok, ltok = preset_tokenizers(preset_name)
        recipe = Recipe(qtok, ltok, fields["special_tokens"], fields["prompt"], append_eos=True)
        size = model.config.vision_config.image_size
        pre = {
            "size": size,
            "rescale_factor": preprocess.DEFAULT_RESCALE,
            "mean": list(preprocess.DEFAULT_MEAN),
            "std": list(preprocess.DEFAULT_STD),
        }
        return cls(preset_name, load_stages(model), recipe, model.llm_family, pre)

    @classmethod
    def from_model_dir(cls, model_dir):
        """Rebuild the weights the manifest's `source` names; tokens and settings from the directory itself."""
        with open(os.path.join(model_dir, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        source = manifest.get("source") or {}
        if source.get("kind") == "preset":
            base = cls.from_preset(source["preset"], source.get("seed"))
        elif source.get("kind") == "checkpoint":
            raise ValueError(
                f"{model_dir} was exported from checkpoint {source.get('checkpoint')!r}: run the reference on that "
                "folder with --checkpoint DIR"
            )
        else:
            raise ValueError(f"{model_dir}/manifest.json: source {source!r} names neither a preset nor a checkpoint")
        return cls(
            manifest.get("name", base.name),
            base.stages,
            Recipe.from_model_dir(model_dir, manifest),
            manifest["llm_family"],
            manifest["image_preprocessing"],
            manifest.get("generation_defaults"),
        )

    @classmethod
    def from_checkpoint(cls, checkpoint_dir):
        """An HF checkpoint folder through the export's own loader and tokenizer recipe."""
        from . import checkpoint
        from .stages import load_stages

        model = checkpoint.load_model(checkpoint_dir)
        recipe_fields = checkpoint.tokenizer_recipe(checkpoint_dir, model.config)
        qtok = load_tokenizer(recipe_fields["qformer_tokenizer_path"])
        try:
            ltok = load_tokenizer(recipe_fields["llm_tokenizer_path"])
        except RuntimeError:
            ltok = _sentencepiece_fallback(checkpoint_dir)
        recipe = Recipe(qtok, ltok, recipe_fields["special_tokens"], recipe_fields["prompt"], append_eos=True)
        size = model.config.vision_config.image_size
        pre = checkpoint.image_preprocessing(checkpoint_dir, size) or {
            "rescale_factor": preprocess.DEFAULT_RESCALE,
            "mean": list(preprocess.DEFAULT_MEAN),
            "std": list(preprocess.DEFAULT_STD),
        }
        pre = dict(pre, size=size)
        name = os.path.basename(os.path.normpath(checkpoint_dir))
        return cls(name, load_stages(model), recipe, model.llm_family, pre)

    # -- running ----------------------------------------------------------------------------------------------

    def params(self, **overrides) -> generation.GenerationParams:
        values = dict(self.generation_defaults)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return generation.GenerationParams(**values)

    def pixel_values(self, image) -> torch.Tensor:
        p = self.image_preprocessing
        x = preprocess.preprocess(image, p["size"], p["rescale_factor"], p["mean"], p["std"])
        return torch.from_numpy(x).unsqueeze(0)

    @torch.no_grad()
    def query_outputs(self, images: Sequence, qformer_ids: List[int]) -> torch.Tensor:
        """[1, frames * Q, Dl]: each frame through vision + Q-Former with the same text, in frame order."""
        ids = torch.tensor([qformer_ids], dtype=torch.int64)
        mask = torch.ones_like(ids)
        outs = []
        for image in images:
            embeds = self.stages["vision_encoder"](self.pixel_values(image))
            outs.append(self.stages["qformer"](embeds, ids, mask))
        return torch.cat(outs, dim=1)

    def _session(self, query_outputs, prompt_ids):
        if self.llm_family == "decoder_only":
            return generation.DecoderOnlySession(self.stages, query_outputs, prompt_ids)
        start = self.recipe.special_tokens["decoder_start"]
        return generation.EncoderDecoderSession(self.stages, query_outputs, prompt_ids, start)

    def run(self, images, instruction, candidates: Optional[Sequence[str]] = None, **params) -> Dict:
        """REFERENCE_OUTPUT for one request (generation, or ranking when candidates are given)."""
        if not images:
            raise ValueError("at least one image is needed")
        qformer_ids = self.recipe.qformer_ids(instruction)
        prompt_ids = self.recipe.prompt_ids(instruction)
        queries = self.query_outputs(images, qformer_ids)
        result = {"model": self.name, "qformer_input_ids": qformer_ids, "prompt_ids": prompt_ids}
        if candidates:
            ranked = self._rank(queries, prompt_ids, candidates)
            best = ranked[0]
            result.update(
                {
                    "token_ids": best["token_ids"],
                    "text": best["text"],
                    "finish_reason": "rank",
                    "num_prompt_tokens": len(prompt_ids),
                    "num_generated_tokens": len(best["token_ids"]),
                    "candidates": ranked,
                }
            )
            return result
        gp = self.params(**params)
        eos = self.recipe.special_tokens["llm_eos"]
        penalty_prefix = []
        if self.llm_family == "encoder_decoder":
            penalty_prefix = [self.recipe.special_tokens["decoder_start"]]
        found = generation.search(self._session(queries, prompt_ids), gp, eos, penalty_prefix)
        result.update(
            {
                "token_ids": found.token_ids,
                "text": self.recipe.decode(found.token_ids),
                "finish_reason": found.finish_reason,
                "num_prompt_tokens": len(prompt_ids),
                "num_generated_tokens": len(found.token_ids),
                "candidates": None,
            }
        )
        return result

    def _rank(self, queries, prompt_ids, candidates):
        scored = []
        for text in candidates:
            ids = self.recipe.candidate_ids(text)
            if not ids:
                raise ValueError(f"candidate {text!r} has no tokens")
            rows = self._session(queries, prompt_ids).teacher_forced_logprobs(ids)
            total, mean = generation.score_candidate(rows, ids)
            scored.append(
                {"text": text, "token_ids": ids, "sum_logprob": _round7(total), "mean_logprob": _round7(mean)}
            )
        order = generation.rank_order([c["sum_logprob"] for c in scored])
        return [scored[i] for i in order]


def _sentencepiece_fallback(checkpoint_dir):
    """Without the `tokenizers` package: the checkpoint's sentencepiece model (same pieces, not byte-checked)."""
    for name in ("tokenizer.model", "spiece.model"):
        path = os.path.join(checkpoint_dir, name)
        if os.path.exists(path):
            return SentencePieceTokenizer(path)
    raise FileNotFoundError(
        f"{checkpoint_dir}: the LLM tokenizer.json needs the `tokenizers` package, and there is no "
        "tokenizer.model / spiece.model to use instead"
    )
