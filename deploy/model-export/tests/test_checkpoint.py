"""Reading HF checkpoint folders: config, safetensors / .bin (sharded too), strict loading, tokenizer recipe."""
import argparse
import contextlib
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import checkpoint as ckpt  # noqa: E402
from instructblip_export.configs import ConfigError, InstructBlipConfig  # noqa: E402
from instructblip_export.export_cmd import add_arguments, export_checkpoint, run  # noqa: E402
from instructblip_export.modeling import InstructBlipModel  # noqa: E402
from instructblip_export.presets import build_preset_model, get_preset  # noqa: E402

try:
    from instructblip_export.tokenization import write_preset_tokenizers
except ImportError:  # P2's module; the tokenizer tests are skipped without it
    write_preset_tokenizers = None


def write_checkpoint(folder, preset, weights="safetensors", extra=None, drop=(), rename=None, special_map=None):
    """An HF-style checkpoint folder of a preset model; returns the state dict written."""
    os.makedirs(folder, exist_ok=True)
    model = build_preset_model(preset, seed=7)
    config = get_preset(preset).config
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config.to_hf_dict(), f)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for key in drop:
        del state[key]
    for old, new in (rename or {}).items():
        state[new] = state.pop(old)
    state.update(extra or {})
    if weights == "safetensors":
        ckpt.write_safetensors(os.path.join(folder, "model.safetensors"), state)
    elif weights == "sharded-safetensors":
        keys = sorted(state)
        half = len(keys) // 2
        weight_map = {}
        for index, part in enumerate((keys[:half], keys[half:])):
            name = f"model-0000{index + 1}-of-00002.safetensors"
            ckpt.write_safetensors(os.path.join(folder, name), {k: state[k] for k in part})
            weight_map.update({k: name for k in part})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
    elif weights == "bin":
        torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    if write_preset_tokenizers is not None:
        tmp = os.path.join(folder, "_tok")
        write_preset_tokenizers(preset, tmp)
        shutil.move(os.path.join(tmp, "llm_tokenizer.json"), os.path.join(folder, "tokenizer.json"))
        os.makedirs(os.path.join(folder, "qformer_tokenizer"), exist_ok=True)
        shutil.move(os.path.join(tmp, "qformer_tokenizer.json"),
                    os.path.join(folder, "qformer_tokenizer", "tokenizer.json"))
        shutil.rmtree(tmp)
        if special_map is not None:
            with open(os.path.join(folder, "special_tokens_map.json"), "w", encoding="utf-8") as f:
                json.dump(special_map, f)
    return state


class ConfigTest(unittest.TestCase):
    def test_round_trip_of_hf_dict(self):
        for preset in ("tiny-vicuna", "tiny-flant5", "small-vicuna", "small-flant5"):
            config = get_preset(preset).config
            self.assertEqual(InstructBlipConfig.from_dict(config.to_hf_dict()), config)

    def test_unsupported_model_type_lists_supported(self):
        with self.assertRaises(ConfigError) as ctx:
            InstructBlipConfig.from_dict({"model_type": "blip-2"})
        self.assertEqual(
            str(ctx.exception),
            "config.json has model_type 'blip-2'; supported: instructblip "
            "(an InstructBlipForConditionalGeneration checkpoint)",
        )
        data = get_preset("tiny-vicuna").config.to_hf_dict()
        data["text_config"]["model_type"] = "opt"
        with self.assertRaises(ConfigError) as ctx:
            InstructBlipConfig.from_dict(data)
        self.assertEqual(str(ctx.exception), "config.json text_config.model_type is 'opt'; supported: llama, t5")

    def test_hf_defaults_of_a_published_config(self):
        config = InstructBlipConfig.from_dict({
            "model_type": "instructblip", "num_query_tokens": 32,
            "vision_config": {}, "qformer_config": {},
            "text_config": {"model_type": "llama", "vocab_size": 32001, "pad_token_id": 0},
        })
        self.assertEqual(config.vision_config.num_positions, 257)
        self.assertEqual(config.text_config.kv_heads, 32)
        self.assertEqual(config.qformer_config.cross_attention_frequency, 2)
        self.assertEqual(config.llm_family, "decoder_only")


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_f32_f16_bf16(self):
        tensors = {"a": torch.tensor([[1.5, -2.25], [0.0, 3.0]]), "b": torch.arange(6.0).reshape(1, 2, 3)}
        with tempfile.TemporaryDirectory() as tmp:
            for dtype in ("F32", "F16", "BF16"):
                path = os.path.join(tmp, f"{dtype}.safetensors")
                ckpt.write_safetensors(path, tensors, dtype)
                read = ckpt.read_safetensors(path)
                self.assertEqual(sorted(read), ["a", "b"])
                for key in tensors:
                    self.assertTrue(torch.equal(read[key], tensors[key]), f"{dtype} {key}")
                    self.assertEqual(read[key].dtype, torch.float32)

    def test_not_a_safetensors_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            with open(path, "wb") as f:
                f.write(b"abc")
            with self.assertRaises(ckpt.CheckpointError) as ctx:
                ckpt.read_safetensors(path)
            self.assertIn("not a safetensors file", str(ctx.exception))


class StrictLoadingTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ckpt-test-")
        self.folder = os.path.join(self.tmp.name, "ckpt")

    def tearDown(self):
        self.tmp.cleanup()

    def assert_loads(self, preset, weights):
        extra = {"qformer.embeddings.position_ids": torch.arange(64).unsqueeze(0)}
        if preset == "tiny-vicuna":
            extra["language_model.model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(4)
        else:
            extra["language_model.encoder.embed_tokens.weight"] = torch.zeros(256, 32)
        state = write_checkpoint(self.folder, preset, weights, extra=extra)
        model = ckpt.load_model(self.folder)
        loaded = model.state_dict()
        self.assertEqual(sorted(loaded), sorted(k for k in state if k not in extra))
        for key, value in loaded.items():
            self.assertTrue(torch.equal(value, state[key]), key)

    def test_safetensors_vicuna(self):
        self.assert_loads("tiny-vicuna", "safetensors")

    def test_sharded_safetensors_flant5(self):
        self.assert_loads("tiny-flant5", "sharded-safetensors")

    def test_bin_vicuna(self):
        self.assert_loads("tiny-vicuna", "bin")

    def test_tied_lm_head_comes_from_shared(self):
        base = get_preset("tiny-flant5").config
        tied = dataclasses.replace(base, text_config=dataclasses.replace(base.text_config, tie_word_embeddings=True))
        model = InstructBlipModel(tied)
        state = {k: torch.randn(v.shape) for k, v in model.state_dict().items() if k != "language_model.lm_head.weight"}
        ignored = ckpt.load_state_dict_strict(model, state)
        self.assertEqual(ignored, [])
        self.assertTrue(torch.equal(model.language_model.lm_head.weight, state["language_model.shared.weight"]))

    def assert_fails(self, message_part, **kwargs):
        write_checkpoint(self.folder, "tiny-vicuna", **kwargs)
        with self.assertRaises(ckpt.CheckpointError) as ctx:
            ckpt.load_model(self.folder)
        self.assertIn(message_part, str(ctx.exception))

    def test_missing_tensor_is_named(self):
        self.assert_fails("missing tensors: qformer.encoder.layer.1.output_query.dense.bias",
                          drop=["qformer.encoder.layer.1.output_query.dense.bias"])

    def test_renamed_tensor_is_named_twice(self):
        key = "vision_model.encoder.layers.0.self_attn.q_bias"
        write_checkpoint(self.folder, "tiny-vicuna", rename={key: key + "_renamed"})
        with self.assertRaises(ckpt.CheckpointError) as ctx:
            ckpt.load_model(self.folder)
        self.assertIn(f"missing tensors: {key};", str(ctx.exception))
        self.assertIn(f"unexpected tensors: {key}_renamed", str(ctx.exception))

    def test_extra_tensor_is_named(self):
        self.assert_fails("unexpected tensors: language_model.model.layers.5.mlp.up_proj.weight",
                          extra={"language_model.model.layers.5.mlp.up_proj.weight": torch.zeros(2, 2)})

    def test_wrong_shape_is_named(self):
        self.assert_fails("wrong shapes: query_tokens (checkpoint [1, 3, 32], expected [1, 4, 32])",
                          extra={"query_tokens": torch.zeros(1, 3, 32)})

    def test_folder_without_weights(self):
        os.makedirs(self.folder)
        with open(os.path.join(self.folder, "config.json"), "w", encoding="utf-8") as f:
            json.dump(get_preset("tiny-vicuna").config.to_hf_dict(), f)
        with self.assertRaises(ckpt.CheckpointError) as ctx:
            ckpt.load_model(self.folder)
        self.assertIn("has no weights: expected model.safetensors", str(ctx.exception))


@unittest.skipIf(write_preset_tokenizers is None, "instructblip_export.tokenization not available")
class CheckpointExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ckpt-export-")
        self.folder = os.path.join(self.tmp.name, "instructblip-tiny")
        self.out = os.path.join(self.tmp.name, "model")

    def tearDown(self):
        self.tmp.cleanup()

    def test_vicuna_recipe_follows_the_tokenizer_files(self):
        # the Vicuna quirk: the tokenizer's bos is '</s>' (2), whatever text_config.bos_token_id says
        write_checkpoint(self.folder, "tiny-vicuna",
                         special_map={"bos_token": "</s>", "eos_token": "</s>", "unk_token": "</s>",
                                      "pad_token": "<pad>"})
        manifest = export_checkpoint(self.folder, self.out)
        self.assertEqual(manifest["source"], {"kind": "checkpoint", "preset": None,
                                              "checkpoint": "instructblip-tiny", "seed": None})
        self.assertEqual(manifest["special_tokens"], {"qformer_cls": 2, "qformer_sep": 3, "qformer_pad": 0,
                                                      "llm_bos": 2, "llm_eos": 2, "llm_pad": 3,
                                                      "decoder_start": None})
        self.assertEqual(manifest["prompt"]["llm"]["prefix_ids"], [2])
        self.assertEqual(manifest["prompt"]["qformer"]["prefix_ids"], [2])
        for name in ("decoder.onnx", "llm_tokenizer.json", "qformer_tokenizer.json", "manifest.json"):
            self.assertTrue(os.path.isfile(os.path.join(self.out, name)), name)

    def test_flant5_appends_eos(self):
        write_checkpoint(self.folder, "tiny-flant5", weights="bin",
                         special_map={"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})
        manifest = export_checkpoint(self.folder, self.out)
        self.assertEqual(manifest["prompt"]["llm"], {"prefix_ids": [], "suffix_ids": [1], "max_tokens": 512,
                                                     "padding_side": "right"})
        self.assertEqual(manifest["special_tokens"]["decoder_start"], 0)
        self.assertEqual(manifest["special_tokens"]["llm_pad"], 0)

    def test_command_reports_a_bad_checkpoint_with_exit_code_1(self):
        write_checkpoint(self.folder, "tiny-vicuna", drop=["query_tokens"])
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            code = run(parser.parse_args(["--checkpoint", self.folder, "--out", self.out]))
        self.assertEqual(code, 1)
        self.assertIn("export failed: the checkpoint weights do not match its config.json: missing tensors: "
                      "query_tokens.", stderr.getvalue())
        self.assertFalse(os.path.exists(self.out))

    def test_missing_tokenizer_json_says_how_to_convert(self):
        write_checkpoint(self.folder, "tiny-vicuna", special_map={"eos_token": "</s>"})
        os.remove(os.path.join(self.folder, "tokenizer.json"))
        with open(os.path.join(self.folder, "tokenizer.model"), "wb") as f:
            f.write(b"sp")
        with self.assertRaises(ckpt.CheckpointError) as ctx:
            export_checkpoint(self.folder, self.out)
        self.assertIn("has no tokenizer.json", str(ctx.exception))
        self.assertIn("tokenizer.model", str(ctx.exception))
        self.assertIn("save_pretrained", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
