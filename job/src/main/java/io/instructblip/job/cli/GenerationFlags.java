package io.instructblip.job.cli;

import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.schema.avro.GenerationOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The generation flags of the commands that make requests themselves ({@code infer}, {@code
 * annotate}), as a picocli mixin: a flag left out takes the model's default.
 */
public final class GenerationFlags {
  @Option(names = "--max-new-tokens")
  Integer maxNewTokens;

  @Option(names = "--min-new-tokens")
  Integer minNewTokens;

  @Option(names = "--num-beams")
  Integer numBeams;

  @Option(names = "--length-penalty")
  Double lengthPenalty;

  @Option(names = "--repetition-penalty")
  Double repetitionPenalty;

  @Option(names = "--do-sample", description = "Sample instead of greedy/beam search.")
  Boolean doSample;

  @Option(names = "--temperature")
  Double temperature;

  @Option(names = "--top-k")
  Integer topK;

  @Option(names = "--top-p")
  Double topP;

  @Option(names = "--seed")
  Long seed;

  @Option(
      names = "--candidates",
      arity = "1..*",
      description = "Rank these candidate answers instead of generating (multiple choice).")
  List<String> candidates = new ArrayList<>();

  /** The flags as the engine's overrides. */
  public GenerationOverrides overrides() {
    return GenerationOverrides.builder()
        .maxNewTokens(maxNewTokens)
        .minNewTokens(minNewTokens)
        .numBeams(numBeams)
        .lengthPenalty(lengthPenalty)
        .repetitionPenalty(repetitionPenalty)
        .doSample(doSample)
        .temperature(temperature)
        .topK(topK)
        .topP(topP)
        .seed(seed)
        .build();
  }

  /** The flags as a request's generation options. */
  public GenerationOptions options() {
    return GenerationOptions.newBuilder()
        .setMaxNewTokens(maxNewTokens)
        .setMinNewTokens(minNewTokens)
        .setNumBeams(numBeams)
        .setLengthPenalty(lengthPenalty)
        .setRepetitionPenalty(repetitionPenalty)
        .setDoSample(doSample)
        .setTemperature(temperature)
        .setTopK(topK)
        .setTopP(topP)
        .setSeed(seed)
        .build();
  }

  /** The candidates to rank; empty to generate. */
  public List<String> candidates() {
    return List.copyOf(candidates);
  }
}
