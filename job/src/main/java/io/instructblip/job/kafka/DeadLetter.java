package io.instructblip.job.kafka;

import java.util.Objects;

/**
 * A record that cannot be answered because no request id can be read from it: it goes to the
 * dead-letter topic with its original key, value and headers, plus headers that say why and where
 * from (see {@link DeadLetterSerializer}).
 *
 * @param record the record as read from the request topic
 * @param errorCode a stable code, e.g. {@code UNDECODABLE} (a {@code MessageErrorCode} name)
 * @param errorMessage what is wrong with the record, for a person
 */
public record DeadLetter(RawRecord record, String errorCode, String errorMessage) {
  public DeadLetter {
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(errorCode, "errorCode");
    Objects.requireNonNull(errorMessage, "errorMessage");
  }
}
