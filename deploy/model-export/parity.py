#!/usr/bin/env python3
"""Compare the reference modules with HF transformers (see instructblip_export/parity.py); exit 2 without it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from instructblip_export.parity import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
