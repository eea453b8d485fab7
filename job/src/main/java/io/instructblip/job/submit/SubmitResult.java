package io.instructblip.job.submit;

import io.instructblip.schema.avro.InferenceResponse;
import java.util.List;
import java.util.Map;

/**
 * What a {@link SubmitClient} run did.
 *
 * @param sentIds the ids of the requests sent, in order
 * @param responses the responses received, by request id (empty without waiting)
 */
public record SubmitResult(List<String> sentIds, Map<String, InferenceResponse> responses) {
  public SubmitResult {
    sentIds = List.copyOf(sentIds);
    responses = Map.copyOf(responses);
  }

  /** Whether every request sent has its response. */
  public boolean allAnswered() {
    return responses.keySet().containsAll(sentIds);
  }
}
