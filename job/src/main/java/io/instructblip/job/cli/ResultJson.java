package io.instructblip.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.generate.RankedCandidate;
import java.util.List;

/**
 * The JSON form of an {@link EngineOutcome} printed by {@code infer}: for an answer, the fields of
 * the export tool's {@code reference} output (docs/model-format.md), plus the request id and
 * timings; for a failure, the request id and its error.
 */
public final class ResultJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResultJson() {}

  /** One line of JSON for {@code outcome}. */
  public static String toJson(EngineOutcome outcome, String model) {
    return toJson(outcome, model, null);
  }

  /**
   * One line of JSON for {@code outcome}, with the number of its line in a requests file when
   * {@code line} is not null.
   */
  public static String toJson(EngineOutcome outcome, String model, Integer line) {
    ObjectNode node = JSON.createObjectNode();
    node.put("id", outcome.id());
    if (line != null) {
      node.put("line", line);
    }
    node.put("model", model);
    if (outcome instanceof EngineFailure failure) {
      ObjectNode error = node.putObject("error");
      error.put("code", failure.code().name());
      error.put("message", failure.message());
      return node.toString();
    }
    EngineResult result = (EngineResult) outcome;
    ints(node.putArray("qformer_input_ids"), result.qformerInputIds());
    ints(node.putArray("prompt_ids"), result.promptIds());
    ints(node.putArray("token_ids"), result.tokenIds());
    node.put("text", result.text());
    node.put("finish_reason", result.finishReason().wireName());
    node.put("num_prompt_tokens", result.promptTokens());
    node.put("num_generated_tokens", result.generatedTokens());
    if (result.candidates().isEmpty()) {
      node.putNull("candidates");
    } else {
      ArrayNode candidates = node.putArray("candidates");
      for (RankedCandidate c : result.candidates()) {
        ObjectNode cn = candidates.addObject();
        cn.put("text", c.text());
        ints(cn.putArray("token_ids"), c.tokenIds());
        cn.put("sum_logprob", c.sumLogprob());
        cn.put("mean_logprob", c.meanLogprob());
      }
    }
    StageTimings t = result.timings();
    ObjectNode timings = node.putObject("timings_us");
    timings.put("preprocess", t.preprocessMicros());
    timings.put("vision_encoder", t.visionMicros());
    timings.put("qformer", t.qformerMicros());
    timings.put("llm", t.llmMicros());
    timings.put("total", t.totalMicros());
    return node.toString();
  }

  private static void ints(ArrayNode array, List<Integer> values) {
    values.forEach(array::add);
  }
}
