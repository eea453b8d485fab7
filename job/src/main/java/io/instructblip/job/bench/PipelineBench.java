package io.instructblip.job.bench;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.inference.GenerationLoop;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The operators' overhead and continuous batching's gain, measured: the same requests (a) straight
 * through the engine and (b) through a local Flink job with the stage operators (generated source
 * -> stages -> discarding sink), at the same batch settings; then continuous batching against
 * run-to-completion batches on a mix of short and long answers. Engine and operator runs alternate
 * (ABAB...) after a warm-up of each, and the median of the paired ratios is reported with its
 * spread, so that a drift of the machine's speed does not pass for a difference of the paths.
 */
public final class PipelineBench {
  /** End-to-end latencies (ms) and the last answer's time, filled by the sink of a bench job. */
  static final ConcurrentLinkedQueue<Double> LATENCIES = new ConcurrentLinkedQueue<>();

  static final AtomicLong FIRST_NANOS = new AtomicLong();
  static final AtomicLong LAST_NANOS = new AtomicLong();

  private final String modelDir;
  private final byte[] image;
  private final int requests;
  private final int maxBatch;
  private final Duration maxWait;
  private final int shortTokens;
  private final int longTokens;
  private final int repeats;
  private final int threads;
  private final PrintWriter out;

  public PipelineBench(
      String modelDir,
      byte[] image,
      int requests,
      int maxBatch,
      Duration maxWait,
      int shortTokens,
      int longTokens,
      int repeats,
      int threads,
      PrintWriter out) {
    this.modelDir = modelDir;
    this.image = image;
    this.requests = requests;
    this.maxBatch = maxBatch;
    this.maxWait = maxWait;
    this.shortTokens = shortTokens;
    this.longTokens = longTokens;
    if (repeats < 1) {
      throw new IllegalArgumentException("--repeats must be at least 1, got " + repeats);
    }
    this.repeats = repeats;
    this.threads = threads;
    this.out = out;
  }

  private EngineSpec spec() {
    return new EngineSpec(modelDir, "cpu", threads);
  }

  /** Request {@code i}: short and long answers alternate; lengths are fixed (min = max). */
  static EngineRequest request(int i, byte[] image, int shortTokens, int longTokens) {
    int tokens = i % 2 == 0 ? shortTokens : longTokens;
    GenerationOverrides fixedLength = EngineBench.exactly(tokens);
    return new EngineRequest(
        "r" + i,
        List.of(image),
        "Describe the image in detail.",
        TaskMode.GENERATE,
        List.of(),
        fixedLength);
  }

  private List<EngineRequest> requestList() {
    List<EngineRequest> list = new ArrayList<>(requests);
    for (int i = 0; i < requests; i++) {
      list.add(request(i, image, shortTokens, longTokens));
    }
    return list;
  }

  private long totalTokens() {
    long total = 0;
    for (int i = 0; i < requests; i++) {
      total += i % 2 == 0 ? shortTokens : longTokens;
    }
    return total;
  }

  /** Runs everything and prints the report. */
  public void run() throws Exception {
    List<EngineRequest> list = requestList();
    out.printf(
        Locale.ROOT,
        "%d requests (answers of %d and %d tokens, alternating), max batch %d, max wait %d ms,"
            + " %d cores, %s ONNX Runtime threads per session; %d interleaved engine/operators"
            + " pairs after one warm-up of each%n",
        requests,
        shortTokens,
        longTokens,
        maxBatch,
        maxWait.toMillis(),
        Runtime.getRuntime().availableProcessors(),
        threads == 0 ? "default" : Integer.toString(threads),
        repeats);
    double[] engineSeconds = new double[repeats];
    double[] flinkSeconds = new double[repeats];
    double[] ratios = new double[repeats];
    List<List<Double>> latencies = new ArrayList<>();
    double[] batchMeans = new double[3];
    double[] continuousSeconds = new double[repeats];
    double[] completionSeconds = new double[repeats];
    // One engine for both paths: the Flink jobs find it in the JVM's shared registry (the lease
    // keeps it open between jobs), so neither path pays for opening or warming up sessions.
    try (SharedEngineRegistry.Lease<InstructBlipEngine> lease = spec().acquire()) {
      InstructBlipEngine engine = lease.get();
      engine.infer(list, maxBatch, maxBatch);
      flinkJob(list.size());
      // Interleaved pairs (engine, operators, engine, operators, ...): a slow phase of the machine
      // hits both sides of a pair, so each pair's ratio is fairer than a ratio of separate medians.
      for (int r = 0; r < repeats; r++) {
        long start = System.nanoTime();
        List<EngineOutcome> results = engine.infer(list, maxBatch, maxBatch);
        engineSeconds[r] = (System.nanoTime() - start) / 1e9;
        results.forEach(PipelineBench::requireOk);
        flinkSeconds[r] = flinkJob(list.size());
        ratios[r] = engineSeconds[r] / flinkSeconds[r];
        latencies.add(new ArrayList<>(LATENCIES));
        batchMeans[0] = StageStatisticsReporter.meanBatchSize(InstructBlipStages.VISION);
        batchMeans[1] = StageStatisticsReporter.meanBatchSize(InstructBlipStages.QFORMER);
        batchMeans[2] = StageStatisticsReporter.meanBatchSize(InstructBlipStages.LLM);
      }
      List<GenerationLoop.Job> jobs = llmJobs(engine, list);
      runToCompletion(engine, jobs);
      for (int r = 0; r < repeats; r++) {
        long start = System.nanoTime();
        continuous(engine, jobs);
        continuousSeconds[r] = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        runToCompletion(engine, jobs);
        completionSeconds[r] = (System.nanoTime() - start) / 1e9;
      }
    }
    double engineRps = requests / median(engineSeconds);
    double flinkRps = requests / median(flinkSeconds);
    double[] sortedRatios = ratios.clone();
    Arrays.sort(sortedRatios);
    out.printf(Locale.ROOT, "engine straight:   %8.2f requests/s (median)%n", engineRps);
    out.printf(Locale.ROOT, "flink operators:   %8.2f requests/s (median)%n", flinkRps);
    StringBuilder pairs = new StringBuilder();
    for (double ratio : ratios) {
      pairs
          .append(pairs.length() == 0 ? "" : " ")
          .append(String.format(Locale.ROOT, "%.1f", 100 * ratio));
    }
    out.printf(
        Locale.ROOT,
        "operators/engine: median %.1f%% of %d interleaved pairs, spread %.1f-%.1f%%"
            + " (quartiles %.1f-%.1f%%); pairs in order: %s%n",
        100 * median(ratios),
        repeats,
        100 * sortedRatios[0],
        100 * sortedRatios[repeats - 1],
        100 * quantile(sortedRatios, 0.25),
        100 * quantile(sortedRatios, 0.75),
        pairs);
    out.printf(
        Locale.ROOT,
        "mean batch size:   vision-encoder %.2f   qformer %.2f   llm (sequences per step) %.2f%n",
        batchMeans[0],
        batchMeans[1],
        batchMeans[2]);
    // The latencies of the run whose time is the median, so that they match the throughput shown.
    double[] lat =
        latencies.get(medianIndex(flinkSeconds)).stream()
            .mapToDouble(Double::doubleValue)
            .sorted()
            .toArray();
    out.printf(
        Locale.ROOT,
        "latency (flink, median run): p50 %.1f ms   p99 %.1f ms%n",
        quantile(lat, 0.5),
        quantile(lat, 0.99));
    double continuousTps = totalTokens() / median(continuousSeconds);
    double completionTps = totalTokens() / median(completionSeconds);
    out.printf(
        Locale.ROOT,
        "llm stage alone: continuous %8.1f tokens/s   static batches %8.1f tokens/s   ratio %.2f%n",
        continuousTps,
        completionTps,
        continuousTps / completionTps);
    out.flush();
  }

  /** Each request's prepared inputs and query outputs, so the LLM comparison runs the LLM only. */
  private List<GenerationLoop.Job> llmJobs(InstructBlipEngine engine, List<EngineRequest> list) {
    List<GenerationLoop.Job> jobs = new ArrayList<>();
    for (EngineRequest r : list) {
      PreparedRequest p = engine.preparer().prepare(r);
      FloatTensor q =
          engine
              .visualFeatures()
              .queryOutputs(List.of(p), engine.visualFeatures().encode(List.of(p)))
              .get(0);
      jobs.add(new GenerationLoop.Job(p, q));
    }
    return jobs;
  }

  /** Sequences join as soon as a slot is free (at most {@code maxBatch} running). */
  private void continuous(InstructBlipEngine engine, List<GenerationLoop.Job> jobs) {
    GenerationLoop<?> loop = engine.newGenerationLoop();
    int next = 0;
    int done = 0;
    while (done < jobs.size()) {
      int free = maxBatch - loop.runningSequences();
      int end = Math.min(jobs.size(), next + free);
      List<EngineOutcome> finished = new ArrayList<>(loop.admit(jobs.subList(next, end)));
      next = end;
      finished.addAll(loop.step());
      finished.forEach(PipelineBench::requireOk);
      done += finished.size();
    }
  }

  /**
   * Static batching, as a run-to-completion server does (HF {@code generate} on a batch): batches
   * of {@code maxBatch} sequences, and a sequence that is done keeps its slot, computing padding,
   * until the batch's longest answer is done. Only the real answers' tokens count.
   */
  private void runToCompletion(InstructBlipEngine engine, List<GenerationLoop.Job> jobs) {
    GenerationLoop<?> loop = engine.newGenerationLoop();
    for (int start = 0; start < jobs.size(); start += maxBatch) {
      List<GenerationLoop.Job> batch = jobs.subList(start, Math.min(jobs.size(), start + maxBatch));
      int longest =
          batch.stream().mapToInt(j -> j.request().params().maxNewTokens()).max().orElse(1);
      List<GenerationLoop.Job> padded = new ArrayList<>();
      for (GenerationLoop.Job job : batch) {
        padded.add(new GenerationLoop.Job(withLength(job.request(), longest), job.queryOutputs()));
      }
      List<EngineOutcome> finished = new ArrayList<>(loop.admit(padded));
      while (!loop.isIdle()) {
        finished.addAll(loop.step());
      }
      finished.forEach(PipelineBench::requireOk);
    }
  }

  /** The same request generating exactly {@code tokens} tokens. */
  private static PreparedRequest withLength(PreparedRequest p, int tokens) {
    GenerationParams fixed =
        p.params().toBuilder().maxNewTokens(tokens).minNewTokens(tokens).build();
    return new PreparedRequest(
        p.id(),
        p.mode(),
        p.frames(),
        p.pixels(),
        p.qformerIds(),
        p.promptIds(),
        fixed,
        p.candidateTexts(),
        p.candidateIds(),
        p.timings());
  }

  /** One run of the job; returns seconds from the first request generated to the last answer. */
  private double flinkJob(int count) throws Exception {
    LATENCIES.clear();
    FIRST_NANOS.set(0);
    LAST_NANOS.set(0);
    StageStatisticsReporter.reset();
    Configuration conf = new Configuration();
    conf.setString(
        "metrics.reporter.bench.factory.class", StageStatisticsReporter.Factory.class.getName());
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(1);
    DataGeneratorSource<StageItem> source =
        new DataGeneratorSource<>(
            new Generator(image, shortTokens, longTokens), count, StageSerializers.ITEM);
    BatchingConfig batching =
        BatchingConfig.builder()
            .maxBatchSize(maxBatch)
            .maxWait(maxWait)
            .maxInFlight(Math.max(64, 4 * maxBatch))
            .build();
    InstructBlipStages.Streams stages =
        InstructBlipStages.builder(spec())
            .vision(batching)
            .qformer(batching)
            .llm(
                ContinuousBatchingConfig.builder()
                    .maxRunning(maxBatch)
                    .maxInFlight(Math.max(32, 2 * maxBatch))
                    .build())
            .build()
            .apply(env.fromSource(source, WatermarkStrategy.noWatermarks(), "requests"));
    stages.answers().sinkTo(new LatencySink());
    env.execute("instructblip bench");
    if (LATENCIES.size() != count) {
      throw new IllegalStateException(
          "the bench job answered " + LATENCIES.size() + " of " + count + " requests");
    }
    return (LAST_NANOS.get() - FIRST_NANOS.get()) / 1e9;
  }

  /** Generates the bench requests; their context holds the creation time for latency. */
  static final class Generator implements GeneratorFunction<Long, StageItem> {
    private static final long serialVersionUID = 1L;
    private final byte[] image;
    private final int shortTokens;
    private final int longTokens;

    Generator(byte[] image, int shortTokens, int longTokens) {
      this.image = image;
      this.shortTokens = shortTokens;
      this.longTokens = longTokens;
    }

    @Override
    public StageItem map(Long index) {
      long now = System.nanoTime();
      FIRST_NANOS.compareAndSet(0, now);
      EngineRequest r = request(index.intValue(), image, shortTokens, longTokens);
      return StageItem.of(r, InFlight.NO_DEADLINE, ByteBuffer.allocate(8).putLong(now).array());
    }
  }

  /** Records each answer's latency from its creation; keeps nothing else. */
  static final class LatencySink implements Sink<StageAnswer> {
    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<StageAnswer> createWriter(WriterInitContext context) {
      return new SinkWriter<>() {
        @Override
        public void write(StageAnswer answer, Context context) {
          long now = System.nanoTime();
          LAST_NANOS.set(now);
          requireOk(answer.result());
          LATENCIES.add((now - ByteBuffer.wrap(answer.context()).getLong()) / 1e6);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }

  private static void requireOk(EngineOutcome r) {
    if (r instanceof EngineFailure f) {
      throw new IllegalStateException(f.id() + ": " + f.code() + " " + f.message());
    }
  }

  /** The index of the value closest to the median (the median itself for an odd count). */
  private static int medianIndex(double[] values) {
    double median = median(values);
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (Math.abs(values[i] - median) < Math.abs(values[best] - median)) {
        best = i;
      }
    }
    return best;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
