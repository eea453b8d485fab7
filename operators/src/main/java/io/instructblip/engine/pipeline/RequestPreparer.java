package io.instructblip.engine.pipeline;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.ErrorCode;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.StageTimings;
import io.instructblip.engine.TaskMode;
import io.instructblip.engine.generate.GenerationDefaults;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.image.ImagePreprocessor;
import io.instructblip.engine.text.PromptBuilder;
import io.instructblip.engine.text.PromptIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The CPU step of a request: checks its shape (image count, mode and candidates), decodes and
 * normalizes its images, tokenizes its instruction as the manifest's recipe says, and resolves its
 * generation parameters against the model's defaults. Thread-safe; every failure is an {@link
 * EngineException} with the request's problem in its message.
 */
public final class RequestPreparer {
  private final ImagePreprocessor images;
  private final PromptBuilder prompts;
  private final GenerationDefaults defaults;
  private final int eosId;
  private final int maxImages;
  private final int maxCandidates;

  /**
   * A preparer.
   *
   * @param eosId the LLM's end-of-sequence id (manifest {@code special_tokens.llm_eos})
   */
  public RequestPreparer(
      ImagePreprocessor images,
      PromptBuilder prompts,
      GenerationDefaults defaults,
      int eosId,
      int maxImages,
      int maxCandidates) {
    this.images = Objects.requireNonNull(images, "images");
    this.prompts = Objects.requireNonNull(prompts, "prompts");
    this.defaults = Objects.requireNonNull(defaults, "defaults");
    this.eosId = eosId;
    this.maxImages = maxImages;
    this.maxCandidates = maxCandidates;
  }

  /** The prompt builder (also turns generated ids into answer text). */
  public PromptBuilder prompts() {
    return prompts;
  }

  /** Prepares one request, or throws what is wrong with it. */
  public PreparedRequest prepare(EngineRequest request) {
    long start = System.nanoTime();
    checkImageCount(request.images().size());
    GenerationParams params = resolve(request.overrides(), request.id());
    List<String> candidateTexts = checkCandidates(request);
    PromptIds ids = prompts.build(request.instruction());
    List<long[]> candidateIds = new ArrayList<>(candidateTexts.size());
    for (String candidate : candidateTexts) {
      candidateIds.add(prompts.candidateIds(candidate));
    }
    float[] pixels = pixelsOf(request.images());
    long micros = (System.nanoTime() - start) / 1_000;
    return new PreparedRequest(
        request.id(),
        request.mode(),
        request.images().size(),
        pixels,
        ids.qformerIds(),
        ids.llmIds(),
        params,
        candidateTexts,
        candidateIds,
        StageTimings.ZERO.withPreprocess(micros));
  }

  private void checkImageCount(int count) {
    if (count == 0) {
      throw new EngineException(
          ErrorCode.INVALID_IMAGE_COUNT, "the request has no image; send at least one");
    }
    if (count > maxImages) {
      throw new EngineException(
          ErrorCode.INVALID_IMAGE_COUNT,
          "the request has "
              + count
              + " images (video frames), over the limit of "
              + maxImages
              + "; send fewer frames");
    }
  }

  private List<String> checkCandidates(EngineRequest request) {
    List<String> candidates = request.candidates();
    if (request.mode() == TaskMode.GENERATE) {
      if (!candidates.isEmpty()) {
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER,
            "candidates are only used by mode RANK; send mode RANK or drop the candidates");
      }
      return candidates;
    }
    if (candidates.isEmpty()) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "a RANK request needs at least one candidate answer; send candidates or mode GENERATE");
    }
    if (candidates.size() > maxCandidates) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "the request has "
              + candidates.size()
              + " candidates, over the limit of "
              + maxCandidates);
    }
    return candidates;
  }

  private float[] pixelsOf(List<byte[]> encoded) {
    int perImage = 3 * images.size() * images.size();
    float[] pixels = new float[encoded.size() * perImage];
    for (int i = 0; i < encoded.size(); i++) {
      try {
        images.pixelValues(encoded.get(i), pixels, i * perImage);
      } catch (EngineException e) {
        if (encoded.size() == 1) {
          throw e;
        }
        throw new EngineException(
            e.code(), "image " + (i + 1) + " of " + encoded.size() + ": " + e.getMessage(), e);
      }
    }
    return pixels;
  }

  private GenerationParams resolve(GenerationOverrides o, String requestId) {
    GenerationParams.Builder b = GenerationParams.builder(defaults).eosTokenIds(eosId);
    if (o.maxNewTokens() != null) {
      b.maxNewTokens(o.maxNewTokens());
    }
    if (o.minNewTokens() != null) {
      b.minNewTokens(o.minNewTokens());
    }
    if (o.numBeams() != null) {
      b.numBeams(o.numBeams());
    }
    if (o.lengthPenalty() != null) {
      b.lengthPenalty(o.lengthPenalty());
    }
    if (o.repetitionPenalty() != null) {
      b.repetitionPenalty(o.repetitionPenalty());
    }
    if (o.doSample() != null) {
      b.doSample(o.doSample());
      if (o.doSample() && o.numBeams() == null) {
        // The model's default beam count (5) would conflict with sampling: sampling is one row.
        b.numBeams(1);
      }
    }
    if (o.temperature() != null) {
      b.temperature(o.temperature());
    }
    if (o.topK() != null) {
      b.topK(o.topK());
    }
    if (o.topP() != null) {
      b.topP(o.topP());
    }
    if (o.numReturnSequences() != null) {
      b.numReturnSequences(o.numReturnSequences());
    }
    // Without an explicit seed a request is still reproducible: its seed derives from its id.
    b.seed(o.seed() != null ? o.seed() : requestId.hashCode());
    return b.build();
  }
}
