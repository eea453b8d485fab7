package io.instructblip.engine.model;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.Locale;

/**
 * Where the models run: {@code cpu}, {@code cuda} (device 0), {@code cuda:N} or {@code auto} (CUDA
 * where it loads, otherwise the CPU with a warning).
 */
public record DeviceSpec(Kind kind, int deviceId) {

  /** The kinds of device. */
  public enum Kind {
    CPU,
    CUDA,
    AUTO
  }

  /** Checks the device id. */
  public DeviceSpec {
    if (kind == null) {
      throw new IllegalArgumentException("kind must not be null");
    }
    if (deviceId < 0 || (kind != Kind.CUDA && deviceId != 0)) {
      throw new IllegalArgumentException("device id " + deviceId + " is not valid for " + kind);
    }
  }

  /** The CPU. */
  public static DeviceSpec cpu() {
    return new DeviceSpec(Kind.CPU, 0);
  }

  /** CUDA device {@code id}. */
  public static DeviceSpec cuda(int id) {
    return new DeviceSpec(Kind.CUDA, id);
  }

  /** CUDA device 0 where it loads, otherwise the CPU. */
  public static DeviceSpec auto() {
    return new DeviceSpec(Kind.AUTO, 0);
  }

  /**
   * Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (case and surrounding blanks
   * ignored).
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} for anything else
   */
  public static DeviceSpec parse(String text) {
    String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    switch (value) {
      case "cpu":
        return cpu();
      case "auto":
        return auto();
      case "cuda":
        return cuda(0);
      default:
        if (value.startsWith("cuda:")) {
          String id = value.substring("cuda:".length());
          if (!id.isEmpty() && id.length() <= 4 && id.chars().allMatch(Character::isDigit)) {
            return cuda(Integer.parseInt(id));
          }
        }
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER,
            "device \"" + text + "\" is not one of cpu, cuda, cuda:N (N = 0, 1, ...), auto");
    }
  }

  @Override
  public String toString() {
    return switch (kind) {
      case CPU -> "cpu";
      case AUTO -> "auto";
      case CUDA -> "cuda:" + deviceId;
    };
  }
}
