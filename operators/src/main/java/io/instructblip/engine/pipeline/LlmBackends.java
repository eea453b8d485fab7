package io.instructblip.engine.pipeline;

import io.instructblip.engine.model.LlmFamily;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.stage.DecoderOnlyLlm;
import io.instructblip.engine.stage.EncoderDecoderLlm;
import io.instructblip.engine.stage.TokenEmbedder;
import io.instructblip.engine.text.PromptBuilder;

/** Makes {@link GenerationLoop}s for the LLM family of a model directory. */
public final class LlmBackends {
  private final PromptBuilder prompts;
  private final TokenEmbedder embedder;
  private final DecoderOnlyLlm decoderOnly;
  private final EncoderDecoderLlm encoderDecoder;

  /** Backends over the given sessions; the stage state is created once and shared by loops. */
  public LlmBackends(ModelSessions sessions, PromptBuilder prompts) {
    this.prompts = prompts;
    this.embedder = new TokenEmbedder(sessions);
    if (sessions.manifest().llmFamily() == LlmFamily.DECODER_ONLY) {
      this.decoderOnly = new DecoderOnlyLlm(sessions);
      this.encoderDecoder = null;
    } else {
      this.decoderOnly = null;
      this.encoderDecoder = new EncoderDecoderLlm(sessions);
    }
  }

  /** A new loop; loops share the sessions but not their sequences. */
  public GenerationLoop<?> newLoop() {
    if (decoderOnly != null) {
      return new GenerationLoop<>(new DecoderOnlyBackend(decoderOnly), embedder, prompts);
    }
    return new GenerationLoop<>(new EncoderDecoderBackend(encoderDecoder), embedder, prompts);
  }
}
