"""The small test images under fixtures/images/, generated from a fixed seed (byte-identical on rerun)."""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

SEED = 20240611

# name -> description; every good image is decodable, every bad one must be refused by the runtime
GOOD_IMAGES = (
    "rgb.png",
    "rgba.png",
    "palette.png",
    "grey16.png",
    "grey.png",
    "baseline.jpg",
    "progressive.jpg",
    "cmyk.jpg",
    "exif-rotate6.jpg",
    "two-frames.gif",
    "rgb.bmp",
    "lossless.webp",
    "lossy.webp",
    "lossy-alpha.webp",
)
BAD_IMAGES = {
    "truncated.jpg": "a baseline JPEG cut after 60% of its bytes",
    "empty.png": "zero bytes",
    "garbage.bin": "random bytes",
    "huge-header.png": "a PNG whose header claims 20000x20000 pixels",
}


def _pattern(rng, width, height, channels):
    """Smooth gradients, a few hard edges and noise: something for bicubic resizing to work on."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy = rng.uniform(0.5, 3.0, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * (fx * x / width + fy * y / height) + phase)
        edge = ((x // max(1, width // 5) + y // max(1, height // 4)) % 2) * rng.uniform(0.1, 0.4)
        noise = rng.normal(0, 0.05, size=(height, width))
        planes.append(np.clip(wave * 0.7 + edge + noise, 0, 1))
    return np.stack(planes, axis=-1)


def _u8(a):
    return np.round(a * 255).astype(np.uint8)


def _save(img, **kwargs):
    buf = io.BytesIO()
    img.save(buf, **kwargs)
    return buf.getvalue()


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _huge_header_png():
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def image_bytes():
    """name -> file bytes of every fixture image (good and bad), deterministic."""
    rng = np.random.default_rng(SEED)
    files = {}
    files["rgb.png"] = _save(Image.fromarray(_u8(_pattern(rng, 64, 48, 3)), "RGB"), format="PNG")
    rgba = _u8(_pattern(rng, 50, 70, 4))
    rgba[:10, :, 3] = 0  # fully transparent band: its colour must survive (alpha is dropped, not composited)
    files["rgba.png"] = _save(Image.fromarray(rgba, "RGBA"), format="PNG")
    idx = (np.floor(_pattern(rng, 80, 60, 1)[..., 0] * 15.999)).astype(np.uint8)
    pal = Image.fromarray(idx, "P")
    palette = _u8(rng.uniform(0, 1, size=(16, 3))).reshape(-1).tolist()
    pal.putpalette(palette + [0] * (768 - len(palette)))
    files["palette.png"] = _save(pal, format="PNG", transparency=3)
    g16 = np.round(_pattern(rng, 48, 48, 1)[..., 0] * 65535).astype(np.uint16)
    files["grey16.png"] = _save(Image.fromarray(g16, "I;16"), format="PNG")
    files["grey.png"] = _save(Image.fromarray(_u8(_pattern(rng, 100, 40, 1)[..., 0]), "L"), format="PNG")
    files["baseline.jpg"] = _save(Image.fromarray(_u8(_pattern(rng, 96, 64, 3)), "RGB"), format="JPEG", quality=90)
    files["progressive.jpg"] = _save(
        Image.fromarray(_u8(_pattern(rng, 72, 108, 3)), "RGB"),
        format="JPEG",
        quality=85,
        progressive=True,
        subsampling=0,
    )
    files["cmyk.jpg"] = _save(Image.fromarray(_u8(_pattern(rng, 64, 64, 4)), "CMYK"), format="JPEG", quality=92)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    files["exif-rotate6.jpg"] = _save(
        Image.fromarray(_u8(_pattern(rng, 80, 50, 3)), "RGB"), format="JPEG", quality=90, exif=exif.tobytes()
    )
    frames = []
    for _ in range(2):
        f = Image.fromarray((np.floor(_pattern(rng, 60, 60, 1)[..., 0] * 7.999)).astype(np.uint8), "P")
        gif_palette = _u8(rng.uniform(0, 1, size=(8, 3))).reshape(-1).tolist()
        f.putpalette(gif_palette + [0] * (768 - len(gif_palette)))
        frames.append(f)
    files["two-frames.gif"] = _save(frames[0], format="GIF", save_all=True, append_images=frames[1:], duration=100)
    files["rgb.bmp"] = _save(Image.fromarray(_u8(_pattern(rng, 44, 66, 3)), "RGB"), format="BMP")
    files["lossless.webp"] = _save(
        Image.fromarray(_u8(_pattern(rng, 120, 90, 3)), "RGB"), format="WEBP", lossless=True, quality=100, method=4
    )
    files["truncated.jpg"] = files["baseline.jpg"][: int(len(files["baseline.jpg"]) * 0.6)]
    files["empty.png"] = b""
    files["garbage.bin"] = rng.integers(0, 256, size=257, dtype=np.uint8).tobytes()
    files["huge-header.png"] = _huge_header_png()
    # Lossy WebP (VP8, 4:2:0 chroma) decoded as libwebp does: fancy chroma upsampling. Drawn after every other image,
    # so that the older fixtures stay byte-identical. The second has odd sides and an alpha channel (VP8X + ALPH).
    files["lossy.webp"] = _save(
        Image.fromarray(_u8(_pattern(rng, 300, 200, 3)), "RGB"), format="WEBP", quality=80, method=4
    )
    files["lossy-alpha.webp"] = _save(
        Image.fromarray(_u8(_pattern(rng, 123, 77, 4)), "RGBA"), format="WEBP", quality=70, method=4
    )
    return files


def write_images(out_dir):
    """Write every fixture image into out_dir; returns (good names, bad names) in a fixed order."""
    os.makedirs(out_dir, exist_ok=True)
    for name, data in image_bytes().items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    return list(GOOD_IMAGES), list(BAD_IMAGES)
