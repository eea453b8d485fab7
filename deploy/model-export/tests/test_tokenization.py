"""WordPiece tokenizer, its decoder and the preset vocabularies (run from deploy/model-export:
`/usr/bin/python3 -m unittest discover -s tests`).

Expected ids of the preset tokenizers were checked against the Rust HF `tokenizers` library (DJL 0.38.0)
loading the same tokenizer.json files.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import tokenization as tk  # noqa: E402

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "##b", "b", ".", ",", "?", "'", "s", "t",
         "cafe", "n", "##s", "do", "not", "!", "中"]


def small():
    return tk.WordPieceTokenizer(VOCAB, unk_token="[UNK]", special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]"))


class NormalizerTest(unittest.TestCase):
    def test_clean_text_drops_controls_and_maps_white_space(self):
        self.assertEqual(tk.bert_normalize("a\x00b\ufffdc\u00add\te\u2028f"), "abcd e f")

    def test_strip_accents_then_lower_case(self):
        self.assertEqual(tk.bert_normalize("Café NAÏVE Ångström"), "cafe naive angstrom")

    def test_accents_kept_when_not_lower_casing(self):
        self.assertEqual(tk.bert_normalize("Café", lowercase=False), "Café")

    def test_cjk_characters_are_padded(self):
        self.assertEqual(tk.bert_normalize("ab中c"), "ab 中 c")

    def test_pre_tokenizer_splits_white_space_and_punctuation(self):
        self.assertEqual(tk.bert_pre_tokenize(" it's  a-b?\u3000¿x "), ["it", "'", "s", "a", "-", "b", "?", "¿", "x"])


class WordPieceTest(unittest.TestCase):
    def test_longest_match_first_with_continuations(self):
        self.assertEqual(small().tokenize("unaffable"), ["un", "##aff", "##able"])

    def test_unmatchable_rest_makes_the_whole_word_unknown(self):
        self.assertEqual(small().tokenize("unaffablex ab"), ["[UNK]", "a", "##b"])

    def test_word_over_max_chars_is_unknown(self):
        tok = tk.WordPieceTokenizer(VOCAB, special_tokens=("[UNK]",), max_input_chars_per_word=3)
        self.assertEqual(tok.tokenize("abab ab"), ["[UNK]", "a", "##b"])

    def test_punctuation_accents_and_cjk(self):
        self.assertEqual(small().encode("CAFÉ, 中!"), [16, 11, 22, 21])

    def test_special_tokens_are_matched_on_raw_text(self):
        self.assertEqual(small().encode("a[SEP]b [CLS]"), [7, 3, 9, 2])

    def test_decode_glues_pieces_and_cleans_punctuation_per_token(self):
        tok = small()
        self.assertEqual(tok.decode([4, 5, 6, 10, 7, 8, 11, 9, 12, 21]), "unaffable. ab, b?!")

    def test_decode_keeps_space_around_apostrophe_as_the_rust_decoder(self):
        # the Rust decoder cleans each token separately, so " ' " never matches (unlike Python BERT)
        self.assertEqual(small().encode("it's"), [1, 13, 14])
        self.assertEqual(small().decode([7, 13, 14]), "a ' s")

    def test_decode_skips_special_tokens_and_keeps_a_leading_piece(self):
        tok = small()
        self.assertEqual(tok.decode([2, 8, 7, 3, 0]), "##b a")
        self.assertEqual(tok.decode([2, 7, 3], skip_special_tokens=False), "[CLS] a [SEP]")

    def test_json_round_trip(self):
        tok = small()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            tok.save(path)
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            again = tk.WordPieceTokenizer.load(path)
        self.assertEqual(data["model"]["type"], "WordPiece")
        self.assertEqual(data["normalizer"]["type"], "BertNormalizer")
        self.assertEqual(data["pre_tokenizer"], {"type": "BertPreTokenizer"})
        self.assertEqual(data["decoder"], {"type": "WordPiece", "prefix": "##", "cleanup": True})
        self.assertIsNone(data["post_processor"])
        self.assertEqual([t["content"] for t in data["added_tokens"]], ["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
        self.assertEqual(again.vocab, tok.vocab)
        self.assertEqual(again.encode("unaffable, ab"), tok.encode("unaffable, ab"))


class PresetTokenizerTest(unittest.TestCase):
    def test_fixed_special_ids(self):
        q, l = tk.preset_tokenizers("tiny-vicuna")
        self.assertEqual([q.vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")], [0, 1, 2, 3, 4])
        self.assertEqual([l.vocab[t] for t in ("<unk>", "<s>", "</s>", "<pad>")], [0, 1, 2, 3])
        _, t5 = tk.preset_tokenizers("tiny-flant5")
        self.assertEqual([t5.vocab[t] for t in ("<pad>", "</s>", "<unk>")], [0, 1, 2])

    def test_vocabulary_sizes(self):
        for name, sizes in (("tiny-vicuna", (128, 256)), ("small-flant5", (30522, 32000))):
            q, l = tk.preset_tokenizers(name)
            self.assertEqual((q.vocab_size, l.vocab_size), sizes)

    def test_ids_checked_against_the_rust_library(self):
        q, l = tk.preset_tokenizers("tiny-vicuna")
        self.assertEqual(l.encode("What is in the image?"), [109, 107, 108, 106, 111, 42])
        self.assertEqual(q.encode("What is in the image?"), [110, 108, 109, 107, 112, 43])
        self.assertEqual(
            l.encode("Héllo, WORLD!! zebra\u2019s </s>x"),
            [11, 69, 76, 76, 79, 41, 26, 79, 82, 76, 68, 43, 43, 29, 69, 66, 82, 65, 0, 22, 2, 27],
        )
        self.assertEqual(l.encode("it's a cat, isn't it?"), [121, 44, 22, 4, 129, 41, 107, 78, 44, 23, 121, 42])
        self.assertEqual(l.encode("CJK \u4e2d\u6587 ok"), [6, 74, 75, 0, 0, 18, 75])
        self.assertEqual(l.encode("a" * 101), [0])
        self.assertEqual(q.encode("[CLS] [SEP]"), [2, 3])
        self.assertEqual(l.decode(l.encode("it's a cat, isn't it?")), "it ' s a cat, isn ' t it?")

    def test_write_preset_tokenizers_is_deterministic_and_returns_manifest_fields(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            fields = tk.write_preset_tokenizers("tiny-flant5", a)
            tk.write_preset_tokenizers("tiny-flant5", b)
            for name in ("llm_tokenizer.json", "qformer_tokenizer.json"):
                with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
                    self.assertEqual(fa.read(), fb.read())
        self.assertEqual(fields["llm_vocab_size"], 256)
        self.assertEqual(fields["qformer_vocab_size"], 128)
        self.assertEqual(fields["special_tokens"]["llm_eos"], 1)
        self.assertEqual(fields["special_tokens"]["decoder_start"], 0)
        self.assertEqual(fields["prompt"]["llm"]["suffix_ids"], [1])
        self.assertEqual(fields["prompt"]["qformer"]["prefix_ids"], [2])

    def test_unknown_preset_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown preset 'huge-vicuna'"):
            tk.preset_tokenizers("huge-vicuna")


class RecipeTest(unittest.TestCase):
    def recipe(self, name="tiny-vicuna"):
        q, l = tk.preset_tokenizers(name)
        f = tk.preset_token_fields(name)
        return tk.Recipe(q, l, f["special_tokens"], f["prompt"])

    def test_vicuna_prompt_starts_with_the_bos_quirk(self):
        r = self.recipe()
        self.assertEqual(r.qformer_ids("What is in the image?"), [2, 110, 108, 109, 107, 112, 43, 3])
        self.assertEqual(r.prompt_ids("What is in the image?"), [2, 109, 107, 108, 106, 111, 42])

    def test_flant5_prompt_ends_with_eos(self):
        self.assertEqual(self.recipe("tiny-flant5").prompt_ids("yes")[-1], 1)

    def test_candidate_gets_eos(self):
        r = self.recipe()
        self.assertEqual(r.candidate_ids("a cat"), [4, 129, 2])

    def test_too_long_instruction_is_refused(self):
        with self.assertRaisesRegex(tk.InstructionTooLong, "more than the model's 64: shorten it"):
            self.recipe().qformer_ids("cat " * 63)


if __name__ == "__main__":
    unittest.main()
