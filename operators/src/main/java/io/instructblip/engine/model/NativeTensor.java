package io.instructblip.engine.model;

import ai.onnxruntime.OnnxJavaType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tensor (float32, float16 or int64, as the model wants it) in native memory: a direct buffer
 * that ONNX Runtime reads as an input and fills as a pinned output in place, so it never crosses
 * the Java heap. Created zeroed by {@link #allocate}; {@link #free} gives the memory back at once
 * rather than at some later garbage collection. {@link #liveBytes()} counts what is allocated and
 * not yet freed, process-wide. Not thread-safe.
 */
public final class NativeTensor implements HostTensor {
  private static final AtomicLong LIVE_BYTES = new AtomicLong();
  private static final Method INVOKE_CLEANER;
  private static final Object UNSAFE;

  static {
    Method cleaner = null;
    Object unsafe = null;
    try {
      Class<?> type = Class.forName("sun.misc.Unsafe");
      Field field = type.getDeclaredField("theUnsafe");
      field.setAccessible(true);
      unsafe = field.get(null);
      cleaner = type.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // without it, freed buffers go back at the next garbage collection
    }
    INVOKE_CLEANER = cleaner;
    UNSAFE = unsafe;
  }

  private static final ByteBuffer ZEROS =
      ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());

  private final int[] shape;
  private final OnnxJavaType type;
  private final boolean owner;
  private ByteBuffer data;

  private NativeTensor(int[] shape, OnnxJavaType type, ByteBuffer data, boolean owner) {
    this.shape = shape;
    this.type = type;
    this.data = data;
    this.owner = owner;
  }

  private static long byteSize(OnnxJavaType type, int[] shape) {
    Objects.requireNonNull(type, "type");
    if (type != OnnxJavaType.FLOAT && type != OnnxJavaType.FLOAT16 && type != OnnxJavaType.INT64) {
      throw new IllegalArgumentException(
          "a native tensor holds float, float16 or int64, not " + type);
    }
    long bytes = Shapes.elementCount(shape) * type.size;
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "a native tensor of shape " + Arrays.toString(shape) + " exceeds 2 GiB");
    }
    return bytes;
  }

  /**
   * A tensor over the first bytes of {@code memory} (a direct buffer the caller owns and reuses,
   * e.g. a per-thread scratch area): not zeroed, not counted in {@link #liveBytes()}, and {@link
   * #free} only ends its use.
   */
  public static NativeTensor view(ByteBuffer memory, OnnxJavaType type, int... shape) {
    long bytes = byteSize(type, shape);
    if (!memory.isDirect() || memory.capacity() < bytes) {
      throw new IllegalArgumentException(
          "a view of shape " + Arrays.toString(shape) + " needs a direct buffer of " + bytes);
    }
    return new NativeTensor(
        shape.clone(), type, memory.slice(0, (int) bytes).order(ByteOrder.nativeOrder()), false);
  }

  /**
   * A zeroed tensor of the given element type ({@link OnnxJavaType#FLOAT}, {@link
   * OnnxJavaType#FLOAT16} or {@link OnnxJavaType#INT64}) and shape.
   */
  public static NativeTensor allocate(OnnxJavaType type, int... shape) {
    long bytes = byteSize(type, shape);
    ByteBuffer buffer = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
    LIVE_BYTES.addAndGet(bytes);
    return new NativeTensor(shape.clone(), type, buffer, true);
  }

  /** Whether freed memory goes back at once (false: at a later garbage collection). */
  public static boolean freesEagerly() {
    return INVOKE_CLEANER != null;
  }

  /** Bytes of native tensors allocated and not freed, in this process. */
  public static long liveBytes() {
    return LIVE_BYTES.get();
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** The size of axis {@code axis}. */
  public int dim(int axis) {
    return shape[axis];
  }

  /** The element type. */
  public OnnxJavaType type() {
    return type;
  }

  /** The bytes of one element. */
  public int elementSize() {
    return type.size;
  }

  /** The shape as ONNX Runtime wants it. */
  public long[] longShape() {
    return Shapes.toLong(shape);
  }

  /** The memory (position 0, native byte order); valid until {@link #free}. */
  public ByteBuffer buffer() {
    if (data == null) {
      throw new IllegalStateException("native tensor " + Arrays.toString(shape) + " was freed");
    }
    return data;
  }

  /**
   * Copies {@code bytes} bytes from {@code source} at {@code sourceOffset} to this tensor at {@code
   * offset}: one native memory copy, nothing on the Java heap.
   */
  public void copyFrom(NativeTensor source, int sourceOffset, int offset, int bytes) {
    buffer().put(offset, source.buffer(), sourceOffset, bytes);
  }

  /** Sets {@code bytes} bytes from {@code offset} on to zero. */
  public void zero(int offset, int bytes) {
    ByteBuffer buffer = buffer();
    for (int done = 0; done < bytes; done += ZEROS.capacity()) {
      buffer.put(offset + done, ZEROS, 0, Math.min(ZEROS.capacity(), bytes - done));
    }
  }

  /** Gives the memory back (a view: ends its use); later use throws. Freeing twice does nothing. */
  public void free() {
    if (data == null) {
      return;
    }
    ByteBuffer buffer = data;
    data = null;
    if (!owner) {
      return;
    }
    LIVE_BYTES.addAndGet(-buffer.capacity());
    if (INVOKE_CLEANER != null) {
      try {
        INVOKE_CLEANER.invoke(UNSAFE, buffer);
      } catch (ReflectiveOperationException e) {
        // left to the garbage collector
      }
    }
  }

  @Override
  public String toString() {
    return "NativeTensor" + Arrays.toString(shape) + " " + type;
  }
}
