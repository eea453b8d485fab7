"""Logits processors, greedy and beam search on scripted fake sessions (no model), ranking helpers."""
import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import generation as g  # noqa: E402


class FakeSession:
    """Logits by token sequence from a table (default for sequences not in it); cache = the sequences."""

    def __init__(self, table, default):
        self.table = {tuple(k): np.asarray(v, dtype=np.float32) for k, v in table.items()}
        self.default = np.asarray(default, dtype=np.float32)
        self.rows = None
        self.calls = []

    def _logits(self):
        return np.stack([self.table.get(tuple(r), self.default) for r in self.rows])

    def prefill(self):
        self.rows = [[]]
        return self._logits()

    def step(self, tokens, parents):
        self.calls.append((list(tokens), list(parents)))
        self.rows = [self.rows[p] + [t] for p, t in zip(parents, tokens)]
        return self._logits()


def logs(*probs):
    return [math.log(p) for p in probs]


class ProcessorTest(unittest.TestCase):
    def test_repetition_penalty_divides_positive_and_multiplies_negative_scores_once_per_id(self):
        x = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, -1.0, 2.0, -4.0]], np.float32)
        out = g.apply_repetition_penalty(x, [[0, 1, 1], [3]], 2.0)
        np.testing.assert_array_equal(out, np.array([[0.5, -4.0, 0.5, 3.0], [0.0, -1.0, 2.0, -8.0]], np.float32))
        np.testing.assert_array_equal(x[0], [1.0, -2.0, 0.5, 3.0])  # input untouched

    def test_repetition_penalty_of_one_changes_nothing(self):
        x = np.array([[1.0, -2.0]], np.float32)
        np.testing.assert_array_equal(g.apply_repetition_penalty(x, [[0, 1]], 1.0), x)

    def test_min_new_tokens_masks_eos_until_reached(self):
        x = np.zeros((2, 3), np.float32)
        self.assertEqual(g.apply_min_new_tokens(x, 1, 2, eos_id=2)[:, 2].tolist(), [-np.inf, -np.inf])
        np.testing.assert_array_equal(g.apply_min_new_tokens(x, 2, 2, eos_id=2), x)

    def test_processor_order_penalty_then_min_tokens(self):
        params = g.GenerationParams(max_new_tokens=5, min_new_tokens=1, num_beams=1, repetition_penalty=2.0)
        out = g.process_logits(np.array([[4.0, -1.0, 3.0]], np.float32), [[0, 1]], 0, params, eos_id=2)
        np.testing.assert_array_equal(out, np.array([[2.0, -2.0, -np.inf]], np.float32))

    def test_log_softmax(self):
        out = g.log_softmax(np.array([[0.0, 0.0], [1.0, 0.0]], np.float32))
        np.testing.assert_allclose(out, [[-0.6931472, -0.6931472], [-0.31326166, -1.3132616]], rtol=1e-6)
        self.assertEqual(out.dtype, np.float32)

    def test_ties_go_to_the_lowest_index(self):
        self.assertEqual(g.argmax_lowest(np.array([1.0, 3.0, 3.0], np.float32)), 1)
        idx, val = g.top_k_flat(np.array([[1, 3, 3], [3, 0, 2]], np.float32), 4)
        self.assertEqual(idx.tolist(), [1, 2, 3, 5])
        self.assertEqual(val.tolist(), [3.0, 3.0, 3.0, 2.0])

    def test_invalid_params_are_refused(self):
        with self.assertRaisesRegex(ValueError, "max_new_tokens must be at least 1"):
            g.GenerationParams(max_new_tokens=0)
        with self.assertRaisesRegex(ValueError, "num_beams must be at least 1"):
            g.GenerationParams(num_beams=0)


class GreedyTest(unittest.TestCase):
    TABLE = {
        (): [1.0, 2.0, 0.5, 0.0],
        (1,): [1.0, 2.0, 1.5, 0.0],  # 2.0 of the repeated id 1 becomes 1.0 under penalty 2
        (1, 2): [3.0, 3.0, 0.0, 2.0],  # tie 0/1 (1 penalized anyway): 0
        (1, 2, 0): [0.0, 0.0, 0.0, 5.0],  # EOS
    }
    DEFAULT = [0.0, 0.0, 0.0, 5.0]

    def params(self, **kw):
        base = dict(max_new_tokens=6, min_new_tokens=0, num_beams=1, length_penalty=1.0, repetition_penalty=2.0)
        base.update(kw)
        return g.GenerationParams(**base)

    def test_stops_at_eos_without_returning_it(self):
        r = g.greedy(FakeSession(self.TABLE, self.DEFAULT), self.params(), eos_id=3)
        self.assertEqual((r.token_ids, r.finish_reason), ([1, 2, 0], "eos"))

    def test_without_penalty_the_repeated_token_wins(self):
        r = g.greedy(FakeSession(self.TABLE, self.DEFAULT), self.params(repetition_penalty=1.0), eos_id=3)
        self.assertEqual(r.token_ids[:2], [1, 1])

    def test_min_new_tokens_defers_eos_until_max_length(self):
        session = FakeSession(self.TABLE, self.DEFAULT)
        r = g.greedy(session, self.params(min_new_tokens=4, max_new_tokens=4), eos_id=3)
        self.assertEqual((r.token_ids, r.finish_reason), ([1, 2, 0, 0], "length"))
        self.assertEqual(len(session.calls), 3)  # no step after the last token

    def test_penalty_prefix_counts_as_generated(self):
        r = g.greedy(FakeSession(self.TABLE, self.DEFAULT), self.params(max_new_tokens=1), eos_id=3, penalty_prefix=[1])
        self.assertEqual(r.token_ids, [0])  # 2.0 -> 1.0 ties with id 0, lowest id wins


class BeamSearchTest(unittest.TestCase):
    # logits are log-probabilities, so log_softmax leaves them (almost) unchanged; EOS = 3
    TABLE = {
        (): logs(0.1, 0.5, 0.3, 0.1),
        (1,): logs(0.05, 0.05, 0.1, 0.8),
        (2,): logs(0.7, 0.1, 0.1, 0.1),
        (2, 0): logs(0.1, 0.1, 0.1, 0.7),
        (1, 2): logs(0.25, 0.25, 0.25, 0.25),
    }
    DEFAULT = logs(0.25, 0.25, 0.25, 0.25)

    def run_beam(self, length_penalty, max_new_tokens=6):
        params = g.GenerationParams(
            max_new_tokens=max_new_tokens,
            min_new_tokens=0,
            num_beams=2,
            length_penalty=length_penalty,
            repetition_penalty=1.0,
        )
        session = FakeSession(self.TABLE, self.DEFAULT)
        return g.beam_search(session, params, eos_id=3), session

    def test_short_hypothesis_wins_with_length_penalty_one(self):
        r, session = self.run_beam(1.0)
        # step 0: beams [1] .5, [2] .3 (the tie 0/EOS at .1 ranks 0 first); step 1: [1]+EOS .4 finishes (n = 2),
        # beams [2,0] .21, [1,2] .05; step 2: [2,0]+EOS .147 finishes (n = 3): 2 finished, best running
        # log(.021)/3 = -1.288 <= worst log(.147)/3 = -0.639 -> done
        self.assertEqual((r.token_ids, r.finish_reason), ([1], "eos"))
        self.assertAlmostEqual(r.score, math.log(0.4) / 2, places=5)
        self.assertEqual(session.calls, [([1, 2], [0, 0]), ([0, 2], [1, 0])])

    def test_longer_hypothesis_wins_with_length_penalty_two(self):
        r, _ = self.run_beam(2.0)
        self.assertEqual((r.token_ids, r.finish_reason), ([2, 0], "eos"))
        self.assertAlmostEqual(r.score, math.log(0.147) / 9, places=5)

    def test_max_new_tokens_adds_running_beams_normalized_by_their_length(self):
        r, _ = self.run_beam(1.0, max_new_tokens=1)
        # after one step the running beams [1] (.5) and [2] (.3) join the (empty) finished set
        self.assertEqual((r.token_ids, r.finish_reason), ([1], "length"))
        self.assertAlmostEqual(r.score, math.log(0.5), places=5)

    def test_eos_outside_the_first_k_is_ignored(self):
        table = {(): logs(0.5, 0.3, 0.15, 0.05)}
        params = g.GenerationParams(max_new_tokens=1, min_new_tokens=0, num_beams=2, repetition_penalty=1.0)
        r = g.beam_search(FakeSession(table, self.DEFAULT), params, eos_id=3)
        self.assertEqual((r.token_ids, r.finish_reason), ([0], "length"))


class HypothesesTest(unittest.TestCase):
    def test_keeps_the_k_best_and_tracks_the_worst(self):
        h = g._Hypotheses(2, 1.0)
        h.add([1], -2.0, 2, "eos")  # -1.0
        h.add([2], -1.0, 2, "eos")  # -0.5
        h.add([3], -3.0, 1, "eos")  # -3.0: not better than the worst, dropped
        h.add([4], -0.4, 2, "eos")  # -0.2: evicts -1.0
        self.assertEqual([t for _, t, _ in h.items], [[2], [4]])
        self.assertEqual(h.worst, -0.5)
        self.assertEqual(h.best()[1], [4])
        self.assertTrue(h.is_done(-1.0, 2))
        self.assertFalse(h.is_done(-0.9, 2))


class RankingTest(unittest.TestCase):
    def test_score_candidate_sums_target_log_probs(self):
        rows = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]], np.float32))
        total, mean = g.score_candidate(rows, [0, 2])
        self.assertAlmostEqual(total, math.log(0.5) + math.log(0.7), places=6)
        self.assertAlmostEqual(mean, total / 2, places=12)

    def test_rank_order_best_first_ties_in_input_order(self):
        self.assertEqual(g.rank_order([-1.0, -0.5, -1.0, -3.0]), [1, 0, 2, 3])


if __name__ == "__main__":
    unittest.main()
