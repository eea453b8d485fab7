package io.instructblip.job.annotate;

import java.io.IOException;
import java.net.URI;
import java.util.Optional;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.core.fs.Path;

/**
 * Where an {@code annotate} run stands, from what its output folder and checkpoint folder hold: a
 * {@code _SUCCESS} marker (done), a retained checkpoint to resume from, or committed part files
 * without a checkpoint (another run's output: starting over would duplicate rows).
 */
public final class OutputState {
  /** The marker written into the output folder when every row is committed. */
  public static final String SUCCESS = "_SUCCESS";

  /** The checkpoint folder under the output folder unless {@code --state-dir} says otherwise. */
  public static final String DEFAULT_STATE_FOLDER = "_checkpoints";

  private final Path output;
  private final Path state;

  public OutputState(URI output, URI stateDir) {
    this.output = new Path(output);
    this.state =
        stateDir != null ? new Path(stateDir) : new Path(this.output, DEFAULT_STATE_FOLDER);
  }

  /** The checkpoint folder. */
  public Path stateDir() {
    return state;
  }

  /** Whether a previous run finished (its {@code _SUCCESS} marker is there). */
  public boolean complete() throws IOException {
    Path marker = new Path(output, SUCCESS);
    return marker.getFileSystem().exists(marker);
  }

  /** Writes the {@code _SUCCESS} marker. */
  public void markComplete() throws IOException {
    Path marker = new Path(output, SUCCESS);
    marker.getFileSystem().create(marker, WriteMode.OVERWRITE).close();
  }

  /**
   * The newest complete retained checkpoint ({@code <state>/<job id>/chk-N} with a {@code
   * _metadata} file), if any.
   */
  public Optional<Path> latestCheckpoint() throws IOException {
    FileSystem fs = state.getFileSystem();
    if (!fs.exists(state)) {
      return Optional.empty();
    }
    Path best = null;
    long bestTime = Long.MIN_VALUE;
    for (FileStatus job : list(fs, state)) {
      if (!job.isDir()) {
        continue;
      }
      for (FileStatus chk : list(fs, job.getPath())) {
        if (!chk.isDir() || !chk.getPath().getName().startsWith("chk-")) {
          continue;
        }
        Path metadata = new Path(chk.getPath(), "_metadata");
        if (fs.exists(metadata)) {
          long time = fs.getFileStatus(metadata).getModificationTime();
          if (time > bestTime) {
            best = chk.getPath();
            bestTime = time;
          }
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** Whether the output folder already holds committed part files. */
  public boolean hasPartFiles() throws IOException {
    FileSystem fs = output.getFileSystem();
    if (!fs.exists(output)) {
      return false;
    }
    for (FileStatus f : list(fs, output)) {
      if (!f.isDir() && f.getPath().getName().startsWith("part-")) {
        return true;
      }
    }
    return false;
  }

  private static FileStatus[] list(FileSystem fs, Path dir) throws IOException {
    FileStatus[] entries = fs.listStatus(dir);
    return entries == null ? new FileStatus[0] : entries;
  }
}
