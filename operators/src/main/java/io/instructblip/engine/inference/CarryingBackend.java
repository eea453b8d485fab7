package io.instructblip.engine.inference;

import io.instructblip.engine.stage.KvCarry;

/**
 * An {@link LlmBackend} whose decode steps go through the loop's {@link KvCarry}: closing the
 * backend frees it, and it counts the steps that fed the previous presents back.
 *
 * @param <S> the per-sequence state
 */
abstract class CarryingBackend<S> implements LlmBackend<S> {
  /** The packed batch of the loop's last step (one loop, one thread). */
  protected final KvCarry carry;

  CarryingBackend(KvCarry carry) {
    this.carry = carry;
  }

  @Override
  public void close() {
    carry.close();
  }

  @Override
  public long carriedSteps() {
    return carry.carriedSteps();
  }
}
