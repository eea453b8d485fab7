package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.LlmFamily;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.ModelSessions;
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
 * The model state of an encoder-decoder LLM (FlanT5: {@code encoder.onnx}, {@code
 * decoder_init.onnx}, {@code decoder.onnx} of docs/model-format.md) for continuous batching.
 *
 * <ol>
 *   <li>{@link #encode}: inputs embeddings to encoder states, per sequence (encoder input
 *       right-padded in the batch);
 *   <li>{@link #start}: the first decoder pass on {@code [decoder_start]}, giving each sequence its
 *       {@link EncoderDecoderState} (self cache of length 1 and the cross cache) and logits;
 *   <li>{@link #step}: one token per row of any set of sequences in one batch; self-attention pasts
 *       are left-padded to the longest, cross caches right-padded to the longest encoder length
 *       with {@code encoder_attention_mask}.
 * </ol>
 *
 * {@link #teacherForced} scores whole decoder sequences in one {@code decoder_init} pass (ranking).
 * The self and cross caches live where the {@link KvStorage} says (native memory by default).
 */
public final class EncoderDecoderLlm {
  private final StageSession encoder;
  private final StageSession decoderInit;
  private final StageSession decoder;
  private final ModelManifest.Llm llm;
  private final long decoderStart;
  private final long padId;
  private final KvStorage storage;
  private final OnnxJavaType kvType;

  /** The LLM state over the given sessions with its caches in native memory. */
  public EncoderDecoderLlm(ModelSessions sessions) {
    this(sessions, KvStorage.NATIVE);
  }

  /**
   * The LLM state over the given sessions, which must be of family {@code encoder_decoder}, with
   * its caches in {@code storage}.
   */
  public EncoderDecoderLlm(ModelSessions sessions, KvStorage storage) {
    ModelManifest manifest = sessions.manifest();
    if (manifest.llmFamily() != LlmFamily.ENCODER_DECODER) {
      throw new IllegalArgumentException(
          "EncoderDecoderLlm needs an encoder_decoder model directory, found "
              + manifest.llmFamily().wireName());
    }
    this.encoder = sessions.session(StageFile.ENCODER);
    this.decoderInit = sessions.session(StageFile.DECODER_INIT);
    this.decoder = sessions.session(StageFile.DECODER);
    this.llm = manifest.llm();
    this.decoderStart = manifest.specialTokens().decoderStart().orElseThrow();
    this.padId = manifest.specialTokens().llmPad();
    this.storage = storage;
    this.kvType = manifest.dtype().onnxType();
  }

  /** Where the caches live. */
  public KvStorage storage() {
    return storage;
  }

  /** The id every decoder sequence starts with. */
  public long decoderStart() {
    return decoderStart;
  }

  /**
   * Encodes sequences in one batch.
   *
   * @param inputsEmbeds one {@code [E_i, Dl]} tensor per sequence (query outputs, then prompt)
   * @return one {@code [E_i, Dl]} tensor of encoder states per sequence
   */
  public List<FloatTensor> encode(List<FloatTensor> inputsEmbeds) {
    int hidden = llm.hiddenSize();
    int width = maxLength(inputsEmbeds, "inputs_embeds");
    int batch = inputsEmbeds.size();
    float[] embeds = new float[batch * width * hidden];
    long[] mask = new long[batch * width];
    for (int b = 0; b < batch; b++) {
      FloatTensor row = inputsEmbeds.get(b);
      System.arraycopy(row.data(), 0, embeds, b * width * hidden, row.data().length);
      Arrays.fill(mask, b * width, b * width + row.dim(0), 1L);
    }
    FloatTensor states =
        encoder
            .run(
                Map.of(
                    "inputs_embeds",
                    new FloatTensor(new int[] {batch, width, hidden}, embeds),
                    "attention_mask",
                    new LongTensor(new int[] {batch, width}, mask)))
            .get("encoder_hidden_states");
    List<FloatTensor> result = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      int length = inputsEmbeds.get(b).dim(0);
      int from = b * width * hidden;
      result.add(
          new FloatTensor(
              new int[] {length, hidden},
              Arrays.copyOfRange(states.data(), from, from + length * hidden)));
    }
    return result;
  }

  /** The result of {@link #start}: per sequence its one-row state and first logits. */
  public record Start(List<EncoderDecoderState> states, List<float[]> logits) {}

  /** Runs the first decoder pass ({@code [decoder_start]}) for each sequence, in one batch. */
  public Start start(List<FloatTensor> encoderStates) {
    long[][] ids = new long[encoderStates.size()][];
    for (int b = 0; b < ids.length; b++) {
      ids[b] = new long[] {decoderStart};
    }
    int layers = llm.numLayers();
    List<EncoderDecoderState> states = new ArrayList<>(ids.length);
    List<float[]> logits = new ArrayList<>(ids.length);
    try (InitRun run = runInit(encoderStates, ids, true)) {
      HostTensor[] crossKeys = new HostTensor[layers];
      HostTensor[] crossValues = new HostTensor[layers];
      for (int layer = 0; layer < layers; layer++) {
        crossKeys[layer] = run.kv.get(DecoderOnlyLlm.kvName("cross", layer, false));
        crossValues[layer] = run.kv.get(DecoderOnlyLlm.kvName("cross", layer, true));
      }
      for (int b = 0; b < ids.length; b++) {
        SequenceKv self =
            SequenceKv.empty(storage, kvType, layers, llm.numKvHeads(), llm.headDim(), 1);
        self.reserve(1);
        for (int layer = 0; layer < layers; layer++) {
          for (boolean value : new boolean[] {false, true}) {
            self.writeNew(
                layer,
                value,
                0,
                run.kv.get(DecoderOnlyLlm.kvName("present", layer, value)),
                b,
                0,
                1);
          }
        }
        self.commit(1);
        CrossKv cross =
            CrossKv.fromBatch(
                storage, kvType, crossKeys, crossValues, b, encoderStates.get(b).dim(0));
        states.add(new EncoderDecoderState(self, cross));
        logits.add(run.logitsRows(b, 1).data());
      }
    } catch (RuntimeException e) {
      states.forEach(EncoderDecoderState::close);
      throw e;
    }
    return new Start(Collections.unmodifiableList(states), Collections.unmodifiableList(logits));
  }

  /**
   * Teacher forcing (ranking): for each decoder input sequence (starting with {@code
   * decoder_start}), the logits of each of its positions ({@code [T_c, V]}), all in one {@code
   * decoder_init} batch over the same encoder states.
   */
  public List<FloatTensor> teacherForced(FloatTensor encoderStates, long[][] decoderInputs) {
    List<FloatTensor> states = Collections.nCopies(decoderInputs.length, encoderStates);
    try (InitRun run = runInit(states, decoderInputs, false)) {
      List<FloatTensor> result = new ArrayList<>(decoderInputs.length);
      for (int b = 0; b < decoderInputs.length; b++) {
        result.add(run.logitsRows(b, decoderInputs[b].length));
      }
      return result;
    }
  }

  /** One sequence's input to a decode step: its state and one next token id per row. */
  public record StepInput(EncoderDecoderState state, long[] tokenIds) {
    /** Checks that there is one token per row. */
    public StepInput {
      Objects.requireNonNull(state, "state");
      if (tokenIds.length != state.rows()) {
        throw new IllegalArgumentException(
            "expected " + state.rows() + " token ids (one per row), found " + tokenIds.length);
      }
    }
  }

  /**
   * A carry for one generation loop's steps ({@link #step(List, KvCarry)}): enabled for {@link
   * KvStorage#NATIVE}, where it feeds a step's presents back as the next step's pasts, and keeps
   * the packed cross caches, while the batch does not change.
   */
  public KvCarry newCarry() {
    return new KvCarry(storage == KvStorage.NATIVE, kvType, 2 * llm.numLayers());
  }

  /**
   * Runs one decode step for every row of every given sequence in one batch, appends the new
   * position to each self cache and returns, per input, the logits of each row ({@code [rows][V]}).
   */
  public List<float[][]> step(List<StepInput> inputs) {
    return step(inputs, null);
  }

  /**
   * {@link #step(List)} with the self-attention pasts and the packed cross caches taken from {@code
   * carry} when it holds those of the previous step over the same rows (else packed into it), and
   * the presents written into it.
   */
  public List<float[][]> step(List<StepInput> inputs, KvCarry carry) {
    KvCarry active = carry != null && carry.enabled() ? carry : null;
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("nothing to run");
    }
    Set<EncoderDecoderState> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    int batch = 0;
    int past = 0;
    int encoded = 0;
    for (StepInput input : inputs) {
      if (!seen.add(input.state())) {
        throw new IllegalArgumentException("a state appears twice in one step");
      }
      for (long id : input.tokenIds()) {
        checkToken(id);
      }
      batch += input.state().rows();
      past = Math.max(past, input.state().self().length());
      encoded = Math.max(encoded, input.state().cross().length());
    }
    if (past + 1 > llm.maxPositions()) {
      throw new IllegalArgumentException(
          "a decoder sequence would exceed llm.max_positions " + llm.maxPositions());
    }
    int total = past + 1;
    List<SequenceKv> selves = new ArrayList<>(batch);
    int[] rows = new int[batch];
    for (StepInput input : inputs) {
      for (int row = 0; row < input.state().rows(); row++) {
        rows[selves.size()] = row;
        selves.add(input.state().self());
      }
    }
    boolean carried = active != null && active.carries(selves, rows, past);
    long[] ids = new long[batch];
    Map<String, HostTensor> feeds = new HashMap<>();
    KvOutputs presents = new KvOutputs(storage, kvType);
    try {
      HostTensor selfMask = DecoderOnlyLlm.attentionMask(storage, batch, total);
      feeds.put("decoder_attention_mask", selfMask);
      HostTensor crossMask = DecoderOnlyLlm.attentionMask(storage, batch, encoded);
      feeds.put("encoder_attention_mask", crossMask);
      int b = 0;
      for (StepInput input : inputs) {
        SequenceKv self = input.state().self();
        for (int row = 0; row < self.rows(); row++, b++) {
          ids[b] = input.tokenIds()[row];
          DecoderOnlyLlm.fillMask(selfMask, b * total + past - self.length(), (b + 1) * total);
          DecoderOnlyLlm.fillMask(
              crossMask, b * encoded, b * encoded + input.state().cross().length());
        }
      }
      feeds.put("decoder_input_ids", new LongTensor(new int[] {batch, 1}, ids));
      int heads = llm.numKvHeads();
      int headDim = llm.headDim();
      for (int layer = 0; layer < llm.numLayers(); layer++) {
        for (boolean value : new boolean[] {false, true}) {
          int k = DecoderOnlyLlm.carryIndex(layer, value);
          String pastName = DecoderOnlyLlm.kvName("past_key_values", layer, value);
          HostTensor pastData =
              active == null
                  ? storage.batch(pastName, kvType, batch, heads, past, headDim)
                  : active.past(k, batch, heads, past, headDim);
          feeds.put(pastName, pastData);
          String crossName = DecoderOnlyLlm.kvName("cross", layer, value);
          HostTensor crossData =
              active == null
                  ? storage.batch(crossName, kvType, batch, heads, encoded, headDim)
                  : active.cross(k, batch, heads, encoded, headDim);
          feeds.put(crossName, crossData);
          b = 0;
          for (StepInput input : inputs) {
            EncoderDecoderState state = input.state();
            for (int row = 0; row < state.rows() && !carried; row++, b++) {
              state.self().writePast(layer, value, row, pastData, b);
              state.cross().writePadded(layer, value, crossData, b);
            }
          }
          String presentName = DecoderOnlyLlm.kvName("present", layer, value);
          if (active == null) {
            presents.request(presentName, batch, heads, total, headDim);
          } else {
            presents.pin(presentName, active.present(k, batch, heads, total, headDim));
          }
        }
      }
      float[] logits = presents.run(decoder, feeds).data();
      int vocab = llm.vocabSize();
      List<float[][]> result = new ArrayList<>(inputs.size());
      b = 0;
      for (StepInput input : inputs) {
        SequenceKv self = input.state().self();
        float[][] logitRows = new float[self.rows()][];
        self.reserve(1);
        for (int row = 0; row < self.rows(); row++, b++) {
          logitRows[row] = Arrays.copyOfRange(logits, b * vocab, (b + 1) * vocab);
          for (int layer = 0; layer < llm.numLayers(); layer++) {
            for (boolean value : new boolean[] {false, true}) {
              self.writeNew(
                  layer,
                  value,
                  row,
                  presents.get(DecoderOnlyLlm.kvName("present", layer, value)),
                  b,
                  past,
                  1);
            }
          }
        }
        self.commit(1);
        result.add(logitRows);
      }
      if (active != null) {
        active.record(selves, rows, total);
      }
      return result;
    } finally {
      feeds.values().forEach(KvStorage::free);
      presents.close();
    }
  }

  private void checkToken(long id) {
    if (id < 0 || id >= llm.vocabSize()) {
      throw new IllegalArgumentException(
          "token id " + id + " is outside the LLM vocabulary [0, " + llm.vocabSize() + ")");
    }
  }

  private int maxLength(List<FloatTensor> rows, String what) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("nothing to run");
    }
    int width = 0;
    for (FloatTensor row : rows) {
      if (row.rank() != 2 || row.dim(1) != llm.hiddenSize() || row.dim(0) == 0) {
        throw new IllegalArgumentException(
            what
                + " of a row must be [E >= 1, "
                + llm.hiddenSize()
                + "], found "
                + Arrays.toString(row.shape()));
      }
      width = Math.max(width, row.dim(0));
    }
    return width;
  }

  /** decoder_init over right-padded encoder states and right-padded decoder ids. */
  private InitRun runInit(List<FloatTensor> encoderStates, long[][] decoderIds, boolean wantKv) {
    int batch = encoderStates.size();
    if (decoderIds.length != batch) {
      throw new IllegalArgumentException("one decoder sequence per encoder state expected");
    }
    int hidden = llm.hiddenSize();
    int encoded = maxLength(encoderStates, "encoder_hidden_states");
    int width = 0;
    for (long[] row : decoderIds) {
      if (row.length == 0) {
        throw new IllegalArgumentException("a decoder sequence is empty");
      }
      for (long id : row) {
        checkToken(id);
      }
      width = Math.max(width, row.length);
    }
    float[] states = new float[batch * encoded * hidden];
    long[] crossMask = new long[batch * encoded];
    long[] ids = new long[batch * width];
    long[] mask = new long[batch * width];
    Arrays.fill(ids, padId);
    for (int b = 0; b < batch; b++) {
      FloatTensor row = encoderStates.get(b);
      System.arraycopy(row.data(), 0, states, b * encoded * hidden, row.data().length);
      Arrays.fill(crossMask, b * encoded, b * encoded + row.dim(0), 1L);
      System.arraycopy(decoderIds[b], 0, ids, b * width, decoderIds[b].length);
      Arrays.fill(mask, b * width, b * width + decoderIds[b].length, 1L);
    }
    Map<String, HostTensor> feeds = new HashMap<>();
    feeds.put("decoder_input_ids", new LongTensor(new int[] {batch, width}, ids));
    feeds.put("decoder_attention_mask", new LongTensor(new int[] {batch, width}, mask));
    feeds.put("encoder_hidden_states", new FloatTensor(new int[] {batch, encoded, hidden}, states));
    feeds.put("encoder_attention_mask", new LongTensor(new int[] {batch, encoded}, crossMask));
    KvOutputs kv = new KvOutputs(storage, kvType);
    try {
      if (wantKv) {
        int heads = llm.numKvHeads();
        for (int layer = 0; layer < llm.numLayers(); layer++) {
          for (boolean value : new boolean[] {false, true}) {
            kv.request(
                DecoderOnlyLlm.kvName("present", layer, value), batch, heads, width, llm.headDim());
            kv.request(
                DecoderOnlyLlm.kvName("cross", layer, value), batch, heads, encoded, llm.headDim());
          }
        }
      }
      return new InitRun(kv.run(decoderInit, feeds), kv, width, llm.vocabSize());
    } catch (RuntimeException e) {
      kv.close();
      throw e;
    }
  }

  /** The outputs of one decoder_init run; closing frees native KV outputs. */
  private record InitRun(FloatTensor logits, KvOutputs kv, int width, int vocab)
      implements AutoCloseable {
    FloatTensor logitsRows(int b, int count) {
      int from = b * width * vocab;
      return new FloatTensor(
          new int[] {count, vocab}, Arrays.copyOfRange(logits.data(), from, from + count * vocab));
    }

    @Override
    public void close() {
      kv.close();
    }
  }
}
