package io.instructblip.engine.inference;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import io.instructblip.engine.model.LlmFamily;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.NativeTensor;
import io.instructblip.engine.stage.DecoderOnlyLlm;
import io.instructblip.engine.stage.EncoderDecoderLlm;
import io.instructblip.engine.stage.KvStorage;
import io.instructblip.engine.stage.TokenEmbedder;
import io.instructblip.engine.text.PromptBuilder;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes {@link GenerationLoop}s for the LLM family of a model directory, with the KV caches where
 * {@link #defaultStorage()} says: {@link KvStorage#NATIVE} wherever ONNX Runtime runs on native
 * memory in place, else (or with {@code -D}{@value #STORAGE_PROPERTY}{@code =heap}) the heap
 * backend. Which one runs is logged once.
 */
public final class LlmBackends {
  /**
   * JVM system property that picks the KV cache storage by hand: {@code native}, {@code
   * native-repack} (native, without carrying a step's presents over: every step packs) or {@code
   * heap}.
   */
  public static final String STORAGE_PROPERTY = "instructblip.llm.kv-cache";

  private static final Logger LOG = LoggerFactory.getLogger(LlmBackends.class);

  private final PromptBuilder prompts;
  private final TokenEmbedder embedder;
  private final boolean decoderOnly;
  private final Map<KvStorage, DecoderOnlyLlm> decoderOnlyLlms = new EnumMap<>(KvStorage.class);
  private final Map<KvStorage, EncoderDecoderLlm> encoderDecoderLlms =
      new EnumMap<>(KvStorage.class);
  private final KvStorage defaultStorage;

  /** Backends over the given sessions; the stage state is created once and shared by loops. */
  public LlmBackends(ModelSessions sessions, PromptBuilder prompts) {
    this.prompts = prompts;
    this.embedder = new TokenEmbedder(sessions);
    this.decoderOnly = sessions.manifest().llmFamily() == LlmFamily.DECODER_ONLY;
    for (KvStorage storage : KvStorage.values()) {
      if (decoderOnly) {
        decoderOnlyLlms.put(storage, new DecoderOnlyLlm(sessions, storage));
      } else {
        encoderDecoderLlms.put(storage, new EncoderDecoderLlm(sessions, storage));
      }
    }
    this.defaultStorage = chooseStorage(System.getProperty(STORAGE_PROPERTY));
  }

  /** The storage of {@link #newLoop()}. */
  public KvStorage defaultStorage() {
    return defaultStorage;
  }

  /** A new loop with the default storage; loops share the sessions but not their sequences. */
  public GenerationLoop<?> newLoop() {
    return newLoop(defaultStorage);
  }

  /** A new loop whose KV caches live in {@code storage} (benchmarks compare the two). */
  public GenerationLoop<?> newLoop(KvStorage storage) {
    if (decoderOnly) {
      return new GenerationLoop<>(
          new DecoderOnlyBackend(decoderOnlyLlms.get(storage)), embedder, prompts);
    }
    return new GenerationLoop<>(
        new EncoderDecoderBackend(encoderDecoderLlms.get(storage)), embedder, prompts);
  }

  /** The requested storage if any, else native where it works, else heap; logs the choice. */
  static KvStorage chooseStorage(String requested) {
    if (requested != null && !requested.isBlank()) {
      KvStorage storage = KvStorage.parse(requested);
      LOG.info("LLM KV cache: {} (set by -D{})", storage.wireName(), STORAGE_PROPERTY);
      return storage;
    }
    String problem = nativeProblem();
    if (problem == null) {
      LOG.info(
          "LLM KV cache: native (kept in ONNX Runtime's host memory between steps, a step's"
              + " presents fed back as the next step's pasts while the batch is unchanged; {})",
          NativeTensor.freesEagerly()
              ? "freed when a sequence leaves"
              : "freed at garbage collection: sun.misc.Unsafe is not available");
      return KvStorage.NATIVE;
    }
    LOG.warn("LLM KV cache: heap (the fallback), because {}", problem);
    return KvStorage.HEAP;
  }

  /** Null when ONNX Runtime reads a native tensor in place; else why not. */
  private static String nativeProblem() {
    NativeTensor probe = NativeTensor.allocate(OnnxJavaType.FLOAT, 1, 4);
    try (OnnxTensor tensor =
        OnnxTensor.createTensor(
            OrtEnvironment.getEnvironment(), probe.buffer(), probe.longShape(), probe.type())) {
      return tensor.ownsBuffer()
          ? "ONNX Runtime copies native buffers instead of using them"
          : null;
    } catch (Exception | LinkageError e) {
      return "ONNX Runtime cannot take a native buffer: " + e;
    } finally {
      probe.free();
    }
  }
}
