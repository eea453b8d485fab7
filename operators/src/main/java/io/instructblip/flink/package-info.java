/**
 * The Flink side of the pipeline: generic stage operators and what they need.
 *
 * <h2>Stages</h2>
 *
 * <ul>
 *   <li>{@link io.instructblip.flink.MicroBatchOperator} (vision encoder, Q-Former): a queue per
 *       subtask; a batch is dispatched at {@code maxBatchSize} elements or when its oldest element
 *       has waited {@code maxWait}; one batch at a time runs on the subtask's stage thread through
 *       a {@link io.instructblip.flink.BatchProcessor}.
 *   <li>{@link io.instructblip.flink.ContinuousBatchingOperator} (llm): every element in flight
 *       handed to a {@link io.instructblip.flink.Stepper}, which decides which of them run (the llm
 *       stage: by rows and tokens) and advances them one decode step at a time; new sequences join
 *       at step boundaries, finished ones leave at once.
 * </ul>
 *
 * Add them with {@link io.instructblip.flink.StageOperators}. The main output carries values;
 * errors and timeouts go to the side output {@link io.instructblip.flink.StageOutputs#FAILURES} as
 * {@link io.instructblip.flink.StageFailure}s (request id, stage, error code, message).
 *
 * <h2>Contracts</h2>
 *
 * <ul>
 *   <li>Threads: stage functions run on stage threads, never the task thread; results hop onto the
 *       mailbox and only the task thread emits.
 *   <li>Exactly once: each element is answered once (value, error or timeout); late results of an
 *       element already answered (e.g. timed out) are discarded.
 *   <li>State: a checkpoint stores each element held (queued or running) as an {@link
 *       io.instructblip.flink.InFlight} made by the stage's {@link
 *       io.instructblip.flink.InFlightCodec}: the compact request only. After a restore, elements
 *       come back without their heavy transient payload and the stage function must re-derive it
 *       (decode the image again, recompute embeddings); sequences restart from their compact input.
 *       A checkpoint never waits for a running batch or generation.
 *   <li>Deadlines: an element's deadline (epoch millis, from the codec, or {@code defaultTimeout})
 *       fires a TIMEOUT answer and drops it (a running sequence is cancelled); its timer is
 *       cancelled when it is answered otherwise.
 *   <li>Backpressure: at most {@code maxInFlight} elements per subtask; a full operator yields to
 *       the mailbox instead of taking input. {@code endInput()} waits until every element is
 *       answered.
 *   <li>Time: deadlines, max-wait and latency use processing time. Outputs carry no event
 *       timestamps and watermarks pass straight through (the pipeline is not event-time based).
 *   <li>Engines: {@link io.instructblip.flink.SharedEngineRegistry} shares one engine per key per
 *       JVM (see its classloader caveat).
 * </ul>
 */
package io.instructblip.flink;
