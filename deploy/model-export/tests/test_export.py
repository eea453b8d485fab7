"""Presets, ONNX export, model-directory manifest and determinism (run from deploy/model-export:
`/usr/bin/python3 -m unittest discover -s tests`)."""
import filecmp
import json
import os
import sys
import tempfile
import unittest

import onnx
from onnx import TensorProto

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export.export_cmd import export_preset  # noqa: E402
from instructblip_export.presets import PRESET_NAMES, get_preset  # noqa: E402

FLOAT_TYPES = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16"}


def boundary(path):
    """{name: (elem_type, dims)} of the inputs and outputs of an ONNX file."""
    model = onnx.load(path)
    result = {}
    for value in list(model.graph.input) + list(model.graph.output):
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        result[value.name] = (value.type.tensor_type.elem_type, dims)
    return result


class PresetConfigTest(unittest.TestCase):
    def test_small_presets_have_real_vocabularies(self):
        for name in ("small-vicuna", "small-flant5"):
            cfg = get_preset(name).config
            self.assertEqual(cfg.text_config.vocab_size, 32000)
            self.assertEqual(cfg.qformer_config.vocab_size, 30522)
            self.assertEqual(cfg.num_query_tokens, 32)
            self.assertEqual(cfg.vision_config.num_positions, 257)
            self.assertEqual(cfg.text_config.hidden_size, 512)

    def test_tiny_presets(self):
        vicuna = get_preset("tiny-vicuna").config
        self.assertEqual((vicuna.text_config.num_attention_heads, vicuna.text_config.kv_heads), (4, 2))
        self.assertEqual(vicuna.vision_config.num_positions, 17)
        self.assertEqual(vicuna.llm_family, "decoder_only")
        self.assertEqual(get_preset("tiny-flant5").config.llm_family, "encoder_decoder")

    def test_unknown_preset_lists_presets(self):
        with self.assertRaises(ValueError) as ctx:
            get_preset("huge")
        self.assertIn(", ".join(PRESET_NAMES), str(ctx.exception))


class TinyExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="export-test-")
        cls.dirs = {}
        for name in ("tiny-vicuna", "tiny-flant5"):
            out = os.path.join(cls.tmp.name, name)
            export_preset(name, out)
            cls.dirs[name] = out

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def manifest(self, name):
        with open(os.path.join(self.dirs[name], "manifest.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_every_file_passes_the_checker(self):
        for name, out in self.dirs.items():
            manifest = self.manifest(name)
            for key, file_name in manifest["files"].items():
                if file_name is None:
                    continue
                path = os.path.join(out, file_name)
                self.assertTrue(os.path.isfile(path), f"{name}: {key} -> {file_name} missing")
                if file_name.endswith(".onnx"):
                    model = onnx.load(path)
                    onnx.checker.check_model(model, full_check=True)
                    self.assertLessEqual(model.ir_version, 10)
                    self.assertEqual([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")], [17])
                    self.assertLess(os.path.getsize(path), 400_000, f"{file_name} is too big for a fixture")

    def test_vicuna_manifest_and_decoder_signature(self):
        m = self.manifest("tiny-vicuna")
        self.assertEqual(m["llm_family"], "decoder_only")
        self.assertEqual(m["files"]["encoder"], None)
        self.assertEqual(m["files"]["decoder_init"], None)
        self.assertEqual(m["llm"], {"hidden_size": 32, "vocab_size": 256, "num_layers": 2, "num_heads": 4,
                                    "num_kv_heads": 2, "head_dim": 8, "max_positions": 256})
        self.assertEqual(m["vision"], {"image_size": 32, "patch_size": 8, "hidden_size": 32, "num_positions": 17})
        self.assertEqual(m["special_tokens"]["llm_eos"], 2)
        self.assertEqual(m["special_tokens"]["llm_pad"], 3)
        self.assertEqual(m["prompt"]["llm"]["prefix_ids"], [2])
        self.assertEqual(m["generation_defaults"]["num_beams"], 5)
        io = boundary(os.path.join(self.dirs["tiny-vicuna"], "decoder.onnx"))
        self.assertEqual(io["inputs_embeds"], (TensorProto.FLOAT, ["batch", "sequence", 32]))
        self.assertEqual(io["attention_mask"], (TensorProto.INT64, ["batch", "total_sequence"]))
        self.assertEqual(io["position_ids"], (TensorProto.INT64, ["batch", "sequence"]))
        self.assertEqual(io["past_key_values.1.value"], (TensorProto.FLOAT, ["batch", 2, "past_sequence", 8]))
        self.assertEqual(io["present.1.key"], (TensorProto.FLOAT, ["batch", 2, "total_sequence", 8]))
        self.assertEqual(io["logits"], (TensorProto.FLOAT, ["batch", "sequence", 256]))
        io = boundary(os.path.join(self.dirs["tiny-vicuna"], "qformer.onnx"))
        self.assertEqual(io["query_output"], (TensorProto.FLOAT, ["batch", 4, 32]))
        self.assertEqual(io["qformer_attention_mask"], (TensorProto.INT64, ["batch", "qformer_sequence"]))

    def test_flant5_manifest_and_decoder_signatures(self):
        m = self.manifest("tiny-flant5")
        self.assertEqual(m["llm_family"], "encoder_decoder")
        self.assertEqual(m["special_tokens"]["decoder_start"], 0)
        self.assertEqual(m["special_tokens"]["llm_eos"], 1)
        self.assertEqual(m["prompt"]["llm"]["suffix_ids"], [1])
        out = self.dirs["tiny-flant5"]
        init = boundary(os.path.join(out, "decoder_init.onnx"))
        self.assertEqual(init["cross.1.value"], (TensorProto.FLOAT, ["batch", 4, "encoder_sequence", 8]))
        self.assertEqual(init["present.0.key"], (TensorProto.FLOAT, ["batch", 4, "sequence", 8]))
        step = boundary(os.path.join(out, "decoder.onnx"))
        self.assertEqual(step["decoder_attention_mask"], (TensorProto.INT64, ["batch", "total_sequence"]))
        self.assertEqual(step["past_key_values.0.key"], (TensorProto.FLOAT, ["batch", 4, "past_sequence", 8]))
        self.assertEqual(step["cross.0.key"], (TensorProto.FLOAT, ["batch", 4, "encoder_sequence", 8]))
        self.assertEqual(step["present.1.value"], (TensorProto.FLOAT, ["batch", 4, "total_sequence", 8]))
        enc = boundary(os.path.join(out, "encoder.onnx"))
        self.assertEqual(enc["encoder_hidden_states"], (TensorProto.FLOAT, ["batch", "encoder_sequence", 32]))

    def test_same_preset_exports_byte_identical_files(self):
        with tempfile.TemporaryDirectory() as again:
            export_preset("tiny-vicuna", again)
            names = sorted(os.listdir(self.dirs["tiny-vicuna"]))
            self.assertEqual(names, sorted(os.listdir(again)))
            match, mismatch, errors = filecmp.cmpfiles(self.dirs["tiny-vicuna"], again, names, shallow=False)
            self.assertEqual((mismatch, errors), ([], []))

    def test_committed_fixtures_are_current(self):
        fixtures = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
        for name, out in self.dirs.items():
            committed = os.path.join(fixtures, name)
            if not os.path.isdir(committed):
                self.skipTest("no committed fixtures")
            for file_name in sorted(os.listdir(out)):
                self.assertTrue(
                    filecmp.cmp(os.path.join(out, file_name), os.path.join(committed, file_name), shallow=False),
                    f"fixtures/{name}/{file_name} differs from a fresh export: run `export.py fixtures`",
                )

    def test_float16_export(self):
        with tempfile.TemporaryDirectory() as out:
            manifest = export_preset("tiny-flant5", out, dtype="float16")
            self.assertEqual(manifest["dtype"], "float16")
            for file_name in ("vision_encoder.onnx", "qformer.onnx", "embed_tokens.onnx", "encoder.onnx",
                              "decoder_init.onnx", "decoder.onnx"):
                model = onnx.load(os.path.join(out, file_name))
                onnx.checker.check_model(model, full_check=True)
                for value in list(model.graph.input) + list(model.graph.output):
                    self.assertIn(value.type.tensor_type.elem_type, (TensorProto.FLOAT16, TensorProto.INT64),
                                  f"{file_name}: {value.name}")
                self.assertEqual([o.domain for o in model.opset_import], [""], f"{file_name}: marker domain left")
                for init in model.graph.initializer:  # only small island constants (eps, mask value) stay float32
                    if init.data_type == TensorProto.FLOAT:
                        self.assertLessEqual(len(init.raw_data), 64, f"{file_name}: {init.name}")
            # softmax and RMS norms stay in float32 islands, as in HF's float16 models
            decoder = onnx.load(os.path.join(out, "decoder.onnx"))
            casts = [n for n in decoder.graph.node if n.op_type == "Cast"]
            upcasts = [n for n in casts if n.attribute[0].i == TensorProto.FLOAT]
            downcasts = [n for n in casts if n.attribute[0].i == TensorProto.FLOAT16]
            # 2 layers x (self + cross attention softmax, 3 norms) + final norm = 11 islands
            self.assertEqual(len(upcasts), 11)
            self.assertGreaterEqual(len(downcasts), 11)
            # HF T5's float16 guard: hidden states clamped to +-(65504 - 1000) after every attention and FF residual,
            # only in float16 graphs (the float32 ones clip only the relative-position buckets)
            with tempfile.TemporaryDirectory() as out32:
                export_preset("tiny-flant5", out32)
                extra = {}
                for f in ("encoder.onnx", "decoder_init.onnx", "decoder.onnx"):
                    counts = [sum(1 for n in onnx.load(os.path.join(d, f)).graph.node if n.op_type == "Clip")
                              for d in (out, out32)]
                    extra[f] = counts[0] - counts[1]
                self.assertEqual(extra, {"encoder.onnx": 4, "decoder_init.onnx": 6, "decoder.onnx": 6})


class ExternalDataTest(unittest.TestCase):
    def test_big_models_keep_weights_in_one_data_file(self):
        from instructblip_export import onnx_export
        from instructblip_export.presets import build_preset_model
        from instructblip_export.stages import EmbedTokensStage

        model = build_preset_model("tiny-vicuna")
        saved = onnx_export.EXTERNAL_DATA_THRESHOLD
        onnx_export.EXTERNAL_DATA_THRESHOLD = 0  # as if it were over 2 GB
        try:
            for dtype, size in (("float32", 4), ("float16", 2)):
                with tempfile.TemporaryDirectory() as out:
                    path = os.path.join(out, "embed_tokens.onnx")
                    onnx_export.export_stage(model, "embed_tokens", EmbedTokensStage(model), path, dtype)
                    self.assertEqual(sorted(os.listdir(out)), ["embed_tokens.onnx", "embed_tokens.onnx.data"])
                    self.assertEqual(os.path.getsize(path + ".data"), 256 * 32 * size)
                    onnx.checker.check_model(path)
                    loaded = onnx.load(path)
                    self.assertEqual([i.name for i in loaded.graph.initializer],
                                     ["language_model.model.embed_tokens.weight"])
        finally:
            onnx_export.EXTERNAL_DATA_THRESHOLD = saved


class ParityCommandTest(unittest.TestCase):
    def test_exits_2_without_transformers(self):
        try:
            import transformers  # noqa: F401

            self.skipTest("transformers is installed here")
        except ImportError:
            pass
        from instructblip_export import parity

        self.assertEqual(parity.main([]), 2)


if __name__ == "__main__":
    unittest.main()
