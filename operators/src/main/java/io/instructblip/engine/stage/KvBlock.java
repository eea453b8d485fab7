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

  /** A block of {@code newCapacity} positions holding this one's first {@code length}. */
  abstract KvBlock resized(int newCapacity, int length);

  /**
   * Copies positions {@code [0, length)} into batch index {@code b} of {@code dest} {@code [B,
   * heads, P, hd]}, from position {@code at} on, and zeroes the row's other positions (padding).
   */
  abstract void writeTo(HostTensor dest, int b, int at, int length);

  /**
   * Copies positions {@code [from, from + n)} of batch index {@code b} of {@code source} {@code [B,
   * heads, T, hd]} to positions {@code [at, at + n)} of this block.
   */
  abstract void readFrom(HostTensor source, int b, int from, int at, int n);

  /** Positions {@code [0, length)} as float32 {@code [heads, length, hd]} (a copy). */
  abstract FloatTensor toFloat(int length);

  /** Gives native memory back; the block is unusable afterwards. */
  abstract void free();

  /**
   * Copies {@code heads} runs of {@code run} elements: run {@code h} from {@code from + h *
   * fromStride} of {@code source} to {@code to + h * toStride} of {@code dest} (elements of one
   * array, or bytes of one native tensor).
   */
  static void copyHeads(
      int heads,
      Object source,
      int from,
      int fromStride,
      Object dest,
      int to,
      int toStride,
      int run) {
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
    KvBlock resized(int newCapacity, int length) {
      Heap result = new Heap(heads, newCapacity, headDim);
      copyHeads(
          heads,
          data,
          0,
          capacity * headDim,
          result.data,
          0,
          newCapacity * headDim,
          length * headDim);
      return result;
    }

    @Override
    void writeTo(HostTensor dest, int b, int at, int length) {
      float[] batch = ((FloatTensor) dest).data();
      int padded = dest.shape()[2];
      copyHeads(
          heads,
          data,
          0,
          capacity * headDim,
          batch,
          (b * heads * padded + at) * headDim,
          padded * headDim,
          length * headDim);
    }

    @Override
    void readFrom(HostTensor source, int b, int from, int at, int n) {
      float[] batch = ((FloatTensor) source).data();
      int total = source.shape()[2];
      copyHeads(
          heads,
          batch,
          (b * heads * total + from) * headDim,
          total * headDim,
          data,
          at * headDim,
          capacity * headDim,
          n * headDim);
    }

    @Override
    FloatTensor toFloat(int length) {
      float[] out = new float[heads * length * headDim];
      for (int h = 0; h < heads; h++) {
        System.arraycopy(data, h * capacity * headDim, out, h * length * headDim, length * headDim);
      }
      return new FloatTensor(new int[] {heads, length, headDim}, out);
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
    KvBlock resized(int newCapacity, int length) {
      Native result = new Native(NativeTensor.allocate(tensor.type(), heads, newCapacity, headDim));
      int rowBytes = headDim * elementSize;
      copyHeads(
          heads,
          tensor,
          0,
          capacity * rowBytes,
          result.tensor,
          0,
          newCapacity * rowBytes,
          length * rowBytes);
      return result;
    }

    @Override
    void writeTo(HostTensor dest, int b, int at, int length) {
      NativeTensor batch = sameType(dest);
      int padded = batch.dim(2);
      int rowBytes = headDim * elementSize;
      copyHeads(
          heads,
          tensor,
          0,
          capacity * rowBytes,
          batch,
          (b * heads * padded + at) * rowBytes,
          padded * rowBytes,
          length * rowBytes);
      for (int h = 0; h < heads; h++) {
        int rowStart = (b * heads + h) * padded * rowBytes;
        batch.zero(rowStart, at * rowBytes);
        batch.zero(rowStart + (at + length) * rowBytes, (padded - at - length) * rowBytes);
      }
    }

    @Override
    void readFrom(HostTensor source, int b, int from, int at, int n) {
      NativeTensor batch = sameType(source);
      int total = batch.dim(2);
      int rowBytes = headDim * elementSize;
      copyHeads(
          heads,
          batch,
          (b * heads * total + from) * rowBytes,
          total * rowBytes,
          tensor,
          at * rowBytes,
          capacity * rowBytes,
          n * rowBytes);
    }

    private NativeTensor sameType(HostTensor other) {
      if (!(other instanceof NativeTensor batch) || batch.type() != tensor.type()) {
        throw new IllegalArgumentException(
            "a native " + tensor.type() + " KV block packs only into native tensors of its type");
      }
      return batch;
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
