package io.instructblip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.NativeTensor;
import org.junit.jupiter.api.Test;

class SequenceKvTest {

  /** [rows, heads=2, n, hd=2] with value = 1000*row + 100*head + 10*pos + d + offset. */
  private static FloatTensor block(int rows, int n, int offset) {
    float[] data = new float[rows * 2 * n * 2];
    int i = 0;
    for (int r = 0; r < rows; r++) {
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < n; p++) {
          for (int d = 0; d < 2; d++) {
            data[i++] = 1000 * r + 100 * h + 10 * (p + offset) + d;
          }
        }
      }
    }
    return new FloatTensor(new int[] {rows, 2, n, 2}, data);
  }

  private static SequenceKv twoRowsThreePositions() {
    SequenceKv kv = SequenceKv.empty(1, 2, 2, 2);
    kv.append(new FloatTensor[] {block(2, 2, 0)}, new FloatTensor[] {block(2, 2, 50)});
    kv.append(new FloatTensor[] {block(2, 1, 2)}, new FloatTensor[] {block(2, 1, 52)});
    return kv;
  }

  @Test
  void appendKeepsPositionsInOrderPerHead() {
    SequenceKv kv = twoRowsThreePositions();
    assertEquals(3, kv.length());
    assertEquals(2, kv.rows());
    assertArrayEquals(new int[] {2, 3, 2}, kv.key(0, 1).shape());
    assertArrayEquals(
        new float[] {1000, 1001, 1010, 1011, 1020, 1021, 1100, 1101, 1110, 1111, 1120, 1121},
        kv.key(0, 1).data());
    assertArrayEquals(
        new float[] {500, 501, 510, 511, 520, 521, 600, 601, 610, 611, 620, 621},
        kv.value(0, 0).data());
  }

  @Test
  void selectDuplicatesAndDropsRowsWithoutTouchingTheSource() {
    SequenceKv kv = twoRowsThreePositions();
    SequenceKv beams = kv.select(new int[] {1, 1, 0});
    assertEquals(3, beams.rows());
    assertEquals(kv.key(0, 1), beams.key(0, 0));
    assertEquals(kv.key(0, 1), beams.key(0, 1));
    assertEquals(kv.key(0, 0), beams.key(0, 2));
    beams.append(new FloatTensor[] {block(3, 1, 7)}, new FloatTensor[] {block(3, 1, 7)});
    assertEquals(4, beams.length());
    assertEquals(3, kv.length());
    assertEquals(1070f, beams.key(0, 1).data()[6]);
  }

  @Test
  void reorderInPlaceCopiesOnlyRepeatedRows() {
    SequenceKv kv = twoRowsThreePositions();
    FloatTensor row0 = kv.key(0, 0);
    FloatTensor row1 = kv.key(0, 1);
    kv.reorder(new int[] {1, 0, 0});
    assertEquals(3, kv.rows());
    assertEquals(row1, kv.key(0, 0));
    assertEquals(row0, kv.key(0, 1));
    assertEquals(row0, kv.key(0, 2));
    kv.append(new FloatTensor[] {block(3, 1, 9)}, new FloatTensor[] {block(3, 1, 9)});
    // rows 1 and 2 came from the same parent but grew independently
    assertEquals(1090f, kv.key(0, 1).data()[6]);
    assertEquals(2090f, kv.key(0, 2).data()[6]);
    assertEquals(90f, kv.key(0, 0).data()[6]);
  }

  @Test
  void growsPastItsInitialCapacity() {
    SequenceKv kv = SequenceKv.empty(1, 2, 2, 1);
    for (int p = 0; p < 40; p++) {
      kv.append(new FloatTensor[] {block(1, 1, p)}, new FloatTensor[] {block(1, 1, p)});
    }
    assertEquals(40, kv.length());
    assertEquals(390f, kv.key(0, 0).data()[39 * 2]);
    assertEquals(100f, kv.key(0, 0).data()[40 * 2]);
  }

  @Test
  void writePastLeftPadsIntoABatchTensor() {
    SequenceKv kv = twoRowsThreePositions();
    FloatTensor tensor = FloatTensor.zeros(2, 2, 5, 2);
    float[] batch = tensor.data();
    kv.writePast(0, false, 1, tensor, 1);
    // batch index 1, head 0: positions 0,1 are padding, then the 3 real positions
    int base = (1 * 2 + 0) * 5 * 2;
    assertArrayEquals(
        new float[] {0, 0, 0, 0, 1000, 1001, 1010, 1011, 1020, 1021},
        java.util.Arrays.copyOfRange(batch, base, base + 10));
  }

  private static NativeTensor toNative(FloatTensor tensor) {
    NativeTensor result = NativeTensor.allocate(OnnxJavaType.FLOAT, tensor.shape());
    for (int i = 0; i < tensor.data().length; i++) {
      result.buffer().putFloat(i * Float.BYTES, tensor.data()[i]);
    }
    return result;
  }

  @Test
  void nativeCacheMatchesTheHeapOneAndZeroesThePaddingOfAReusedBatch() {
    SequenceKv heap = twoRowsThreePositions();
    long before = NativeTensor.liveBytes();
    SequenceKv kv = SequenceKv.empty(KvStorage.NATIVE, OnnxJavaType.FLOAT, 1, 2, 2, 2);
    NativeTensor[] inputs = {
      toNative(block(2, 2, 0)),
      toNative(block(2, 2, 50)),
      toNative(block(2, 1, 2)),
      toNative(block(2, 1, 52)),
      toNative(block(2, 5, 9))
    };
    kv.append(new HostTensor[] {inputs[0]}, new HostTensor[] {inputs[1]});
    kv.append(new HostTensor[] {inputs[2]}, new HostTensor[] {inputs[3]});
    assertEquals(heap.key(0, 1), kv.key(0, 1));
    assertEquals(heap.value(0, 0), kv.value(0, 0));
    NativeTensor batch = inputs[4]; // dirty, as a reused scratch area is
    kv.writePast(0, false, 1, batch, 1);
    int base = (1 * 2 + 0) * 5 * 2;
    float[] row = new float[10];
    for (int i = 0; i < row.length; i++) {
      row[i] = batch.buffer().getFloat((base + i) * Float.BYTES);
    }
    assertArrayEquals(new float[] {0, 0, 0, 0, 1000, 1001, 1010, 1011, 1020, 1021}, row);
    kv.close();
    assertThrows(IllegalStateException.class, () -> kv.key(0, 0));
    for (NativeTensor input : inputs) {
      input.free();
    }
    assertEquals(before, NativeTensor.liveBytes(), "every block freed");
  }

  @Test
  void rejectsBadShapesAndRows() {
    SequenceKv kv = twoRowsThreePositions();
    assertThrows(
        IllegalArgumentException.class,
        () -> kv.append(new FloatTensor[] {block(1, 1, 0)}, new FloatTensor[] {block(1, 1, 0)}));
    assertThrows(IndexOutOfBoundsException.class, () -> kv.select(new int[] {2}));
    assertThrows(IllegalArgumentException.class, () -> kv.select(new int[0]));
  }
}
