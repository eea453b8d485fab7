package io.instructblip.engine.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * The processors of one request in the order of docs/model-format.md: repetition penalty, min new
 * tokens, then (sampling only) temperature, top-k, top-p. Steps that would change nothing (penalty
 * 1.0, min 0, temperature 1.0, top-k 0, top-p 1.0) are left out. Built once per request.
 */
public final class LogitsProcessorChain implements LogitsProcessor {
  private final List<LogitsProcessor> processors;

  public LogitsProcessorChain(List<LogitsProcessor> processors) {
    this.processors = List.copyOf(processors);
  }

  /** The chain that {@code params} asks for. */
  public static LogitsProcessorChain forParams(GenerationParams params) {
    List<LogitsProcessor> steps = new ArrayList<>();
    if (params.repetitionPenalty() != 1.0) {
      steps.add(new RepetitionPenaltyProcessor(params.repetitionPenalty()));
    }
    if (params.minNewTokens() > 0) {
      steps.add(new MinNewTokensProcessor(params.minNewTokens(), params.eosTokenIds()));
    }
    if (params.doSample()) {
      if (params.temperature() != 1.0) {
        steps.add(new TemperatureProcessor(params.temperature()));
      }
      if (params.topK() > 0) {
        steps.add(new TopKProcessor(params.topK()));
      }
      if (params.topP() < 1.0) {
        steps.add(new TopPProcessor(params.topP()));
      }
    }
    return new LogitsProcessorChain(steps);
  }

  /** The steps, in order. */
  public List<LogitsProcessor> processors() {
    return processors;
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    for (LogitsProcessor processor : processors) {
      processor.process(scores, history);
    }
  }

  @Override
  public String toString() {
    return "LogitsProcessorChain" + processors;
  }
}
