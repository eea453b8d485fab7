package io.instructblip.engine.generate;

import java.util.Arrays;
import java.util.List;

/**
 * Forbids ending early: while fewer than {@code min_new_tokens} tokens have been generated, every
 * EOS id's score becomes {@code -inf}.
 */
public final class MinNewTokensProcessor implements LogitsProcessor {
  private final int minNewTokens;
  private final int[] eosTokenIds;

  public MinNewTokensProcessor(int minNewTokens, List<Integer> eosTokenIds) {
    this.minNewTokens = minNewTokens;
    this.eosTokenIds = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    if (history.generatedCount() < minNewTokens) {
      for (int eos : eosTokenIds) {
        if (eos < scores.length) {
          scores[eos] = Float.NEGATIVE_INFINITY;
        }
      }
    }
  }

  @Override
  public String toString() {
    return "MinNewTokens(" + minNewTokens + ", eos=" + Arrays.toString(eosTokenIds) + ")";
  }
}
