package io.instructblip.job.cli;

import io.instructblip.job.annotate.AnnotateJob;
import io.instructblip.job.annotate.AnnotateProgress;
import io.instructblip.job.annotate.AnnotateSettings;
import io.instructblip.job.annotate.AnnotationCounts;
import io.instructblip.job.annotate.ImageFileFilter;
import io.instructblip.job.annotate.OutputState;
import io.instructblip.job.annotate.RequestCount;
import io.instructblip.job.annotate.RequestTemplate;
import io.instructblip.job.annotate.ResponseFormat;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.wiring.StageSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code annotate}: a bounded run over stored images (a folder tree, or a manifest) into Parquet or
 * JSONL part files, one row per request. Checkpoints go under the output (or {@code --state-dir});
 * running the same command again after a crash or kill resumes from the newest one.
 */
@Command(
    name = "annotate",
    mixinStandardHelpOptions = true,
    modelTransformer = GenerationFlags.Flags.class,
    description = {
      "Annotate stored images: a folder tree (or a manifest) in, Parquet or JSONL rows out.",
      "Re-run the same command after a crash or kill to resume from the last checkpoint.",
      "Exit code 0 when every request has its row (error rows included), 1 when the job failed,",
      "2 when the output folder holds another run's rows."
    })
public final class AnnotateCommand implements Callable<Integer> {
  static final int EXIT_JOB_FAILED = 1;
  static final int EXIT_OUTPUT_IN_USE = 2;

  /** Default checkpoint interval of annotate: each checkpoint commits part files. */
  static final String DEFAULT_CHECKPOINT_INTERVAL = "10 s";

  @Mixin StageOptions stages;
  @Mixin JobEnvironment environment;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "SRC",
      description = "Folder or prefix of the images (file://, s3://, ... where Flink has it).")
  String input;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "DST",
      description = "Output folder of the part files.")
  String output;

  @Option(
      names = "--manifest",
      paramLabel = "FILE",
      description =
          "JSONL requests (docs/messages.md) or CSV id,image[,instruction]; image URIs relative"
              + " to SRC or absolute. Default: every image under SRC.")
  String manifest;

  @Option(names = "--format", defaultValue = "parquet", description = "parquet (default) or jsonl.")
  ResponseFormat format;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "Checkpoint folder (default: DST/_checkpoints).")
  String stateDir;

  @Option(
      names = "--instruction",
      description = "The instruction of every image (CSV rows may bring their own).")
  String instruction;

  @Mixin GenerationFlags generation;

  @Option(
      names = "--extensions",
      split = ",",
      description = "Image file extensions under SRC (default: jpg,jpeg,png,gif,bmp,webp).")
  Set<String> extensions = new LinkedHashSet<>(ImageFileFilter.DEFAULT_EXTENSIONS);

  @Option(
      names = "--glob",
      description = "Only images whose path relative to SRC matches, e.g. \"**/*.jpg\".")
  String glob;

  @Option(
      names = "--part-size",
      defaultValue = "128 mb",
      description = "Part file size at which a new one starts (they also roll per checkpoint).")
  String partSize;

  @Option(
      names = "--max-rate",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Requests per second at most, across the job (default 0: no limit), e.g. to leave a"
              + " shared GPU or object store room.")
  double maxRate;

  @Option(
      names = "--progress",
      negatable = true,
      description = "Progress line on the terminal (default: only when stdout is a terminal).")
  Boolean progress;

  @Option(names = "--job-name", defaultValue = "instructblip-annotate", description = "Job name.")
  String jobName;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Configuration conf = environment.configuration();
    StageSettings stageSettings = stages.toSettings(conf, null);
    AnnotateSettings settings = settings();
    if (settings.manifest() == null && (instruction == null || instruction.isBlank())) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this), "give --instruction (or a --manifest with instructions)");
    }
    OutputState state = new OutputState(settings.output(), qualify(stateDir));
    if (state.complete()) {
      out.println(
          "annotate: "
              + settings.output()
              + " is already complete ("
              + OutputState.SUCCESS
              + " is there); choose another --output to run again");
      return 0;
    }
    Optional<Path> checkpoint = state.latestCheckpoint();
    if (checkpoint.isEmpty() && state.hasPartFiles()) {
      System.err.println(
          "annotate: "
              + settings.output()
              + " holds part files but no checkpoint to resume from under "
              + state.stateDir()
              + "; remove them or choose another --output");
      return EXIT_OUTPUT_IN_USE;
    }
    checkpoint.ifPresent(
        c -> {
          out.println("annotate: resuming from " + c);
          environment.settings.put(StateRecoveryOptions.SAVEPOINT_PATH.key(), c.toString());
        });
    environment.settings.put(CheckpointingOptions.CHECKPOINT_STORAGE.key(), "filesystem");
    environment.settings.put(
        CheckpointingOptions.CHECKPOINTS_DIRECTORY.key(), state.stateDir().toString());
    environment.settings.put(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION.key(),
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION.name());
    // Accumulators reach the client with TaskManager heartbeats: every second for the progress
    // line.
    environment.settings.putIfAbsent(HeartbeatManagerOptions.HEARTBEAT_INTERVAL.key(), "1 s");
    if (environment.checkpointInterval == null
        && !conf.contains(CheckpointingOptions.CHECKPOINTING_INTERVAL)) {
      environment.checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL;
    }
    Map<String, String> uriPolicy = uriPolicy(conf, settings.input());
    StreamExecutionEnvironment env = environment.create();
    new AnnotateJob(settings, stageSettings, uriPolicy).addTo(env);

    AtomicLong total = new AtomicLong(-1);
    Thread counter =
        new Thread(
            () -> {
              try {
                total.set(RequestCount.of(settings));
              } catch (IOException | RuntimeException e) {
                // The progress line then shows rows done without a total.
              }
            },
            "annotate-count");
    counter.setDaemon(true);
    counter.start();

    long start = System.nanoTime();
    JobClient client = env.executeAsync(jobName);
    boolean showProgress = progress != null ? progress : System.console() != null;
    AnnotateProgress view = new AnnotateProgress(out, start);
    long restored = -1;
    while (!client.getJobExecutionResult().isDone()) {
      if (showProgress || restored < 0) {
        try {
          Map<String, Object> accumulators = client.getAccumulators().get(5, TimeUnit.SECONDS);
          if (restored < 0 && !accumulators.isEmpty()) {
            restored = AnnotateProgress.count(accumulators, AnnotationCounts.ROWS);
          }
          if (showProgress) {
            view.update(accumulators, total.get(), System.nanoTime());
          }
        } catch (Exception e) {
          // The job is starting or finishing; try again.
        }
      }
      Thread.sleep(1000);
    }
    JobExecutionResult result;
    try {
      result = client.getJobExecutionResult().get();
    } catch (Exception e) {
      if (showProgress) {
        out.println();
      }
      System.err.println(
          "annotate: the job failed: "
              + rootMessage(e)
              + "\nRun the same command again to resume from the last checkpoint under "
              + state.stateDir());
      return EXIT_JOB_FAILED;
    }
    if (showProgress) {
      out.println();
    }
    state.markComplete();
    Duration wall = Duration.ofNanos(System.nanoTime() - start);
    out.println(
        AnnotateProgress.summary(
            result.getAllAccumulatorResults(),
            wall,
            settings.output().toString(),
            Math.max(0, restored)));
    return 0;
  }

  private AnnotateSettings settings() {
    return new AnnotateSettings(
        qualify(input),
        qualify(manifest),
        qualify(output),
        format,
        extensions,
        glob,
        MemorySize.parse(partSize).getBytes(),
        maxRate,
        new RequestTemplate(instruction, generation.options(), generation.candidates()));
  }

  /**
   * The image URI policy: the {@code instructblip.images.*} settings, and by default only what lies
   * under SRC.
   */
  static Map<String, String> uriPolicy(Configuration conf, URI input) {
    Map<String, String> values = new java.util.LinkedHashMap<>(RunCommand.imageSettings(conf));
    String scheme = input.getScheme() == null ? "file" : input.getScheme();
    values.putIfAbsent(UriPolicy.SCHEMES, scheme);
    if (scheme.equals("file")) {
      values.putIfAbsent(UriPolicy.FILE_ROOTS, java.nio.file.Path.of(input).toString());
    } else {
      values.putIfAbsent(UriPolicy.URI_PREFIXES, input.toString());
    }
    UriPolicy.fromMap(values);
    return values;
  }

  private static URI qualify(String location) {
    if (location == null) {
      return null;
    }
    Path path = new Path(location);
    try {
      return path.makeQualified(path.getFileSystem()).toUri();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot use " + location + ": " + e.getMessage(), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.toString();
  }
}
