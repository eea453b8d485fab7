#!/usr/bin/env python3
"""InstructBLIP model export tool: HF checkpoint (or a preset) -> model directory (docs/model-format.md).

Run with Debian's python3 (python3-torch, python3-onnx, python3-numpy, python3-pil):
    /usr/bin/python3 deploy/model-export/export.py --help
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from instructblip_export.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
