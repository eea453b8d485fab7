package io.instructblip.engine.inference;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.stage.DecoderOnlyLlm;
import io.instructblip.engine.stage.KvCarry;
import io.instructblip.engine.stage.SequenceKv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link LlmBackend} for decoder-only LLMs (Vicuna / LLaMA): one KV cache per sequence, and the
 * loop's {@link KvCarry} for the packed batch of the last step.
 */
final class DecoderOnlyBackend extends CarryingBackend<SequenceKv> {
  private final DecoderOnlyLlm llm;

  DecoderOnlyBackend(DecoderOnlyLlm llm) {
    super(llm.newCarry());
    this.llm = llm;
  }

  @Override
  public List<Started<SequenceKv>> start(List<FloatTensor> inputsEmbeds) {
    DecoderOnlyLlm.Prefill prefill = llm.prefill(inputsEmbeds);
    List<Started<SequenceKv>> started = new ArrayList<>(inputsEmbeds.size());
    for (int i = 0; i < inputsEmbeds.size(); i++) {
      started.add(new Started<>(prefill.caches().get(i), prefill.lastLogits().get(i)));
    }
    return started;
  }

  @Override
  public List<float[][]> step(List<SequenceKv> states, List<long[]> tokens) {
    List<DecoderOnlyLlm.StepInput> inputs = new ArrayList<>(states.size());
    for (int i = 0; i < states.size(); i++) {
      inputs.add(new DecoderOnlyLlm.StepInput(states.get(i), tokens.get(i)));
    }
    return llm.step(inputs, carry);
  }

  @Override
  public void release(SequenceKv state) {
    state.close();
  }

  @Override
  public void reorder(SequenceKv state, int[] parentRows) {
    state.reorder(parentRows);
  }

  @Override
  public List<float[][]> teacherForced(FloatTensor inputsEmbeds, List<long[]> targets) {
    DecoderOnlyLlm.Prefill prefill = llm.prefill(List.of(inputsEmbeds));
    List<FloatTensor> rest;
    List<Integer> needRun = new ArrayList<>();
    try (SequenceKv prefix = prefill.caches().get(0)) {
      rest = continuations(prefix, targets, needRun);
    }
    float[] first = prefill.lastLogits().get(0);
    List<float[][]> result = new ArrayList<>(targets.size());
    int next = 0;
    for (int i = 0; i < targets.size(); i++) {
      float[][] rows = new float[targets.get(i).length][];
      rows[0] = first;
      if (next < needRun.size() && needRun.get(next) == i) {
        FloatTensor logits = rest.get(next++);
        int vocab = logits.dim(1);
        for (int t = 1; t < rows.length; t++) {
          rows[t] = Arrays.copyOfRange(logits.data(), (t - 1) * vocab, t * vocab);
        }
      }
      result.add(rows);
    }
    return result;
  }

  /** The logits of each target's positions after the first, for the targets listed in needRun. */
  private List<FloatTensor> continuations(
      SequenceKv prefix, List<long[]> targets, List<Integer> needRun) {
    // Position t of a continuation predicts the token after it: feed all but the last target id.
    List<long[]> continuations = new ArrayList<>();
    for (int i = 0; i < targets.size(); i++) {
      if (targets.get(i).length > 1) {
        needRun.add(i);
        continuations.add(Arrays.copyOf(targets.get(i), targets.get(i).length - 1));
      }
    }
    return continuations.isEmpty()
        ? List.of()
        : llm.logitsForContinuation(prefix, 0, continuations.toArray(new long[0][]));
  }

  @Override
  public int[] decoderPrefix() {
    return new int[0];
  }
}
