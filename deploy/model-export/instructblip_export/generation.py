"""Generation semantics of docs/model-format.md ("Generation semantics", "Ranking"), batch of one.

Three layers, kept apart so each is testable without a model:
- logits processors: small pure functions on float32 numpy arrays [rows, V];
- searches (`greedy`, `beam_search`) over a *session*: `prefill()` gives the logits [1, V] of the last prompt
  position; `step(tokens, parents)` feeds one token per row, after reordering the cache rows by `parents`
  (indices into the previous step's rows; at the first step all 0, which expands the prefill to K beams), and
  gives logits [len(tokens), V];
- sessions over the stage modules (decoder_only, encoder_decoder) and teacher-forced ranking.

Everything is float32 like the runtime. Ties: argmax takes the lowest id; beam top-2K takes the lower flat index.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch

NEG_INF = np.float32(-np.inf)
INITIAL_DEAD_BEAM = np.float32(-1e9)


# ---------------------------------------------------------------------------------------------------------------
# Logits processors
# ---------------------------------------------------------------------------------------------------------------


def apply_repetition_penalty(scores, penalty_sets, penalty):
    """HF repetition penalty: for each id in a row's penalty set, s -> s * r if s < 0 else s / r."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if penalty == 1.0:
        return scores
    r = np.float32(penalty)
    for row, ids in enumerate(penalty_sets):
        idx = np.array(sorted(set(int(i) for i in ids)), dtype=np.int64)
        if idx.size == 0:
            continue
        s = scores[row, idx]
        scores[row, idx] = np.where(s < 0, s * r, s / r).astype(np.float32)
    return scores


def apply_min_new_tokens(scores, num_generated, min_new_tokens, eos_id):
    """While fewer than min_new_tokens tokens have been generated, the EOS score is -inf."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if num_generated < min_new_tokens:
        scores[:, eos_id] = NEG_INF
    return scores


def process_logits(scores, penalty_sets, num_generated, params, eos_id):
    """The processor chain in the order of the format: repetition penalty, then min new tokens."""
    scores = apply_repetition_penalty(scores, penalty_sets, params.repetition_penalty)
    return apply_min_new_tokens(scores, num_generated, params.min_new_tokens, eos_id)


def log_softmax(logits):
    """float32 log_softmax over the last axis: x - max - log(sum(exp(x - max)))."""
    x = np.asarray(logits, dtype=np.float32)
    m = np.max(x, axis=-1, keepdims=True)
    shifted = (x - m).astype(np.float32)
    return (shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True, dtype=np.float32))).astype(np.float32)


def argmax_lowest(row):
    """Index of the maximum; ties go to the lowest index (np.argmax returns the first)."""
    return int(np.argmax(row))


def top_k_flat(scores, k):
    """(flat indices, values) of the k best entries of a 2-D array; ties go to the lower flat index."""
    flat = np.asarray(scores, dtype=np.float32).reshape(-1)
    order = np.argsort(-flat, kind="stable")[:k]
    return order, flat[order]


# ---------------------------------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationParams:
    """The request's generation parameters (greedy when num_beams == 1)."""

    max_new_tokens: int = 256
    min_new_tokens: int = 1
    num_beams: int = 5
    length_penalty: float = 1.0
    repetition_penalty: float = 1.5

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1")
        if self.min_new_tokens < 0:
            raise ValueError("min_new_tokens must not be negative")
        if self.num_beams < 1:
            raise ValueError("num_beams must be at least 1")
        if self.repetition_penalty <= 0:
            raise ValueError("repetition_penalty must be positive")


@dataclass
class SearchResult:
    """Generated ids (no EOS, no decoder start), why generation stopped, and the normalized score (beam only)."""

    token_ids: List[int]
    finish_reason: str
    score: Optional[float] = None


def greedy(session, params: GenerationParams, eos_id: int, penalty_prefix: Sequence[int] = ()) -> SearchResult:
    """Greedy decoding: argmax of the processed logits (lowest id on ties) until EOS or max_new_tokens."""
    logits = session.prefill()
    generated: List[int] = []
    while True:
        scores = process_logits(logits, [list(penalty_prefix) + generated], len(generated), params, eos_id)
        token = argmax_lowest(scores[0])
        if token == eos_id:
            return SearchResult(generated, "eos")
        generated.append(token)
        if len(generated) >= params.max_new_tokens:
            return SearchResult(generated, "length")
        logits = session.step([token], [0])


class _Hypotheses:
    """The K best finished hypotheses (HF BeamHypotheses with early_stopping=False)."""

    def __init__(self, num_beams, length_penalty):
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.items = []  # (normalized score, token ids, finish reason), in insertion order
        self.worst = 1e9

    def add(self, tokens, sum_logprob, length, reason):
        score = float(sum_logprob) / (length**self.length_penalty)
        if len(self.items) < self.num_beams or score > self.worst:
            self.items.append((score, list(tokens), reason))
            if len(self.items) > self.num_beams:
                ranked = sorted((s, i) for i, (s, _, _) in enumerate(self.items))
                del self.items[ranked[0][1]]
                self.worst = ranked[1][0]
            else:
                self.worst = min(score, self.worst)

    def is_done(self, best_running_sum, length):
        if len(self.items) < self.num_beams:
            return False
        return float(best_running_sum) / (length**self.length_penalty) <= self.worst

    def best(self):
        best = None
        for item in self.items:  # ties: the earliest added
            if best is None or item[0] > best[0]:
                best = item
        return best


def beam_search(session, params: GenerationParams, eos_id: int, penalty_prefix: Sequence[int] = ()) -> SearchResult:
    """Beam search of the format (HF order: log_softmax, processors, + running sums; top 2K walked in order)."""
    k = params.num_beams
    logits = np.repeat(session.prefill(), k, axis=0)
    beam_tokens: List[List[int]] = [[] for _ in range(k)]
    beam_sums = np.full((k,), INITIAL_DEAD_BEAM, dtype=np.float32)
    beam_sums[0] = 0.0
    finished = _Hypotheses(k, params.length_penalty)
    step = 0  # tokens generated so far by every running beam
    while True:
        logprobs = log_softmax(logits)
        penalty_sets = [list(penalty_prefix) + t for t in beam_tokens]
        scores = process_logits(logprobs, penalty_sets, step, params, eos_id)
        scores = (scores + beam_sums[:, None]).astype(np.float32)
        vocab = scores.shape[1]
        flat_idx, flat_val = top_k_flat(scores, 2 * k)
        next_tokens, next_parents, next_sums = [], [], []
        for rank, (fi, val) in enumerate(zip(flat_idx, flat_val)):
            parent, token = int(fi) // vocab, int(fi) % vocab
            if token == eos_id:
                if rank >= k:
                    continue
                finished.add(beam_tokens[parent], val, step + 1, "eos")
            else:
                next_tokens.append(token)
                next_parents.append(parent)
                next_sums.append(val)
            if len(next_tokens) == k:
                break
        beam_tokens = [beam_tokens[p] + [t] for p, t in zip(next_parents, next_tokens)]
        beam_sums = np.asarray(next_sums, dtype=np.float32)
        step += 1
        if finished.is_done(float(np.max(beam_sums)), step):
            break
        if step >= params.max_new_tokens:
            for tokens, s in zip(beam_tokens, beam_sums):
                finished.add(tokens, s, step, "length")
            break
        logits = session.step(next_tokens, next_parents)
    score, tokens, reason = finished.best()
    return SearchResult(tokens, reason, score)


def search(session, params: GenerationParams, eos_id: int, penalty_prefix: Sequence[int] = ()) -> SearchResult:
    """The strategy is chosen once per request: greedy for one beam, beam search otherwise."""
    if params.num_beams == 1:
        return greedy(session, params, eos_id, penalty_prefix)
    return beam_search(session, params, eos_id, penalty_prefix)


# ---------------------------------------------------------------------------------------------------------------
# Sessions over the stage modules
# ---------------------------------------------------------------------------------------------------------------


def _ones(rows, cols):
    return torch.ones((rows, cols), dtype=torch.int64)


def _last_logits(logits):
    return logits[:, -1, :].detach().to(torch.float32).numpy().astype(np.float32)


class DecoderOnlySession:
    """decoder.onnx semantics: prefill with [query outputs; prompt embeddings], then one token per step."""

    def __init__(self, stages, query_outputs, prompt_ids):
        self.embed = stages["embed_tokens"]
        self.decoder = stages["decoder"]
        self.num_layers = self.decoder.num_layers
        prompt = self.embed(torch.tensor([prompt_ids], dtype=torch.int64))
        self.prefix = torch.cat([query_outputs, prompt], dim=1)
        self.past = None

    def _empty_past(self, rows):
        pairs = self.decoder.language_model.empty_past(rows)
        return tuple(t for pair in pairs for t in pair)

    def forward(self, embeds, past):
        rows, new = embeds.shape[0], embeds.shape[1]
        p = past[0].shape[2]
        mask = _ones(rows, p + new)
        positions = torch.arange(p, p + new, dtype=torch.int64).unsqueeze(0).expand(rows, -1)
        out = self.decoder(embeds, mask, positions, *past)
        return out[0], tuple(out[1:])

    @torch.no_grad()
    def prefill(self):
        logits, self.past = self.forward(self.prefix, self._empty_past(1))
        return _last_logits(logits)

    @torch.no_grad()
    def step(self, tokens, parents):
        idx = torch.tensor(parents, dtype=torch.int64)
        past = tuple(t.index_select(0, idx) for t in self.past)
        embeds = self.embed(torch.tensor([[t] for t in tokens], dtype=torch.int64))
        logits, self.past = self.forward(embeds, past)
        return _last_logits(logits)

    @torch.no_grad()
    def teacher_forced_logprobs(self, target_ids):
        """log_softmax rows predicting each of target_ids after the prompt (one pass, no cache)."""
        targets = torch.tensor([target_ids], dtype=torch.int64)
        embeds = torch.cat([self.prefix, self.embed(targets[:, :-1])], dim=1)
        logits, _ = self.forward(embeds, self._empty_past(1))
        start = self.prefix.shape[1] - 1
        rows = logits[0, start : start + len(target_ids), :].to(torch.float32).numpy()
        return log_softmax(rows)


class EncoderDecoderSession:
    """encoder.onnx + decoder_init.onnx + decoder.onnx semantics."""

    def __init__(self, stages, query_outputs, prompt_ids, decoder_start):
        self.embed = stages["embed_tokens"]
        self.encoder = stages["encoder"]
        self.decoder_init = stages["decoder_init"]
        self.decoder = stages["decoder"]
        self.num_layers = self.decoder.num_layers
        self.decoder_start = decoder_start
        prompt = self.embed(torch.tensor([prompt_ids], dtype=torch.int64))
        embeds = torch.cat([query_outputs, prompt], dim=1)
        self.encoder_length = embeds.shape[1]
        with torch.no_grad():
            self.encoder_states = self.encoder(embeds, _ones(1, self.encoder_length))
        self.past = None
        self.cross = None

    def _init(self, decoder_ids):
        t = len(decoder_ids)
        out = self.decoder_init(
            torch.tensor([decoder_ids], dtype=torch.int64),
            _ones(1, t),
            self.encoder_states,
            _ones(1, self.encoder_length),
        )
        n = 2 * self.num_layers
        return out[0], tuple(out[1 : 1 + n]), tuple(out[1 + n : 1 + 2 * n])

    @torch.no_grad()
    def prefill(self):
        logits, self.past, self.cross = self._init([self.decoder_start])
        return _last_logits(logits)

    @torch.no_grad()
    def step(self, tokens, parents):
        idx = torch.tensor(parents, dtype=torch.int64)
        past = tuple(t.index_select(0, idx) for t in self.past)
        cross = tuple(t.index_select(0, idx) for t in self.cross)
        rows = len(tokens)
        p = past[0].shape[2]
        out = self.decoder(
            torch.tensor([[t] for t in tokens], dtype=torch.int64),
            _ones(rows, p + 1),
            _ones(rows, self.encoder_length),
            *past,
            *cross,
        )
        self.past, self.cross = tuple(out[1:]), cross
        return _last_logits(out[0])

    @torch.no_grad()
    def teacher_forced_logprobs(self, target_ids):
        logits, _, _ = self._init([self.decoder_start] + list(target_ids[:-1]))
        return log_softmax(logits[0].to(torch.float32).numpy())


def score_candidate(logprob_rows, target_ids):
    """(sum_logprob, mean_logprob) of target ids under teacher forcing (sum in float64 of float32 terms)."""
    terms = [float(logprob_rows[i, t]) for i, t in enumerate(target_ids)]
    total = float(np.sum(np.asarray(terms, dtype=np.float64)))
    return total, total / len(target_ids)


def rank_order(sums: Sequence[float]) -> List[int]:
    """Candidate indices sorted by sum_logprob, best first; ties keep input order."""
    return sorted(range(len(sums)), key=lambda i: -sums[i])
