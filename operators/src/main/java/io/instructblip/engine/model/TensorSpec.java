package io.instructblip.engine.model;

import ai.onnxruntime.OnnxJavaType;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What docs/model-format.md requires of one input or output of a stage model: its name, element
 * type and axes. An axis is either dynamic ({@code size == -1}, e.g. batch) or fixed by the
 * manifest.
 */
public record TensorSpec(String name, OnnxJavaType type, List<Axis> axes) {

  /** One axis: a label for messages (e.g. {@code Dl}) and its size, -1 when dynamic. */
  public record Axis(String label, long size) {
    /** A dynamic axis. */
    public static Axis dynamic(String label) {
      return new Axis(label, -1);
    }

    /** An axis fixed by the manifest. */
    public static Axis fixed(String label, long size) {
      return new Axis(label, size);
    }
  }

  /** Copies the axis list. */
  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    axes = List.copyOf(axes);
  }

  /** The number of axes. */
  public int rank() {
    return axes.size();
  }

  /** The axes as written in the format document, e.g. {@code [B,kvH,P,hd]}. */
  public String axesLabel() {
    return axes.stream().map(Axis::label).collect(Collectors.joining(",", "[", "]"));
  }
}
