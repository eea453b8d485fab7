package io.instructblip.job.parse;

import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;

/** What {@link RequestParser} made of one Kafka record: exactly one of three outcomes. */
public sealed interface ParseResult
    permits ParseResult.Accepted, ParseResult.Rejected, ParseResult.DeadLettered {

  /** A valid request, to be worked on. */
  record Accepted(RequestEnvelope request) implements ParseResult {}

  /** A record that names its request id but is no valid request: answered with this error. */
  record Rejected(ResponseEnvelope errorResponse) implements ParseResult {}

  /** A record without a readable request id: goes to the dead-letter topic. */
  record DeadLettered(DeadLetter deadLetter) implements ParseResult {}
}
