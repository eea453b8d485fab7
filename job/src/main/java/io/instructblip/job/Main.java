package io.instructblip.job;

import io.instructblip.job.cli.AnnotateCommand;
import io.instructblip.job.cli.BenchCommand;
import io.instructblip.job.cli.InferCommand;
import io.instructblip.job.cli.LocalCommand;
import io.instructblip.job.cli.RunCommand;
import io.instructblip.job.cli.SubmitCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one entry point of the project: {@code java -jar job/target/instructblip.jar <command>}. Each
 * subcommand is its own class under {@code io.instructblip.job.cli}.
 */
@Command(
    name = "instructblip",
    mixinStandardHelpOptions = true,
    version = "instructblip 0.1.0",
    description = "InstructBLIP on Flink: stream, batch or one-shot inference on ONNX Runtime.",
    subcommands = {
      LocalCommand.class,
      RunCommand.class,
      SubmitCommand.class,
      InferCommand.class,
      AnnotateCommand.class,
      BenchCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int run(String... args) {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
