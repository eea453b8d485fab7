package io.instructblip.engine.generate;

import io.instructblip.engine.api.GenerationParameter;

/** Sampling only: divides every score by the temperature (in float32). */
public final class TemperatureProcessor implements LogitsProcessor {
  private final float temperature;

  /**
   * @param temperature within {@link GenerationParameter#TEMPERATURE}'s rule (smaller ones overflow
   *     the scores, an infinite one makes every token alike); 1.0 changes nothing
   */
  public TemperatureProcessor(double temperature) {
    GenerationParameter.TEMPERATURE.check(temperature);
    this.temperature = (float) temperature;
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    for (int i = 0; i < scores.length; i++) {
      scores[i] = scores[i] / temperature;
    }
  }

  @Override
  public String toString() {
    return "Temperature(" + temperature + ")";
  }
}
