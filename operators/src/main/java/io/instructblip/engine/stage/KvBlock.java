package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.platform.Fp16Conversions;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.NativeTensor;
import java.nio.ByteBuffer;

/**
 * The keys or the values of one row and one layer: {@code [heads, capacity, headDim]}, of which
 * positions {@code [0, length)} are used (the owner tracks the length). Head-major like the
 * decoder's tensors, so packing a row into a batch is one copy per head. On the heap (float32) or
 * in native memory (the model's dtype); batch tensors must be of the same storage.
 */
abstract sealed class KvBlock permits KvBlock.Heap, KvBlock.Native {
  final int heads;
  final int capacity;
  final int headDim;

  private KvBlock(int heads, int capacity, int headDim) {
    this.heads = heads;
    this.capacity = capacity;
    this.headDim = headDim;
  }

  static KvBlock allocate(
      KvStorage storage, OnnxJavaType type, int heads, int capacity, int headDim) {
    return storage == KvStorage.HEAP
        ? new Heap(heads, capacity, headDim)
        : new Native(NativeTensor.allocate(type, heads, capacity, headDim));
  }

  /** The memory: a {@code float[]} or a {@link NativeTensor}. */
  abstract Object memory();

  /** The memory of a batch tensor of this block's storage (checked). */
  abstract Object memoryOf(HostTensor batch);

  /** Memory units (array elements or bytes) of one position of one head. */
  abstract int positionUnits();

  /** An empty block of the same storage and type with {@code newCapacity} positions. */
  abstract KvBlock allocateLike(int newCapacity);

  /** Zeroes the positions of batch row {@code b} outside {@code [at, at + length)}. */
  abstract void zeroPadding(HostTensor dest, int b, int at, int length);

  /** Positions {@code [0, length)} as float32 {@code [heads, length, hd]} (a copy). */
  abstract FloatTensor toFloat(int length);

  /** Gives native memory back; the block is unusable afterwards. */
  abstract void free();

  /** A block of {@code newCapacity} positions holding this one's first {@code length}. */
  final KvBlock resized(int newCapacity, int length) {
    KvBlock result = allocateLike(newCapacity);
    int p = positionUnits();
    copyHeads(memory(), 0, capacity * p, result.memory(), 0, newCapacity * p, length * p);
    return result;
  }

  /**
   * Copies positions {@code [0, length)} into batch index {@code b} of {@code dest} {@code [B,
   * heads, P, hd]}, from position {@code at} on, and zeroes the row's other positions (padding).
   */
  final void writeTo(HostTensor dest, int b, int at, int length) {
    int padded = dest.shape()[2];
    int p = positionUnits();
    copyHeads(
        memory(),
        0,
        capacity * p,
        memoryOf(dest),
        (b * heads * padded + at) * p,
        padded * p,
        length * p);
    zeroPadding(dest, b, at, length);
  }

  /**
   * Copies positions {@code [from, from + n)} of batch index {@code b} of {@code source} {@code [B,
   * heads, T, hd]} to positions {@code [at, at + n)} of this block.
   */
  final void readFrom(HostTensor source, int b, int from, int at, int n) {
    int total = source.shape()[2];
    int p = positionUnits();
    copyHeads(
        memoryOf(source),
        (b * heads * total + from) * p,
        total * p,
        memory(),
        at * p,
        capacity * p,
        n * p);
  }

  /**
   * Copies one run of {@code run} units per head: head {@code h} from {@code from + h * fromStride}
   * of {@code source} to {@code to + h * toStride} of {@code dest} (elements of two arrays, or
   * bytes of two native tensors).
   */
  private void copyHeads(
      Object source, int from, int fromStride, Object dest, int to, int toStride, int run) {
    for (int h = 0; h < heads; h++) {
      if (source instanceof NativeTensor nativeSource) {
        ((NativeTensor) dest).copyFrom(nativeSource, from + h * fromStride, to + h * toStride, run);
      } else {
        System.arraycopy(source, from + h * fromStride, dest, to + h * toStride, run);
      }
    }
  }

  /** float32 on the Java heap: the fallback backend. */
  static final class Heap extends KvBlock {
    private final float[] data;

    Heap(int heads, int capacity, int headDim) {
      super(heads, capacity, headDim);
      this.data = new float[heads * capacity * headDim];
    }

    @Override
    Object memory() {
      return data;
    }

    @Override
    Object memoryOf(HostTensor batch) {
      return ((FloatTensor) batch).data();
    }

    @Override
    int positionUnits() {
      return headDim;
    }

    @Override
    KvBlock allocateLike(int newCapacity) {
      return new Heap(heads, newCapacity, headDim);
    }

    @Override
    void zeroPadding(HostTensor dest, int b, int at, int length) {
      // heap batch tensors are made zeroed
    }

    @Override
    FloatTensor toFloat(int length) {
      Heap copy = (Heap) resized(length, length);
      return new FloatTensor(new int[] {heads, length, headDim}, copy.data);
    }

    @Override
    void free() {
      // the garbage collector takes it
    }
  }

  /** The model's dtype in native memory: copies are native memory copies. */
  static final class Native extends KvBlock {
    private final NativeTensor tensor;
    private final int elementSize;

    Native(NativeTensor tensor) {
      super(tensor.dim(0), tensor.dim(1), tensor.dim(2));
      this.tensor = tensor;
      this.elementSize = tensor.elementSize();
    }

    @Override
    Object memory() {
      return tensor;
    }

    @Override
    Object memoryOf(HostTensor batch) {
      if (!(batch instanceof NativeTensor nativeBatch) || nativeBatch.type() != tensor.type()) {
        throw new IllegalArgumentException(
            "a native " + tensor.type() + " KV block packs only into native tensors of its type");
      }
      return nativeBatch;
    }

    @Override
    int positionUnits() {
      return headDim * elementSize;
    }

    @Override
    KvBlock allocateLike(int newCapacity) {
      return new Native(NativeTensor.allocate(tensor.type(), heads, newCapacity, headDim));
    }

    @Override
    void zeroPadding(HostTensor dest, int b, int at, int length) {
      NativeTensor batch = (NativeTensor) dest;
      int padded = batch.dim(2);
      int p = positionUnits();
      for (int h = 0; h < heads; h++) {
        int rowStart = (b * heads + h) * padded * p;
        batch.zero(rowStart, at * p);
        batch.zero(rowStart + (at + length) * p, (padded - at - length) * p);
      }
    }

    @Override
    FloatTensor toFloat(int length) {
      float[] out = new float[heads * length * headDim];
      ByteBuffer buffer = tensor.buffer();
      int i = 0;
      for (int h = 0; h < heads; h++) {
        for (int e = 0; e < length * headDim; e++) {
          int index = (h * capacity * headDim + e) * elementSize;
          out[i++] =
              tensor.type() == OnnxJavaType.FLOAT16
                  ? Fp16Conversions.fp16ToFloat(buffer.getShort(index))
                  : buffer.getFloat(index);
        }
      }
      return new FloatTensor(new int[] {heads, length, headDim}, out);
    }

    @Override
    void free() {
      tensor.free();
    }
  }
}
