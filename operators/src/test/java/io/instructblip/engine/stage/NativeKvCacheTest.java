package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.randomEmbeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTraffic;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.NativeTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native KV cache (the default backend) against the heap one (the fallback): the same logits
 * bit for bit through joins, forks and leaves, per-step host traffic that does not grow with the
 * context, fp16 caches kept in fp16, and native memory given back when caches close.
 */
class NativeKvCacheTest extends TinyLlmSessions {
  /** Two sequences of different lengths, one forked into 3 beams, 5 steps; all logits in order. */
  private static List<float[]> decoderOnlyRun(DecoderOnlyLlm llm) {
    int hidden = vicuna.manifest().llm().hiddenSize();
    Random random = new Random(3);
    DecoderOnlyLlm.Prefill prefill =
        llm.prefill(List.of(randomEmbeds(random, 7, hidden), randomEmbeds(random, 3, hidden)));
    SequenceKv a = prefill.caches().get(0);
    SequenceKv b = prefill.caches().get(1);
    a.reorder(new int[] {0, 0, 0});
    List<float[]> logits = new ArrayList<>(prefill.lastLogits());
    for (int step = 0; step < 5; step++) {
      List<DecoderOnlyLlm.StepInput> inputs = new ArrayList<>();
      inputs.add(new DecoderOnlyLlm.StepInput(a, new long[] {5 + step, 9, 11 * step}));
      if (step < 3) {
        inputs.add(new DecoderOnlyLlm.StepInput(b, new long[] {step + 1}));
      }
      for (float[][] rows : llm.step(inputs)) {
        logits.addAll(List.of(rows));
      }
      a.reorder(new int[] {2, 0, 0});
      if (step == 2) {
        b.close();
      }
    }
    a.close();
    return logits;
  }

  @Test
  void decoderOnlyNativeAndHeapCachesGiveTheSameLogits() {
    long before = NativeTensor.liveBytes();
    List<float[]> heap = decoderOnlyRun(new DecoderOnlyLlm(vicuna, KvStorage.HEAP));
    List<float[]> native_ = decoderOnlyRun(new DecoderOnlyLlm(vicuna, KvStorage.NATIVE));
    assertEquals(heap.size(), native_.size());
    for (int i = 0; i < heap.size(); i++) {
      assertArrayEquals(heap.get(i), native_.get(i), "logits " + i);
    }
    assertEquals(before, NativeTensor.liveBytes(), "native bytes left after closing every cache");
  }

  private static List<float[]> encoderDecoderRun(EncoderDecoderLlm llm) {
    int hidden = flant5.manifest().llm().hiddenSize();
    Random random = new Random(4);
    EncoderDecoderLlm.Start start =
        llm.start(
            llm.encode(List.of(randomEmbeds(random, 6, hidden), randomEmbeds(random, 2, hidden))));
    EncoderDecoderState a = start.states().get(0);
    EncoderDecoderState b = start.states().get(1);
    a.reorder(new int[] {0, 0});
    List<float[]> logits = new ArrayList<>(start.logits());
    for (int step = 0; step < 4; step++) {
      List<EncoderDecoderLlm.StepInput> inputs = new ArrayList<>();
      inputs.add(new EncoderDecoderLlm.StepInput(a, new long[] {3 + step, 7}));
      if (step < 2) {
        inputs.add(new EncoderDecoderLlm.StepInput(b, new long[] {step + 2}));
      }
      for (float[][] rows : llm.step(inputs)) {
        logits.addAll(List.of(rows));
      }
      a.reorder(new int[] {1, 1});
      if (step == 1) {
        b.close();
      }
    }
    a.close();
    return logits;
  }

  @Test
  void encoderDecoderNativeAndHeapCachesGiveTheSameLogits() {
    long before = NativeTensor.liveBytes();
    List<float[]> heap = encoderDecoderRun(new EncoderDecoderLlm(flant5, KvStorage.HEAP));
    List<float[]> native_ = encoderDecoderRun(new EncoderDecoderLlm(flant5, KvStorage.NATIVE));
    assertEquals(heap.size(), native_.size());
    for (int i = 0; i < heap.size(); i++) {
      assertArrayEquals(heap.get(i), native_.get(i), "logits " + i);
    }
    assertEquals(before, NativeTensor.liveBytes(), "native bytes left after closing every state");
  }

  /** Host bytes of one decode step of 2 rows after a prefill of {@code context} positions. */
  private static long decoderOnlyStepBytes(KvStorage storage, int context) {
    DecoderOnlyLlm llm = new DecoderOnlyLlm(vicuna, storage);
    int hidden = vicuna.manifest().llm().hiddenSize();
    try (SequenceKv cache =
        llm.prefill(List.of(randomEmbeds(new Random(5), context, hidden))).caches().get(0)) {
      cache.reorder(new int[] {0, 0});
      long before = HostTraffic.bytes();
      llm.step(List.of(new DecoderOnlyLlm.StepInput(cache, new long[] {4, 8})));
      return HostTraffic.bytes() - before;
    }
  }

  private static long encoderDecoderStepBytes(KvStorage storage, int context) {
    EncoderDecoderLlm llm = new EncoderDecoderLlm(flant5, storage);
    int hidden = flant5.manifest().llm().hiddenSize();
    List<FloatTensor> encoded = llm.encode(List.of(randomEmbeds(new Random(6), context, hidden)));
    try (EncoderDecoderState state = llm.start(encoded).states().get(0)) {
      state.reorder(new int[] {0, 0});
      long before = HostTraffic.bytes();
      llm.step(List.of(new EncoderDecoderLlm.StepInput(state, new long[] {4, 8})));
      return HostTraffic.bytes() - before;
    }
  }

  @Test
  void hostBytesPerStepDoNotGrowWithTheContextAndAreRowsTimesVocabulary() {
    int rows = 2;
    for (ModelSessions sessions : List.of(vicuna, flant5)) {
      boolean decoderOnly = sessions == vicuna;
      int vocab = sessions.manifest().llm().vocabSize();
      int hidden = sessions.manifest().llm().hiddenSize();
      long shortContext =
          decoderOnly
              ? decoderOnlyStepBytes(KvStorage.NATIVE, 16)
              : encoderDecoderStepBytes(KvStorage.NATIVE, 16);
      long longContext =
          decoderOnly
              ? decoderOnlyStepBytes(KvStorage.NATIVE, 240)
              : encoderDecoderStepBytes(KvStorage.NATIVE, 240);
      assertEquals(shortContext, longContext, "native host bytes per step at 16 and 240");
      // logits out, the new embeddings out and in (decoder-only), ids and positions in
      long bound = rows * (4L * vocab + 2 * 4L * hidden + 4 * Long.BYTES);
      assertTrue(longContext <= bound, longContext + " host bytes > " + bound);
      assertTrue(longContext >= rows * 4L * vocab, "the logits cross: " + longContext);
      long heapLong =
          decoderOnly
              ? decoderOnlyStepBytes(KvStorage.HEAP, 240)
              : encoderDecoderStepBytes(KvStorage.HEAP, 240);
      assertTrue(heapLong > 4 * longContext, "the heap backend copies its cache: " + heapLong);
    }
  }

  @Test
  void fp16ModelsKeepFp16CachesInNativeMemory() {
    DecoderOnlyLlm llm = new DecoderOnlyLlm(vicunaFp16, KvStorage.NATIVE);
    var m = vicunaFp16.manifest().llm();
    long before = NativeTensor.liveBytes();
    try (SequenceKv cache =
        llm.prefill(List.of(randomEmbeds(new Random(7), 5, m.hiddenSize()))).caches().get(0)) {
      assertEquals(OnnxJavaType.FLOAT16, cache.elementType());
      // capacity 16 positions per block after the first append, 2 bytes per element
      long expected = 2L * m.numLayers() * m.numKvHeads() * 16 * m.headDim() * 2;
      assertEquals(expected, NativeTensor.liveBytes() - before);
      assertEquals(5, cache.key(0, 0).dim(1));
    }
    assertEquals(before, NativeTensor.liveBytes());
    assertEquals(
        OnnxJavaType.FLOAT,
        new DecoderOnlyLlm(vicunaFp16, KvStorage.HEAP).emptyCache(1).elementType());
  }
}
