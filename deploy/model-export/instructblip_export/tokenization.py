"""Tokenizers of the model directory and the token-level recipe of docs/model-format.md.

The runtime loads the `tokenizer.json` files written here with the Rust HF `tokenizers` library (through DJL).
`WordPieceTokenizer` re-implements exactly what that library does for a file with a `BertNormalizer`, a
`BertPreTokenizer`, a `WordPiece` model and a `WordPiece` decoder, so that Python and Java agree id for id:

- added (special) tokens are matched on the raw text first (leftmost, longest), never normalized;
- the rest is normalized (clean text, CJK padding, strip accents, lower case, in the Rust library's order),
  split on white space and punctuation, and each word is cut greedily longest-match-first into pieces
  (continuations carry `##`); a word over `max_input_chars_per_word` characters or with an unmatchable rest
  becomes the unknown token;
- decoding drops special tokens (when asked), glues `##` pieces, puts a space before every other token and applies
  the decoder's `cleanup` *per token* (as the Rust decoder does, not on the joined string as Python BERT did).
"""
import collections
import json
import os
import re
import unicodedata

# ---------------------------------------------------------------------------------------------------------------
# BERT normalizer and pre-tokenizer (the Rust `tokenizers` definitions)
# ---------------------------------------------------------------------------------------------------------------

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_whitespace(ch: str) -> bool:
    # Rust: '\t' | '\n' | '\r' or char::is_whitespace (the Unicode White_Space property)
    return ch in "\t\n\r" or _is_unicode_white_space(ch)


def _is_unicode_white_space(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x09 <= cp <= 0x0D
        or cp in (0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
        or 0x2000 <= cp <= 0x200A
    )


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def bert_normalize(text: str, clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True) -> str:
    """The `BertNormalizer` of the Rust library: clean, pad CJK, strip accents (NFD, drop Mn), lower-case."""
    if clean_text:
        text = "".join(
            " " if _is_whitespace(c) else c
            for c in text
            if not (ord(c) == 0 or ord(c) == 0xFFFD or _is_control(c))
        )
    if handle_chinese_chars:
        text = "".join(f" {c} " if _is_cjk(c) else c for c in text)
    if strip_accents is None:
        strip_accents = lowercase
    if strip_accents:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    if lowercase:
        text = text.lower()
    return text


def bert_pre_tokenize(text: str):
    """The `BertPreTokenizer`: split on white space (removed) and punctuation (each its own word)."""
    words = []
    current = []
    for c in text:
        if _is_unicode_white_space(c) or c in "\t\n\r":
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(c):
            if current:
                words.append("".join(current))
                current = []
            words.append(c)
        else:
            current.append(c)
    if current:
        words.append("".join(current))
    return words


# ---------------------------------------------------------------------------------------------------------------
# WordPiece tokenizer
# ---------------------------------------------------------------------------------------------------------------

_CLEANUP_RULES = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" do not", " don't"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def wordpiece_cleanup(text: str) -> str:
    """The `cleanup` of the Rust WordPiece decoder (applied to one token at a time)."""
    for old, new in _CLEANUP_RULES:
        text = text.replace(old, new)
    return text


class WordPieceTokenizer:
    """A BERT-style WordPiece tokenizer that reads and writes HF `tokenizer.json` and matches the Rust library."""

    def __init__(
        self,
        vocab,
        unk_token="[UNK]",
        special_tokens=(),
        lowercase=True,
        strip_accents=None,
        max_input_chars_per_word=100,
        prefix="##",
        cleanup=True,
    ):
        if isinstance(vocab, dict):
            self.vocab = dict(vocab)
        else:
            self.vocab = {tok: i for i, tok in enumerate(vocab)}
        if len(set(self.vocab.values())) != len(self.vocab):
            raise ValueError("vocabulary has duplicate ids")
        if unk_token not in self.vocab:
            raise ValueError(f"unknown token {unk_token!r} is not in the vocabulary")
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.unk_token = unk_token
        self.special_tokens = [t for t in special_tokens]
        for t in self.special_tokens:
            if t not in self.vocab:
                raise ValueError(f"special token {t!r} is not in the vocabulary")
        self.special_ids = {self.vocab[t] for t in self.special_tokens}
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.max_input_chars_per_word = max_input_chars_per_word
        self.prefix = prefix
        self.cleanup = cleanup
        if self.special_tokens:
            alternatives = sorted(self.special_tokens, key=lambda t: (-len(t), t))
            self._special_re = re.compile("|".join(re.escape(t) for t in alternatives))
        else:
            self._special_re = None

    # -- encoding ---------------------------------------------------------------------------------------------

    def _split_special(self, text):
        """Yield (is_special, piece) in order: added tokens are matched on the raw text, leftmost-longest."""
        if self._special_re is None:
            yield False, text
            return
        pos = 0
        for m in self._special_re.finditer(text):
            if m.start() > pos:
                yield False, text[pos : m.start()]
            yield True, m.group(0)
            pos = m.end()
        if pos < len(text):
            yield False, text[pos:]

    def _wordpiece(self, word):
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = self.prefix + sub
                if sub in self.vocab:
                    found = sub
                    break
                end -= 1
            if found is None:
                return [self.unk_token]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text):
        """Tokens (strings) of `text`, without any template tokens."""
        tokens = []
        for is_special, piece in self._split_special(text):
            if is_special:
                tokens.append(piece)
                continue
            normalized = bert_normalize(piece, strip_accents=self.strip_accents, lowercase=self.lowercase)
            for word in bert_pre_tokenize(normalized):
                tokens.extend(self._wordpiece(word))
        return tokens

    def encode(self, text):
        """Ids of `text` (`add_special_tokens = false`)."""
        return [self.vocab[t] for t in self.tokenize(text)]

    # -- decoding ---------------------------------------------------------------------------------------------

    def decode(self, ids, skip_special_tokens=True):
        """Text of `ids` exactly as the Rust WordPiece decoder gives it."""
        tokens = []
        for i in ids:
            i = int(i)
            if i not in self.ids_to_tokens:
                continue
            if skip_special_tokens and i in self.special_ids:
                continue
            tokens.append(self.ids_to_tokens[i])
        out = []
        for n, tok in enumerate(tokens):
            if n != 0:
                if tok.startswith(self.prefix):
                    tok = tok.replace(self.prefix, "", 1)
                else:
                    tok = " " + tok
            if self.cleanup:
                tok = wordpiece_cleanup(tok)
            out.append(tok)
        return "".join(out)

    @property
    def vocab_size(self):
        return len(self.vocab)

    # -- tokenizer.json ---------------------------------------------------------------------------------------

    def to_json_dict(self):
        """The HF `tokenizer.json` content (no post processor: the recipe adds special tokens itself)."""
        return collections.OrderedDict(
            [
                ("version", "1.0"),
                ("truncation", None),
                ("padding", None),
                (
                    "added_tokens",
                    [
                        collections.OrderedDict(
                            [
                                ("id", self.vocab[t]),
                                ("content", t),
                                ("single_word", False),
                                ("lstrip", False),
                                ("rstrip", False),
                                ("normalized", False),
                                ("special", True),
                            ]
                        )
                        for t in sorted(self.special_tokens, key=lambda t: self.vocab[t])
                    ],
                ),
                (
                    "normalizer",
                    collections.OrderedDict(
                        [
                            ("type", "BertNormalizer"),
                            ("clean_text", True),
                            ("handle_chinese_chars", True),
                            ("strip_accents", self.strip_accents),
                            ("lowercase", self.lowercase),
                        ]
                    ),
                ),
                ("pre_tokenizer", {"type": "BertPreTokenizer"}),
                ("post_processor", None),
                (
                    "decoder",
                    collections.OrderedDict(
                        [("type", "WordPiece"), ("prefix", self.prefix), ("cleanup", self.cleanup)]
                    ),
                ),
                (
                    "model",
                    collections.OrderedDict(
                        [
                            ("type", "WordPiece"),
                            ("unk_token", self.unk_token),
                            ("continuing_subword_prefix", self.prefix),
                            ("max_input_chars_per_word", self.max_input_chars_per_word),
                            ("vocab", collections.OrderedDict(sorted(self.vocab.items(), key=lambda kv: kv[1]))),
                        ]
                    ),
                ),
            ]
        )

    def save(self, path):
        """Write `tokenizer.json` deterministically (UTF-8, sorted by id, trailing newline)."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            json.dump(self.to_json_dict(), f, ensure_ascii=False, indent=2)
            f.write("\n")

    @classmethod
    def from_json_dict(cls, data):
        model = data.get("model") or {}
        if model.get("type") != "WordPiece":
            raise ValueError(f"tokenizer.json model type is {model.get('type')!r}, expected 'WordPiece'")
        normalizer = data.get("normalizer") or {}
        decoder = data.get("decoder") or {}
        specials = [t["content"] for t in data.get("added_tokens", []) if t.get("special")]
        return cls(
            model["vocab"],
            unk_token=model.get("unk_token", "[UNK]"),
            special_tokens=specials,
            lowercase=normalizer.get("lowercase", True),
            strip_accents=normalizer.get("strip_accents"),
            max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
            prefix=model.get("continuing_subword_prefix", "##"),
            cleanup=decoder.get("cleanup", True),
        )

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_json_dict(json.load(f))

    @classmethod
    def from_vocab_txt(cls, path, lowercase=True, special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")):
        """A BERT `vocab.txt` (one token a line, id = line number)."""
        with open(path, encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
        vocab = {}
        for i, t in enumerate(tokens):
            vocab.setdefault(t, i)
        specials = [t for t in special_tokens if t in vocab]
        return cls(vocab, unk_token="[UNK]", special_tokens=specials, lowercase=lowercase)


# ---------------------------------------------------------------------------------------------------------------
# Preset vocabularies
# ---------------------------------------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_PUNCT = ".,?!'\"-:;()/&=+*#%[]<>_@$"

# Common English words of image instructions and answers, most useful first (the tiny vocabularies take a prefix).
_WORDS = (
    "the a is in what of image this and there picture photo describe are on with it to how many color "
    "man woman people cat dog sky yes no two one three red blue green white black person car tree water "
    "table room street standing sitting wearing holding background front of at for an by his her they "
    "building grass sign shirt field train bus plane bird horse food plate pizza boat beach snow ocean "
    "kind which where who why does do can could would should be been being was were has have had "
    "short long detail details scene shown visible large small big little old young left right top bottom "
    "next near behind under over above inside outside some all any several few lot group couple pair "
    "brown yellow orange pink purple gray grey dark light bright colorful wooden metal glass stone "
    "sunny cloudy day night city road house window door wall floor bed chair couch kitchen bathroom "
    "phone computer laptop book ball bike motorcycle truck clock umbrella bag hat glasses hair face hand "
    "eating playing walking riding looking flying running looks appears seems like very also not only "
    "animal animals child children boy girl men women baby player game tennis baseball soccer frisbee "
    "mountain river lake park sidewalk fence flowers flower bench pole light lights traffic stop "
    "cake sandwich banana apple bowl cup bottle knife fork spoon pan oven sink toilet mirror tv "
    "answer question caption briefly write sentence words word objects object main activity happening "
    "most likely possible reason why because so then than from into out up down off other another "
    "image's photo's its their them these those that here now while when after before during through"
).split()

# Frequent English word endings (continuation pieces).
_SUFFIXES = (
    "s es ed ing er ers est ly ion ions tion ness ment able al ful less y ies en e d t n r l".split()
)


def _base_vocab(specials):
    vocab = list(specials)
    vocab += list(_LETTERS) + list(_DIGITS) + list(_PUNCT)
    vocab += ["##" + c for c in _LETTERS + _DIGITS]
    return vocab


def _build_vocab(specials, size):
    """Specials, characters, `##` characters, word-ending pieces, words, then filler pieces, exactly `size` tokens."""
    vocab = _base_vocab(specials)
    seen = set(vocab)

    def add(tok):
        if len(vocab) < size and tok not in seen:
            vocab.append(tok)
            seen.add(tok)

    for s in _SUFFIXES[:6]:
        add("##" + s)
    for w in _WORDS:
        add(w)
    for s in _SUFFIXES[6:]:
        add("##" + s)
    # Filler for the large vocabularies: two- and three-letter pieces, word-initial and continuation.
    for a in _LETTERS:
        for b in _LETTERS:
            add(a + b)
            add("##" + a + b)
    for a in _LETTERS:
        for b in _LETTERS:
            for c in _LETTERS:
                add(a + b + c)
                add("##" + a + b + c)
    n = 0
    while len(vocab) < size:  # never reached for the preset sizes, kept for other sizes
        add(f"[unused{n}]")
        n += 1
    if len(vocab) != size:
        raise ValueError(f"vocabulary of size {size} is smaller than its {len(vocab)} base tokens")
    return vocab


QFORMER_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
VICUNA_SPECIALS = ("<unk>", "<s>", "</s>", "<pad>")
FLANT5_SPECIALS = ("<pad>", "</s>", "<unk>")

# preset name -> (qformer vocab size, llm vocab size, qformer max tokens, llm max tokens)
_PRESET_SIZES = {
    "tiny": (128, 256, 64, 128),
    "small": (30522, 32000, 128, 256),
}


def _preset_parts(preset_name):
    size, _, family = preset_name.partition("-")
    if size not in _PRESET_SIZES or family not in ("vicuna", "flant5"):
        raise ValueError(
            f"unknown preset {preset_name!r}: expected one of tiny-vicuna, tiny-flant5, small-vicuna, small-flant5"
        )
    return size, family


def preset_tokenizers(preset_name):
    """(qformer_tokenizer, llm_tokenizer) of a preset, built deterministically."""
    size, family = _preset_parts(preset_name)
    q_size, l_size, _, _ = _PRESET_SIZES[size]
    qformer = WordPieceTokenizer(
        _build_vocab(QFORMER_SPECIALS, q_size), unk_token="[UNK]", special_tokens=QFORMER_SPECIALS
    )
    specials = VICUNA_SPECIALS if family == "vicuna" else FLANT5_SPECIALS
    llm = WordPieceTokenizer(_build_vocab(specials, l_size), unk_token="<unk>", special_tokens=specials)
    return qformer, llm


def preset_token_fields(preset_name):
    """The manifest fields `special_tokens` and `prompt` of a preset, plus the vocabulary sizes."""
    size, family = _preset_parts(preset_name)
    q_size, l_size, q_max, l_max = _PRESET_SIZES[size]
    if family == "vicuna":
        special = {
            "qformer_cls": 2,
            "qformer_sep": 3,
            "qformer_pad": 0,
            "llm_bos": 1,
            "llm_eos": 2,
            "llm_pad": 3,
            "decoder_start": None,
        }
        llm_prompt = {"prefix_ids": [2], "suffix_ids": [], "max_tokens": l_max, "padding_side": "left"}
    else:
        special = {
            "qformer_cls": 2,
            "qformer_sep": 3,
            "qformer_pad": 0,
            "llm_bos": None,
            "llm_eos": 1,
            "llm_pad": 0,
            "decoder_start": 0,
        }
        llm_prompt = {"prefix_ids": [], "suffix_ids": [1], "max_tokens": l_max, "padding_side": "left"}
        # encoder_decoder: the encoder input is padded on the right
        llm_prompt["padding_side"] = "right"
    return {
        "llm_vocab_size": l_size,
        "qformer_vocab_size": q_size,
        "special_tokens": special,
        "prompt": {
            "qformer": {"prefix_ids": [2], "suffix_ids": [3], "max_tokens": q_max, "padding_side": "right"},
            "llm": llm_prompt,
        },
    }


def write_preset_tokenizers(preset_name, out_dir):
    """Write `llm_tokenizer.json` and `qformer_tokenizer.json` of a preset into `out_dir`; return manifest fields.

    Returns {"llm_vocab_size", "qformer_vocab_size", "special_tokens": {...}, "prompt": {...}} as in
    docs/model-format.md. Deterministic: the same preset always gives byte-identical files.
    """
    qformer, llm = preset_tokenizers(preset_name)
    os.makedirs(out_dir, exist_ok=True)
    qformer.save(os.path.join(out_dir, "qformer_tokenizer.json"))
    llm.save(os.path.join(out_dir, "llm_tokenizer.json"))
    return preset_token_fields(preset_name)


# ---------------------------------------------------------------------------------------------------------------
# Token-level recipe (docs/model-format.md "Token-level recipe")
# ---------------------------------------------------------------------------------------------------------------


class InstructionTooLong(ValueError):
    """The instruction does not fit the manifest's max_tokens (INSTRUCTION_TOO_LONG in the runtime)."""


class Recipe:
    """Builds the Q-Former text ids, the LLM prompt ids and candidate ids from the manifest's fields."""

    def __init__(self, qformer_tokenizer, llm_tokenizer, special_tokens, prompt, append_eos=True):
        self.qformer_tokenizer = qformer_tokenizer
        self.llm_tokenizer = llm_tokenizer
        self.special_tokens = dict(special_tokens)
        self.prompt = prompt
        self.append_eos = append_eos

    @classmethod
    def from_model_dir(cls, model_dir, manifest=None):
        if manifest is None:
            with open(os.path.join(model_dir, "manifest.json"), encoding="utf-8") as f:
                manifest = json.load(f)
        files = manifest["files"]
        q = load_tokenizer(os.path.join(model_dir, files["qformer_tokenizer"]))
        llm = load_tokenizer(os.path.join(model_dir, files["llm_tokenizer"]))
        append_eos = manifest.get("ranking", {}).get("append_eos", True)
        return cls(q, llm, manifest["special_tokens"], manifest["prompt"], append_eos)

    def qformer_ids(self, instruction):
        p = self.prompt["qformer"]
        ids = list(p["prefix_ids"]) + self.qformer_tokenizer.encode(instruction) + list(p["suffix_ids"])
        if len(ids) > p["max_tokens"]:
            raise InstructionTooLong(
                f"instruction has {len(ids)} Q-Former tokens, more than the model's {p['max_tokens']}: shorten it"
            )
        return ids

    def prompt_ids(self, instruction):
        p = self.prompt["llm"]
        ids = list(p["prefix_ids"]) + self.llm_tokenizer.encode(instruction) + list(p["suffix_ids"])
        if len(ids) > p["max_tokens"]:
            raise InstructionTooLong(
                f"instruction has {len(ids)} LLM tokens, more than the model's {p['max_tokens']}: shorten it"
            )
        return ids

    def candidate_ids(self, candidate):
        ids = self.llm_tokenizer.encode(candidate)
        if self.append_eos:
            ids = ids + [self.special_tokens["llm_eos"]]
        return ids

    def decode(self, ids):
        return self.llm_tokenizer.decode(ids, skip_special_tokens=True).strip()


def load_tokenizer(path):
    """A tokenizer file of a model directory: WordPiece with our implementation, else the `tokenizers` package."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if (data.get("model") or {}).get("type") == "WordPiece":
        return WordPieceTokenizer.from_json_dict(data)
    try:
        import tokenizers  # noqa: F401
    except ImportError as e:
        raise RuntimeError(
            f"{path}: model type {(data.get('model') or {}).get('type')!r} needs the `tokenizers` package"
        ) from e
    return _HfTokenizer(path)


class _HfTokenizer:
    """Adapter over the `tokenizers` package (used for real checkpoints' BPE/Unigram files when installed)."""

    def __init__(self, path):
        import tokenizers

        self._tok = tokenizers.Tokenizer.from_file(path)

    def encode(self, text):
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def decode(self, ids, skip_special_tokens=True):
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    @property
    def vocab_size(self):
        return self._tok.get_vocab_size()


class SentencePieceTokenizer:
    """A checkpoint's `tokenizer.model` / `spiece.model` through Debian's `sentencepiece` (no BOS/EOS added)."""

    def __init__(self, model_path):
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_path)

    def encode(self, text):
        return list(self._sp.encode(text))

    def decode(self, ids, skip_special_tokens=True):
        ids = [int(i) for i in ids]
        if skip_special_tokens:
            ids = [i for i in ids if not (self._sp.is_control(i) or self._sp.is_unknown(i))]
        return self._sp.decode(ids)

    @property
    def vocab_size(self):
        return self._sp.get_piece_size()


def checkpoint_tokenizers(checkpoint_dir):
    """(qformer_tokenizer, llm_tokenizer) of an HF InstructBLIP checkpoint folder.

    LLM: `tokenizer.json` with the `tokenizers` package when importable, else `tokenizer.model` / `spiece.model`
    with sentencepiece. Q-Former: `qformer_tokenizer/tokenizer.json` or `qformer_tokenizer/vocab.txt` (WordPiece).
    """
    qdir = os.path.join(checkpoint_dir, "qformer_tokenizer")
    if os.path.exists(os.path.join(qdir, "tokenizer.json")):
        qformer = WordPieceTokenizer.load(os.path.join(qdir, "tokenizer.json"))
    elif os.path.exists(os.path.join(qdir, "vocab.txt")):
        qformer = WordPieceTokenizer.from_vocab_txt(os.path.join(qdir, "vocab.txt"))
    else:
        raise FileNotFoundError(f"{qdir}: no tokenizer.json or vocab.txt for the Q-Former tokenizer")
    llm = None
    tj = os.path.join(checkpoint_dir, "tokenizer.json")
    if os.path.exists(tj):
        try:
            llm = load_tokenizer(tj)
        except RuntimeError:
            llm = None
    if llm is None:
        for name in ("tokenizer.model", "spiece.model"):
            p = os.path.join(checkpoint_dir, name)
            if os.path.exists(p):
                llm = SentencePieceTokenizer(p)
                break
    if llm is None:
        raise FileNotFoundError(f"{checkpoint_dir}: no usable tokenizer.json, tokenizer.model or spiece.model")
    return qformer, llm
