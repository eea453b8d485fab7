package io.instructblip.engine.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deterministic stand-in for the LLM in tests: the logits of the next token as a function of a
 * row's generated ids. {@link #run} drives a {@link Search} the way the engine does, keeping each
 * row's ids itself and reordering them by {@link Search#parentRows()}, so the search's bookkeeping
 * is checked against an independent copy.
 */
@FunctionalInterface
interface FakeModel {
  float[] logits(int[] generated);

  /** Runs {@code search} to the end; returns the rows fed at each step (for assertions). */
  default List<int[][]> run(Search search) {
    List<int[][]> fed = new ArrayList<>();
    int[][] rows = {new int[0]};
    for (int guard = 0; !search.isDone(); guard++) {
      if (guard > 1000) {
        throw new AssertionError("search did not finish");
      }
      fed.add(rows);
      float[][] logits = new float[rows.length][];
      for (int r = 0; r < rows.length; r++) {
        logits[r] = logits(rows[r]);
      }
      search.step(logits);
      if (search.isDone()) {
        break;
      }
      int[] parents = search.parentRows();
      int[] tokens = search.nextTokens();
      if (parents.length != tokens.length || parents.length != search.rows()) {
        throw new AssertionError("rows, parents and tokens disagree");
      }
      int[][] next = new int[tokens.length][];
      for (int i = 0; i < tokens.length; i++) {
        next[i] = Arrays.copyOf(rows[parents[i]], rows[parents[i]].length + 1);
        next[i][next[i].length - 1] = tokens[i];
      }
      rows = next;
    }
    return fed;
  }

  /** Logits whose log-softmax is {@code log(p)} (up to float rounding): {@code log(p)}. */
  static float[] probabilities(double... p) {
    float[] logits = new float[p.length];
    for (int i = 0; i < p.length; i++) {
      logits[i] = p[i] == 0 ? Float.NEGATIVE_INFINITY : (float) Math.log(p[i]);
    }
    return logits;
  }
}
