package io.instructblip.job.kafka;

import io.instructblip.schema.avro.InferenceRequest;
import java.util.List;
import java.util.Objects;

/**
 * A valid request on its way through the job, with the Kafka headers of its record so that the
 * response can carry them back (tracing headers, correlation ids).
 */
public record RequestEnvelope(InferenceRequest request, List<RawHeader> headers) {
  public RequestEnvelope {
    Objects.requireNonNull(request, "request");
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /** The answer to this request, carrying the request's headers. */
  public ResponseEnvelope answer(io.instructblip.schema.avro.InferenceResponse response) {
    return new ResponseEnvelope(response, headers);
  }
}
