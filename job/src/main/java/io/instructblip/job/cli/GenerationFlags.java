package io.instructblip.job.cli;

import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.schema.avro.GenerationOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The generation flags of the commands that make requests themselves ({@code infer}, {@code
 * annotate}), as a picocli mixin: one flag per {@link GenerationParameter} ({@code
 * --max-new-tokens}, ..., {@code --do-sample}, ...), added by {@link Flags}, which such a command
 * names as its {@code modelTransformer}. A flag left out takes the model's default.
 */
public final class GenerationFlags {
  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  @Option(
      names = "--candidates",
      arity = "1..*",
      description = "Rank these candidate answers instead of generating (multiple choice).")
  List<String> candidates = new ArrayList<>();

  /** The flag of {@code p}, e.g. {@code --max-new-tokens}. */
  public static String flag(GenerationParameter p) {
    return "--" + p.dashedKey();
  }

  /** The flags as the engine's overrides. */
  public GenerationOverrides overrides() {
    return GenerationOverrides.of(p -> command.findOption(flag(p)).getValue());
  }

  /** The flags as a request's generation options. */
  public GenerationOptions options() {
    return StageItems.options(overrides());
  }

  /** The candidates to rank; empty to generate. */
  public List<String> candidates() {
    return List.copyOf(candidates);
  }

  /**
   * Adds one option per {@link GenerationParameter} to a command that mixes in {@link
   * GenerationFlags}: {@code @Command(modelTransformer = GenerationFlags.Flags.class)}. A boolean
   * parameter is a switch ({@code --do-sample}).
   */
  public static final class Flags implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      for (GenerationParameter p : GenerationParameter.values()) {
        spec.addOption(
            OptionSpec.builder(flag(p))
                .type(p.type().javaType())
                .description(p.documentation())
                .build());
      }
      return spec;
    }
  }
}
