package io.instructblip.flink;

/**
 * Where a stage function runs: handed to {@link BatchFunction#open} and {@link StepFunction#open}.
 *
 * @param stageName the operator's name (used in metrics, logs and failures)
 * @param subtaskIndex the index of this parallel subtask
 * @param parallelism the number of parallel subtasks
 */
public record StageContext(String stageName, int subtaskIndex, int parallelism) {}
