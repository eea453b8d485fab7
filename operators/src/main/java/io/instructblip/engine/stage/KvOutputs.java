package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import io.instructblip.engine.model.NativeTensor;
import io.instructblip.engine.model.StageSession;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The outputs of one LLM run: {@code logits} always comes back to the heap; KV outputs come back to
 * the heap ({@link KvStorage#HEAP}) or are written by ONNX Runtime in place into native tensors of
 * this thread's scratch areas ({@link KvStorage#NATIVE}). Closing ends their use.
 */
final class KvOutputs implements AutoCloseable {
  private final KvStorage storage;
  private final OnnxJavaType type;
  private final Set<String> wanted = new HashSet<>(Set.of("logits"));
  private final Map<String, NativeTensor> pinned = new HashMap<>();
  private final Map<String, HostTensor> outputs = new HashMap<>();

  KvOutputs(KvStorage storage, OnnxJavaType type) {
    this.storage = storage;
    this.type = type;
  }

  /** Asks for KV output {@code name} of the given shape. */
  void request(String name, int... shape) {
    if (storage.isNative()) {
      NativeTensor tensor = (NativeTensor) storage.batch(name, type, shape);
      pinned.put(name, tensor);
      outputs.put(name, tensor);
    } else {
      wanted.add(name);
    }
  }

  /**
   * Has ONNX Runtime write KV output {@code name} in place into {@code tensor} (not freed here).
   */
  void pin(String name, NativeTensor tensor) {
    pinned.put(name, tensor);
    outputs.put(name, tensor);
  }

  /** Runs {@code session} and returns the logits; the KV outputs are then {@link #get}. */
  FloatTensor run(StageSession session, Map<String, HostTensor> feeds) {
    Map<String, FloatTensor> returned = session.run(feeds, wanted, pinned);
    outputs.putAll(returned);
    return returned.get("logits");
  }

  /** A KV output of the last {@link #run}. */
  HostTensor get(String name) {
    return outputs.get(name);
  }

  @Override
  public void close() {
    pinned.values().forEach(NativeTensor::free);
  }
}
