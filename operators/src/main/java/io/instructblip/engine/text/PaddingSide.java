package io.instructblip.engine.text;

/** Where a batch of token sequences of different lengths gets its padding. */
public enum PaddingSide {
  /** Padding before the tokens (decoder-only LLM prompts). */
  LEFT,
  /** Padding after the tokens (Q-Former text, encoder inputs). */
  RIGHT;

  /** The side named {@code name} in manifest.json ({@code "left"} or {@code "right"}). */
  public static PaddingSide fromManifest(String name) {
    if ("left".equals(name)) {
      return LEFT;
    }
    if ("right".equals(name)) {
      return RIGHT;
    }
    throw new IllegalArgumentException(
        "padding_side must be \"left\" or \"right\", got "
            + (name == null ? "null" : '"' + name + '"'));
  }
}
