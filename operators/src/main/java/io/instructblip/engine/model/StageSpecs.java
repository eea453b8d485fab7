package io.instructblip.engine.model;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.TensorSpec.Axis;
import java.util.ArrayList;
import java.util.List;

/**
 * The inputs and outputs each stage model must have, derived from a manifest as tabled in
 * docs/model-format.md ("ONNX stage models").
 */
public final class StageSpecs {
  private final ModelManifest manifest;
  private final OnnxJavaType floatType;

  /** The specs of the given manifest's stages. */
  public StageSpecs(ModelManifest manifest) {
    this.manifest = manifest;
    this.floatType = manifest.dtype().onnxType();
  }

  /** The inputs a stage model must declare, in the format's order. */
  public List<TensorSpec> inputs(StageFile stage) {
    ModelManifest.Llm llm = manifest.llm();
    List<TensorSpec> specs = new ArrayList<>();
    switch (stage) {
      case VISION_ENCODER -> {
        int s = manifest.vision().imageSize();
        specs.add(floats("pixel_values", batch(), fixed("3", 3), fixed("S", s), fixed("S", s)));
      }
      case QFORMER -> {
        specs.add(imageEmbeds());
        specs.add(longs("qformer_input_ids", batch(), dyn("T")));
        specs.add(longs("qformer_attention_mask", batch(), dyn("T")));
      }
      case EMBED_TOKENS -> specs.add(longs("input_ids", batch(), dyn("T")));
      case ENCODER -> {
        specs.add(floats("inputs_embeds", batch(), dyn("E"), fixed("Dl", llm.hiddenSize())));
        specs.add(longs("attention_mask", batch(), dyn("E")));
      }
      case DECODER_INIT -> {
        specs.add(longs("decoder_input_ids", batch(), dyn("T")));
        specs.add(longs("decoder_attention_mask", batch(), dyn("T")));
        specs.add(
            floats("encoder_hidden_states", batch(), dyn("E"), fixed("Dl", llm.hiddenSize())));
        specs.add(longs("encoder_attention_mask", batch(), dyn("E")));
      }
      case DECODER -> {
        if (manifest.llmFamily() == LlmFamily.DECODER_ONLY) {
          specs.add(floats("inputs_embeds", batch(), dyn("T"), fixed("Dl", llm.hiddenSize())));
          specs.add(longs("attention_mask", batch(), dyn("P+T")));
          specs.add(longs("position_ids", batch(), dyn("T")));
          addKv(specs, "past_key_values", "P");
        } else {
          specs.add(longs("decoder_input_ids", batch(), dyn("T")));
          specs.add(longs("decoder_attention_mask", batch(), dyn("P+T")));
          specs.add(longs("encoder_attention_mask", batch(), dyn("E")));
          addKv(specs, "past_key_values", "P");
          addKv(specs, "cross", "E");
        }
      }
    }
    return specs;
  }

  /** The outputs a stage model must declare, in the format's order. */
  public List<TensorSpec> outputs(StageFile stage) {
    ModelManifest.Llm llm = manifest.llm();
    List<TensorSpec> specs = new ArrayList<>();
    switch (stage) {
      case VISION_ENCODER -> specs.add(imageEmbeds());
      case QFORMER ->
          specs.add(
              floats(
                  "query_output",
                  batch(),
                  fixed("Q", manifest.numQueryTokens()),
                  fixed("Dl", llm.hiddenSize())));
      case EMBED_TOKENS ->
          specs.add(floats("inputs_embeds", batch(), dyn("T"), fixed("Dl", llm.hiddenSize())));
      case ENCODER ->
          specs.add(
              floats("encoder_hidden_states", batch(), dyn("E"), fixed("Dl", llm.hiddenSize())));
      case DECODER_INIT -> {
        specs.add(logits());
        addKv(specs, "present", "T");
        addKv(specs, "cross", "E");
      }
      case DECODER -> {
        specs.add(logits());
        addKv(specs, "present", "P+T");
      }
    }
    return specs;
  }

  private TensorSpec imageEmbeds() {
    return floats(
        "image_embeds",
        batch(),
        fixed("N", manifest.vision().numPositions()),
        fixed("Dv", manifest.vision().hiddenSize()));
  }

  private TensorSpec logits() {
    return floats("logits", batch(), dyn("T"), fixed("V", manifest.llm().vocabSize()));
  }

  private void addKv(List<TensorSpec> specs, String prefix, String lengthLabel) {
    ModelManifest.Llm llm = manifest.llm();
    String headsLabel = manifest.llmFamily() == LlmFamily.DECODER_ONLY ? "kvH" : "H";
    for (int i = 0; i < llm.numLayers(); i++) {
      for (String part : new String[] {"key", "value"}) {
        specs.add(
            floats(
                prefix + "." + i + "." + part,
                batch(),
                fixed(headsLabel, llm.numKvHeads()),
                dyn(lengthLabel),
                fixed("hd", llm.headDim())));
      }
    }
  }

  private TensorSpec floats(String name, Axis... axes) {
    return new TensorSpec(name, floatType, List.of(axes));
  }

  private static TensorSpec longs(String name, Axis... axes) {
    return new TensorSpec(name, OnnxJavaType.INT64, List.of(axes));
  }

  private static Axis batch() {
    return Axis.dynamic("B");
  }

  private static Axis dyn(String label) {
    return Axis.dynamic(label);
  }

  private static Axis fixed(String label, long size) {
    return Axis.fixed(label, size);
  }
}
