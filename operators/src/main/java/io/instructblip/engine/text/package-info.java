/**
 * Text input and output: offline HuggingFace tokenizers ({@link
 * io.instructblip.engine.text.TextTokenizer}) and the token-level recipe of docs/model-format.md
 * ({@link io.instructblip.engine.text.PromptRecipe}, {@link
 * io.instructblip.engine.text.PromptBuilder}): Q-Former ids, LLM prompt ids, ranking candidates,
 * padding and the answer text.
 */
package io.instructblip.engine.text;
