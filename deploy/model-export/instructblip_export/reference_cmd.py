"""`export.py reference`: run the PyTorch reference end to end and print REFERENCE_OUTPUT (JSON)."""
import sys

from .golden import dumps


def add_arguments(parser):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", metavar="DIR", help="HF InstructBLIP checkpoint folder")
    source.add_argument("--preset", metavar="NAME", help="built-in preset (tiny-vicuna, tiny-flant5, ...)")
    source.add_argument("--model-dir", metavar="DIR", help="model directory: rebuilds the weights its manifest names")
    parser.add_argument("--seed", type=int, default=None, help="preset weight seed (default: the preset's)")
    parser.add_argument("--image", action="append", required=True, metavar="PATH", help="image (repeat for frames)")
    parser.add_argument("--instruction", required=True, help="the instruction text")
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--min-new-tokens", type=int)
    parser.add_argument("--num-beams", type=int)
    parser.add_argument("--length-penalty", type=float)
    parser.add_argument("--repetition-penalty", type=float)
    parser.add_argument("--candidates", nargs="+", metavar="TEXT", help="rank these answers instead of generating")


def build_pipeline(args):
    from .reference import ReferencePipeline

    if args.preset:
        return ReferencePipeline.from_preset(args.preset, args.seed)
    if args.model_dir:
        return ReferencePipeline.from_model_dir(args.model_dir)
    return ReferencePipeline.from_checkpoint(args.checkpoint)


def run(args) -> int:
    from .preprocess import ImageDecodeError
    from .tokenization import InstructionTooLong

    try:
        pipeline = build_pipeline(args)
        output = pipeline.run(
            args.image,
            args.instruction,
            candidates=args.candidates,
            max_new_tokens=args.max_new_tokens,
            min_new_tokens=args.min_new_tokens,
            num_beams=args.num_beams,
            length_penalty=args.length_penalty,
            repetition_penalty=args.repetition_penalty,
        )
    except (ImageDecodeError, InstructionTooLong, ValueError, FileNotFoundError) as e:
        print(f"reference: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(dumps(output))
    return 0
