package io.instructblip.engine.inference;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
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
  private final int queryTokens;
  private final int maxPositions;
  private final boolean answerSharesPositions;

  /**
   * A preparer.
   *
   * @param eosId the LLM's end-of-sequence id (manifest {@code special_tokens.llm_eos})
   * @param queryTokens query positions per image (manifest {@code num_query_tokens})
   * @param maxPositions the positions one LLM sequence may hold ({@code llm.max_positions}, which
   *     the manifest parser checks is positive)
   * @param answerSharesPositions whether the answer shares its sequence with the queries and the
   *     prompt (decoder-only) or has a decoder sequence of its own (encoder-decoder)
   */
  public RequestPreparer(
      ImagePreprocessor images,
      PromptBuilder prompts,
      GenerationDefaults defaults,
      int eosId,
      int maxImages,
      int maxCandidates,
      int queryTokens,
      int maxPositions,
      boolean answerSharesPositions) {
    this.images = Objects.requireNonNull(images, "images");
    this.prompts = Objects.requireNonNull(prompts, "prompts");
    this.defaults = Objects.requireNonNull(defaults, "defaults");
    this.eosId = eosId;
    this.maxImages = maxImages;
    this.maxCandidates = maxCandidates;
    this.queryTokens = queryTokens;
    this.maxPositions = maxPositions;
    this.answerSharesPositions = answerSharesPositions;
  }

  /** The prompt builder (also turns generated ids into answer text). */
  public PromptBuilder prompts() {
    return prompts;
  }

  /** Prepares one request, or throws what is wrong with it. */
  public PreparedRequest prepare(EngineRequest request) {
    long start = System.nanoTime();
    checkImageCount(request.images().size());
    List<String> candidateTexts = checkCandidates(request);
    PromptIds ids = prompts.build(request.instruction());
    int inputPositions = request.images().size() * queryTokens + ids.llmIds().length;
    int answerStart = answerSharesPositions ? inputPositions : 0;
    List<long[]> candidateIds = new ArrayList<>(candidateTexts.size());
    for (String candidate : candidateTexts) {
      long[] scored = prompts.candidateIds(candidate);
      if (answerStart + scored.length > maxPositions) {
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER,
            "the candidate \""
                + candidate
                + "\" is "
                + scored.length
                + " tokens; "
                + (answerSharesPositions
                    ? "after the images and instruction (" + inputPositions + " positions) "
                    : "")
                + "it does not fit the model's "
                + maxPositions
                + " positions; shorten it");
      }
      candidateIds.add(scored);
    }
    GenerationParams params =
        fitToContext(
            resolve(defaults, eosId, request.overrides(), request.id()),
            inputPositions,
            answerStart,
            request.mode());
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

  /**
   * Caps {@code max_new_tokens} to the positions left for the answer: after the images and the
   * prompt in a decoder-only model, the decoder's own positions in an encoder-decoder one (the
   * answer then ends with finish reason {@code length}, as a server with a fixed context does);
   * refuses a request whose images and prompt fill the context on their own.
   */
  private GenerationParams fitToContext(
      GenerationParams params, int inputPositions, int answerStart, TaskMode mode) {
    int room = maxPositions - answerStart;
    if (room < 1) {
      throw new EngineException(
          ErrorCode.INSTRUCTION_TOO_LONG,
          "the images and instruction take "
              + inputPositions
              + " of the model's "
              + maxPositions
              + " positions, leaving no room for an answer; send fewer frames or a shorter"
              + " instruction");
    }
    if (mode == TaskMode.RANK || params.maxNewTokens() <= room) {
      return params;
    }
    return params.toBuilder()
        .maxNewTokens(room)
        .minNewTokens(Math.min(params.minNewTokens(), room))
        .build();
  }

  /**
   * A request's generation parameters: {@code defaults} with what the request overrides, checked
   * ({@link GenerationParams}'s rules). The job's parser calls it too, to refuse bad parameters
   * where a request enters.
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} naming the broken rule
   */
  public static GenerationParams resolve(
      GenerationDefaults defaults, int eosId, GenerationOverrides o, String requestId) {
    Integer returnSequences = o.numReturnSequences();
    if (returnSequences != null && returnSequences > 1) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "num_return_sequences "
              + returnSequences
              + " is not supported yet: every answer is the single best sequence; send 1 or"
              + " leave it out");
    }
    GenerationParams.Builder b = GenerationParams.builder(defaults).eosTokenIds(eosId);
    for (GenerationParameter p : GenerationParameter.values()) {
      if (o.get(p) != null) {
        b.set(p, o.get(p));
      }
    }
    if (Boolean.TRUE.equals(o.doSample()) && o.numBeams() == null) {
      // The model's default beam count (5) would conflict with sampling: sampling is one row.
      b.numBeams(1);
    }
    if (o.seed() == null) {
      // Without an explicit seed a request is still reproducible: its seed derives from its id.
      b.seed(requestId.hashCode());
    }
    return b.build();
  }
}
