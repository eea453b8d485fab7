package io.instructblip.engine.inference;

import io.instructblip.engine.model.FloatTensor;
import java.util.List;

/**
 * What the generation loop needs from an LLM family, whatever its ONNX layout: start sequences from
 * their input embeddings, advance rows by one token, reorder rows for beam search, and score
 * continuations by teacher forcing. {@code S} is one sequence's model state (its KV cache), which
 * the loop releases when the sequence leaves.
 *
 * @param <S> the per-sequence state
 */
public interface LlmBackend<S> {

  /** A started sequence: its one-row state and the logits that predict its first new token. */
  record Started<S>(S state, float[] logits) {}

  /** Starts sequences from their input embeddings ({@code [T_i, Dl]}: queries, then prompt). */
  List<Started<S>> start(List<FloatTensor> inputsEmbeds);

  /**
   * Feeds one token to every row of every state, in one batch, and returns per state the logits of
   * each row ({@code [rows][V]}).
   */
  List<float[][]> step(List<S> states, List<long[]> tokens);

  /**
   * Frees a state whose sequence has left (finished, failed or cancelled); its KV cache may be in
   * native memory. The state is unusable afterwards.
   */
  void release(S state);

  /**
   * Frees what the backend keeps between steps beyond the states (e.g. the packed batch of the last
   * step); it allocates again if used later.
   */
  default void close() {}

  /**
   * The decode steps so far that fed the previous step's presents back instead of packing the batch
   * (0 for a backend that always packs).
   */
  default long carriedSteps() {
    return 0;
  }

  /** Replaces the rows of {@code state} by the given rows of it (beam parents), in place. */
  void reorder(S state, int[] parentRows);

  /**
   * Teacher forcing for ranking: for each target sequence, the logits that predict each of its ids
   * ({@code [len][V]}), given the input embeddings of one request.
   */
  List<float[][]> teacherForced(FloatTensor inputsEmbeds, List<long[]> targets);

  /** The ids the decoder is fed before the first generated token (part of the penalty set). */
  int[] decoderPrefix();
}
