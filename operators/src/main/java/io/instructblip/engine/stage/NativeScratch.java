package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.NativeTensor;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-thread native scratch areas for the batch tensors of one LLM run (packed pasts and cross
 * caches, presents), one per role (tensor name), reused from step to step so that a step neither
 * allocates nor zeroes them. Each area grows to the largest batch its thread has run and is kept
 * for the thread's life (a generation loop belongs to one thread). Views are not zeroed: writers
 * fill every element, padding included.
 */
final class NativeScratch {
  private static final ThreadLocal<Map<String, ByteBuffer>> AREAS =
      ThreadLocal.withInitial(HashMap::new);

  private NativeScratch() {}

  /** A view of shape {@code shape} over this thread's area for {@code role}. */
  static NativeTensor tensor(String role, OnnxJavaType type, int... shape) {
    long bytes = type.size;
    for (int size : shape) {
      bytes *= size;
    }
    Map<String, ByteBuffer> areas = AREAS.get();
    ByteBuffer area = areas.get(role);
    if (area == null || area.capacity() < bytes) {
      long grown = Math.max(bytes, area == null ? 0 : area.capacity() + area.capacity() / 2);
      area = ByteBuffer.allocateDirect(Math.toIntExact(Math.min(grown, Integer.MAX_VALUE - 8)));
      areas.put(role, area);
    }
    return NativeTensor.view(area, type, shape);
  }
}
