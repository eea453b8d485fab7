"""Writes reference-searches.json: greedy and beam search cases decided by the Python reference.

Run from the repository root with Debian's python3 (numpy, torch):
    /usr/bin/python3 operators/src/test/resources/io/instructblip/engine/generate/make_reference_searches.py

Each case is a fake model (logits as a deterministic function of a row's generated ids; half of the cases use
logits on a 0.5 grid so that ties are common), generation parameters, and what
deploy/model-export/instructblip_export/generation.py returns. `table` holds the logits of every history the
reference asked for; ReferenceSearchesTest replays them through the Java searches, which must ask for the same
histories and return the same tokens.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join("deploy", "model-export"))

import numpy as np  # noqa: E402
from instructblip_export.generation import GenerationParams, beam_search, greedy  # noqa: E402

EOS = 2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference-searches.json")


class FakeSession:
    def __init__(self, seed, vocab, on_grid, eos_bias):
        self.seed, self.vocab, self.on_grid, self.eos_bias = seed, vocab, on_grid, eos_bias
        self.table = {}
        self.rows = None

    def logits_for(self, history):
        key = json.dumps(history)
        if key not in self.table:
            h = int(hashlib.sha256(f"{self.seed}:{key}".encode()).hexdigest()[:8], 16)
            rng = np.random.default_rng(h)
            if self.on_grid:
                x = rng.integers(-4, 5, size=self.vocab) * 0.5
            else:
                x = rng.normal(size=self.vocab) * 2.0
            x[EOS] += self.eos_bias * len(history)
            # Three decimals keep the file small; both sides round the same decimal to float32.
            self.table[key] = [float(v) for v in np.round(x, 3)]
        return np.asarray(self.table[key], dtype=np.float64).astype(np.float32)

    def prefill(self):
        self.rows = [[]]
        return self.logits_for([])[None, :]

    def step(self, tokens, parents):
        # At the first step the prefill row stands for all K initial beams.
        self.rows = [self.rows[p if len(self.rows) > 1 else 0] + [t] for p, t in zip(parents, tokens)]
        return np.stack([self.logits_for(r) for r in self.rows])


def main():
    rng = np.random.default_rng(0)
    cases = []
    for case in range(200):
        vocab = int(rng.integers(6, 14))
        k = int(rng.integers(1, 6))
        max_new = int(rng.integers(1, 9))
        min_new = min(int(rng.integers(0, 3)), max_new)
        params = GenerationParams(
            max_new_tokens=max_new,
            min_new_tokens=min_new,
            num_beams=k,
            length_penalty=float(rng.choice([0.0, 1.0, 2.0, -1.0])),
            repetition_penalty=float(rng.choice([1.0, 1.5, 0.7])),
        )
        prefix = [0] if case % 3 == 0 else []
        session = FakeSession(case, vocab, case % 2 == 1, float(rng.choice([0.0, 0.5, 1.5])))
        search = beam_search if k > 1 else greedy
        result = search(session, params, EOS, prefix)
        cases.append(
            {
                "params": {
                    "max_new_tokens": params.max_new_tokens,
                    "min_new_tokens": params.min_new_tokens,
                    "num_beams": k,
                    "length_penalty": params.length_penalty,
                    "repetition_penalty": params.repetition_penalty,
                },
                "eos": EOS,
                "prefix": prefix,
                "table": session.table,
                "expected": {
                    "token_ids": result.token_ids,
                    "finish_reason": result.finish_reason,
                    "score": result.score,
                },
            }
        )
    with open(OUT, "w") as f:
        json.dump({"generator": "make_reference_searches.py", "cases": cases}, f, separators=(",", ":"))
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
