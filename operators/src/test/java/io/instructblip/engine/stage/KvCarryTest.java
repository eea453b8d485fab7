package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.randomEmbeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.NativeTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The carry ({@link KvCarry}, the default {@link KvStorage#NATIVE}): a step's presents fed back as
 * the next step's pasts give the same logits, bit for bit, as packing every step ({@link
 * KvStorage#NATIVE_REPACK}) and as the heap backend, through steps that carry and steps that must
 * pack (forks, beam reorders, leaves, joins, other runs on the thread in between, a changed order);
 * a carried past is byte for byte the one packing would write; fp16 stays fp16; closing frees it.
 */
class KvCarryTest extends TinyLlmSessions {
  /** The logits of a decoder-only run and what its carry did. */
  private record Run(List<float[]> logits, long carried, long packed) {}

  /**
   * Sequences a and b step together (carried), a forks into 2 beams (packed), its beams keep their
   * order (carried) and swap (packed), b leaves (packed), a prefill of c runs on the thread in
   * between (carried: c is not in the batch), c joins (packed), the order changes (packed).
   */
  private static Run decoderOnlyRun(ModelSessions sessions, KvStorage storage) {
    DecoderOnlyLlm llm = new DecoderOnlyLlm(sessions, storage);
    int hidden = sessions.manifest().llm().hiddenSize();
    Random random = new Random(11);
    List<float[]> logits = new ArrayList<>();
    try (KvCarry carry = llm.newCarry()) {
      DecoderOnlyLlm.Prefill prefill =
          llm.prefill(List.of(randomEmbeds(random, 7, hidden), randomEmbeds(random, 3, hidden)));
      SequenceKv a = prefill.caches().get(0);
      SequenceKv b = prefill.caches().get(1);
      SequenceKv c = null;
      logits.addAll(prefill.lastLogits());
      for (int step = 0; step < 12; step++) {
        if (step == 3) {
          a.reorder(new int[] {0, 0});
        } else if (step == 4) {
          a.reorder(new int[] {0, 1});
        } else if (step == 5) {
          a.reorder(new int[] {1, 0});
        } else if (step == 6) {
          b.close();
        } else if (step == 8) {
          DecoderOnlyLlm.Prefill joining = llm.prefill(List.of(randomEmbeds(random, 12, hidden)));
          c = joining.caches().get(0);
          logits.addAll(joining.lastLogits());
        }
        List<DecoderOnlyLlm.StepInput> inputs = new ArrayList<>();
        long[] tokens = a.rows() == 1 ? new long[] {5 + step} : new long[] {5 + step, 3 * step};
        DecoderOnlyLlm.StepInput first = new DecoderOnlyLlm.StepInput(a, tokens);
        if (step < 6) {
          inputs.add(first);
          inputs.add(new DecoderOnlyLlm.StepInput(b, new long[] {step + 1}));
        } else if (step < 9) {
          inputs.add(first);
        } else {
          DecoderOnlyLlm.StepInput joined = new DecoderOnlyLlm.StepInput(c, new long[] {step});
          inputs.addAll(step < 11 ? List.of(first, joined) : List.of(joined, first));
        }
        for (float[][] rows : llm.step(inputs, carry)) {
          logits.addAll(List.of(rows));
        }
      }
      if (carry.enabled()) {
        assertCarriedPastIsThePackedOne(carry, List.of(c, a, a), new int[] {0, 0, 1});
      }
      a.close();
      c.close();
      return new Run(logits, carry.carriedSteps(), carry.packedSteps());
    }
  }

  /** The carry's current pasts equal, byte for byte, the batch packed from the caches. */
  private static void assertCarriedPastIsThePackedOne(
      KvCarry carry, List<SequenceKv> caches, int[] rows) {
    SequenceKv any = caches.get(0);
    int past = 0;
    for (SequenceKv cache : caches) {
      past = Math.max(past, cache.length());
    }
    for (int layer = 0; layer < any.layers(); layer++) {
      for (boolean value : new boolean[] {false, true}) {
        int[] shape = {rows.length, any.heads(), past, any.headDim()};
        NativeTensor packed = NativeTensor.allocate(any.elementType(), shape);
        for (int b = 0; b < rows.length; b++) {
          caches.get(b).writePast(layer, value, rows[b], packed, b);
        }
        NativeTensor carried = carry.past(DecoderOnlyLlm.carryIndex(layer, value), shape);
        assertEquals(any.elementType(), carried.type());
        assertEquals(packed.buffer(), carried.buffer(), "layer " + layer + " value " + value);
        packed.free();
      }
    }
  }

  private static void assertSameLogits(List<float[]> expected, List<float[]> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), "logits " + i);
    }
  }

  @Test
  void decoderOnlyCarriedStepsGiveTheLogitsOfPackedSteps() {
    long before = NativeTensor.liveBytes();
    Run heap = decoderOnlyRun(vicuna, KvStorage.HEAP);
    Run repack = decoderOnlyRun(vicuna, KvStorage.NATIVE_REPACK);
    Run carried = decoderOnlyRun(vicuna, KvStorage.NATIVE);
    assertSameLogits(heap.logits(), repack.logits());
    assertSameLogits(repack.logits(), carried.logits());
    // packed: 0 (first), 3 (fork), 5 (swap), 6 (b left), 9 (c joined), 11 (new order)
    assertEquals(6, carried.packed());
    assertEquals(6, carried.carried());
    assertEquals(0, repack.carried());
    assertEquals(before, NativeTensor.liveBytes(), "native bytes left after closing");
  }

  @Test
  void fp16CarriedPastsAndPresentsStayFp16() {
    long before = NativeTensor.liveBytes();
    Run repack = decoderOnlyRun(vicunaFp16, KvStorage.NATIVE_REPACK);
    Run carried = decoderOnlyRun(vicunaFp16, KvStorage.NATIVE);
    assertSameLogits(repack.logits(), carried.logits());
    assertEquals(6, carried.carried());
    DecoderOnlyLlm llm = new DecoderOnlyLlm(vicunaFp16, KvStorage.NATIVE);
    try (KvCarry carry = llm.newCarry()) {
      assertEquals(OnnxJavaType.FLOAT16, carry.past(0, 1, 1, 1, 1).type());
      assertEquals(OnnxJavaType.FLOAT16, carry.present(0, 1, 1, 2, 1).type());
      assertEquals(OnnxJavaType.FLOAT16, carry.cross(0, 1, 1, 1, 1).type());
    }
    assertEquals(before, NativeTensor.liveBytes(), "native bytes left after closing");
  }

  private static Run encoderDecoderRun(KvStorage storage) {
    EncoderDecoderLlm llm = new EncoderDecoderLlm(flant5, storage);
    int hidden = flant5.manifest().llm().hiddenSize();
    Random random = new Random(12);
    List<float[]> logits = new ArrayList<>();
    try (KvCarry carry = llm.newCarry()) {
      EncoderDecoderLlm.Start start =
          llm.start(
              llm.encode(
                  List.of(randomEmbeds(random, 6, hidden), randomEmbeds(random, 2, hidden))));
      EncoderDecoderState a = start.states().get(0);
      EncoderDecoderState b = start.states().get(1);
      logits.addAll(start.logits());
      for (int step = 0; step < 8; step++) {
        if (step == 2) {
          a.reorder(new int[] {0, 0});
        } else if (step == 3) {
          a.reorder(new int[] {0, 1});
        } else if (step == 5) {
          b.close();
        }
        List<EncoderDecoderLlm.StepInput> inputs = new ArrayList<>();
        long[] tokens = a.rows() == 1 ? new long[] {3 + step} : new long[] {3 + step, 2 * step};
        inputs.add(new EncoderDecoderLlm.StepInput(a, tokens));
        if (step < 5) {
          inputs.add(new EncoderDecoderLlm.StepInput(b, new long[] {step + 2}));
        }
        for (float[][] rows : llm.step(inputs, carry)) {
          logits.addAll(List.of(rows));
        }
      }
      a.close();
      return new Run(logits, carry.carriedSteps(), carry.packedSteps());
    }
  }

  @Test
  void encoderDecoderCarriedStepsGiveTheLogitsOfPackedSteps() {
    long before = NativeTensor.liveBytes();
    Run heap = encoderDecoderRun(KvStorage.HEAP);
    Run repack = encoderDecoderRun(KvStorage.NATIVE_REPACK);
    Run carried = encoderDecoderRun(KvStorage.NATIVE);
    assertSameLogits(heap.logits(), repack.logits());
    assertSameLogits(repack.logits(), carried.logits());
    // packed: 0 (first), 2 (fork), 5 (b left)
    assertEquals(3, carried.packed());
    assertEquals(5, carried.carried());
    assertEquals(before, NativeTensor.liveBytes(), "native bytes left after closing");
  }

  @Test
  void onlyTheNativeStorageCarries() {
    assertTrue(new DecoderOnlyLlm(vicuna, KvStorage.NATIVE).newCarry().enabled());
    assertFalse(new DecoderOnlyLlm(vicuna, KvStorage.NATIVE_REPACK).newCarry().enabled());
    assertFalse(new EncoderDecoderLlm(flant5, KvStorage.HEAP).newCarry().enabled());
  }
}
