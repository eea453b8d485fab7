package io.instructblip.job.cli;

import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code --demo} flag of the commands that fall back to a bundled demo model when no model
 * directory is given, as a picocli mixin ({@code @Mixin DemoOption demo;}).
 */
public final class DemoOption {
  @Option(
      names = "--demo",
      defaultValue = "vicuna",
      converter = FamilyConverter.class,
      description = "Bundled demo model used without --model: vicuna or flant5 (default: vicuna).")
  DemoModel.Family family;

  /** Copies the chosen demo model out of the jar and returns its folder. */
  public Path extract() {
    return DemoModel.extract(family);
  }

  /** {@code vicuna} or {@code flant5}, in any case. */
  static final class FamilyConverter implements ITypeConverter<DemoModel.Family> {
    @Override
    public DemoModel.Family convert(String value) {
      try {
        return DemoModel.Family.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(
            "'" + value + "' is not a demo model; use vicuna or flant5");
      }
    }
  }
}
