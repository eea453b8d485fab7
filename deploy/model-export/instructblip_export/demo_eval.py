"""`export.py eval-demo`: the PyTorch reference's accuracy per task type on the demo task's held-out set, and the
golden file the Java tests check the runtime against (answers question for question, accuracy per task type).

The held-out set is scenes of their own seed (never trained on), one question of each task type per scene,
every other scene in the held-out templates. Its images are written as JPEG files (shared by both families);
the golden file holds, per question, the instruction, the true answer and the reference's answer: the greedy
text and token ids, or for choice questions the ranked candidates with their scores.
"""
import argparse
import json
import os
import sys
from collections import Counter, OrderedDict

from . import demo_task
from .reference import ReferencePipeline

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
EVAL_SEED = 1000
EVAL_SCENES = 60
# Greedy, no repetition penalty, short answers: what the Java tests request too.
GENERATION = {"num_beams": 1, "max_new_tokens": 20, "min_new_tokens": 1, "repetition_penalty": 1.0,
              "length_penalty": 1.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="DIR", help="checkpoint folder of train-demo")
    parser.add_argument("--name", required=True, help="model name, e.g. demo-vicuna (the golden file's folder)")
    parser.add_argument("--fixtures", default=FIXTURES, help="fixtures folder (default: %(default)s)")
    parser.add_argument("--scenes", type=int, default=EVAL_SCENES, help="held-out scenes (default %(default)s)")
    parser.add_argument("--seed", type=int, default=EVAL_SEED, help="held-out scene seed (default %(default)s)")


def write_images(fixtures: str, scenes) -> list:
    """fixtures/demo-heldout/scene-NNN.jpg; returns the paths relative to the fixtures folder."""
    folder = os.path.join(fixtures, "demo-heldout")
    os.makedirs(folder, exist_ok=True)
    names = []
    for i, (scene, _) in enumerate(scenes):
        rel = f"demo-heldout/scene-{i:03d}.jpg"
        with open(os.path.join(fixtures, rel), "wb") as f:
            f.write(demo_task.render(scene))
        names.append(rel)
    return names


def write_samples(fixtures: str) -> list:
    """fixtures/demo-samples/*.jpg: the hand-picked scenes `local` submits (not in the training pool)."""
    folder = os.path.join(fixtures, "demo-samples")
    os.makedirs(folder, exist_ok=True)
    names = []
    for name, scene in demo_task.sample_scenes().items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(demo_task.render(scene))
        names.append(name)
    return names


def accuracy_table(questions) -> "OrderedDict[str, dict]":
    table = OrderedDict()
    for task in demo_task.TASKS + ("all",):
        rows = [q for q in questions if task in ("all", q["task"])]
        held = [q for q in rows if q["held_out_template"]]
        table[task] = {
            "questions": len(rows),
            "accuracy": _share(rows),
            "seen_templates": _share([q for q in rows if not q["held_out_template"]]),
            "held_out_templates": _share(held),
            "majority_answer": _majority(rows) if task != "all" else None,
        }
    return table


def _majority(rows):
    """The accuracy of always giving the most frequent true answer: the bar a model that ignores the image meets."""
    counts = Counter(q["answer"] for q in rows)
    return round(counts.most_common(1)[0][1] / len(rows), 4) if rows else None


def _share(rows):
    return round(sum(1 for q in rows if q["correct"]) / len(rows), 4) if rows else None


def evaluate(checkpoint: str, name: str, fixtures: str, scenes_count: int, seed: int) -> dict:
    pipeline = ReferencePipeline.from_checkpoint(checkpoint)
    scenes = demo_task.evaluation_examples(seed, scenes_count)
    images = write_images(fixtures, scenes)
    write_samples(fixtures)
    questions = []
    for image, (_, examples) in zip(images, scenes):
        with open(os.path.join(fixtures, image), "rb") as f:
            data = f.read()
        for ex in examples:
            q = OrderedDict(
                [("image", image), ("task", ex.task), ("held_out_template", ex.held_out_template),
                 ("instruction", ex.instruction), ("answer", ex.answer)]
            )
            if ex.candidates:
                out = pipeline.run([data], ex.instruction, candidates=list(ex.candidates))
                q["candidates"] = list(ex.candidates)
                q["expected"] = {
                    "text": out["text"],
                    "ranked": [c["text"] for c in out["candidates"]],
                    "sum_logprobs": [c["sum_logprob"] for c in out["candidates"]],
                }
            else:
                out = pipeline.run([data], ex.instruction, **GENERATION)
                q["expected"] = {"text": out["text"], "token_ids": out["token_ids"]}
            q["correct"] = out["text"] == ex.answer
            questions.append(q)
    doc = OrderedDict(
        [
            ("note", "export.py eval-demo: the PyTorch reference on the demo task's held-out scenes; "
                     "`expected` is the reference's answer, `answer` the truth"),
            ("model", name),
            ("seed", seed),
            ("generation", GENERATION),
            ("accuracy", accuracy_table(questions)),
            ("questions", questions),
        ]
    )
    path = os.path.join(fixtures, "golden", name, "heldout.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return doc


def run(args: argparse.Namespace) -> int:
    doc = evaluate(args.checkpoint, args.name, os.path.abspath(args.fixtures), args.scenes, args.seed)
    print(f"{'task':10s} {'n':>4s} {'acc':>6s} {'seen':>6s} {'held-out':>8s} {'majority':>8s}")
    for task, row in doc["accuracy"].items():
        majority = "" if row["majority_answer"] is None else f"{row['majority_answer']:8.3f}"
        print(f"{task:10s} {row['questions']:4d} {row['accuracy']:6.3f} {row['seen_templates']:6.3f} "
              f"{row['held_out_templates']:8.3f} {majority:>8s}")
    print(f"wrote {os.path.join(args.fixtures, 'golden', args.name, 'heldout.json')}", file=sys.stderr)
    return 0
