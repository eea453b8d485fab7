package io.instructblip.job;

import io.instructblip.job.cli.AnnotateCommand;
import io.instructblip.job.cli.BenchCommand;
import io.instructblip.job.cli.InferCommand;
import io.instructblip.job.cli.LocalCommand;
import io.instructblip.job.cli.RunCommand;
import io.instructblip.job.cli.SubmitCommand;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one entry point of the project: {@code java -jar job/target/instructblip.jar <command>} and
 * {@code flink run -d instructblip-job.jar run ...}. Each subcommand is its own class under {@code
 * io.instructblip.job.cli}.
 *
 * <p>Inside Flink ({@code flink run}, or the REST API's {@code /jars/{id}/run}, which runs {@code
 * main} in the JobManager) it never calls {@link System#exit}: a failure is thrown for Flink to
 * report, and a non-zero exit code becomes an exception.
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
public final class Main implements Callable<Integer> {

  public static void main(String[] args) throws Exception {
    if (insideFlink()) {
      runInsideFlink(args);
    } else {
      System.exit(run(args));
    }
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /**
   * Runs the command line as Flink's client or JobManager runs a user program: the command's
   * exception is thrown as it is, and a non-zero exit code (a usage error, say) becomes an {@link
   * IllegalArgumentException}; nothing exits the JVM.
   */
  public static void runInsideFlink(String... args) throws Exception {
    AtomicReference<Exception> failure = new AtomicReference<>();
    CommandLine cli = commandLine();
    cli.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          failure.set(e);
          return command.getCommandSpec().exitCodeOnExecutionException();
        });
    int code = cli.execute(args);
    if (failure.get() != null) {
      throw failure.get();
    }
    if (code != 0) {
      throw new IllegalArgumentException(
          "instructblip "
              + String.join(" ", args)
              + " ended with exit code "
              + code
              + " (the reason is printed above); run it with --help for the usage");
    }
  }

  /**
   * Whether {@code main} runs as a Flink program (under {@code flink run} or a REST submission):
   * Flink has then set a context environment, so the default one is no local environment.
   */
  static boolean insideFlink() {
    return !(StreamExecutionEnvironment.getExecutionEnvironment()
        instanceof LocalStreamEnvironment);
  }

  private static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** No subcommand: the usage, and the usage error's exit code. */
  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return CommandLine.ExitCode.USAGE;
  }
}
