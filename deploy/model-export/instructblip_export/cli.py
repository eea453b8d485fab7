"""Command line of export.py: one subcommand per module, imported lazily so --help stays fast."""
import argparse
import importlib

# subcommand -> module that defines add_arguments(parser) and run(args) -> int
SUBCOMMANDS = {
    "export": ("instructblip_export.export_cmd", "write a model directory from a checkpoint folder or a preset"),
    "reference": ("instructblip_export.reference_cmd", "run the PyTorch reference end to end and print JSON"),
    "fixtures": ("instructblip_export.fixtures_cmd", "regenerate the committed tiny fixtures and golden files"),
    "train-demo": ("instructblip_export.demo_train", "train the tiny demo model on the synthetic shapes task"),
    "eval-demo": ("instructblip_export.demo_eval", "demo model accuracy on the held-out set; writes its golden file"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="export.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sp = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sp)
        sp.set_defaults(_module=module)
    args = parser.parse_args(argv)
    return args._module.run(args)
