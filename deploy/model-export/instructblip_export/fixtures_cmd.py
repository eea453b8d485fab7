"""`export.py fixtures`: regenerate the committed tiny fixtures and golden files (byte-identical on rerun).

fixtures/images/               small input images, good and bad (fixture_images.py)
fixtures/golden/preprocess.json + golden/preprocess/*.png      resized RGB uint8 at sizes 32 and 224
fixtures/tiny-vicuna/, fixtures/tiny-flant5/                    model directories (P1's export, fp32)
fixtures/tiny-vicuna-fp16/                                     the same tiny-vicuna exported as float16
fixtures/golden/<model>/stages.json, reference.json            stage-level and end-to-end cases
"""
import os

import numpy as np
from PIL import Image

from . import fixture_images, golden, preprocess

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
PREPROCESS_SIZES = (32, 224)
MODELS = ("tiny-vicuna", "tiny-flant5")
STEPS = ("images", "preprocess", "models", "stages", "reference")


def add_arguments(parser):
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixtures folder (default: %(default)s)")
    parser.add_argument(
        "--only",
        action="append",
        choices=STEPS,
        help="regenerate only these parts (repeatable; default: all, in order)",
    )
    parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=MODELS, help="models to (re)build the golden files of"
    )


def golden_png_name(image_name, size):
    stem = image_name.replace(".", "_")
    return f"golden/preprocess/{stem}-{size}.png"


def write_preprocess_goldens(out_dir, sizes=PREPROCESS_SIZES):
    """golden/preprocess.json and one PNG per (good image, size); returns the JSON object."""
    cases = []
    bad = []
    decoded = []
    for name in fixture_images.GOOD_IMAGES:
        img = preprocess.open_image(os.path.join(out_dir, "images", name))
        for size in sizes:
            resized = preprocess.resize_rgb(img, size)
            rel = golden_png_name(name, size)
            path = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(resized, "RGB").save(path, format="PNG", optimize=False, compress_level=9)
            cases.append({"image": f"images/{name}", "size": size, "resized": rel, "oriented_size": list(img.size)})
        if name.endswith(".webp"):
            # The decoded pixels themselves, so that the decoder is checked exactly, before any resize.
            rel = f"golden/decoded/{name.replace('.', '_')}.png"
            path = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(np.asarray(img), "RGB").save(path, format="PNG", optimize=False, compress_level=9)
            decoded.append({"image": f"images/{name}", "decoded": rel})
    for name, why in fixture_images.BAD_IMAGES.items():
        bad.append({"image": f"images/{name}", "why": why})
    doc = {
        "note": "resized = PIL convert('RGB') after EXIF orientation, then resize((size, size), BICUBIC); "
        "oriented_size = [width, height] after orientation; decoded = the full-size RGB after decoding",
        "cases": cases,
        "decoded": decoded,
        "bad_images": bad,
    }
    golden.write_json(os.path.join(out_dir, "golden", "preprocess.json"), doc, indent=1)
    return doc


def pixel_values(out_dir, image_names, size):
    """[len(image_names), 3, size, size] float32 of fixture images with the default normalization."""
    return np.stack([preprocess.preprocess(os.path.join(out_dir, "images", n), size) for n in image_names])


def run(args) -> int:
    out = os.path.abspath(args.out)
    steps = args.only or list(STEPS)
    if "images" in steps:
        good, bad = fixture_images.write_images(os.path.join(out, "images"))
        print(f"images: {len(good)} good, {len(bad)} bad -> {os.path.join(out, 'images')}")
    if "preprocess" in steps:
        doc = write_preprocess_goldens(out)
        print(f"preprocess: {len(doc['cases'])} cases -> {os.path.join(out, 'golden', 'preprocess.json')}")
    if "models" in steps:
        from . import fixture_models

        for model in args.models:
            fixture_models.export_model(model, os.path.join(out, model))
            print(f"model: {model} -> {os.path.join(out, model)}")
        fp16_dir = os.path.join(out, fixture_models.FLOAT16_MODEL)
        fixture_models.export_float16_model(fp16_dir)
        print(f"model: {fixture_models.FLOAT16_MODEL} -> {fp16_dir}")
    if "stages" in steps:
        from . import fixture_stages

        for model in args.models:
            path = fixture_stages.write_stages(out, model)
            print(f"stages: {model} -> {path}")
    if "reference" in steps:
        from . import fixture_reference

        for model in args.models:
            path = fixture_reference.write_reference(out, model)
            print(f"reference: {model} -> {path}")
    return 0
