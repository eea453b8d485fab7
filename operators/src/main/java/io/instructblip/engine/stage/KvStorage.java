package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.NativeTensor;
import java.util.Locale;

/**
 * Where the LLM stage keeps its KV caches between decode steps, and how a step packs them
 * (docs/design.md, "KV cache in native memory").
 *
 * <ul>
 *   <li>{@link #NATIVE} (the default): in native memory, in the model's dtype (fp16 stays fp16);
 *       ONNX Runtime reads the packed pasts and writes the presents in place, and packing for
 *       continuous batching is native memory copies: per step only ids, positions, the new
 *       embeddings and the logits cross the Java heap. While a loop's batch does not change, a
 *       step's {@code present} is fed back as the next step's past without packing ({@link
 *       KvCarry});
 *   <li>{@link #NATIVE_REPACK}: the same, but every step packs the batch from the sequences' caches
 *       (the native backend before the carry; kept to compare and to switch the carry off);
 *   <li>{@link #HEAP}: the earlier backend, kept as the fallback: Java {@code float[]} per row,
 *       every step copies the whole cache into ONNX Runtime and the presents back.
 * </ul>
 */
public enum KvStorage {
  NATIVE,
  NATIVE_REPACK,
  HEAP;

  /**
   * The name used in configuration and logs: {@code native}, {@code native-repack} or {@code heap}.
   */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether the caches are in native memory. */
  public boolean isNative() {
    return this != HEAP;
  }

  /** Parses {@code native}, {@code native-repack} or {@code heap} (any case). */
  public static KvStorage parse(String value) {
    for (KvStorage storage : values()) {
      if (storage.wireName().equalsIgnoreCase(value.trim())) {
        return storage;
      }
    }
    throw new IllegalArgumentException(
        "unknown KV cache storage '" + value + "': use native, native-repack or heap");
  }

  /**
   * A batch tensor of this storage for the input or output {@code role}: zeroed float32 on the
   * heap; in native memory, a view of this thread's scratch area for the role in {@code type}, not
   * zeroed (whoever fills it writes every element, padding included).
   */
  HostTensor batch(String role, OnnxJavaType type, int... shape) {
    return this == HEAP ? FloatTensor.zeros(shape) : NativeScratch.tensor(role, type, shape);
  }

  /** Frees a batch tensor made by {@link #zeros} (nothing to do on the heap). */
  static void free(HostTensor tensor) {
    if (tensor instanceof NativeTensor nativeTensor) {
      nativeTensor.free();
    }
  }
}
