package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.NativeTensor;
import java.util.List;

/**
 * The packed batch that one generation loop's last decode step left in native memory, so that the
 * next step can feed it back instead of packing it again (docs/design.md, "Carrying the present
 * into the next step").
 *
 * <p>The decoder's {@code present} is its past followed by the new position (docs/model-format.md),
 * so while a step holds the same rows of the same caches in the same order, and nothing but that
 * step's append changed those caches, the step's presents are exactly the next step's left-padded
 * {@code past_key_values} (every row grew by one position, and so did the longest), and the packed
 * cross caches of an encoder-decoder batch are unchanged. Each KV tensor has two areas: a step
 * reads its past from one and ONNX Runtime writes its present into the other, which the next step
 * reads.
 *
 * <p>The caches stay the truth: every step still appends its new position to them (one position,
 * not the context), so when the batch changes (a sequence joins or leaves, a beam reorder, a run
 * that failed) the step packs from the caches as before. Belongs to one generation loop, so to one
 * thread; {@link #close} frees the areas (a later step allocates them again).
 */
public final class KvCarry implements AutoCloseable {
  private final boolean enabled;
  private final OnnxJavaType type;
  private final int tensors;
  // [area][tensor]: the past/present double buffer of each KV tensor
  private final NativeTensor[][] areas = new NativeTensor[2][];
  // [tensor]: the packed cross caches (encoder-decoder)
  private NativeTensor[] fixed;
  // the area that holds the last step's presents
  private int current;
  // the batch those presents belong to, or null when nothing is carried
  private SequenceKv[] caches;
  private int[] rows;
  private long[] versions;
  private int total;
  private long carried;
  private long packed;

  /**
   * A carry for {@code tensors} KV tensors (2 x layers) of {@code type}; one that is not {@code
   * enabled} never carries (every step packs).
   */
  KvCarry(boolean enabled, OnnxJavaType type, int tensors) {
    this.enabled = enabled;
    this.type = type;
    this.tensors = tensors;
  }

  /** Whether steps may carry their presents over (else every step packs). */
  public boolean enabled() {
    return enabled;
  }

  /** The number of steps that fed the previous presents back. */
  public long carriedSteps() {
    return carried;
  }

  /** The number of steps that packed their batch from the caches. */
  public long packedSteps() {
    return packed;
  }

  /**
   * Whether the last presents are the pasts of a step over these rows ({@code caches.get(b)} row
   * {@code rows[b]} at batch index {@code b}) whose longest past is {@code past}; counts the step
   * as carried or packed. Forgets the last presents either way: record them again after the run
   * succeeded.
   */
  boolean carries(List<SequenceKv> stepCaches, int[] stepRows, int past) {
    boolean same =
        enabled
            && caches != null
            && caches.length == stepRows.length
            && total == past
            && sameRows(stepCaches, stepRows);
    caches = null;
    if (same) {
      carried++;
    } else {
      packed++;
    }
    return same;
  }

  private boolean sameRows(List<SequenceKv> stepCaches, int[] stepRows) {
    for (int b = 0; b < stepRows.length; b++) {
      SequenceKv cache = stepCaches.get(b);
      if (cache != caches[b] || stepRows[b] != rows[b] || cache.version() != versions[b]) {
        return false;
      }
    }
    return true;
  }

  /** The past of KV tensor {@code k}: the last presents when carried, else an area to pack into. */
  NativeTensor past(int k, int... shape) {
    return view(current, k, shape);
  }

  /** The area ONNX Runtime writes the present of KV tensor {@code k} into. */
  NativeTensor present(int k, int... shape) {
    return view(1 - current, k, shape);
  }

  /** The packed cross cache of KV tensor {@code k} (unchanged while the batch is). */
  NativeTensor cross(int k, int... shape) {
    if (fixed == null) {
      fixed = new NativeTensor[tensors];
    }
    fixed[k] = grown(fixed[k], shape);
    return NativeTensor.view(fixed[k].buffer(), type, shape);
  }

  /**
   * Records that the step over these rows succeeded and appended its one new position to every
   * cache: its presents (of {@code total} positions) are the next step's pasts.
   */
  void record(List<SequenceKv> stepCaches, int[] stepRows, int stepTotal) {
    if (!enabled) {
      return;
    }
    caches = stepCaches.toArray(new SequenceKv[0]);
    rows = stepRows.clone();
    versions = new long[caches.length];
    for (int b = 0; b < caches.length; b++) {
      versions[b] = caches[b].version();
    }
    total = stepTotal;
    current = 1 - current;
  }

  private NativeTensor view(int area, int k, int... shape) {
    if (areas[area] == null) {
      areas[area] = new NativeTensor[tensors];
    }
    areas[area][k] = grown(areas[area][k], shape);
    return NativeTensor.view(areas[area][k].buffer(), type, shape);
  }

  /** {@code memory} if it holds {@code shape}, else a new area 1.5 times larger (old one freed). */
  private NativeTensor grown(NativeTensor memory, int... shape) {
    long elements = 1;
    for (int size : shape) {
      elements *= size;
    }
    if (memory != null && memory.dim(0) >= elements) {
      return memory;
    }
    long size = memory == null ? elements : Math.max(elements, memory.dim(0) * 3L / 2);
    if (memory != null) {
      memory.free();
    }
    return NativeTensor.allocate(type, Math.toIntExact(size));
  }

  /** Frees every area and forgets the last presents; a later step allocates again. */
  @Override
  public void close() {
    caches = null;
    for (NativeTensor[] area : new NativeTensor[][] {areas[0], areas[1], fixed}) {
      if (area != null) {
        for (int k = 0; k < area.length; k++) {
          if (area[k] != null) {
            area[k].free();
            area[k] = null;
          }
        }
      }
    }
  }
}
