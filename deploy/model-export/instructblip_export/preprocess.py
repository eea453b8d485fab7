"""Image preprocessing of docs/model-format.md: HF `BlipImageProcessor` with PIL, plus EXIF orientation.

decode -> first frame -> EXIF orientation (ImageOps.exif_transpose) -> RGB -> resize (size, size) with
`Image.BICUBIC` (antialiased) -> uint8 -> rescale -> normalize -> CHW float32.

Conversion to RGB is PIL's `convert("RGB")` with one exception: 16-bit grey images (PIL modes `I;16*` and `I`)
keep their high byte (`v >> 8`), as PIL itself does when it reads 16-bit RGB PNGs; plain PIL would clip every
value above 255 to white.
"""
import io

import numpy as np
from PIL import Image, ImageOps

DEFAULT_MEAN = (0.48145466, 0.4578275, 0.40821073)
DEFAULT_STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_RESCALE = 1.0 / 255.0

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


class ImageDecodeError(ValueError):
    """The bytes are not an image PIL can decode completely (IMAGE_DECODE_FAILED in the runtime)."""


def open_image(source):
    """Decode a path or bytes fully (first frame), apply EXIF orientation and convert to RGB."""
    if not isinstance(source, (bytes, bytearray)):
        with open(source, "rb") as f:
            source = f.read()
    if len(source) == 0:
        raise ImageDecodeError("image has zero bytes")
    try:
        img = Image.open(io.BytesIO(source))
        img.seek(0)
        img.load()
    except ImageDecodeError:
        raise
    except Exception as e:  # PIL raises several types (UnidentifiedImageError, OSError, SyntaxError...)
        raise ImageDecodeError(f"cannot decode image: {e}") from e
    return to_rgb(ImageOps.exif_transpose(img))


def to_rgb(img):
    """PIL's convert("RGB") (alpha dropped, palette expanded, CMYK converted), 16-bit grey by its high byte."""
    if img.mode in _SIXTEEN_BIT_MODES:
        a = np.asarray(img, dtype=np.int64)
        img = Image.fromarray((np.clip(a, 0, 65535) >> 8).astype(np.uint8), "L")
    return img.convert("RGB")


def resize_rgb(img, size):
    """The resized RGB image as uint8 [size, size, 3] (PIL antialiased bicubic)."""
    return np.asarray(img.resize((size, size), resample=Image.BICUBIC), dtype=np.uint8)


def normalize(resized, rescale_factor=DEFAULT_RESCALE, mean=DEFAULT_MEAN, std=DEFAULT_STD):
    """uint8 HWC -> float32 CHW: (pixel * rescale_factor - mean[c]) / std[c], computed in float32."""
    x = resized.astype(np.float32) * np.float32(rescale_factor)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)).astype(np.float32)


def preprocess(source, size, rescale_factor=DEFAULT_RESCALE, mean=DEFAULT_MEAN, std=DEFAULT_STD):
    """pixel_values [3, size, size] float32 of one image (path, bytes, or an already opened RGB PIL image)."""
    img = source if isinstance(source, Image.Image) else open_image(source)
    return normalize(resize_rgb(img.convert("RGB"), size), rescale_factor, mean, std)


def preprocess_from_manifest(source, manifest):
    p = manifest["image_preprocessing"]
    return preprocess(source, p["size"], p["rescale_factor"], p["mean"], p["std"])
