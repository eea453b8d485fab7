package io.instructblip.flink.pipeline;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.StringValue;

/**
 * The binary form of the stage types, used by their Flink serializers and by the checkpointed
 * compact form. Explicit and versioned by hand: a field added later goes at the end with a new
 * format version, so that checkpoints stay readable.
 *
 * <p>Strings of any length are written with Flink's {@link StringValue#writeString} (a
 * variable-length char count, then the chars): lossless (lone surrogates too) and without the
 * 65,535-byte ceiling of {@code DataOutput.writeUTF}, which made a request with a 64 KB field a
 * poison record (version 1 of the compact form used it; it is still read).
 */
final class StageWire {
  /** Bumped when the layout changes; written first in every checkpointed compact item. */
  static final int VERSION = 2;

  /** The first compact form: strings written with {@code writeUTF}; read, never written. */
  private static final int VERSION_MODIFIED_UTF8 = 1;

  private StageWire() {}

  // ---- stage item ----

  static void writeItem(StageItem item, DataOutput out) throws IOException {
    writeRequest(item.request(), out);
    out.writeLong(item.deadlineMillis());
    writeBytes(item.context(), out);
    out.writeBoolean(item.prepared() != null);
    if (item.prepared() != null) {
      writePrepared(item.prepared(), out);
    }
    writeTensor(item.imageEmbeds(), out);
    writeTensor(item.queryOutputs(), out);
  }

  static StageItem readItem(DataInput in) throws IOException {
    EngineRequest request = readRequest(in, StringValue::readString);
    long deadline = in.readLong();
    byte[] context = readBytes(in);
    PreparedRequest prepared = in.readBoolean() ? readPrepared(in) : null;
    return new StageItem(request, deadline, context, prepared, readTensor(in), readTensor(in));
  }

  /** The compact form of an item as bytes (checkpoints). */
  static byte[] compactBytes(StageItem item) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(VERSION);
      writeRequest(item.request(), out);
      writeBytes(item.context(), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** An item from its compact bytes, without payload. */
  static StageItem fromCompactBytes(byte[] bytes, long deadlineMillis) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int version = in.readInt();
      if (version != VERSION && version != VERSION_MODIFIED_UTF8) {
        throw new IOException(
            "unknown stage item version " + version + ", this job reads 1 to " + VERSION);
      }
      StringReader strings =
          version == VERSION_MODIFIED_UTF8 ? DataInput::readUTF : StringValue::readString;
      EngineRequest request = readRequest(in, strings);
      return StageItem.of(request, deadlineMillis, readBytes(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- answer ----

  static void writeAnswer(StageAnswer answer, DataOutput out) throws IOException {
    EngineResult r = answer.result();
    writeString(r.id(), out);
    writeNullableString(r.text(), out);
    writeInts(r.tokenIds(), out);
    writeString(r.finishReason().name(), out);
    out.writeInt(r.candidates().size());
    for (RankedCandidate c : r.candidates()) {
      out.writeInt(c.index());
      writeString(c.text(), out);
      writeInts(c.tokenIds(), out);
      out.writeDouble(c.sumLogprob());
      out.writeDouble(c.meanLogprob());
    }
    writeInts(r.qformerInputIds(), out);
    writeInts(r.promptIds(), out);
    writeTimings(r.timings(), out);
    // Where an answer once held an error code and message: always absent now (an answer only
    // answers; failures travel as Result errors), kept so that the layout is unchanged.
    writeNullableString(null, out);
    writeNullableString(null, out);
    writeBytes(answer.context(), out);
  }

  static StageAnswer readAnswer(DataInput in) throws IOException {
    String id = readString(in);
    String text = readNullableString(in);
    List<Integer> tokens = readInts(in);
    FinishReason finish = FinishReason.valueOf(readString(in));
    int n = in.readInt();
    List<RankedCandidate> candidates = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      candidates.add(
          new RankedCandidate(
              in.readInt(), readString(in), readInts(in), in.readDouble(), in.readDouble()));
    }
    List<Integer> qformerIds = readInts(in);
    List<Integer> promptIds = readInts(in);
    StageTimings timings = readTimings(in);
    readNullableString(in); // the former error code and message, never set
    readNullableString(in);
    EngineResult result =
        new EngineResult(id, text, tokens, finish, candidates, qformerIds, promptIds, timings);
    return new StageAnswer(result, readBytes(in));
  }

  // ---- parts ----

  private static void writeRequest(EngineRequest r, DataOutput out) throws IOException {
    writeString(r.id(), out);
    out.writeInt(r.images().size());
    for (byte[] image : r.images()) {
      writeBytes(image, out);
    }
    writeNullableString(r.instruction(), out);
    writeString(r.mode().name(), out);
    out.writeInt(r.candidates().size());
    for (String c : r.candidates()) {
      writeString(c, out);
    }
    GenerationOverrides o = r.overrides();
    for (GenerationParameter p : GenerationParameter.values()) {
      writeNullableParameter(p, o.get(p), out);
    }
  }

  private static EngineRequest readRequest(DataInput in, StringReader strings) throws IOException {
    String id = strings.read(in);
    int images = in.readInt();
    List<byte[]> bytes = new ArrayList<>(images);
    for (int i = 0; i < images; i++) {
      bytes.add(readBytes(in));
    }
    String instruction = in.readBoolean() ? strings.read(in) : null;
    TaskMode mode = TaskMode.valueOf(strings.read(in));
    int n = in.readInt();
    List<String> candidates = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      candidates.add(strings.read(in));
    }
    GenerationOverrides.Builder o = GenerationOverrides.builder();
    for (GenerationParameter p : GenerationParameter.values()) {
      o.set(p, readNullableParameter(p, in));
    }
    return new EngineRequest(id, bytes, instruction, mode, candidates, o.build());
  }

  private static void writePrepared(PreparedRequest p, DataOutput out) throws IOException {
    writeString(p.id(), out);
    writeString(p.mode().name(), out);
    out.writeInt(p.frames());
    writeFloats(p.pixels(), out);
    writeLongs(p.qformerIds(), out);
    writeLongs(p.promptIds(), out);
    GenerationParams g = p.params();
    for (GenerationParameter parameter : GenerationParameter.values()) {
      writeParameter(parameter, g.get(parameter), out);
    }
    writeInts(g.eosTokenIds(), out);
    out.writeInt(p.candidateTexts().size());
    for (int i = 0; i < p.candidateTexts().size(); i++) {
      writeString(p.candidateTexts().get(i), out);
      writeLongs(p.candidateIds().get(i), out);
    }
    writeTimings(p.timings(), out);
  }

  private static PreparedRequest readPrepared(DataInput in) throws IOException {
    String id = readString(in);
    TaskMode mode = TaskMode.valueOf(readString(in));
    int frames = in.readInt();
    float[] pixels = readFloats(in);
    long[] qformerIds = readLongs(in);
    long[] promptIds = readLongs(in);
    GenerationParams.Builder params = GenerationParams.builder();
    for (GenerationParameter parameter : GenerationParameter.values()) {
      params.set(parameter, readParameter(parameter, in));
    }
    params.eosTokenIds(readInts(in));
    int n = in.readInt();
    List<String> texts = new ArrayList<>(n);
    List<long[]> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      texts.add(readString(in));
      ids.add(readLongs(in));
    }
    return new PreparedRequest(
        id,
        mode,
        frames,
        pixels,
        qformerIds,
        promptIds,
        params.build(),
        texts,
        ids,
        readTimings(in));
  }

  private static void writeTimings(StageTimings t, DataOutput out) throws IOException {
    out.writeLong(t.preprocessMicros());
    out.writeLong(t.visionMicros());
    out.writeLong(t.qformerMicros());
    out.writeLong(t.llmMicros());
  }

  private static StageTimings readTimings(DataInput in) throws IOException {
    return new StageTimings(in.readLong(), in.readLong(), in.readLong(), in.readLong());
  }

  private static void writeTensor(FloatTensor t, DataOutput out) throws IOException {
    out.writeBoolean(t != null);
    if (t != null) {
      out.writeInt(t.shape().length);
      for (int d : t.shape()) {
        out.writeInt(d);
      }
      writeFloats(t.data(), out);
    }
  }

  private static FloatTensor readTensor(DataInput in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    int[] shape = new int[in.readInt()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = in.readInt();
    }
    return new FloatTensor(shape, readFloats(in));
  }

  private static void writeBytes(byte[] b, DataOutput out) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInput in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return b;
  }

  private static void writeFloats(float[] f, DataOutput out) throws IOException {
    out.writeInt(f.length);
    for (float v : f) {
      out.writeFloat(v);
    }
  }

  private static float[] readFloats(DataInput in) throws IOException {
    float[] f = new float[in.readInt()];
    for (int i = 0; i < f.length; i++) {
      f[i] = in.readFloat();
    }
    return f;
  }

  private static void writeLongs(long[] l, DataOutput out) throws IOException {
    out.writeInt(l.length);
    for (long v : l) {
      out.writeLong(v);
    }
  }

  private static long[] readLongs(DataInput in) throws IOException {
    long[] l = new long[in.readInt()];
    for (int i = 0; i < l.length; i++) {
      l[i] = in.readLong();
    }
    return l;
  }

  private static void writeInts(List<Integer> values, DataOutput out) throws IOException {
    out.writeInt(values.size());
    for (int v : values) {
      out.writeInt(v);
    }
  }

  private static List<Integer> readInts(DataInput in) throws IOException {
    int n = in.readInt();
    List<Integer> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(in.readInt());
    }
    return values;
  }

  private static void writeNullableString(String s, DataOutput out) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      writeString(s, out);
    }
  }

  private static void writeString(String s, DataOutput out) throws IOException {
    StringValue.writeString(s, out);
  }

  private static String readString(DataInput in) throws IOException {
    return StringValue.readString(in);
  }

  /** How a compact form of some version reads its strings. */
  @FunctionalInterface
  private interface StringReader {
    String read(DataInput in) throws IOException;
  }

  private static String readNullableString(DataInput in) throws IOException {
    return in.readBoolean() ? readString(in) : null;
  }

  /**
   * A generation parameter's value (never null). The parameters are written in {@link
   * GenerationParameter}'s order: a parameter added to the specification changes this format, so it
   * needs a new {@link #VERSION} (StageSerializersTest pins the count).
   */
  private static void writeParameter(GenerationParameter p, Object v, DataOutput out)
      throws IOException {
    switch (p.type()) {
      case INT -> out.writeInt((Integer) v);
      case LONG -> out.writeLong((Long) v);
      case DOUBLE -> out.writeDouble((Double) v);
      case BOOLEAN -> out.writeBoolean((Boolean) v);
    }
  }

  private static Object readParameter(GenerationParameter p, DataInput in) throws IOException {
    return switch (p.type()) {
      case INT -> in.readInt();
      case LONG -> in.readLong();
      case DOUBLE -> in.readDouble();
      case BOOLEAN -> in.readBoolean();
    };
  }

  /** A request's override: a presence flag then the value; a boolean is one byte, -1 when null. */
  private static void writeNullableParameter(GenerationParameter p, Object v, DataOutput out)
      throws IOException {
    if (p.type() == GenerationParameter.ValueType.BOOLEAN) {
      out.writeByte(v == null ? -1 : (Boolean) v ? 1 : 0);
      return;
    }
    out.writeBoolean(v != null);
    if (v != null) {
      writeParameter(p, v, out);
    }
  }

  private static Object readNullableParameter(GenerationParameter p, DataInput in)
      throws IOException {
    if (p.type() == GenerationParameter.ValueType.BOOLEAN) {
      byte b = in.readByte();
      return b < 0 ? null : b == 1;
    }
    return in.readBoolean() ? readParameter(p, in) : null;
  }
}
