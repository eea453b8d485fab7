package io.instructblip.job.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Repeated timings of one operation after warm-up: median and spread in milliseconds. A benchmark
 * reports medians and ratios of medians, never a single run.
 *
 * @param name what was measured
 * @param millis every measured run, in milliseconds, sorted
 */
public record Measurement(String name, double[] millis) {

  /** Times {@code action} {@code warmup} times unmeasured, then {@code runs} times measured. */
  public static Measurement of(String name, int warmup, int runs, Runnable action) {
    for (int i = 0; i < warmup; i++) {
      action.run();
    }
    double[] millis = new double[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      action.run();
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    Arrays.sort(millis);
    return new Measurement(name, millis);
  }

  /**
   * Times several actions in turn, run after run ({@code warmup} rounds unmeasured), so that they
   * see the same machine load: one measurement per action, named {@code name [k]}. Each round runs
   * the actions in a new order (a seeded shuffle), so that no action always follows the same one
   * (e.g. one that leaves the caches cold) or always runs first.
   */
  public static List<Measurement> interleaved(
      String name, int warmup, int runs, List<Runnable> actions) {
    int n = actions.size();
    SplittableRandom random = new SplittableRandom(1);
    for (int i = 0; i < warmup; i++) {
      for (int k : shuffled(n, random)) {
        actions.get(k).run();
      }
    }
    double[][] millis = new double[n][runs];
    for (int i = 0; i < runs; i++) {
      for (int k : shuffled(n, random)) {
        long start = System.nanoTime();
        actions.get(k).run();
        millis[k][i] = (System.nanoTime() - start) / 1e6;
      }
    }
    List<Measurement> result = new ArrayList<>();
    for (int k = 0; k < actions.size(); k++) {
      Arrays.sort(millis[k]);
      result.add(new Measurement(name + " [" + k + "]", millis[k]));
    }
    return result;
  }

  /** {@code 0 .. n-1} in a random order (Fisher-Yates). */
  private static int[] shuffled(int n, SplittableRandom random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      int j = random.nextInt(i + 1);
      order[i] = order[j];
      order[j] = i;
    }
    return order;
  }

  /** The median run, in milliseconds. */
  public double median() {
    int n = millis.length;
    return n % 2 == 1 ? millis[n / 2] : (millis[n / 2 - 1] + millis[n / 2]) / 2;
  }

  /** The {@code q} quantile (0..1), nearest rank. */
  public double quantile(double q) {
    int index = (int) Math.ceil(q * millis.length) - 1;
    return millis[Math.max(0, Math.min(millis.length - 1, index))];
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%-40s median %9.3f ms  p10 %9.3f  p90 %9.3f  (%d runs)",
        name,
        median(),
        quantile(0.1),
        quantile(0.9),
        millis.length);
  }
}
