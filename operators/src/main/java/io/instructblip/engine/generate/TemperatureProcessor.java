package io.instructblip.engine.generate;

/** Sampling only: divides every score by the temperature (in float32). */
public final class TemperatureProcessor implements LogitsProcessor {
  private final float temperature;

  /**
   * @param temperature at least {@link ParameterRules#MIN_TEMPERATURE} (smaller ones overflow the
   *     scores); 1.0 changes nothing
   */
  public TemperatureProcessor(double temperature) {
    if (!(temperature >= ParameterRules.MIN_TEMPERATURE)) {
      throw ParameterRules.invalid(
          "temperature must be at least "
              + ParameterRules.MIN_TEMPERATURE
              + " (smaller ones overflow), got "
              + temperature);
    }
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
