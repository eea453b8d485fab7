package io.instructblip.job.kafka;

/** Where the job starts reading the request topic when it starts without a checkpoint. */
public enum StartingOffsets {
  /** From the oldest record still in the topic. */
  EARLIEST,
  /** Only records written after the job started. */
  LATEST,
  /** From the consumer group's committed offsets; from the oldest record where none are. */
  COMMITTED
}
