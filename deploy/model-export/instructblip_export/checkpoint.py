"""Reading a HF InstructBLIP checkpoint folder without `transformers`.

A folder holds `config.json`, the weights (`model.safetensors`, `model-0000x-of-0000y.safetensors` with
`model.safetensors.index.json`, or `pytorch_model*.bin` likewise with `pytorch_model.bin.index.json`), the LLM
tokenizer (`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`) and the Q-Former tokenizer in
`qformer_tokenizer/`. The safetensors format is parsed here: an 8-byte little-endian header length, a JSON
header `{name: {dtype, shape, data_offsets}}`, then the raw little-endian data.
"""
import json
import os
import re
import struct
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

from .configs import InstructBlipConfig
from .modeling import InstructBlipModel


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be exported; the message names the file or tensor and what to do."""


# Keys some checkpoints carry that the model does not need (non-persistent buffers, tied copies): ignored.
IGNORED_KEY_PATTERNS = (
    re.compile(r"^qformer\.embeddings\.position_ids$"),
    re.compile(r"^vision_model\.embeddings\.position_ids$"),
    re.compile(r"^language_model\.model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$"),
    re.compile(r"^language_model\.(encoder|decoder)\.embed_tokens\.weight$"),
)

_SAFETENSORS_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.int16, 2)}


# ---------------------------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------------------------


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """All tensors of one safetensors file as float32 torch tensors."""
    with open(path, "rb") as f:
        raw_len = f.read(8)
        if len(raw_len) != 8:
            raise CheckpointError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (header_len,) = struct.unpack("<Q", raw_len)
        if header_len > 100_000_000:
            raise CheckpointError(f"{path}: not a safetensors file (header length {header_len})")
        try:
            header = json.loads(f.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: unreadable safetensors header ({e})") from e
    data_start = 8 + header_len
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=data_start) if os.path.getsize(path) > data_start else None
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info.get("dtype")
        if dtype not in _SAFETENSORS_DTYPES:
            raise CheckpointError(
                f"{path}: tensor {name} has dtype {dtype}; supported: {', '.join(_SAFETENSORS_DTYPES)}"
            )
        np_dtype, size = _SAFETENSORS_DTYPES[dtype]
        shape = [int(d) for d in info["shape"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * size:
            raise CheckpointError(f"{path}: tensor {name} has {end - begin} bytes for shape {shape} {dtype}")
        array = np.frombuffer(data[begin:end].tobytes(), dtype=np_dtype).reshape(shape) if count else np.zeros(
            shape, np_dtype
        )
        tensor = torch.from_numpy(array.copy())
        if dtype == "BF16":
            tensor = tensor.view(torch.bfloat16)
        tensors[name] = tensor.float()
    return tensors


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor], dtype: str = "F32") -> None:
    """Writes tensors (converted to F32, F16 or BF16) as a safetensors file, keys sorted."""
    header: Dict[str, Any] = {}
    chunks: List[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu()
        if dtype == "F32":
            raw = t.float().contiguous().numpy().tobytes()
        elif dtype == "F16":
            raw = t.half().contiguous().numpy().tobytes()
        elif dtype == "BF16":
            raw = t.bfloat16().contiguous().view(torch.int16).numpy().tobytes()
        else:
            raise ValueError(f"dtype {dtype} not supported; use F32, F16 or BF16")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for chunk in chunks:
            f.write(chunk)


# ---------------------------------------------------------------------------------------------------------------
# weights of a folder
# ---------------------------------------------------------------------------------------------------------------


def _index_files(folder: str, index_name: str) -> List[str]:
    with open(os.path.join(folder, index_name), "r", encoding="utf-8") as f:
        weight_map = json.load(f).get("weight_map")
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"{os.path.join(folder, index_name)} has no weight_map")
    files = sorted(set(weight_map.values()))
    for name in files:
        if not os.path.isfile(os.path.join(folder, name)):
            raise CheckpointError(f"{index_name} names {name}, which is not in {folder}: download every shard")
    return files


def _load_bin(path: str) -> Dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def weight_files(folder: str) -> Tuple[str, List[str]]:
    """('safetensors'|'bin', file names) of the folder's weights, preferring safetensors."""
    if os.path.isfile(os.path.join(folder, "model.safetensors.index.json")):
        return "safetensors", _index_files(folder, "model.safetensors.index.json")
    if os.path.isfile(os.path.join(folder, "model.safetensors")):
        return "safetensors", ["model.safetensors"]
    if os.path.isfile(os.path.join(folder, "pytorch_model.bin.index.json")):
        return "bin", _index_files(folder, "pytorch_model.bin.index.json")
    if os.path.isfile(os.path.join(folder, "pytorch_model.bin")):
        return "bin", ["pytorch_model.bin"]
    raise CheckpointError(
        f"{folder} has no weights: expected model.safetensors, model.safetensors.index.json with its shards, "
        "pytorch_model.bin or pytorch_model.bin.index.json with its shards"
    )


def read_state_dict(folder: str) -> Dict[str, torch.Tensor]:
    """Every tensor of the folder's weights (all shards), as float32."""
    kind, files = weight_files(folder)
    state: Dict[str, torch.Tensor] = {}
    for name in files:
        path = os.path.join(folder, name)
        part = read_safetensors(path) if kind == "safetensors" else _load_bin(path)
        for key, tensor in part.items():
            if key in state:
                raise CheckpointError(f"tensor {key} appears in more than one shard ({name})")
            state[key] = tensor
    return state


def _names(keys: Iterable[str], limit: int = 20) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" (and {len(keys) - limit} more)" if len(keys) > limit else "")


def load_state_dict_strict(model: InstructBlipModel, state: Dict[str, torch.Tensor]) -> List[str]:
    """Copies `state` into `model`; every model tensor must be present with its shape, no unknown key allowed.

    Keys matching `IGNORED_KEY_PATTERNS` are skipped. With `tie_word_embeddings` a missing
    `language_model.lm_head.weight` is taken from the input embedding. Returns the ignored keys.
    """
    expected = model.state_dict()
    state = dict(state)
    text = model.config.text_config
    lm_head = "language_model.lm_head.weight"
    if getattr(text, "tie_word_embeddings", False) and lm_head not in state:
        source = "language_model.model.embed_tokens.weight" if model.llm_family == "decoder_only" else (
            "language_model.shared.weight")
        if source in state:
            state[lm_head] = state[source]
    ignored = sorted(k for k in state if k not in expected and any(p.match(k) for p in IGNORED_KEY_PATTERNS))
    unexpected = sorted(k for k in state if k not in expected and k not in ignored)
    missing = sorted(k for k in expected if k not in state)
    wrong = sorted(
        f"{k} (checkpoint {list(state[k].shape)}, expected {list(expected[k].shape)})"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    )
    problems = []
    if missing:
        problems.append(f"missing tensors: {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors: {_names(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes: {_names(wrong)}")
    if problems:
        raise CheckpointError(
            "the checkpoint weights do not match its config.json: " + "; ".join(problems)
            + ". Check that config.json belongs to these weights (an InstructBlipForConditionalGeneration "
            "checkpoint)."
        )
    # take the checkpoint's tensors as the parameters (no second copy of a multi-GB model)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.data = state[name].to(param.dtype).contiguous()
        for name, buffer in model.named_buffers():
            if name in state:
                buffer.copy_(state[name])
    return ignored


def load_model(folder: str) -> InstructBlipModel:
    """The model of a checkpoint folder, weights loaded strictly, in eval mode."""
    if not os.path.isdir(folder):
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    config = InstructBlipConfig.from_json_file(os.path.join(folder, "config.json"))
    model = InstructBlipModel(config)
    load_state_dict_strict(model, read_state_dict(folder))
    return model.eval()


# ---------------------------------------------------------------------------------------------------------------
# tokenizers, special ids, prompt recipe, image preprocessing
# ---------------------------------------------------------------------------------------------------------------


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    if not os.path.isfile(path):
        return None
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def _token_text(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


class TokenizerFiles:
    """A tokenizer folder: `tokenizer.json` plus the optional `tokenizer_config.json` / `special_tokens_map.json`."""

    def __init__(self, folder: str, label: str, convert_hint: str):
        self.folder = folder
        self.label = label
        self.tokenizer_json_path = os.path.join(folder, "tokenizer.json")
        if not os.path.isfile(self.tokenizer_json_path):
            present = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
            raise CheckpointError(
                f"the {label} has no tokenizer.json in {folder} (found: {', '.join(present) or 'nothing'}). "
                f"The runtime reads only HF `tokenizers` files: {convert_hint}"
            )
        self.tokenizer = _read_json(self.tokenizer_json_path)
        self.config = _read_json(os.path.join(folder, "tokenizer_config.json")) or {}
        self.special_map = _read_json(os.path.join(folder, "special_tokens_map.json")) or {}

    def special_text(self, role: str) -> Optional[str]:
        """The text of `bos_token`, `eos_token`, ...: special_tokens_map.json wins over tokenizer_config.json."""
        return _token_text(self.special_map.get(role)) or _token_text(self.config.get(role))

    def token_id(self, text: Optional[str]) -> Optional[int]:
        if text is None:
            return None
        for added in self.tokenizer.get("added_tokens") or []:
            if added.get("content") == text:
                return int(added["id"])
        vocab = (self.tokenizer.get("model") or {}).get("vocab")
        if isinstance(vocab, dict) and text in vocab:
            return int(vocab[text])
        if isinstance(vocab, list):
            for index, entry in enumerate(vocab):
                if entry and entry[0] == text:
                    return index
        return None

    def require_id(self, role: str, fallback_text: Optional[str] = None) -> int:
        text = self.special_text(role) or fallback_text
        token = self.token_id(text)
        if token is None:
            raise CheckpointError(
                f"the {self.label} in {self.folder} defines no id for {role} ({text!r}); add it to "
                "special_tokens_map.json and tokenizer.json"
            )
        return token


LLM_CONVERT_HINT = (
    "on a machine with the `transformers` and `tokenizers` packages run "
    "`AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)` (it writes tokenizer.json from tokenizer.model), "
    "or download tokenizer.json from the checkpoint's repository."
)
QFORMER_CONVERT_HINT = (
    "HF InstructBLIP repositories keep it in qformer_tokenizer/tokenizer.json; download that folder, or on a machine "
    "with `transformers` run `BertTokenizerFast.from_pretrained(DIR/qformer_tokenizer).save_pretrained(...)`."
)


def tokenizer_recipe(folder: str, config: InstructBlipConfig) -> Dict[str, Any]:
    """Tokenizer paths, manifest `special_tokens` and `prompt` derived from the checkpoint's tokenizer files.

    The LLM's BOS/EOS/PAD come from special_tokens_map.json / tokenizer_config.json (what the tokenizer used in
    training did), not from text_config: for Vicuna that gives BOS '</s>' = 2 and PAD '[PAD]' = 32000.
    """
    llm = TokenizerFiles(folder, "LLM tokenizer", LLM_CONVERT_HINT)
    qformer = TokenizerFiles(os.path.join(folder, "qformer_tokenizer"), "Q-Former tokenizer", QFORMER_CONVERT_HINT)
    qformer_max = min(config.qformer_config.max_position_embeddings, 512)
    special = {
        "qformer_cls": qformer.require_id("cls_token", "[CLS]"),
        "qformer_sep": qformer.require_id("sep_token", "[SEP]"),
        "qformer_pad": qformer.require_id("pad_token", "[PAD]"),
    }
    if config.llm_family == "decoder_only":
        bos = llm.token_id(llm.special_text("bos_token"))
        eos = llm.require_id("eos_token")
        pad = llm.token_id(llm.special_text("pad_token"))
        if pad is None:
            pad = eos
        add_bos = bool(llm.config.get("add_bos_token", True))
        add_eos = bool(llm.config.get("add_eos_token", False))
        special.update({"llm_bos": bos, "llm_eos": eos, "llm_pad": pad, "decoder_start": None})
        llm_prompt = {
            "prefix_ids": [bos] if add_bos and bos is not None else [],
            "suffix_ids": [eos] if add_eos else [],
            "max_tokens": 512,
            "padding_side": "left",
        }
    else:
        eos = llm.require_id("eos_token", "</s>")
        pad = llm.require_id("pad_token", "<pad>")
        bos = llm.token_id(llm.special_text("bos_token"))
        special.update(
            {"llm_bos": bos, "llm_eos": eos, "llm_pad": pad, "decoder_start": config.text_config.decoder_start_token_id}
        )
        llm_prompt = {"prefix_ids": [], "suffix_ids": [eos], "max_tokens": 512, "padding_side": "right"}
    prompt = {
        "qformer": {
            "prefix_ids": [special["qformer_cls"]],
            "suffix_ids": [special["qformer_sep"]],
            "max_tokens": qformer_max,
            "padding_side": "right",
        },
        "llm": llm_prompt,
    }
    return {
        "llm_tokenizer_path": llm.tokenizer_json_path,
        "qformer_tokenizer_path": qformer.tokenizer_json_path,
        "special_tokens": special,
        "prompt": prompt,
    }


def image_preprocessing(folder: str, image_size: int) -> Optional[Dict[str, Any]]:
    """The manifest `image_preprocessing` from preprocessor_config.json (None: the BLIP defaults)."""
    data = _read_json(os.path.join(folder, "preprocessor_config.json"))
    if data is None:
        return None
    size = data.get("size", image_size)
    sizes = {size.get("height"), size.get("width")} if isinstance(size, dict) else {size}
    if sizes != {image_size}:
        raise CheckpointError(
            f"preprocessor_config.json resizes to {size}, but vision_config.image_size is {image_size}; "
            "the runtime resizes to image_size: fix one of them"
        )
    resample = data.get("resample", 3)
    if resample != 3:
        raise CheckpointError(
            f"preprocessor_config.json has resample {resample}; the runtime implements only bicubic (3)"
        )
    return {
        "resample": "bicubic",
        "do_convert_rgb": bool(data.get("do_convert_rgb", True)),
        "rescale_factor": float(data.get("rescale_factor", 1.0 / 255.0)),
        "mean": [float(x) for x in data.get("image_mean", [0.48145466, 0.4578275, 0.40821073])],
        "std": [float(x) for x in data.get("image_std", [0.26862954, 0.26130258, 0.27577711])],
    }
