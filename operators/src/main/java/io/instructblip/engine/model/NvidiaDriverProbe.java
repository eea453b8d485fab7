package io.instructblip.engine.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tells cheaply whether this machine has an NVIDIA driver, so that {@code auto} does not pay for
 * extracting ONNX Runtime's CUDA provider (hundreds of MB, seconds) on CPU-only machines. Looks for
 * {@code /proc/driver/nvidia} and for {@code libcuda.so.1} in the usual library folders and in
 * {@code LD_LIBRARY_PATH}.
 */
public final class NvidiaDriverProbe {
  private static final List<String> LIBRARY_FOLDERS =
      List.of(
          "/usr/lib/x86_64-linux-gnu",
          "/usr/lib/aarch64-linux-gnu",
          "/usr/lib64",
          "/usr/lib",
          "/usr/local/nvidia/lib64",
          "/usr/local/cuda/lib64",
          "/usr/local/cuda/compat",
          "/lib/x86_64-linux-gnu",
          "/lib64");

  private NvidiaDriverProbe() {}

  /** Whether an NVIDIA driver appears to be installed. */
  public static boolean driverPresent() {
    if (Files.isDirectory(Path.of("/proc/driver/nvidia"))) {
      return true;
    }
    for (String folder : LIBRARY_FOLDERS) {
      if (Files.exists(Path.of(folder, "libcuda.so.1"))) {
        return true;
      }
    }
    String libraryPath = System.getenv("LD_LIBRARY_PATH");
    if (libraryPath != null) {
      for (String folder : libraryPath.split(":")) {
        if (!folder.isBlank() && Files.exists(Path.of(folder, "libcuda.so.1"))) {
          return true;
        }
      }
    }
    return false;
  }
}
