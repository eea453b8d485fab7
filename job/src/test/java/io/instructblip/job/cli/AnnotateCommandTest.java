package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.job.Main;
import io.instructblip.job.fetch.UriPolicy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** annotate's checks before it starts a job (the runs themselves are ITCases in tests). */
class AnnotateCommandTest {
  private static final Path MODEL =
      Path.of(System.getProperty("instructblip.fixtures")).resolve("tiny-vicuna");

  @TempDir Path tmp;

  private int annotate(Path dst, String... more) {
    String[] base = {
      "annotate", "--model", MODEL.toString(), "--input", tmp.toString(), "--output", dst.toString()
    };
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return Main.run(args);
  }

  @Test
  void refusesAnOutputWithPartFilesButNoCheckpoint() throws Exception {
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Files.writeString(dst.resolve("part-1-0-0.parquet"), "");
    assertEquals(AnnotateCommand.EXIT_OUTPUT_IN_USE, annotate(dst, "--instruction", "x"));
  }

  @Test
  void aCompleteOutputIsLeftAsItIs() throws Exception {
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Files.writeString(dst.resolve("_SUCCESS"), "");
    assertEquals(0, annotate(dst, "--instruction", "x"));
    assertFalse(Files.exists(dst.resolve("_checkpoints")));
  }

  @Test
  void aFolderRunNeedsAnInstruction() {
    assertEquals(2, annotate(tmp.resolve("dst")));
  }

  @Test
  void theUriPolicyAllowsTheInputOnlyByDefault() {
    Map<String, String> local =
        AnnotateCommand.uriPolicy(new Configuration(), URI.create("file:/data/images/"));
    assertEquals("file", local.get(UriPolicy.SCHEMES));
    assertEquals("/data/images", local.get(UriPolicy.FILE_ROOTS));
    Map<String, String> s3 =
        AnnotateCommand.uriPolicy(new Configuration(), URI.create("s3://bucket/imgs/"));
    assertEquals("s3", s3.get(UriPolicy.SCHEMES));
    assertEquals("s3://bucket/imgs/", s3.get(UriPolicy.URI_PREFIXES));
    Configuration conf = new Configuration();
    conf.setString(UriPolicy.CONFIG_PREFIX + UriPolicy.FILE_ROOTS, "/a,/b");
    assertTrue(
        AnnotateCommand.uriPolicy(conf, URI.create("file:/data/images/"))
            .get(UriPolicy.FILE_ROOTS)
            .equals("/a,/b"));
  }
}
