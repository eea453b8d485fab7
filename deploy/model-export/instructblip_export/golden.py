"""Golden-file writing helpers: tensors as JSON (docs/model-format.md), deterministic bytes."""
import json
import os

import numpy as np

SIGNIFICANT_DIGITS = 7


def _round(x):
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


def tensor_json(array):
    """{"shape", "dtype", "data"} of a numpy array or torch tensor; floats rounded to 7 significant digits."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    a = np.asarray(array)
    if np.issubdtype(a.dtype, np.floating):
        return {"shape": list(a.shape), "dtype": "float32", "data": [_round(v) for v in a.astype(np.float64).ravel()]}
    if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        return {"shape": list(a.shape), "dtype": "int64", "data": [int(v) for v in a.astype(np.int64).ravel()]}
    raise TypeError(f"cannot write tensor of dtype {a.dtype}")


def tensor_from_json(obj):
    dtype = np.float32 if obj["dtype"] == "float32" else np.int64
    return np.asarray(obj["data"], dtype=dtype).reshape(obj["shape"])


def reference_differences(expected, actual, tolerance):
    """Where two REFERENCE_OUTPUT objects differ: exact for ids, texts and reasons, `tolerance` for log-probs."""
    problems = []
    for key in sorted(set(expected) | set(actual)):
        if key == "candidates":
            continue
        if expected.get(key) != actual.get(key):
            problems.append(f"{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}")
    e, a = expected.get("candidates"), actual.get("candidates")
    if (e is None) != (a is None) or (e is not None and len(e) != len(a)):
        return problems + [f"candidates: expected {e!r}, got {a!r}"]
    for i, (ce, ca) in enumerate(zip(e or [], a or [])):
        for key in ("text", "token_ids"):
            if ce[key] != ca[key]:
                problems.append(f"candidates[{i}].{key}: expected {ce[key]!r}, got {ca[key]!r}")
        for key in ("sum_logprob", "mean_logprob"):
            if abs(ce[key] - ca[key]) > tolerance:
                problems.append(f"candidates[{i}].{key}: expected {ce[key]}, got {ca[key]} (tolerance {tolerance})")
    return problems


def dumps(obj, indent=None):
    """Key-order-preserving JSON with a trailing newline (byte-identical for equal input); compact by default."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(obj, ensure_ascii=False, indent=indent, separators=separators, allow_nan=False) + "\n"


def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(obj, indent))
