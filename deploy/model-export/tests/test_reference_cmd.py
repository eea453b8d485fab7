"""`export.py reference`: prints a committed golden case exactly; refuses bad input with exit code 2."""
import contextlib
import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export.cli import main  # noqa: E402
from instructblip_export.fixtures_cmd import DEFAULT_OUT  # noqa: E402
from instructblip_export.golden import reference_differences  # noqa: E402

MODEL_DIR = os.path.join(DEFAULT_OUT, "tiny-vicuna")
GOLDEN = os.path.join(DEFAULT_OUT, "golden", "tiny-vicuna", "reference.json")


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["reference", *args])
    return code, out.getvalue(), err.getvalue()


@unittest.skipUnless(os.path.exists(GOLDEN) and os.path.exists(MODEL_DIR), "fixtures not generated")
class ReferenceCommandTest(unittest.TestCase):
    def test_prints_the_golden_output_of_a_beam_case(self):
        with open(GOLDEN, encoding="utf-8") as f:
            doc = json.load(f)
        case = next(c for c in doc["cases"] if c["name"] == "beam3_lp06_bmp")
        p = case["params"]
        args = ["--model-dir", MODEL_DIR, "--instruction", case["instruction"]]
        for image in case["images"]:
            args += ["--image", os.path.join(DEFAULT_OUT, image)]
        args += ["--max-new-tokens", str(p["max_new_tokens"]), "--min-new-tokens", str(p["min_new_tokens"])]
        args += ["--num-beams", str(p["num_beams"]), "--length-penalty", str(p["length_penalty"])]
        args += ["--repetition-penalty", str(p["repetition_penalty"])]
        code, out, _ = run_cli(*args)
        self.assertEqual(code, 0)
        self.assertEqual(reference_differences(case["expected"], json.loads(out), doc["tolerance"]), [])

    def test_ranking(self):
        code, out, _ = run_cli(
            "--model-dir", MODEL_DIR, "--image", os.path.join(DEFAULT_OUT, "images", "rgb.png"),
            "--instruction", "Is there a cat?", "--candidates", "yes", "no",
        )
        self.assertEqual(code, 0)
        result = json.loads(out)
        self.assertEqual(result["finish_reason"], "rank")
        self.assertEqual(sorted(c["text"] for c in result["candidates"]), ["no", "yes"])
        self.assertGreaterEqual(result["candidates"][0]["sum_logprob"], result["candidates"][1]["sum_logprob"])
        self.assertEqual(result["token_ids"], result["candidates"][0]["token_ids"])

    def test_bad_image_exits_2_with_the_reason(self):
        code, out, err = run_cli(
            "--model-dir", MODEL_DIR, "--image", os.path.join(DEFAULT_OUT, "images", "garbage.bin"),
            "--instruction", "x",
        )
        self.assertEqual((code, out), (2, ""))
        self.assertIn("cannot decode image", err)

    def test_too_long_instruction_exits_2(self):
        code, _, err = run_cli(
            "--model-dir", MODEL_DIR, "--image", os.path.join(DEFAULT_OUT, "images", "rgb.png"),
            "--instruction", "what " * 70,
        )
        self.assertEqual(code, 2)
        self.assertIn("more than the model's 64: shorten it", err)


class CheckpointReferenceTest(unittest.TestCase):
    """A checkpoint folder gives the same answer as the preset whose weights it holds."""

    def test_checkpoint_matches_preset(self):
        import tempfile

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from test_checkpoint import write_checkpoint  # the export's own checkpoint-folder writer

        from instructblip_export.reference import ReferencePipeline

        image = os.path.join(DEFAULT_OUT, "images", "rgb.png")
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "instructblip-tiny")
            write_checkpoint(folder, "tiny-vicuna", special_map={"bos_token": "</s>", "eos_token": "</s>",
                                                                 "unk_token": "<unk>", "pad_token": "<pad>"})
            from_checkpoint = ReferencePipeline.from_checkpoint(folder)
            got = from_checkpoint.run([image], "What is in the image?", max_new_tokens=5, num_beams=2)
        expected = ReferencePipeline.from_preset("tiny-vicuna", seed=7).run(
            [image], "What is in the image?", max_new_tokens=5, num_beams=2
        )
        self.assertEqual(got["model"], "instructblip-tiny")
        self.assertEqual(dict(got, model=None), dict(expected, model=None))


if __name__ == "__main__":
    unittest.main()
