package io.instructblip.engine.model;

/** A tensor in host memory that a stage session accepts as an input. */
public sealed interface HostTensor permits FloatTensor, LongTensor, NativeTensor {
  /** The shape, outermost axis first. */
  int[] shape();
}
