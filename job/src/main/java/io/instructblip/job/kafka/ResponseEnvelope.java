package io.instructblip.job.kafka;

import io.instructblip.schema.avro.InferenceResponse;
import java.util.List;
import java.util.Objects;

/**
 * A response ready for the response topic, with the headers to write on its record (those of the
 * request it answers).
 */
public record ResponseEnvelope(InferenceResponse response, List<RawHeader> headers) {
  public ResponseEnvelope {
    Objects.requireNonNull(response, "response");
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /** A response without headers. */
  public static ResponseEnvelope of(InferenceResponse response) {
    return new ResponseEnvelope(response, List.of());
  }
}
