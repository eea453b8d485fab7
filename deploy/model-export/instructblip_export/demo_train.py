"""`export.py train-demo`: train a tiny InstructBLIP on the synthetic shapes task (demo_task.py) and write an HF
checkpoint folder, which `export.py export --checkpoint DIR` turns into a model directory.

The model has the real architecture (ViT, instruction-aware Q-Former reading the instruction's tokens, language
projection, a small LLaMA or T5) at a tiny size, trained from scratch in two phases, as InstructBLIP builds on a
pretrained, frozen ViT: first the ViT alone on a dense layout target of the scenes (`pretrain_vision`), then, with
the ViT frozen, the Q-Former, projection and LLM on the instructions. Tokenizers are WordPiece with the task's whole
words plus letters, so any instruction still tokenizes. Deterministic given the seed and the number of threads (CPU
float sums depend on how work is split).
"""
import argparse
import json
import math
import os
import random
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch.nn import functional as F

from . import checkpoint, demo_task, preprocess
from .configs import InstructBlipConfig, LlamaConfig, QFormerConfig, T5Config, VisionConfig
from .modeling import InstructBlipModel, RMSNorm
from .tokenization import (
    FLANT5_SPECIALS,
    QFORMER_SPECIALS,
    VICUNA_SPECIALS,
    Recipe,
    WordPieceTokenizer,
    load_tokenizer,
)

IMAGE_SIZE = 48
PATCH_SIZE = 8
HIDDEN = 64
LAYERS = 2
QUERIES = 8
# peak learning rate of both phases, per family: the T5 learns more slowly at the LLaMA's 2.5e-3 (answer loss 0.37
# after 9000 steps) and not at all at 5e-3; at 1e-3 it learns (see README)
LEARNING_RATES = {"vicuna": 2.5e-3, "flant5": 1e-3}
SINUSOIDAL_POSITIONS = False  # 2-D sine/cosine start for the ViT position embeddings (tried; see README)
PRETRAIN_SHARE = 1 / 3  # share of --steps that first trains the ViT alone on the scene layout (0: none)
LAYOUT_CELLS = 4  # layout target: per patch, the class of each of LAYOUT_CELLS x LAYOUT_CELLS cells
LAYOUT_CENTRES = True  # also per patch: the shape whose centre is in it
LAYOUT_PLACES = True  # also per patch covered by a shape: its column and row (linear regression)
AUX_LAYOUT_WEIGHT = 0.0  # weight of the layout loss kept beside the answer loss after the pretraining (unfrozen ViT)
FREEZE_VISION = True  # after the pretraining the ViT is frozen, as InstructBLIP freezes its pretrained ViT
EVAL_EVERY = 500  # steps between held-out checks in the log (0: none; they do not change the weights)
FAMILIES = ("vicuna", "flant5")
DEFAULT_STEPS = {"vicuna": 9000, "flant5": 9000}
BATCH = 48
TRAIN_SCENES = 12000
# the task of each training row, drawn uniformly from this mix: position is asked twice as often as the others, as
# it is the one the model learns last (with an even mix Vicuna's teacher-forced check stayed at 0.25 on it)
TRAINING_TASK_MIX = ("caption", "colour", "count", "position", "position", "yesno", "choice")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="checkpoint folder to write")
    parser.add_argument("--family", choices=FAMILIES, default="vicuna", help="LLM family (default: vicuna)")
    parser.add_argument("--steps", type=int, help="optimizer steps, vision pretraining included (default: 9000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the initial weights (default 0)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def demo_config(family: str, qformer_vocab: int, llm_vocab: int) -> InstructBlipConfig:
    vision = VisionConfig(
        hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=4,
        image_size=IMAGE_SIZE, patch_size=PATCH_SIZE,
    )
    qformer = QFormerConfig(
        vocab_size=qformer_vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=4,
        intermediate_size=2 * HIDDEN, max_position_embeddings=64, cross_attention_frequency=1,
        encoder_hidden_size=HIDDEN,
    )
    if family == "vicuna":
        text = LlamaConfig(
            vocab_size=llm_vocab, hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, num_hidden_layers=LAYERS,
            num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, bos_token_id=1, eos_token_id=2, pad_token_id=3,
        )
    else:
        text = T5Config(
            vocab_size=llm_vocab, d_model=HIDDEN, d_kv=HIDDEN // 4, d_ff=2 * HIDDEN, num_layers=LAYERS,
            num_decoder_layers=LAYERS, num_heads=4,
            feed_forward_proj="gated-gelu", tie_word_embeddings=False, n_positions=128,
        )
    return InstructBlipConfig(vision_config=vision, qformer_config=qformer, text_config=text, num_query_tokens=QUERIES)


def demo_vocabulary(specials) -> List[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = list(specials) + list(letters) + list("0123456789") + list(".,?!:;'-")
    vocab += ["##" + c for c in letters]
    for w in demo_task.vocabulary_words():
        if w not in vocab:
            vocab.append(w)
    return vocab


def write_tokenizers(folder: str, family: str) -> None:
    """The checkpoint's tokenizer files, as an HF checkpoint has them."""
    os.makedirs(os.path.join(folder, "qformer_tokenizer"), exist_ok=True)
    qformer = WordPieceTokenizer(demo_vocabulary(QFORMER_SPECIALS), unk_token="[UNK]", special_tokens=QFORMER_SPECIALS)
    qformer.save(os.path.join(folder, "qformer_tokenizer", "tokenizer.json"))
    _write_json(
        os.path.join(folder, "qformer_tokenizer", "special_tokens_map.json"),
        {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
         "mask_token": "[MASK]"},
    )
    if family == "vicuna":
        llm = WordPieceTokenizer(demo_vocabulary(VICUNA_SPECIALS), unk_token="<unk>", special_tokens=VICUNA_SPECIALS)
        special = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        config = dict(special, add_bos_token=True, add_eos_token=False)
    else:
        llm = WordPieceTokenizer(demo_vocabulary(FLANT5_SPECIALS), unk_token="<unk>", special_tokens=FLANT5_SPECIALS)
        special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        config = dict(special)
    llm.save(os.path.join(folder, "tokenizer.json"))
    _write_json(os.path.join(folder, "special_tokens_map.json"), special)
    _write_json(os.path.join(folder, "tokenizer_config.json"), config)


def _write_json(path: str, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def write_preprocessor_config(folder: str) -> None:
    _write_json(
        os.path.join(folder, "preprocessor_config.json"),
        {
            "do_convert_rgb": True,
            "do_normalize": True,
            "do_rescale": True,
            "do_resize": True,
            "image_mean": list(preprocess.DEFAULT_MEAN),
            "image_std": list(preprocess.DEFAULT_STD),
            "resample": 3,
            "rescale_factor": 1.0 / 255.0,
            "size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        },
    )


@torch.no_grad()
def init_trainable(model: torch.nn.Module, seed: int) -> None:
    """Small normal weights (std fan_in^-1/2, embeddings and learned tokens 0.02), zero biases, unit norms."""
    generator = torch.Generator().manual_seed(seed)
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if isinstance(module, (torch.nn.LayerNorm, RMSNorm)):
                param.fill_(1.0 if name == "weight" else 0.0)
            elif name in ("bias", "q_bias", "v_bias"):
                param.zero_()
            elif isinstance(module, torch.nn.Embedding) or name in (
                    "class_embedding", "position_embedding", "query_tokens"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.02)
            else:
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=generator) * fan_in**-0.5)
    if SINUSOIDAL_POSITIONS and isinstance(model, InstructBlipModel):
        embeddings = model.vision_model.embeddings
        embeddings.position_embedding.copy_(sinusoidal_positions(embeddings.position_embedding.shape[1:]))


def sinusoidal_positions(shape) -> torch.Tensor:
    """2-D sine/cosine position codes for the ViT's patch grid (half the channels for rows, half for columns;
    zeros for the class token), amplitude 0.5: the patches' places are distinct from the first step."""
    positions, hidden = shape
    grid = int(round(math.sqrt(positions - 1)))
    quarter = hidden // 4
    freq = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    coords = torch.arange(grid, dtype=torch.float32)
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    parts = []
    for c in (ys.reshape(-1), xs.reshape(-1)):
        angles = c[:, None] * freq[None, :]
        parts += [torch.sin(angles), torch.cos(angles)]
    codes = torch.cat(parts, dim=1)
    out = torch.zeros(positions, hidden)
    out[1:, : codes.shape[1]] = 0.5 * codes
    return out.unsqueeze(0)


class Batcher:
    """Training batches: random scenes of a pre-rendered pool, a random task and template for each row."""

    def __init__(self, recipe: Recipe, family: str, seed: int, scenes: int):
        self.recipe = recipe
        self.family = family
        self.rng = random.Random(seed + 1)
        scene_rng = random.Random(seed)
        self.scenes = [demo_task.random_scene(scene_rng) for _ in range(scenes)]
        pixels = [preprocess.resize_rgb(preprocess.open_image(demo_task.render(s)), IMAGE_SIZE) for s in self.scenes]
        self.pixels = torch.from_numpy(np.stack([preprocess.normalize(p) for p in pixels]))
        self.layouts = torch.stack([patch_layout(s) for s in self.scenes])
        self.special = recipe.special_tokens
        self._cache: Dict[str, tuple] = {}

    def _ids(self, instruction: str):
        if instruction not in self._cache:
            self._cache[instruction] = (self.recipe.qformer_ids(instruction), self.recipe.prompt_ids(instruction))
        return self._cache[instruction]

    def next(self, size: int):
        idx = [self.rng.randrange(len(self.scenes)) for _ in range(size)]
        rows = []
        for i in idx:
            task = self.rng.choice(TRAINING_TASK_MIX)
            ex = demo_task.make_example(self.rng, self.scenes[i], task, held_out=False)
            q, p = self._ids(ex.instruction)
            rows.append((q, p, self.recipe.candidate_ids(ex.answer)))  # answer ids + EOS
        return idx, rows


def patch_layout(scene: demo_task.Scene) -> torch.Tensor:
    """The layout target of a scene per ViT patch: [patches, LAYOUT_CELLS^2 + 2] classes, patches in the ViT's
    row-major order: the layout class of each cell (row-major within the patch), then the layout class of the shape
    whose centre is in the patch (0: none), then the patch's own index (so its place stays in its features)."""
    grid = IMAGE_SIZE // PATCH_SIZE
    cells = torch.tensor(demo_task.layout(scene, grid * LAYOUT_CELLS), dtype=torch.int64)
    cells = cells.reshape(grid, LAYOUT_CELLS, grid, LAYOUT_CELLS).permute(0, 2, 1, 3)
    cells = cells.reshape(grid * grid, LAYOUT_CELLS * LAYOUT_CELLS)
    centres = torch.zeros(grid * grid, 1, dtype=torch.int64)
    for shape in scene.shapes:
        row, col = shape.y * grid // demo_task.RENDER_SIZE, shape.x * grid // demo_task.RENDER_SIZE
        centres[row * grid + col, 0] = demo_task.layout_class(shape)
    places = torch.arange(grid * grid, dtype=torch.int64).unsqueeze(1)
    return torch.cat([cells, centres, places], dim=1)


class LayoutHead(torch.nn.Module):
    """A linear read-out of the scene's layout from the ViT's patch features (pretraining only; not exported)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.cells = LAYOUT_CELLS * LAYOUT_CELLS
        self.linear = torch.nn.Linear(hidden, (self.cells + 1) * demo_task.LAYOUT_CLASSES)
        self.place = torch.nn.Linear(hidden, 2)

    def loss(self, image_embeds: torch.Tensor, layouts: torch.Tensor) -> torch.Tensor:
        patches = image_embeds[:, 1:]  # not the class token
        logits = self.linear(patches).reshape(-1, demo_task.LAYOUT_CLASSES)
        targets = layouts[:, :, : self.cells + (1 if LAYOUT_CENTRES else 0)]
        logits = logits.reshape(*layouts.shape[:2], self.cells + 1, -1)[:, :, : targets.shape[2]]
        loss = F.cross_entropy(logits.reshape(-1, demo_task.LAYOUT_CLASSES), targets.reshape(-1))
        if LAYOUT_PLACES:
            # a shape's patches: their column and row, from -1 to 1; the background's: 0. A query that averages
            # over patches reads where the shapes are, as the background adds nothing
            grid = IMAGE_SIZE // PATCH_SIZE
            index = layouts[:, :, -1]
            place = torch.stack([index % grid, index // grid], dim=-1).float() * (2 / (grid - 1)) - 1
            shape = (layouts[:, :, : self.cells] > 0).any(dim=-1, keepdim=True)
            loss = loss + F.mse_loss(self.place(patches), place * shape)
        return loss


def pretrain_vision(model: InstructBlipModel, head: LayoutHead, batcher: "Batcher", steps: int,
                    seed: int, lr: float) -> Optional[float]:
    """Trains the ViT (and the head) alone on the dense layout target of `patch_layout` (which shape, colour and
    size covers each small cell of each patch, which shape is centred in it, where the covered patches are) and
    returns the final running layout loss. InstructBLIP's ViT comes pretrained (EVA-CLIP); this is the demo's
    vision pretraining, on the same synthetic scenes."""
    if steps <= 0:
        return None
    rng = random.Random(seed + 2)
    optimization = Optimization(list(model.vision_model.parameters()) + list(head.parameters()), steps, lr)
    started = time.time()
    for step in range(steps):
        idx = [rng.randrange(len(batcher.scenes)) for _ in range(BATCH)]
        running = optimization.step(head.loss(model.vision_model(batcher.pixels[idx]), batcher.layouts[idx]))
        if step % 100 == 0 or step == steps - 1:
            _log(f"vision step {step}/{steps} layout loss {running:.4f} ({time.time() - started:.0f} s)")
    return running


class Optimization:
    """AdamW (peak learning rate `lr`, linear warm-up, then cosine decay to zero over `steps`) with gradient
    clipping, and the running loss for the log."""

    def __init__(self, params: List[torch.nn.Parameter], steps: int, lr: float):
        self.params = params
        self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _warmup_cosine(min(100, steps // 10), steps))
        self.running = None

    def step(self, loss: torch.Tensor) -> float:
        """One update on `loss`; returns the running loss."""
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.schedule.step()
        self.running = loss.item() if self.running is None else 0.98 * self.running + 0.02 * loss.item()
        return self.running


def _warmup_cosine(warmup: int, steps: int):
    def factor(step):  # linear warm-up, then cosine decay to zero
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    return factor


def _pad(seqs, value):
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), value, dtype=torch.int64)
    mask = torch.zeros((len(seqs), width), dtype=torch.int64)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s, dtype=torch.int64)
        mask[r, : len(s)] = 1
    return ids, mask


def loss_on_batch(model: InstructBlipModel, pixels, rows, special, image_embeds=None) -> torch.Tensor:
    """Cross-entropy of the answer tokens (and EOS) given image and instruction, as the runtime runs the model."""
    logits, labels = answer_logits(model, pixels, rows, special, image_embeds)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def answer_logits(model: InstructBlipModel, pixels, rows, special, image_embeds=None):
    """The LLM's logits, teacher-forced on the answers, and the labels (-100 outside the answer tokens and EOS).
    `image_embeds`: the ViT's output for `pixels` when it is already known (a frozen ViT)."""
    if image_embeds is None:
        image_embeds = model.vision_model(pixels)
    q_ids, q_mask = _pad([r[0] for r in rows], special["qformer_pad"])
    queries = model.query_output(image_embeds, q_ids, q_mask)
    num_q = queries.shape[1]
    lm = model.language_model
    if model.llm_family == "decoder_only":
        seqs = [r[1] + r[2][:-1] for r in rows]
        ids, mask = _pad(seqs, special["llm_pad"])
        embeds = torch.cat([queries, lm.embed(ids)], dim=1)
        full_mask = torch.cat([torch.ones((len(rows), num_q), dtype=torch.int64), mask], dim=1)
        positions = torch.arange(embeds.shape[1]).unsqueeze(0).expand(len(rows), -1)
        logits, _ = lm(embeds, full_mask, positions, lm.empty_past(len(rows)))
        labels = torch.full(full_mask.shape, -100, dtype=torch.int64)
        for r, (_, prompt, answer) in enumerate(rows):
            start = num_q + len(prompt) - 1  # the last prompt position predicts the first answer token
            labels[r, start : start + len(answer)] = torch.tensor(answer)
    else:
        enc_ids, enc_mask = _pad([r[1] for r in rows], special["llm_pad"])
        enc_embeds = torch.cat([queries, lm.embed(enc_ids)], dim=1)
        enc_full = torch.cat([torch.ones((len(rows), num_q), dtype=torch.int64), enc_mask], dim=1)
        states = lm.encoder.encode(enc_embeds, enc_full)
        dec_ids, dec_mask = _pad([[special["decoder_start"]] + r[2][:-1] for r in rows], special["llm_pad"])
        hidden, _ = lm.decoder.decode(lm.embed(dec_ids), dec_mask, enc_full, None, lm.decoder.cross_kv(states))
        logits = lm.logits(hidden)
        labels = torch.full(dec_mask.shape, -100, dtype=torch.int64)
        for r, (_, _, answer) in enumerate(rows):
            labels[r, : len(answer)] = torch.tensor(answer)
    return logits, labels


class HeldOutCheck:
    """Exact-match accuracy per task type on the first held-out scenes of eval-demo, teacher-forced: an answer is
    right when every answer token and EOS is the argmax given the ones before, which is what greedy decoding
    answers (choice questions are scored like open ones here, stricter than ranking). For the training log only:
    per task type, the accuracy in the training templates and in the held-out ones."""

    def __init__(self, recipe: Recipe, scenes: int = 30, seed: int = 1000):
        self.special = recipe.special_tokens
        self.pixels, self.rows, self.tasks, self.held_out = [], [], [], []
        for scene, examples in demo_task.evaluation_examples(seed, scenes):
            image = preprocess.normalize(preprocess.resize_rgb(preprocess.open_image(demo_task.render(scene)),
                                                               IMAGE_SIZE))
            for ex in examples:
                self.pixels.append(image)
                self.rows.append((recipe.qformer_ids(ex.instruction), recipe.prompt_ids(ex.instruction),
                                  recipe.candidate_ids(ex.answer)))
                self.tasks.append(ex.task)
                self.held_out.append(ex.held_out_template)
        self.pixels = torch.from_numpy(np.stack(self.pixels))

    @torch.no_grad()
    def accuracy(self, model: InstructBlipModel) -> Dict[str, Tuple[float, float]]:
        was_training = model.training
        model.eval()
        logits, labels = answer_logits(model, self.pixels, self.rows, self.special)
        model.train(was_training)
        right = ((logits.argmax(-1) == labels) | (labels == -100)).all(dim=1).tolist()
        table = {}
        for task in demo_task.TASKS:
            shares = []
            for held_out in (False, True):
                hits = [ok for ok, t, h in zip(right, self.tasks, self.held_out) if t == task and h == held_out]
                shares.append(round(sum(hits) / len(hits), 2) if hits else float("nan"))
            table[task] = tuple(shares)
        return table


def train(out: str, family: str, steps: int, seed: int, threads: int, scenes: int = TRAIN_SCENES) -> Dict:
    """Trains from scratch and writes the checkpoint folder `out`; returns what training.json records."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    os.makedirs(out, exist_ok=True)
    write_tokenizers(out, family)
    write_preprocessor_config(out)
    qtok = load_tokenizer(os.path.join(out, "qformer_tokenizer", "tokenizer.json"))
    ltok = load_tokenizer(os.path.join(out, "tokenizer.json"))
    config = demo_config(family, qtok.vocab_size, ltok.vocab_size)
    _write_json(os.path.join(out, "config.json"), config.to_hf_dict())
    fields = checkpoint.tokenizer_recipe(out, config)
    recipe = Recipe(qtok, ltok, fields["special_tokens"], fields["prompt"], append_eos=True)
    model = InstructBlipModel(config)
    init_trainable(model, seed)
    model.train()
    started = time.time()
    batcher = Batcher(recipe, family, seed, scenes)
    check = HeldOutCheck(recipe) if EVAL_EVERY else None
    _log(f"rendered {scenes} scenes in {time.time() - started:.1f} s; "
         f"{sum(p.numel() for p in model.parameters())} parameters")
    head = LayoutHead(HIDDEN)
    init_trainable(head, seed + 3)
    vision_steps = int(steps * PRETRAIN_SHARE)
    layout_loss = pretrain_vision(model, head, batcher, vision_steps, seed, LEARNING_RATES[family])
    steps -= vision_steps
    pool_embeds = None
    if FREEZE_VISION:  # as InstructBLIP: the pretrained ViT stays as it is; its features are computed once
        model.vision_model.requires_grad_(False)
        with torch.no_grad():
            pool_embeds = torch.cat([model.vision_model(p) for p in batcher.pixels.split(256)])
    params = [p for p in model.parameters() if p.requires_grad]
    params += list(head.parameters()) if AUX_LAYOUT_WEIGHT and not FREEZE_VISION else []
    optimization = Optimization(params, steps, LEARNING_RATES[family])
    for step in range(steps):
        idx, rows = batcher.next(BATCH)
        pixels, layouts = batcher.pixels[idx], batcher.layouts[idx]
        embeds = pool_embeds[idx] if pool_embeds is not None else None
        loss = loss_on_batch(model, pixels, rows, recipe.special_tokens, embeds)
        if AUX_LAYOUT_WEIGHT and not FREEZE_VISION:
            loss = loss + AUX_LAYOUT_WEIGHT * head.loss(model.vision_model(pixels), layouts)
        running = optimization.step(loss)
        if step % 100 == 0 or step == steps - 1:
            _log(f"step {step}/{steps} loss {running:.4f} ({time.time() - started:.0f} s)")
        if check and ((step + 1) % EVAL_EVERY == 0 or step == steps - 1):
            _log(f"step {step + 1} held-out (teacher-forced; training, held-out templates) {check.accuracy(model)}")
    model.eval()
    checkpoint.write_safetensors(os.path.join(out, "model.safetensors"), model.state_dict())
    info = {"family": family, "steps": vision_steps + steps, "vision_steps": vision_steps, "seed": seed,
            "threads": threads, "learning_rate": LEARNING_RATES[family], "batch": BATCH, "train_scenes": scenes,
            "final_loss": round(running, 4),
            "final_layout_loss": None if layout_loss is None else round(layout_loss, 4),
            "seconds": round(time.time() - started, 1)}
    _write_json(os.path.join(out, "training.json"), info)
    return info


def run(args: argparse.Namespace) -> int:
    steps = args.steps or DEFAULT_STEPS[args.family]
    info = train(args.out, args.family, steps, args.seed, args.threads)
    _log(f"wrote {args.out} ({info['seconds']} s); export it with: export.py export --checkpoint {args.out} "
         "--out MODEL_DIR")
    return 0
