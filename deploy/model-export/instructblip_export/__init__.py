"""Export InstructBLIP checkpoints to the ONNX model-directory format and run the PyTorch reference."""
