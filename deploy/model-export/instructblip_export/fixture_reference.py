"""golden/<model>/reference.json: end-to-end cases, each `expected` exactly what `export.py reference` prints."""
import os

from . import golden

TOLERANCE = 1e-4

# (name, images, instruction, params, candidates); params override nothing implicitly: all five are given
_GEN = "max_new_tokens min_new_tokens num_beams length_penalty repetition_penalty".split()


def _params(max_new, min_new, beams, lp, rp):
    return dict(zip(_GEN, (max_new, min_new, beams, lp, rp)))


CASES = (
    ("greedy_rp15", ["rgba.png"], "How many people are there?", _params(12, 1, 1, 1.0, 1.5), None),
    ("greedy_rp10", ["rgb.png"], "What is in the image?", _params(8, 1, 1, 1.0, 1.0), None),
    ("greedy_min_new_tokens", ["exif-rotate6.jpg"], "What kind of animal is this?", _params(12, 9, 1, 1.0, 1.5), None),
    ("beam3_lp10_rp15", ["cmyk.jpg"], "Is there a cat?", _params(12, 1, 3, 1.0, 1.5), None),
    ("beam3_lp06_rp10", ["cmyk.jpg"], "Is there a cat?", _params(12, 1, 3, 0.6, 1.0), None),
    ("beam3_lp10_short", ["baseline.jpg"], "Describe the image.", _params(6, 1, 3, 1.0, 1.5), None),
    ("beam3_lp06_bmp", ["rgb.bmp"], "What color is the sky?", _params(10, 2, 3, 0.6, 1.5), None),
    (
        "video_two_frames_greedy",
        ["rgb.png", "progressive.jpg"],
        "What is happening?",
        _params(10, 1, 1, 1.0, 1.5),
        None,
    ),
    ("video_two_frames_beam", ["grey.png", "two-frames.gif"], "Describe the image.", _params(8, 1, 3, 1.0, 1.0), None),
    ("rank_three", ["palette.png"], "Is there a cat?", _params(12, 1, 1, 1.0, 1.5), ["yes", "no", "a small cat"]),
    (
        "rank_video",
        ["grey16.png", "lossless.webp"],
        "What color is the sky?",
        _params(12, 1, 1, 1.0, 1.5),
        ["blue", "white clouds", "dark"],
    ),
    # Lossy WebP (VP8): Pillow decodes it with libwebp's fancy chroma upsampling, which the engine must match.
    ("greedy_lossy_webp", ["lossy.webp"], "What is in the image?", _params(12, 1, 1, 1.0, 1.5), None),
)


def _pipeline(fixtures_dir, model_name):
    from .reference import ReferencePipeline

    model_dir = os.path.join(fixtures_dir, model_name)
    if os.path.exists(os.path.join(model_dir, "manifest.json")):
        return ReferencePipeline.from_model_dir(model_dir)
    return ReferencePipeline.from_preset(model_name)


def build_cases(fixtures_dir, model_name):
    pipeline = _pipeline(fixtures_dir, model_name)
    cases = []
    for name, images, instruction, params, candidates in CASES:
        paths = [os.path.join(fixtures_dir, "images", i) for i in images]
        expected = pipeline.run(paths, instruction, candidates=candidates, **params)
        cases.append(
            {
                "name": name,
                "images": [f"images/{i}" for i in images],
                "instruction": instruction,
                "params": params,
                "candidates": list(candidates) if candidates else None,
                "expected": expected,
            }
        )
    return cases


def write_reference(fixtures_dir, model_name):
    """Write golden/<model>/reference.json; returns its path."""
    doc = {"model": model_name, "tolerance": TOLERANCE, "cases": build_cases(fixtures_dir, model_name)}
    path = os.path.join(fixtures_dir, "golden", model_name, "reference.json")
    golden.write_json(path, doc, indent=1)
    return path
