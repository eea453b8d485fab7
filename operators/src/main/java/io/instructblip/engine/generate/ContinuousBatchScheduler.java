package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Who runs in the LLM stage, without any model: a FIFO waiting queue and a running set limited by a
 * number of rows and a token budget. It is the one owner of that decision: the Flink llm stage
 * ({@code LlmFunction}) and {@code InstructBlipEngine.infer} both drive it; the operator in front
 * only bounds the requests in flight.
 *
 * <ul>
 *   <li>A sequence takes {@code rows} rows (1, or {@code num_beams} for beam search) and reserves
 *       {@code rows * tokensPerRow} tokens of the budget, where {@code tokensPerRow} is the longest
 *       context a row can reach (its prefill positions plus {@code max_new_tokens}). Reserving the
 *       maximum means a running sequence never has to be preempted.
 *   <li>{@link #admit()}, called at step boundaries, moves waiting sequences to the running set in
 *       arrival order while they fit (a sequence with more rows than the limit runs alone). It
 *       stops at the first that does not fit, so a big sequence at the head is never overtaken (no
 *       starvation); it runs as soon as enough has finished.
 *   <li>{@link #finish(String)} removes a sequence at once (done, failed, timed out, cancelled),
 *       whether running or still waiting.
 * </ul>
 *
 * <p>Not thread-safe: the stage's own thread owns it.
 *
 * @param <T> what the caller keeps with each sequence (its request state)
 */
public final class ContinuousBatchScheduler<T> {

  /** No token budget: only the rows limit a step. */
  public static final long NO_TOKEN_BUDGET = Long.MAX_VALUE;

  /**
   * The scheduler's limits.
   *
   * @param maxRunningRows the rows the running batch may hold (a beam sequence counts {@code K}, a
   *     ranking request its candidates)
   * @param tokenBudget the tokens the running rows may reserve in all, or {@link #NO_TOKEN_BUDGET}
   */
  public record Limits(int maxRunningRows, long tokenBudget) {
    public Limits {
      if (maxRunningRows < 1) {
        throw invalid("maxRunningRows must be at least 1, got " + maxRunningRows);
      }
      if (tokenBudget < 1) {
        throw invalid("tokenBudget must be at least 1, got " + tokenBudget);
      }
    }
  }

  /**
   * A scheduled sequence.
   *
   * @param id the request id (unique among scheduled sequences)
   * @param rows the rows it takes while running
   * @param tokensPerRow the longest context one of its rows can reach
   * @param payload the caller's state
   */
  public record Entry<T>(String id, int rows, int tokensPerRow, T payload) {
    /** The tokens it reserves while running. */
    public long reservedTokens() {
      return (long) rows * tokensPerRow;
    }
  }

  private final Limits limits;
  private final LinkedHashMap<String, Entry<T>> waiting = new LinkedHashMap<>();
  private final LinkedHashMap<String, Entry<T>> running = new LinkedHashMap<>();
  private int runningRows;
  private long reservedTokens;

  public ContinuousBatchScheduler(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /**
   * Queues a sequence at the tail (the caller bounds how many it hands over).
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} when the sequence could never run
   *     within the token budget; {@link ErrorCode#INTERNAL} when the id is already scheduled
   */
  public void submit(String id, int rows, int tokensPerRow, T payload) {
    Objects.requireNonNull(id, "id");
    if (waiting.containsKey(id) || running.containsKey(id)) {
      throw new EngineException(ErrorCode.INTERNAL, "request " + id + " is already scheduled");
    }
    if (rows < 1 || tokensPerRow < 1) {
      throw invalid(
          "request "
              + id
              + " needs rows >= 1 and tokensPerRow >= 1, got "
              + rows
              + " and "
              + tokensPerRow);
    }
    Entry<T> entry = new Entry<>(id, rows, tokensPerRow, payload);
    if (entry.reservedTokens() > limits.tokenBudget()) {
      throw invalid(
          "request "
              + id
              + " needs "
              + entry.reservedTokens()
              + " tokens ("
              + rows
              + " rows x "
              + tokensPerRow
              + ") but the token budget is "
              + limits.tokenBudget()
              + ": lower max_new_tokens or num_beams, or raise the token budget");
    }
    waiting.put(id, entry);
  }

  /**
   * Moves waiting sequences into the running set, in arrival order, while they fit; stops at the
   * first that does not.
   *
   * @return the sequences admitted now, in order (to prefill)
   */
  public List<Entry<T>> admit() {
    List<Entry<T>> admitted = new ArrayList<>();
    Iterator<Entry<T>> it = waiting.values().iterator();
    while (it.hasNext()) {
      Entry<T> head = it.next();
      // A sequence wider than the row limit (num_beams above it) runs alone: it waits until nothing
      // runs, then nothing joins it. The token budget has no such exception (submit refuses).
      boolean rowsFit = runningRows + head.rows() <= limits.maxRunningRows() || running.isEmpty();
      if (!rowsFit || reservedTokens + head.reservedTokens() > limits.tokenBudget()) {
        break;
      }
      it.remove();
      running.put(head.id(), head);
      runningRows += head.rows();
      reservedTokens += head.reservedTokens();
      admitted.add(head);
    }
    return admitted;
  }

  /**
   * Removes a sequence at once, running or waiting.
   *
   * @return its payload, or empty when the id is not scheduled
   */
  public Optional<T> finish(String id) {
    Entry<T> entry = running.remove(id);
    if (entry != null) {
      runningRows -= entry.rows();
      reservedTokens -= entry.reservedTokens();
      return Optional.ofNullable(entry.payload());
    }
    entry = waiting.remove(id);
    return entry == null ? Optional.empty() : Optional.ofNullable(entry.payload());
  }

  /** How many sequences wait. */
  public int waitingCount() {
    return waiting.size();
  }

  /** The rows the running sequences take. */
  public int runningRows() {
    return runningRows;
  }

  /** The tokens the running sequences reserve. */
  public long reservedTokens() {
    return reservedTokens;
  }

  /** Whether nothing is running or waiting. */
  public boolean isIdle() {
    return running.isEmpty() && waiting.isEmpty();
  }

  /** The limits. */
  public Limits limits() {
    return limits;
  }

  private static EngineException invalid(String message) {
    return new EngineException(ErrorCode.INVALID_PARAMETER, message);
  }
}
