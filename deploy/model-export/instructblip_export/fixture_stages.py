"""golden/<model>/stages.json: stage-level cases computed with the PyTorch stage modules (what is exported).

Every stage at batch 1, 2 and 3 and at least two sequence lengths; decoder steps take their past (and cross KV)
from the outputs of the preceding prefill / decoder_init case; decoder-only batches are left padded, Q-Former
text and encoder inputs right padded.
"""
import os

import numpy as np
import torch

from . import golden
from .fixture_images import GOOD_IMAGES

TOLERANCE = 1e-4
SEED = 7


def _ids(rng, vocab, shape, low=4):
    return torch.from_numpy(rng.integers(low, vocab, size=shape).astype(np.int64))


def _left_mask(lengths, total):
    return torch.tensor([[0] * (total - n) + [1] * n for n in lengths], dtype=torch.int64)


def _right_mask(lengths, total):
    return torch.tensor([[1] * n + [0] * (total - n) for n in lengths], dtype=torch.int64)


def _positions(mask):
    """The number of real positions before each position (format rule for position_ids)."""
    return torch.cumsum(mask, dim=1) - mask


class _Cases:
    def __init__(self):
        self.cases = []

    def add(self, name, file, names_in, inputs, names_out, outputs):
        if len(names_in) != len(inputs) or len(names_out) != len(outputs):
            raise AssertionError(f"{name}: names and tensors differ in number")
        self.cases.append(
            {
                "name": name,
                "file": file,
                "inputs": {n: golden.tensor_json(t) for n, t in zip(names_in, inputs)},
                "outputs": {n: golden.tensor_json(t) for n, t in zip(names_out, outputs)},
            }
        )


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


@torch.no_grad()
def build_cases(model_name, model, fixtures_dir):
    from .fixtures_cmd import pixel_values
    from .stages import load_stages

    rng = np.random.default_rng(SEED)
    stages = load_stages(model)
    cfg = model.config
    size = cfg.vision_config.image_size
    qvocab = cfg.qformer_config.vocab_size
    lvocab = cfg.text_config.vocab_size
    cases = _Cases()

    def run(stage_key, name, inputs):
        stage = stages[stage_key]
        outs = _as_tuple(stage(*inputs))
        cases.add(name, f"{stage_key}.onnx", stage.input_names(), inputs, stage.output_names(), outs)
        return outs

    # vision encoder: real fixture images
    images = list(GOOD_IMAGES)
    embeds_by_batch = {}
    for b in (1, 2, 3):
        pv = torch.from_numpy(pixel_values(fixtures_dir, images[b - 1 : 2 * b - 1], size))
        embeds_by_batch[b] = run("vision_encoder", f"vision_encoder_b{b}", (pv,))[0]

    # Q-Former: text of different lengths, right padded
    for b, lengths in ((1, [5]), (2, [8, 5]), (3, [6, 3, 6]), (2, [11, 11])):
        t = max(lengths)
        ids = _ids(rng, qvocab, (b, t))
        ids[:, 0] = 2  # [CLS]
        mask = _right_mask(lengths, t)
        for row, n in enumerate(lengths):
            ids[row, n - 1] = 3  # [SEP]
            ids[row, n:] = 0  # [PAD]
        run("qformer", f"qformer_b{b}_t{t}", (embeds_by_batch[b], ids, mask))

    # token embedding
    for b, t in ((1, 3), (2, 7), (3, 5)):
        run("embed_tokens", f"embed_tokens_b{b}_t{t}", (_ids(rng, lvocab, (b, t), low=0),))

    embed = stages["embed_tokens"]
    if model.llm_family == "decoder_only":
        pad = 3
        for b, lengths in ((1, [7]), (2, [9, 6]), (3, [5, 2, 4]), (2, [3, 3])):
            t = max(lengths)
            mask = _left_mask(lengths, t)
            ids = _ids(rng, lvocab, (b, t))
            ids[mask == 0] = pad
            embeds = embed(ids)
            past = tuple(t_ for pair in model.language_model.empty_past(b) for t_ in pair)
            outs = run("decoder", f"decoder_prefill_b{b}_t{t}", (embeds, mask, _positions(mask)) + past)
            present = outs[1:]
            # two decode steps with the cache: one token, then two tokens at once
            for new in (1, 2):
                step_ids = _ids(rng, lvocab, (b, new))
                p = mask.shape[1]
                step_mask = torch.cat([mask, torch.ones((b, new), dtype=torch.int64)], dim=1)
                positions = _positions(step_mask)[:, p:]
                outs = run(
                    "decoder",
                    f"decoder_step_b{b}_p{p}_t{new}",
                    (embed(step_ids), step_mask, positions) + tuple(present),
                )
                present, mask = outs[1:], step_mask
    else:
        encoder_cases = {}
        for b, lengths in ((1, [7]), (2, [9, 6]), (3, [5, 2, 4])):
            e = max(lengths)
            mask = _right_mask(lengths, e)
            ids = _ids(rng, lvocab, (b, e))
            ids[mask == 0] = 0
            states = run("encoder", f"encoder_b{b}_e{e}", (embed(ids), mask))[0]
            encoder_cases[b] = (states, mask)
        layers = stages["decoder"].num_layers
        for b, lengths in ((1, [1]), (2, [4, 2]), (3, [3, 3, 1])):
            t = max(lengths)
            states, enc_mask = encoder_cases[b]
            dmask = _left_mask(lengths, t)
            dids = _ids(rng, lvocab, (b, t))
            dids[dmask == 0] = 0
            for row, n in enumerate(lengths):
                dids[row, t - n] = 0  # decoder_start
            outs = run("decoder_init", f"decoder_init_b{b}_t{t}", (dids, dmask, states, enc_mask))
            present, cross = outs[1 : 1 + 2 * layers], outs[1 + 2 * layers :]
            for new in (1, 2):
                step_ids = _ids(rng, lvocab, (b, new))
                p = dmask.shape[1]
                step_mask = torch.cat([dmask, torch.ones((b, new), dtype=torch.int64)], dim=1)
                outs = run(
                    "decoder",
                    f"decoder_step_b{b}_p{p}_t{new}",
                    (step_ids, step_mask, enc_mask) + tuple(present) + tuple(cross),
                )
                present, dmask = outs[1:], step_mask
    return cases.cases


def write_stages(fixtures_dir, model_name, model=None):
    """Write golden/<model>/stages.json; returns its path."""
    if model is None:
        from . import presets

        model = presets.build_preset_model(model_name)
    doc = {"model": model_name, "tolerance": TOLERANCE, "cases": build_cases(model_name, model, fixtures_dir)}
    for case in doc["cases"]:
        for kind in ("inputs", "outputs"):
            for name, t in case[kind].items():
                if any(v != v for v in t["data"]):
                    raise AssertionError(f"{case['name']}: {kind} {name} has NaN")
    path = os.path.join(fixtures_dir, "golden", model_name, "stages.json")
    golden.write_json(path, doc)
    return path
