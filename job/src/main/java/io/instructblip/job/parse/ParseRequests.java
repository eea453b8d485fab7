package io.instructblip.job.parse;

import io.instructblip.engine.RequestLimits;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.registry.RestSchemaRegistry;
import java.time.Clock;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The job's first step after the Kafka source: valid requests on the main output, error responses
 * on {@link #ERROR_RESPONSES}, unreadable records on {@link #DEAD_LETTERS} (see {@link
 * RequestParser} for which is which).
 *
 * <pre>{@code
 * SingleOutputStreamOperator<RequestEnvelope> requests = raw.process(new ParseRequests());
 * requests.getSideOutput(ParseRequests.DEAD_LETTERS).sinkTo(kafka.deadLetterSink());
 * requests.getSideOutput(ParseRequests.ERROR_RESPONSES).union(answers).sinkTo(kafka.responseSink());
 * }</pre>
 */
public final class ParseRequests extends ProcessFunction<RawRecord, RequestEnvelope> {
  private static final long serialVersionUID = 1L;

  /** Error responses for records that name a request id but are no valid request. */
  public static final OutputTag<ResponseEnvelope> ERROR_RESPONSES =
      new OutputTag<>("error-responses") {};

  /** Records without a readable request id. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

  private final RequestLimits limits;
  private final GenerationDefaults defaults;
  private final RegistrySettings registry;
  private transient RequestParser parser;

  /** A parser step with the default limits and the reference generation defaults. */
  public ParseRequests() {
    this(RequestLimits.defaults(), GenerationDefaults.REFERENCE);
  }

  /**
   * @param limits what one request may carry
   * @param defaults the served model's generation defaults (the manifest's)
   */
  public ParseRequests(RequestLimits limits, GenerationDefaults defaults) {
    this(limits, defaults, null);
  }

  /**
   * @param registry the Schema Registry to read registry-framed records with, or null (they are
   *     dead-lettered)
   */
  public ParseRequests(
      RequestLimits limits, GenerationDefaults defaults, RegistrySettings registry) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.defaults = Objects.requireNonNull(defaults, "defaults");
    this.registry = registry;
  }

  @Override
  public void open(OpenContext openContext) {
    parser =
        new RequestParser(
            Clock.systemUTC(),
            limits,
            defaults,
            registry == null ? null : new RestSchemaRegistry(registry));
  }

  @Override
  public void processElement(RawRecord record, Context ctx, Collector<RequestEnvelope> out) {
    ParseResult result;
    try {
      result = parser.parse(record);
    } catch (RuntimeException e) {
      // The parser never throws by contract; should it, the record is dead-lettered, not retried.
      result =
          new ParseResult.DeadLettered(
              new DeadLetter(record, "UNDECODABLE", "the record could not be parsed: " + e));
    }
    if (result instanceof ParseResult.Accepted accepted) {
      out.collect(accepted.request());
    } else if (result instanceof ParseResult.Rejected rejected) {
      ctx.output(ERROR_RESPONSES, rejected.errorResponse());
    } else if (result instanceof ParseResult.DeadLettered dead) {
      ctx.output(DEAD_LETTERS, dead.deadLetter());
    }
  }
}
