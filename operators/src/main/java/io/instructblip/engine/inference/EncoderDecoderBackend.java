package io.instructblip.engine.inference;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.stage.EncoderDecoderLlm;
import io.instructblip.engine.stage.EncoderDecoderState;
import io.instructblip.engine.stage.KvCarry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link LlmBackend} for encoder-decoder LLMs (FlanT5): the encoder runs once per sequence, the
 * decoder keeps a self-attention cache per row and shares the sequence's cross-attention cache; the
 * loop's {@link KvCarry} holds the packed batch of the last step.
 */
final class EncoderDecoderBackend extends CarryingBackend<EncoderDecoderState> {
  private final EncoderDecoderLlm llm;

  EncoderDecoderBackend(EncoderDecoderLlm llm) {
    super(llm.newCarry());
    this.llm = llm;
  }

  @Override
  public List<Started<EncoderDecoderState>> start(List<FloatTensor> inputsEmbeds) {
    EncoderDecoderLlm.Start start = llm.start(llm.encode(inputsEmbeds));
    List<Started<EncoderDecoderState>> started = new ArrayList<>(inputsEmbeds.size());
    for (int i = 0; i < inputsEmbeds.size(); i++) {
      started.add(new Started<>(start.states().get(i), start.logits().get(i)));
    }
    return started;
  }

  @Override
  public List<float[][]> step(List<EncoderDecoderState> states, List<long[]> tokens) {
    List<EncoderDecoderLlm.StepInput> inputs = new ArrayList<>(states.size());
    for (int i = 0; i < states.size(); i++) {
      inputs.add(new EncoderDecoderLlm.StepInput(states.get(i), tokens.get(i)));
    }
    return llm.step(inputs, carry);
  }

  @Override
  public void release(EncoderDecoderState state) {
    state.close();
  }

  @Override
  public void reorder(EncoderDecoderState state, int[] parentRows) {
    state.reorder(parentRows);
  }

  @Override
  public List<float[][]> teacherForced(FloatTensor inputsEmbeds, List<long[]> targets) {
    FloatTensor encoded = llm.encode(List.of(inputsEmbeds)).get(0);
    long[][] decoderInputs = new long[targets.size()][];
    for (int i = 0; i < targets.size(); i++) {
      long[] target = targets.get(i);
      long[] input = new long[target.length];
      input[0] = llm.decoderStart();
      System.arraycopy(target, 0, input, 1, target.length - 1);
      decoderInputs[i] = input;
    }
    List<FloatTensor> logits = llm.teacherForced(encoded, decoderInputs);
    List<float[][]> result = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      FloatTensor l = logits.get(i);
      int vocab = l.dim(1);
      float[][] rows = new float[targets.get(i).length][];
      for (int t = 0; t < rows.length; t++) {
        rows[t] = Arrays.copyOfRange(l.data(), t * vocab, (t + 1) * vocab);
      }
      result.add(rows);
    }
    return result;
  }

  @Override
  public int[] decoderPrefix() {
    return new int[] {Math.toIntExact(llm.decoderStart())};
  }
}
