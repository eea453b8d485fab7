"""The fixture writers are deterministic, and the committed fixtures are what they write."""
import filecmp
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import fixture_images, fixtures_cmd, golden  # noqa: E402

COMMITTED = fixtures_cmd.DEFAULT_OUT


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


class FixturesDeterminismTest(unittest.TestCase):
    def write_images_and_preprocess(self, out):
        fixture_images.write_images(os.path.join(out, "images"))
        fixtures_cmd.write_preprocess_goldens(out)

    def test_images_and_preprocess_goldens_are_byte_identical_on_rerun(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            self.write_images_and_preprocess(a)
            self.write_images_and_preprocess(b)
            self.assertEqual(tree(a), tree(b))
            _, mismatch, errors = filecmp.cmpfiles(a, b, tree(a), shallow=False)
            self.assertEqual((mismatch, errors), ([], []))

    @unittest.skipUnless(os.path.isdir(os.path.join(COMMITTED, "images")), "no committed fixtures")
    def test_committed_images_and_preprocess_goldens_are_current(self):
        with tempfile.TemporaryDirectory() as a:
            self.write_images_and_preprocess(a)
            names = tree(a)
            _, mismatch, errors = filecmp.cmpfiles(a, COMMITTED, names, shallow=False)
            self.assertEqual((mismatch, errors), ([], []), "rerun: export.py fixtures --only images --only preprocess")

    def test_stage_cases_are_identical_on_rerun(self):
        from instructblip_export import fixture_stages, presets

        model = presets.build_preset_model("tiny-vicuna")
        first = golden.dumps(fixture_stages.build_cases("tiny-vicuna", model, COMMITTED))
        second = golden.dumps(fixture_stages.build_cases("tiny-vicuna", presets.build_preset_model("tiny-vicuna"),
                                                          COMMITTED))
        self.assertEqual(first, second)

    def test_bad_images_are_refused_and_good_ones_decode(self):
        from instructblip_export import preprocess

        files = fixture_images.image_bytes()
        for name in fixture_images.GOOD_IMAGES:
            self.assertEqual(preprocess.open_image(files[name]).mode, "RGB", name)
        for name in fixture_images.BAD_IMAGES:
            with self.assertRaises(preprocess.ImageDecodeError, msg=name):
                preprocess.open_image(files[name])


class StagesGoldenFormatTest(unittest.TestCase):
    """stages.json names exactly the committed ONNX files' inputs and outputs, at batch sizes 1, 2 and 3."""

    def test_cases_match_the_onnx_boundaries(self):
        import json

        import onnx

        for model in fixtures_cmd.MODELS:
            path = os.path.join(COMMITTED, "golden", model, "stages.json")
            if not os.path.exists(path):
                self.skipTest(f"{path} not generated")
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            self.assertEqual(doc["model"], model)
            graphs = {}
            batches = {}
            for case in doc["cases"]:
                file = case["file"]
                if file not in graphs:
                    graph = onnx.load(os.path.join(COMMITTED, model, file)).graph
                    graphs[file] = ([i.name for i in graph.input], [o.name for o in graph.output])
                inputs, outputs = graphs[file]
                self.assertEqual(list(case["inputs"]), inputs, case["name"])
                self.assertEqual(list(case["outputs"]), outputs, case["name"])
                for t in list(case["inputs"].values()) + list(case["outputs"].values()):
                    size = 1
                    for d in t["shape"]:
                        size *= d
                    self.assertEqual(len(t["data"]), size, case["name"])
                batches.setdefault(file, set()).add(next(iter(case["inputs"].values()))["shape"][0])
            for file, seen in batches.items():
                self.assertEqual(seen, {1, 2, 3}, f"{model} {file}")


class ReferenceDifferencesTest(unittest.TestCase):
    BASE = {"token_ids": [5], "text": "a", "finish_reason": "rank",
            "candidates": [{"text": "a", "token_ids": [5, 2], "sum_logprob": -1.0, "mean_logprob": -0.5}]}

    def test_log_probs_within_tolerance_are_equal(self):
        other = json_copy(self.BASE)
        other["candidates"][0]["sum_logprob"] = -1.00005
        self.assertEqual(golden.reference_differences(self.BASE, other, 1e-4), [])

    def test_ids_and_scores_beyond_tolerance_are_reported(self):
        other = json_copy(self.BASE)
        other["token_ids"] = [6]
        other["candidates"][0]["mean_logprob"] = -0.6
        self.assertEqual(
            golden.reference_differences(self.BASE, other, 1e-4),
            ["token_ids: expected [5], got [6]",
             "candidates[0].mean_logprob: expected -0.5, got -0.6 (tolerance 0.0001)"],
        )


def json_copy(obj):
    import json

    return json.loads(json.dumps(obj))


class ReferenceGoldenTest(unittest.TestCase):
    """One committed end-to-end case per model is reproduced by the reference pipeline."""

    def test_first_cases_reproduce(self):
        import json

        from instructblip_export.reference import ReferencePipeline

        for model in fixtures_cmd.MODELS:
            path = os.path.join(COMMITTED, "golden", model, "reference.json")
            if not os.path.exists(path):
                self.skipTest(f"{path} not generated")
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            pipeline = ReferencePipeline.from_preset(model)
            for case in (doc["cases"][0], doc["cases"][-1]):
                images = [os.path.join(COMMITTED, i) for i in case["images"]]
                got = pipeline.run(images, case["instruction"], candidates=case["candidates"], **case["params"])
                self.assertEqual(golden.reference_differences(case["expected"], got, doc["tolerance"]), [],
                                 f"{model} {case['name']}")


if __name__ == "__main__":
    unittest.main()
