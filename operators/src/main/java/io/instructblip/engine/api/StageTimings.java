package io.instructblip.engine.api;

/**
 * Where one request spent its time, in microseconds. A stage that ran a batch charges the whole
 * batch's time to each of its requests (the time the request waited for that stage to finish).
 */
public record StageTimings(
    long preprocessMicros, long visionMicros, long qformerMicros, long llmMicros) {

  /** No time measured yet. */
  public static final StageTimings ZERO = new StageTimings(0, 0, 0, 0);

  /** The sum of the stages. */
  public long totalMicros() {
    return preprocessMicros + visionMicros + qformerMicros + llmMicros;
  }

  public StageTimings withPreprocess(long micros) {
    return new StageTimings(micros, visionMicros, qformerMicros, llmMicros);
  }

  public StageTimings withVision(long micros) {
    return new StageTimings(preprocessMicros, micros, qformerMicros, llmMicros);
  }

  public StageTimings withQformer(long micros) {
    return new StageTimings(preprocessMicros, visionMicros, micros, llmMicros);
  }

  public StageTimings withLlm(long micros) {
    return new StageTimings(preprocessMicros, visionMicros, qformerMicros, micros);
  }
}
