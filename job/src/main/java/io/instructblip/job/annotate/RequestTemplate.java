package io.instructblip.job.annotate;

import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the command line says about every request it makes: the instruction (a CSV row may bring its
 * own), the generation options, and the candidates to rank (none: generate). Builds the request of
 * one image, with its relative path and instruction in the metadata (columns {@code
 * metadata['image']} and {@code metadata['instruction']} of the output).
 *
 * @param instruction the default instruction, or {@code null}
 * @param generation generation options (fields left null take the model's defaults)
 * @param candidates candidate answers to rank; empty to generate
 */
public record RequestTemplate(
    String instruction, GenerationOptions generation, List<String> candidates)
    implements Serializable {
  /** Metadata key of the image path(s) relative to the input root, one per line. */
  public static final String IMAGE_KEY = "image";

  /** Metadata key of the instruction. */
  public static final String INSTRUCTION_KEY = "instruction";

  public RequestTemplate {
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
    generation = generation == null ? new GenerationOptions() : generation;
  }

  /**
   * The request {@code id} about {@code imageUri}.
   *
   * @param relative how the image is named in the output ({@code metadata['image']})
   * @param instruction the instruction, or {@code null} for the template's
   */
  public InferenceRequest request(String id, String imageUri, String relative, String instruction) {
    String text = instruction == null || instruction.isBlank() ? this.instruction : instruction;
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(IMAGE_KEY, relative);
    metadata.put(INSTRUCTION_KEY, text == null ? "" : text);
    return InferenceRequest.newBuilder()
        .setId(id)
        .setImages(List.of(ImageInput.newBuilder().setUri(imageUri).build()))
        .setInstruction(text == null ? "" : text)
        .setMode(candidates.isEmpty() ? RequestMode.GENERATE : RequestMode.RANK)
        .setCandidates(new ArrayList<>(candidates))
        .setGeneration(GenerationOptions.newBuilder(generation).build())
        .setMetadata(metadata)
        .build();
  }
}
