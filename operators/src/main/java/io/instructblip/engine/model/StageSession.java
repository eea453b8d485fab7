package io.instructblip.engine.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One stage model loaded in ONNX Runtime and checked against its {@link TensorSpec}s. Inputs and
 * outputs are exchanged by name as host tensors; float tensors are float32 on the Java side
 * whatever the model's dtype (fp16 is converted at the boundary), except {@link NativeTensor}s,
 * which ONNX Runtime reads and writes in place in the model's dtype. Bytes copied between heap
 * arrays and ONNX Runtime are counted in {@link HostTraffic}. Every native tensor and result is
 * closed before {@link #run} returns. Thread-safe, like {@link OrtSession#run}.
 */
public final class StageSession implements AutoCloseable {
  private final String fileName;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Set<String> outputNames;

  private StageSession(
      String fileName,
      OrtEnvironment environment,
      OrtSession session,
      List<TensorSpec> inputs,
      List<TensorSpec> outputs) {
    this.fileName = fileName;
    this.environment = environment;
    this.session = session;
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    Set<String> names = new LinkedHashSet<>();
    outputs.forEach(spec -> names.add(spec.name()));
    this.outputNames = Set.copyOf(names);
  }

  /**
   * Loads {@code file} and checks its inputs and outputs.
   *
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} naming the file and tensor at fault
   */
  static StageSession open(
      OrtEnvironment environment,
      Path file,
      OrtSession.SessionOptions options,
      List<TensorSpec> inputs,
      List<TensorSpec> outputs) {
    String fileName = file.getFileName().toString();
    OrtSession session;
    try {
      session = environment.createSession(file.toString(), options);
    } catch (OrtException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          fileName + ": ONNX Runtime cannot load it: " + e.getMessage(),
          e);
    }
    try {
      check(fileName, "input", session.getInputInfo(), inputs, true);
      check(fileName, "output", session.getOutputInfo(), outputs, false);
    } catch (OrtException e) {
      closeQuietly(session);
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          fileName + ": cannot read its inputs and outputs: " + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
    return new StageSession(fileName, environment, session, inputs, outputs);
  }

  private static void check(
      String fileName,
      String role,
      Map<String, NodeInfo> actual,
      List<TensorSpec> expected,
      boolean exact) {
    for (TensorSpec spec : expected) {
      NodeInfo node = actual.get(spec.name());
      if (node == null) {
        throw new EngineException(
            ErrorCode.MODEL_INVALID,
            fileName
                + ": "
                + role
                + " "
                + spec.name()
                + " is missing (the model's "
                + role
                + "s are "
                + actual.keySet()
                + ")");
      }
      ValueInfo info = node.getInfo();
      if (!(info instanceof TensorInfo tensor)) {
        throw new EngineException(
            ErrorCode.MODEL_INVALID,
            fileName + ": " + role + " " + spec.name() + " is not a tensor (" + info + ")");
      }
      if (tensor.type != spec.type()) {
        throw new EngineException(
            ErrorCode.MODEL_INVALID,
            fileName
                + ": "
                + role
                + " "
                + spec.name()
                + " has type "
                + tensor.type
                + ", expected "
                + spec.type());
      }
      long[] shape = tensor.getShape();
      if (shape.length != spec.rank()) {
        throw new EngineException(
            ErrorCode.MODEL_INVALID,
            fileName
                + ": "
                + role
                + " "
                + spec.name()
                + " has rank "
                + shape.length
                + ", expected "
                + spec.rank()
                + " "
                + spec.axesLabel());
      }
      for (int axis = 0; axis < shape.length; axis++) {
        long want = spec.axes().get(axis).size();
        if (want >= 0 && shape[axis] >= 0 && shape[axis] != want) {
          throw new EngineException(
              ErrorCode.MODEL_INVALID,
              fileName
                  + ": "
                  + role
                  + " "
                  + spec.name()
                  + " has shape "
                  + Arrays.toString(shape)
                  + ", expected "
                  + spec.axesLabel()
                  + " with "
                  + spec.axes().get(axis).label()
                  + " = "
                  + want
                  + " (from manifest.json)");
        }
      }
    }
    if (exact) {
      for (String name : actual.keySet()) {
        if (expected.stream().noneMatch(spec -> spec.name().equals(name))) {
          throw new EngineException(
              ErrorCode.MODEL_INVALID,
              fileName
                  + ": unexpected "
                  + role
                  + " "
                  + name
                  + " (docs/model-format.md lists "
                  + expected.stream().map(TensorSpec::name).toList()
                  + ")");
        }
      }
    }
  }

  /** The file name, for messages. */
  public String fileName() {
    return fileName;
  }

  /** The checked inputs. */
  public List<TensorSpec> inputs() {
    return inputs;
  }

  /** The checked outputs. */
  public List<TensorSpec> outputs() {
    return outputs;
  }

  /** Runs the model and returns every output of its spec. */
  public Map<String, FloatTensor> run(Map<String, ? extends HostTensor> feeds) {
    return run(feeds, outputNames);
  }

  /**
   * Runs the model and returns the requested outputs, by name.
   *
   * @throws IllegalArgumentException when an input is missing or unknown, or an output unknown
   * @throws EngineException {@link ErrorCode#MODEL_ERROR} when ONNX Runtime fails
   */
  public Map<String, FloatTensor> run(Map<String, ? extends HostTensor> feeds, Set<String> wanted) {
    return run(feeds, wanted, Map.of());
  }

  /**
   * Runs the model; ONNX Runtime writes the {@code pinned} outputs in place into the given native
   * tensors (their shapes must be the outputs' exact shapes) and returns the {@code wanted} ones,
   * by name. A name is either wanted or pinned, not both.
   *
   * @throws IllegalArgumentException when an input is missing or unknown, or an output unknown
   * @throws EngineException {@link ErrorCode#MODEL_ERROR} when ONNX Runtime fails
   */
  public Map<String, FloatTensor> run(
      Map<String, ? extends HostTensor> feeds,
      Set<String> wanted,
      Map<String, NativeTensor> pinned) {
    for (TensorSpec spec : inputs) {
      if (!feeds.containsKey(spec.name())) {
        throw new IllegalArgumentException(fileName + ": input " + spec.name() + " not given");
      }
    }
    if (feeds.size() != inputs.size()) {
      throw new IllegalArgumentException(
          fileName
              + ": unknown inputs among "
              + feeds.keySet()
              + "; expected "
              + inputs.stream().map(TensorSpec::name).toList());
    }
    for (String name : wanted) {
      if (!outputNames.contains(name)) {
        throw new IllegalArgumentException(fileName + ": unknown output " + name);
      }
    }
    for (String name : pinned.keySet()) {
      if (!outputNames.contains(name) || wanted.contains(name)) {
        throw new IllegalArgumentException(
            fileName + ": output " + name + " is unknown or both wanted and pinned");
      }
    }
    Map<String, OnnxTensor> created = new LinkedHashMap<>();
    Map<String, OnnxTensor> pinnedOutputs = new LinkedHashMap<>();
    try {
      for (TensorSpec spec : inputs) {
        created.put(spec.name(), toOnnx(spec, feeds.get(spec.name())));
      }
      for (Map.Entry<String, NativeTensor> entry : pinned.entrySet()) {
        pinnedOutputs.put(entry.getKey(), wrap(entry.getValue()));
      }
      long started = System.nanoTime();
      OrtSession.Result ran;
      try {
        ran = session.run(created, wanted, pinnedOutputs);
      } finally {
        OrtRunTime.add(System.nanoTime() - started);
      }
      try (OrtSession.Result result = ran) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> entry : result) {
          if (!pinned.containsKey(entry.getKey())) {
            out.put(entry.getKey(), toFloat((OnnxTensor) entry.getValue()));
          }
        }
        return out;
      }
    } catch (OrtException e) {
      throw new EngineException(
          ErrorCode.MODEL_ERROR, fileName + ": ONNX Runtime failed: " + e.getMessage(), e);
    } finally {
      created.values().forEach(OnnxTensor::close);
      pinnedOutputs.values().forEach(OnnxTensor::close);
    }
  }

  /** An ONNX Runtime tensor over the native memory itself (no copy). */
  private OnnxTensor wrap(NativeTensor tensor) throws OrtException {
    return OnnxTensor.createTensor(environment, tensor.buffer(), tensor.longShape(), tensor.type());
  }

  private OnnxTensor toOnnx(TensorSpec spec, HostTensor tensor) throws OrtException {
    if (tensor.shape().length != spec.rank()) {
      throw new IllegalArgumentException(
          fileName
              + ": input "
              + spec.name()
              + " has shape "
              + Arrays.toString(tensor.shape())
              + ", expected "
              + spec.axesLabel());
    }
    if (tensor instanceof NativeTensor nativeTensor) {
      if (nativeTensor.type() != spec.type()) {
        throw new IllegalArgumentException(
            fileName
                + ": input "
                + spec.name()
                + " takes "
                + spec.type()
                + ", found a native "
                + nativeTensor.type());
      }
      return wrap(nativeTensor);
    }
    if (tensor instanceof LongTensor longs) {
      if (spec.type() != OnnxJavaType.INT64) {
        throw new IllegalArgumentException(fileName + ": input " + spec.name() + " takes floats");
      }
      HostTraffic.add((long) longs.data().length * Long.BYTES);
      return OnnxTensor.createTensor(environment, LongBuffer.wrap(longs.data()), longs.longShape());
    }
    FloatTensor floats = (FloatTensor) tensor;
    if (spec.type() == OnnxJavaType.FLOAT || spec.type() == OnnxJavaType.FLOAT16) {
      HostTraffic.add((long) floats.data().length * spec.type().size);
    }
    if (spec.type() == OnnxJavaType.FLOAT) {
      return OnnxTensor.createTensor(
          environment, FloatBuffer.wrap(floats.data()), floats.longShape());
    }
    if (spec.type() == OnnxJavaType.FLOAT16) {
      ShortBuffer half =
          Fp16Conversions.convertFloatBufferToFp16Buffer(FloatBuffer.wrap(floats.data()));
      return OnnxTensor.createTensor(environment, half, floats.longShape(), OnnxJavaType.FLOAT16);
    }
    throw new IllegalArgumentException(fileName + ": input " + spec.name() + " takes int64 ids");
  }

  private FloatTensor toFloat(OnnxTensor tensor) {
    TensorInfo info = tensor.getInfo();
    long[] longShape = info.getShape();
    int[] shape = new int[longShape.length];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = Math.toIntExact(longShape[i]);
    }
    HostTraffic.add(info.getNumElements() * info.type.size);
    FloatBuffer buffer;
    if (info.type == OnnxJavaType.FLOAT16) {
      buffer = Fp16Conversions.convertFp16BufferToFloatBuffer(tensor.getShortBuffer());
    } else if (info.type == OnnxJavaType.FLOAT) {
      buffer = tensor.getFloatBuffer(); // already a heap copy of the native output
    } else {
      throw new EngineException(
          ErrorCode.MODEL_ERROR, fileName + ": output has type " + info.type + ", expected float");
    }
    return new FloatTensor(shape, toArray(buffer, Math.toIntExact(info.getNumElements())));
  }

  private static float[] toArray(FloatBuffer buffer, int count) {
    if (buffer.hasArray()
        && buffer.arrayOffset() == 0
        && buffer.position() == 0
        && buffer.array().length == count) {
      return buffer.array();
    }
    float[] data = new float[count];
    buffer.get(data);
    return data;
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException ignored) {
      // the load already failed; the first error is the one to report
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new EngineException(
          ErrorCode.INTERNAL, fileName + ": closing the session failed: " + e.getMessage(), e);
    }
  }
}
