"""Image preprocessing: orientation, RGB conversion, resize and normalization on small known images."""
import io
import os
import sys
import unittest

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from instructblip_export import preprocess as pp  # noqa: E402


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


class NormalizeTest(unittest.TestCase):
    def test_known_pixels(self):
        resized = np.array([[[0, 128, 255]]], np.uint8)  # 1x1 RGB
        out = pp.normalize(resized)
        self.assertEqual(out.shape, (3, 1, 1))
        self.assertEqual(out.dtype, np.float32)
        expected = [
            (0 / 255 - 0.48145466) / 0.26862954,
            (128 / 255 - 0.4578275) / 0.26130258,
            (255 / 255 - 0.40821073) / 0.27577711,
        ]
        np.testing.assert_allclose(out[:, 0, 0], expected, rtol=1e-6)

    def test_channels_first(self):
        resized = np.zeros((2, 3, 3), np.uint8)
        resized[1, 2] = [255, 0, 0]
        out = pp.normalize(resized, rescale_factor=1 / 255, mean=(0, 0, 0), std=(1, 1, 1))
        self.assertEqual(out.shape, (3, 2, 3))
        self.assertEqual(out[0, 1, 2], 1.0)
        self.assertEqual(float(out.sum()), 1.0)


class ResizeTest(unittest.TestCase):
    def test_constant_image_stays_constant(self):
        img = Image.new("RGB", (37, 11), (10, 200, 77))
        out = pp.resize_rgb(img, 32)
        self.assertEqual(out.shape, (32, 32, 3))
        self.assertTrue((out == np.array([10, 200, 77], np.uint8)).all())

    def test_matches_the_written_down_pil_algorithm(self):
        rng = np.random.default_rng(3)
        for h, w, size in ((5, 7, 4), (48, 64, 32), (20, 9, 32), (40, 100, 224), (3, 3, 3)):
            a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            out = pp.resize_rgb(Image.fromarray(a, "RGB"), size)
            np.testing.assert_array_equal(out, pil_bicubic(a, size), err_msg=f"{w}x{h} -> {size}")


PRECISION_BITS = 32 - 8 - 2


def _cubic(x, a=-0.5):
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def _coefficients(in_size, out_size):
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for BICUBIC (support 2), box = whole image."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    result = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        ww = [_cubic((x + xmin - center + 0.5) / filterscale) for x in range(xmax)]
        total = sum(ww)
        ww = [w / total for w in ww] if total != 0.0 else ww
        fixed = [int(0.5 + w * (1 << PRECISION_BITS)) if w >= 0 else int(-0.5 + w * (1 << PRECISION_BITS)) for w in ww]
        result.append((xmin, fixed))
    return result


def _pass(rows, out_size):
    """Resample the last axis of int rows: fixed-point sum, rounding bias, arithmetic shift, clip to uint8."""
    coeffs = _coefficients(rows.shape[-1], out_size)
    out = np.zeros(rows.shape[:-1] + (out_size,), np.int64)
    for xx, (xmin, k) in enumerate(coeffs):
        acc = np.full(rows.shape[:-1], 1 << (PRECISION_BITS - 1), np.int64)
        for i, kk in enumerate(k):
            acc += rows[..., xmin + i].astype(np.int64) * kk
        out[..., xx] = np.clip(acc >> PRECISION_BITS, 0, 255)
    return out


def pil_bicubic(a, size):
    """PIL's antialiased bicubic resize of uint8 HWC to size x size: horizontal pass first, uint8 in between."""
    x = a.transpose(2, 0, 1).astype(np.int64)  # C, H, W
    if x.shape[2] != size:
        x = _pass(x, size)
    if x.shape[1] != size:
        x = _pass(x.transpose(0, 2, 1), size).transpose(0, 2, 1)
    return x.transpose(1, 2, 0).astype(np.uint8)


class OpenImageTest(unittest.TestCase):
    def test_exif_orientation_6_rotates_clockwise(self):
        a = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high; white block top-left
        a[:5, :5] = 255
        exif = Image.Exif()
        exif[0x0112] = 6
        img = pp.open_image(encode(Image.fromarray(a, "RGB"), "PNG", exif=exif.tobytes()))
        self.assertEqual(img.size, (20, 40))
        px = np.asarray(img)
        self.assertEqual(px[0, -1].tolist(), [255, 255, 255])  # top-left went to the top-right
        self.assertEqual(px[0, 0].tolist(), [0, 0, 0])

    def test_alpha_is_dropped_not_composited(self):
        img = Image.new("RGBA", (2, 2), (10, 20, 30, 0))
        self.assertEqual(pp.open_image(encode(img, "PNG")).getpixel((0, 0)), (10, 20, 30))

    def test_sixteen_bit_grey_keeps_the_high_byte(self):
        a = np.array([[0, 255, 256, 65535]], np.uint16)
        img = pp.open_image(encode(Image.fromarray(a, "I;16"), "PNG"))
        self.assertEqual([img.getpixel((x, 0)) for x in range(4)], [(0, 0, 0), (0, 0, 0), (1, 1, 1), (255, 255, 255)])

    def test_cmyk_uses_pil_conversion(self):
        img = Image.new("CMYK", (1, 1), (100, 50, 0, 30))
        self.assertEqual(pp.to_rgb(img).getpixel((0, 0)), (137, 181, 225))  # (255 - c) * (255 - k) / 255

    def test_first_gif_frame(self):
        f0 = Image.new("P", (3, 3), 1)
        f0.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
        f1 = Image.new("P", (3, 3), 0)
        f1.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
        data = encode(f0, "GIF", save_all=True, append_images=[f1])
        self.assertEqual(pp.open_image(data).getpixel((1, 1)), (200, 10, 10))

    def test_bad_inputs_are_refused(self):
        with self.assertRaisesRegex(pp.ImageDecodeError, "zero bytes"):
            pp.open_image(b"")
        with self.assertRaisesRegex(pp.ImageDecodeError, "cannot decode image"):
            pp.open_image(b"not an image at all")
        jpeg = encode(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")
        with self.assertRaisesRegex(pp.ImageDecodeError, "(?i)truncated"):
            pp.open_image(jpeg[: len(jpeg) // 2])

    def test_preprocess_end_to_end(self):
        data = encode(Image.new("RGB", (50, 30), (255, 255, 255)), "PNG")
        out = pp.preprocess(data, 8)
        self.assertEqual(out.shape, (3, 8, 8))
        np.testing.assert_allclose(out[:, 3, 5], [(1 - m) / s for m, s in zip(pp.DEFAULT_MEAN, pp.DEFAULT_STD)],
                                   rtol=1e-6)


if __name__ == "__main__":
    unittest.main()
