package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputStateTest {
  @TempDir Path dst;

  @Test
  void findsTheNewestCompleteCheckpoint() throws Exception {
    OutputState state = new OutputState(dst.toUri(), null);
    assertEquals(Optional.empty(), state.latestCheckpoint());
    Path old = checkpoint("job-a/chk-7", 1000);
    Path newer = checkpoint("job-b/chk-2", 2000);
    Files.createDirectories(dst.resolve("_checkpoints/job-b/chk-3")); // no _metadata: incomplete
    assertEquals(
        newer.toUri().getPath().replaceAll("/$", ""),
        state.latestCheckpoint().orElseThrow().toUri().getPath());
    assertTrue(Files.exists(old));
  }

  @Test
  void knowsPartFilesAndTheSuccessMarker() throws Exception {
    OutputState state = new OutputState(dst.toUri(), dst.resolve("elsewhere").toUri());
    assertFalse(state.hasPartFiles());
    Files.writeString(dst.resolve(".part-x.parquet.inprogress.1"), "");
    assertFalse(state.hasPartFiles());
    Files.writeString(dst.resolve("part-x-0-0.parquet"), "");
    assertTrue(state.hasPartFiles());
    assertFalse(state.complete());
    state.markComplete();
    assertTrue(state.complete());
  }

  private Path checkpoint(String relative, long millis) throws Exception {
    Path chk = dst.resolve("_checkpoints").resolve(relative);
    Files.createDirectories(chk);
    Path metadata = Files.writeString(chk.resolve("_metadata"), "x");
    Files.setLastModifiedTime(metadata, FileTime.fromMillis(millis));
    return chk;
  }
}
