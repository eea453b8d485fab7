package io.instructblip.engine.model;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@link SessionSettings} into ONNX Runtime {@link SessionOptions} and settles the device:
 * {@code cuda} fails with {@link ErrorCode#DEVICE_UNAVAILABLE} quoting ONNX Runtime's reason;
 * {@code auto} tries CUDA only where an NVIDIA driver is present and otherwise uses the CPU, with
 * one warning.
 */
public final class SessionOptionsFactory {
  private static final Logger LOG = LoggerFactory.getLogger(SessionOptionsFactory.class);

  /** Adds the CUDA execution provider to options (ONNX Runtime's, or a test's stand-in). */
  @FunctionalInterface
  interface CudaProvider {
    void add(SessionOptions options, int deviceId) throws OrtException;
  }

  private final BooleanSupplier driverPresent;
  private final CudaProvider cuda;

  /** A factory that probes the machine with {@link NvidiaDriverProbe}. */
  public SessionOptionsFactory() {
    this(NvidiaDriverProbe::driverPresent);
  }

  /** A factory with its own driver probe (tests). */
  public SessionOptionsFactory(BooleanSupplier driverPresent) {
    this(driverPresent, SessionOptions::addCUDA);
  }

  /** A factory with its own driver probe and CUDA provider (tests). */
  SessionOptionsFactory(BooleanSupplier driverPresent, CudaProvider cuda) {
    this.driverPresent = driverPresent;
    this.cuda = cuda;
  }

  /** Options ready for sessions, and the device they run on ({@code cpu} or {@code cuda:N}). */
  public record Prepared(SessionOptions options, DeviceSpec device) implements AutoCloseable {
    @Override
    public void close() {
      options.close();
    }
  }

  /**
   * Creates the options. The caller closes them after creating its sessions.
   *
   * @throws EngineException {@link ErrorCode#DEVICE_UNAVAILABLE} when CUDA was asked for and cannot
   *     be used
   */
  public Prepared create(SessionSettings settings) {
    DeviceSpec device = settings.device();
    switch (device.kind()) {
      case CPU:
        return new Prepared(base(settings), DeviceSpec.cpu());
      case CUDA:
        {
          SessionOptions options = base(settings);
          try {
            cuda.add(options, device.deviceId());
            return new Prepared(options, device);
          } catch (OrtException | RuntimeException e) {
            options.close();
            String hint =
                driverPresent.getAsBoolean()
                    ? " (an NVIDIA driver is present: check that CUDA 12 and cuDNN 9 libraries are"
                        + " on the library path)"
                    : " (no NVIDIA driver found on this machine; use --device cpu or auto)";
            throw new EngineException(
                ErrorCode.DEVICE_UNAVAILABLE,
                "device " + device + " cannot be used: ONNX Runtime says: " + e.getMessage() + hint,
                e);
          }
        }
      case AUTO:
      default:
        if (!driverPresent.getAsBoolean()) {
          LOG.warn("device auto: no NVIDIA driver found, running the models on the CPU");
          return new Prepared(base(settings), DeviceSpec.cpu());
        }
        SessionOptions options = base(settings);
        try {
          cuda.add(options, 0);
          return new Prepared(options, DeviceSpec.cuda(0));
        } catch (OrtException | RuntimeException e) {
          options.close();
          LOG.warn(
              "device auto: CUDA cannot be used ({}), running the models on the CPU",
              e.getMessage());
          return new Prepared(base(settings), DeviceSpec.cpu());
        }
    }
  }

  private static SessionOptions base(SessionSettings settings) {
    SessionOptions options = new SessionOptions();
    try {
      options.setIntraOpNumThreads(settings.intraOpThreads());
      options.setInterOpNumThreads(settings.interOpThreads());
      options.setOptimizationLevel(settings.optimizationLevel());
      options.setCPUArenaAllocator(settings.memoryArena());
      // The stages run concurrently on their own threads and share the cores: ONNX Runtime's
      // default of spinning idle pool threads would steal CPU from the other stages.
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.addConfigEntry("session.inter_op.allow_spinning", "0");
      return options;
    } catch (OrtException e) {
      options.close();
      throw new EngineException(
          ErrorCode.INTERNAL, "ONNX Runtime rejected the session settings: " + e.getMessage(), e);
    }
  }
}
