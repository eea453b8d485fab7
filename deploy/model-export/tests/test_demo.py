"""The demo task generator and the demo training are deterministic; the committed demo files are what they write."""
import filecmp
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import checkpoint, demo_eval, demo_task, demo_train  # noqa: E402
from instructblip_export.tokenization import load_tokenizer  # noqa: E402

FIXTURES = demo_eval.FIXTURES


class DemoTaskTest(unittest.TestCase):
    def test_examples_and_images_are_identical_for_one_seed(self):
        a = demo_task.training_examples(7, 30)
        b = demo_task.training_examples(7, 30)
        self.assertEqual(a, b)
        self.assertEqual([demo_task.render(s) for s, _ in a], [demo_task.render(s) for s, _ in b])
        self.assertNotEqual(a, demo_task.training_examples(8, 30))

    def test_held_out_set_has_every_task_and_both_kinds_of_templates(self):
        scenes = demo_task.evaluation_examples(demo_eval.EVAL_SEED, 10)
        examples = [e for _, exs in scenes for e in exs]
        self.assertEqual(set(demo_task.TASKS), {e.task for e in examples})
        held_out = {e.template for e in examples if e.held_out_template}
        seen = {t for ts in demo_task.TRAIN_TEMPLATES.values() for t in ts}
        self.assertTrue(held_out)
        self.assertFalse(held_out & seen)

    def test_answers_are_true_of_the_scene(self):
        for scene, ex in demo_task.training_examples(3, 300):
            if ex.task == "count":
                self.assertIn(ex.answer, demo_task.NUMBERS)
            if ex.task == "choice":
                self.assertIn(ex.answer, ex.candidates)
                self.assertEqual(3, len(set(ex.candidates)))
            if ex.task == "caption":
                self.assertEqual(len(scene.shapes), ex.answer.count(" a ") + 1)
            if ex.task == "yesno":
                kind_colour = [(s.kind, s.colour) for s in scene.shapes]
                said = [w for w in ex.instruction.rstrip("?").split() if w in demo_task.COLOURS]
                self.assertIn(ex.answer, ("yes", "no"))
                self.assertTrue(said)

    def test_every_instruction_and_answer_tokenizes_without_unknown_tokens(self):
        with tempfile.TemporaryDirectory() as d:
            demo_train.write_tokenizers(d, "vicuna")
            llm = load_tokenizer(os.path.join(d, "tokenizer.json"))
            qformer = load_tokenizer(os.path.join(d, "qformer_tokenizer", "tokenizer.json"))
            for _, ex in demo_task.training_examples(5, 200) + [
                (s, e) for s, es in demo_task.evaluation_examples(5, 20) for e in es
            ]:
                for text in (ex.instruction, ex.answer):
                    self.assertNotIn(llm.vocab["<unk>"], llm.encode(text), text)
                    self.assertNotIn(qformer.vocab["[UNK]"], qformer.encode(text), text)
                self.assertEqual(ex.answer, llm.decode(llm.encode(ex.answer)))


class DemoTrainingTest(unittest.TestCase):
    def train_twice(self, family):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            demo_train.train(a, family, steps=3, seed=5, threads=1, scenes=16)
            demo_train.train(b, family, steps=3, seed=5, threads=1, scenes=16)
            for name in ("model.safetensors", "config.json", "tokenizer.json", "qformer_tokenizer/tokenizer.json"):
                self.assertTrue(filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name)
            model = checkpoint.load_model(a)  # an HF-layout checkpoint the export reads strictly
            self.assertEqual(demo_train.IMAGE_SIZE, model.config.vision_config.image_size)

    def test_sinusoidal_positions_give_every_patch_its_own_code_and_the_class_token_none(self):
        codes = demo_train.sinusoidal_positions((37, 64))[0]
        self.assertEqual((37, 64), tuple(codes.shape))
        self.assertEqual(0.0, float(codes[0].abs().sum()))
        patches = codes[1:]
        distances = (patches[:, None, :] - patches[None, :, :]).norm(dim=-1)
        self.assertGreater(float(distances[~torch.eye(36, dtype=torch.bool)].min()), 0.1)

    def test_layout_target_marks_the_cells_and_the_centre_patch_of_each_shape(self):
        w = demo_task.RENDER_SIZE
        square = demo_task.Shape("square", "blue", "large", w // 6, w // 2)
        scene = demo_task.Scene(demo_task.BACKGROUNDS[0], (square,), 1, 90)
        target = demo_train.patch_layout(scene)
        grid, cells = demo_train.IMAGE_SIZE // demo_train.PATCH_SIZE, demo_train.LAYOUT_CELLS ** 2
        self.assertEqual((grid * grid, cells + 2), tuple(target.shape))
        label = demo_task.layout_class(square)
        centre = (square.y * grid // w) * grid + square.x * grid // w
        self.assertEqual([label if p == centre else 0 for p in range(grid * grid)], target[:, cells].tolist())
        self.assertTrue((target[centre, :cells] == label).all())  # a large square covers its centre patch
        self.assertTrue((target[grid - 1, :cells] == 0).all())  # the top right patch is background
        self.assertEqual(list(range(grid * grid)), target[:, cells + 1].tolist())
        self.assertEqual(demo_task.LAYOUT_CLASSES - 1,
                         max(demo_task.layout_class(demo_task.Shape(k, c, s, 0, 0)) for k in demo_task.SHAPES
                             for c in demo_task.COLOURS for s in demo_task.SIZES))

    def test_vicuna_training_is_deterministic_and_writes_a_loadable_checkpoint(self):
        self.train_twice("vicuna")

    def test_flant5_training_is_deterministic_and_writes_a_loadable_checkpoint(self):
        self.train_twice("flant5")


class AccuracyTableTest(unittest.TestCase):
    def test_shares_per_template_kind_and_the_majority_answer(self):
        def q(task, answer, correct, held):
            return {"task": task, "answer": answer, "correct": correct, "held_out_template": held}

        questions = [q("colour", "red", True, False), q("colour", "red", False, True), q("colour", "blue", True, True),
                     q("count", "one", False, False)]
        table = demo_eval.accuracy_table(questions)
        self.assertEqual({"questions": 3, "accuracy": 0.6667, "seen_templates": 1.0, "held_out_templates": 0.5,
                          "majority_answer": 0.6667}, table["colour"])
        self.assertEqual(1.0, table["count"]["majority_answer"])
        self.assertEqual(0.0, table["count"]["accuracy"])
        self.assertIsNone(table["caption"]["accuracy"])
        self.assertEqual({"questions": 4, "accuracy": 0.5, "seen_templates": 0.5, "held_out_templates": 0.5,
                          "majority_answer": None}, table["all"])


@unittest.skipUnless(os.path.isdir(os.path.join(FIXTURES, "demo-samples")), "no committed demo files")
class CommittedDemoFilesTest(unittest.TestCase):
    def test_sample_and_held_out_images_are_what_the_generator_writes(self):
        with tempfile.TemporaryDirectory() as d:
            names = demo_eval.write_samples(d)
            for name in names:
                self.assertTrue(
                    filecmp.cmp(os.path.join(d, "demo-samples", name), os.path.join(FIXTURES, "demo-samples", name),
                                shallow=False), name)
            scenes = demo_task.evaluation_examples(demo_eval.EVAL_SEED, demo_eval.EVAL_SCENES)
            for rel in demo_eval.write_images(d, scenes):
                self.assertTrue(filecmp.cmp(os.path.join(d, rel), os.path.join(FIXTURES, rel), shallow=False), rel)


if __name__ == "__main__":
    unittest.main()
