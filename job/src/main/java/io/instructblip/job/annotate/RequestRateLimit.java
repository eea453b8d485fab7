package io.instructblip.job.annotate;

import io.instructblip.job.kafka.RequestEnvelope;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * {@code annotate --max-rate}: lets at most so many requests per second through, across the job
 * (each parallel subtask takes its share), e.g. to leave a shared GPU or object store room. It
 * sleeps between records, so checkpoint barriers still pass.
 */
public final class RequestRateLimit extends RichMapFunction<RequestEnvelope, RequestEnvelope> {
  private static final long serialVersionUID = 1L;
  private final double perSecond;
  private transient RequestPacer pacer;

  /**
   * @param perSecond requests per second across all subtasks, positive
   */
  public RequestRateLimit(double perSecond) {
    this.perSecond = RequestPacer.checkRate(perSecond);
  }

  @Override
  public void open(OpenContext context) {
    int subtasks = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
    pacer = new RequestPacer(perSecond / subtasks);
  }

  @Override
  public RequestEnvelope map(RequestEnvelope request) throws InterruptedException {
    long wait = pacer.admit(System.nanoTime());
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
    return request;
  }
}
