package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.LlmFamily;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.NativeTensor;
import io.instructblip.engine.model.StageFile;
import io.instructblip.engine.model.StageSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The model state of a decoder-only LLM ({@code decoder.onnx} of docs/model-format.md) for
 * continuous batching. Each sequence owns a {@link SequenceKv}; every call packs the rows it is
 * given into one batch, runs the decoder once and unpacks the result:
 *
 * <ul>
 *   <li>the past of each row is left-padded to the longest past in the batch (mask 0, zeros);
 *   <li>the new positions of each row are right-padded to the longest in the batch (mask 0), so the
 *       padding comes after every real position and cannot change it under causal attention;
 *   <li>{@code position_ids} count each row's real positions before the new one (padding repeats
 *       the row's last position id, so ids stay below {@code llm.max_positions}).
 * </ul>
 *
 * A row's results are therefore the same alone and in any batch. Search strategies live elsewhere:
 * callers choose tokens and beam parents and reorder caches ({@link SequenceKv#reorder}) between
 * steps. The caches live where the {@link KvStorage} says (native memory by default: ONNX Runtime
 * reads the packed pasts and writes the presents in place). This class keeps no per-sequence state
 * and may be shared by threads; a cache must not be used by two threads at once.
 */
public final class DecoderOnlyLlm {
  private final StageSession decoder;
  private final TokenEmbedder embedder;
  private final ModelManifest.Llm llm;
  private final KvStorage storage;
  private final OnnxJavaType kvType;

  /** The LLM state over the given sessions with its caches in native memory. */
  public DecoderOnlyLlm(ModelSessions sessions) {
    this(sessions, KvStorage.NATIVE);
  }

  /**
   * The LLM state over the given sessions, which must be of family {@code decoder_only}, with its
   * caches in {@code storage}.
   */
  public DecoderOnlyLlm(ModelSessions sessions, KvStorage storage) {
    if (sessions.manifest().llmFamily() != LlmFamily.DECODER_ONLY) {
      throw new IllegalArgumentException(
          "DecoderOnlyLlm needs a decoder_only model directory, found "
              + sessions.manifest().llmFamily().wireName());
    }
    this.decoder = sessions.session(StageFile.DECODER);
    this.embedder = new TokenEmbedder(sessions);
    this.llm = sessions.manifest().llm();
    this.storage = storage;
    this.kvType = sessions.manifest().dtype().onnxType();
  }

  /** Where the caches live. */
  public KvStorage storage() {
    return storage;
  }

  /** The token embedder (shared with callers that build prompts). */
  public TokenEmbedder embedder() {
    return embedder;
  }

  /** A fresh empty cache with {@code rows} rows. */
  public SequenceKv emptyCache(int rows) {
    return SequenceKv.empty(
        storage, kvType, llm.numLayers(), llm.numKvHeads(), llm.headDim(), rows);
  }

  /**
   * The result of a prefill: per row, a one-row cache holding all its positions and the logits of
   * its last position ({@code float[V]}).
   */
  public record Prefill(List<SequenceKv> caches, List<float[]> lastLogits) {}

  /**
   * Runs whole sequences (query outputs followed by the embedded prompt) in one batch.
   *
   * @param inputsEmbeds one {@code [T_i, Dl]} tensor per sequence, {@code T_i >= 1}
   */
  public Prefill prefill(List<FloatTensor> inputsEmbeds) {
    List<Segment> segments = new ArrayList<>(inputsEmbeds.size());
    List<SequenceKv> caches = new ArrayList<>(inputsEmbeds.size());
    for (FloatTensor embeds : inputsEmbeds) {
      SequenceKv cache = emptyCache(1);
      caches.add(cache);
      segments.add(new Segment(cache, 0, embeds));
    }
    try (Packed packed = run(segments, true, null)) {
      List<float[]> logits = new ArrayList<>(segments.size());
      for (int b = 0; b < segments.size(); b++) {
        logits.add(packed.logitsAt(b, segments.get(b).newLength() - 1));
      }
      packed.appendNew(segments, caches);
      return new Prefill(
          Collections.unmodifiableList(caches), Collections.unmodifiableList(logits));
    } catch (RuntimeException e) {
      caches.forEach(SequenceKv::close);
      throw e;
    }
  }

  /** One sequence's input to a decode step: its cache and one next token id per row. */
  public record StepInput(SequenceKv cache, long[] tokenIds) {
    /** Checks that there is one token per row. */
    public StepInput {
      Objects.requireNonNull(cache, "cache");
      if (tokenIds.length != cache.rows()) {
        throw new IllegalArgumentException(
            "expected " + cache.rows() + " token ids (one per row), found " + tokenIds.length);
      }
    }
  }

  /**
   * A carry for one generation loop's steps ({@link #step(List, KvCarry)}): enabled for {@link
   * KvStorage#NATIVE}, where it feeds a step's presents back as the next step's pasts while the
   * batch does not change.
   */
  public KvCarry newCarry() {
    return new KvCarry(storage == KvStorage.NATIVE, kvType, 2 * llm.numLayers());
  }

  /**
   * Runs one decode step for every row of every given sequence in one batch, appends the new
   * position to each cache and returns, per input, the logits of each row ({@code [rows][V]}).
   */
  public List<float[][]> step(List<StepInput> inputs) {
    return step(inputs, null);
  }

  /**
   * {@link #step(List)} with the pasts taken from {@code carry} when it holds the presents of the
   * previous step over the same rows (else packed into it), and the presents written into it.
   */
  public List<float[][]> step(List<StepInput> inputs, KvCarry carry) {
    Set<SequenceKv> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    int totalRows = 0;
    for (StepInput input : inputs) {
      if (!seen.add(input.cache())) {
        throw new IllegalArgumentException("a cache appears twice in one step");
      }
      totalRows += input.cache().rows();
    }
    long[][] ids = new long[totalRows][];
    int r = 0;
    for (StepInput input : inputs) {
      for (long id : input.tokenIds()) {
        ids[r++] = new long[] {id};
      }
    }
    List<FloatTensor> embeds = embedder.embed(ids);
    List<Segment> segments = new ArrayList<>(totalRows);
    List<SequenceKv> targets = new ArrayList<>(totalRows);
    r = 0;
    for (StepInput input : inputs) {
      for (int row = 0; row < input.cache().rows(); row++) {
        segments.add(new Segment(input.cache(), row, embeds.get(r++)));
        targets.add(input.cache());
      }
    }
    KvCarry active = carry != null && carry.enabled() ? carry : null;
    try (Packed packed = run(segments, true, active)) {
      List<float[][]> result = new ArrayList<>(inputs.size());
      int b = 0;
      for (StepInput input : inputs) {
        float[][] rows = new float[input.cache().rows()][];
        for (int row = 0; row < rows.length; row++) {
          rows[row] = packed.logitsAt(b++, 0);
        }
        result.add(rows);
      }
      packed.appendNew(segments, targets);
      if (active != null) {
        active.record(targets, rows(segments), packed.past + 1);
      }
      return result;
    }
  }

  private static int[] rows(List<Segment> segments) {
    int[] rows = new int[segments.size()];
    for (int b = 0; b < rows.length; b++) {
      rows[b] = segments.get(b).row();
    }
    return rows;
  }

  /**
   * Teacher forcing after a prefix (ranking): for each continuation, the logits of each of its
   * positions ({@code [T_c, V]}), where position {@code t} predicts the token after {@code
   * continuation[t]}. The logits that predict a continuation's first token are the prefix's last
   * logits (from {@link #prefill}). The prefix cache is not changed; all continuations run in one
   * batch.
   *
   * @param prefix the cache of the image(s) and prompt
   * @param row the row of {@code prefix} to continue
   * @param continuations token ids, each of length >= 1
   */
  public List<FloatTensor> logitsForContinuation(
      SequenceKv prefix, int row, long[][] continuations) {
    Objects.checkIndex(row, prefix.rows());
    List<FloatTensor> embeds = embedder.embed(continuations);
    List<Segment> segments = new ArrayList<>(continuations.length);
    for (FloatTensor embed : embeds) {
      segments.add(new Segment(prefix, row, embed));
    }
    try (Packed packed = run(segments, false, null)) {
      List<FloatTensor> result = new ArrayList<>(continuations.length);
      for (int b = 0; b < segments.size(); b++) {
        result.add(packed.logitsRows(b, segments.get(b).newLength()));
      }
      return result;
    }
  }

  /** One batch row: a cache row as its past (empty cache at prefill) and its new embeddings. */
  private record Segment(SequenceKv cache, int row, FloatTensor embeds) {
    int pastLength() {
      return cache.length();
    }

    int newLength() {
      return embeds.dim(0);
    }
  }

  /**
   * Packs and runs one batch; with a {@code carry} (decode steps, one new position per row) the
   * pasts come from it, packed into it only when it does not hold them, and the presents go into
   * it.
   */
  private Packed run(List<Segment> segments, boolean wantPresent, KvCarry carry) {
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("nothing to run");
    }
    int batch = segments.size();
    int hidden = llm.hiddenSize();
    int past = 0;
    int width = 0;
    for (Segment segment : segments) {
      if (segment.embeds().rank() != 2 || segment.embeds().dim(1) != hidden) {
        throw new IllegalArgumentException(
            "inputs_embeds of a row must be [T, "
                + hidden
                + "], found "
                + Arrays.toString(segment.embeds().shape()));
      }
      if (segment.newLength() == 0) {
        throw new IllegalArgumentException("a row has no new positions");
      }
      int total = segment.pastLength() + segment.newLength();
      if (total > llm.maxPositions()) {
        throw new IllegalArgumentException(
            "a row would hold "
                + total
                + " positions, more than llm.max_positions "
                + llm.maxPositions());
      }
      past = Math.max(past, segment.pastLength());
      width = Math.max(width, segment.newLength());
    }
    int total = past + width;
    boolean carried =
        carry != null
            && carry.carries(segments.stream().map(Segment::cache).toList(), rows(segments), past);
    float[] embeds = new float[batch * width * hidden];
    long[] positions = new long[batch * width];
    Map<String, HostTensor> feeds = new HashMap<>();
    HostTensor mask = attentionMask(storage, batch, total);
    feeds.put("attention_mask", mask);
    KvOutputs outputs = new KvOutputs(storage, kvType);
    try {
      for (int b = 0; b < batch; b++) {
        Segment segment = segments.get(b);
        int pastLength = segment.pastLength();
        int newLength = segment.newLength();
        System.arraycopy(
            segment.embeds().data(), 0, embeds, b * width * hidden, newLength * hidden);
        fillMask(mask, b * total + past - pastLength, b * total + past + newLength);
        for (int t = 0; t < width; t++) {
          // padding after the row repeats its last position: any value works, this one stays in
          // range
          positions[b * width + t] = pastLength + Math.min(t, newLength - 1);
        }
      }
      feeds.put("inputs_embeds", new FloatTensor(new int[] {batch, width, hidden}, embeds));
      feeds.put("position_ids", new LongTensor(new int[] {batch, width}, positions));
      int heads = llm.numKvHeads();
      int headDim = llm.headDim();
      for (int layer = 0; layer < llm.numLayers(); layer++) {
        for (boolean value : new boolean[] {false, true}) {
          String name = kvName("past_key_values", layer, value);
          HostTensor data =
              carry == null
                  ? storage.batch(name, kvType, batch, heads, past, headDim)
                  : carry.past(carryIndex(layer, value), batch, heads, past, headDim);
          feeds.put(name, data);
          for (int b = 0; b < batch && !carried; b++) {
            Segment segment = segments.get(b);
            segment.cache().writePast(layer, value, segment.row(), data, b);
          }
        }
      }
      if (wantPresent) {
        for (int layer = 0; layer < llm.numLayers(); layer++) {
          for (boolean value : new boolean[] {false, true}) {
            String name = kvName("present", layer, value);
            if (carry == null) {
              outputs.request(name, batch, heads, total, headDim);
            } else {
              outputs.pin(
                  name, carry.present(carryIndex(layer, value), batch, heads, total, headDim));
            }
          }
        }
      }
      FloatTensor logits = outputs.run(decoder, feeds);
      return new Packed(logits, outputs, past, width);
    } catch (RuntimeException e) {
      outputs.close();
      throw e;
    } finally {
      feeds.values().forEach(KvStorage::free);
    }
  }

  /**
   * A zeroed {@code [batch, total]} int64 attention mask: written straight into native memory for
   * native storage (it grows with the context, so it does not go through a heap array).
   */
  static HostTensor attentionMask(KvStorage storage, int batch, int total) {
    return storage.isNative()
        ? NativeTensor.allocate(OnnxJavaType.INT64, batch, total)
        : new LongTensor(new int[] {batch, total}, new long[batch * total]);
  }

  /** Sets elements {@code [from, to)} of a mask made by {@link #attentionMask} to 1. */
  static void fillMask(HostTensor mask, int from, int to) {
    if (mask instanceof NativeTensor nativeMask) {
      for (int i = from; i < to; i++) {
        nativeMask.buffer().putLong(i * Long.BYTES, 1L);
      }
    } else {
      Arrays.fill(((LongTensor) mask).data(), from, to, 1L);
    }
  }

  /** The index of a layer's key or value among a {@link KvCarry}'s tensors. */
  static int carryIndex(int layer, boolean value) {
    return 2 * layer + (value ? 1 : 0);
  }

  static String kvName(String prefix, int layer, boolean value) {
    return prefix + "." + layer + (value ? ".value" : ".key");
  }

  /** The outputs of one packed run and how to unpack them; closing frees native presents. */
  private final class Packed implements AutoCloseable {
    private final FloatTensor logits;
    private final KvOutputs presents;
    private final int past;
    private final int width;

    Packed(FloatTensor logits, KvOutputs presents, int past, int width) {
      this.logits = logits;
      this.presents = presents;
      this.past = past;
      this.width = width;
    }

    float[] logitsAt(int b, int t) {
      int vocab = llm.vocabSize();
      int from = (b * width + t) * vocab;
      return Arrays.copyOfRange(logits.data(), from, from + vocab);
    }

    FloatTensor logitsRows(int b, int count) {
      int vocab = llm.vocabSize();
      int from = b * width * vocab;
      return new FloatTensor(
          new int[] {count, vocab}, Arrays.copyOfRange(logits.data(), from, from + count * vocab));
    }

    /**
     * Appends each row's new positions to its cache; {@code caches.get(b)} is the cache of batch
     * row {@code b}. Every row of a cache must be in the batch.
     */
    void appendNew(List<Segment> segments, List<SequenceKv> caches) {
      Map<SequenceKv, Integer> appended = new IdentityHashMap<>();
      for (int b = 0; b < segments.size(); b++) {
        SequenceKv cache = caches.get(b);
        int n = segments.get(b).newLength();
        Integer previous = appended.putIfAbsent(cache, n);
        if (previous != null && previous != n) {
          throw new IllegalStateException("rows of one cache got different numbers of positions");
        }
        if (previous == null) {
          cache.reserve(n);
        }
      }
      for (int b = 0; b < segments.size(); b++) {
        Segment segment = segments.get(b);
        for (int layer = 0; layer < llm.numLayers(); layer++) {
          for (boolean value : new boolean[] {false, true}) {
            segment
                .cache()
                .writeNew(
                    layer,
                    value,
                    segment.row(),
                    presents.get(kvName("present", layer, value)),
                    b,
                    past,
                    segment.newLength());
          }
        }
      }
      appended.forEach(SequenceKv::commit);
    }

    @Override
    public void close() {
      presents.close();
    }
  }
}
