package io.instructblip.job.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

class UriPolicyTest {

  @Test
  void defaultsAllowNothing() {
    UriPolicy p = UriPolicy.builder().build();
    assertEquals(Set.of(), p.allowedSchemes());
    assertEquals(List.of(), p.allowedFileRoots());
    assertEquals(20L << 20, p.maxBytesPerImage());
    assertEquals(8, p.maxImagesPerRequest());
    assertEquals(Duration.ofSeconds(5), p.connectTimeout());
    assertEquals(Duration.ofSeconds(30), p.readTimeout());
  }

  @Test
  void parsesAFlinkConfiguration() {
    Configuration conf =
        Configuration.fromMap(
            Map.of(
                "instructblip.images.allowed-schemes", "file, HTTPS",
                "instructblip.images.allowed-file-roots", "/data/a,/data/b",
                "instructblip.images.allowed-hosts", "Images.Example.com",
                "instructblip.images.allowed-uri-prefixes", "s3://bucket/images/",
                "instructblip.images.max-bytes-per-image", "2 mb",
                "instructblip.images.max-images-per-request", "4",
                "instructblip.images.connect-timeout", "1 s",
                "instructblip.images.read-timeout", "10 s",
                "instructblip.kafka.request-topic", "ignored"));
    UriPolicy p = UriPolicy.fromConfiguration(conf);
    assertEquals(Set.of("file", "https"), p.allowedSchemes());
    assertEquals(List.of(Path.of("/data/a"), Path.of("/data/b")), p.allowedFileRoots());
    assertEquals(Set.of("images.example.com"), p.allowedHosts());
    assertEquals(List.of("s3://bucket/images/"), p.allowedUriPrefixes());
    assertEquals(2L << 20, p.maxBytesPerImage());
    assertEquals(4, p.maxImagesPerRequest());
    assertEquals(Duration.ofSeconds(1), p.connectTimeout());
    assertEquals(Duration.ofSeconds(10), p.readTimeout());
  }

  @Test
  void rejectsUnknownKeysAndBadValues() {
    assertEquals(
        "unknown setting instructblip.images.allowed-host; known:"
            + " instructblip.images.allowed-schemes, instructblip.images.allowed-file-roots,"
            + " instructblip.images.allowed-hosts, instructblip.images.allowed-uri-prefixes,"
            + " instructblip.images.max-bytes-per-image, instructblip.images.max-images-per-request,"
            + " instructblip.images.connect-timeout, instructblip.images.read-timeout,"
            + " instructblip.images.fetch-threads, instructblip.images.fetch-capacity,"
            + " instructblip.images.fetch-timeout",
        assertThrows(
                IllegalArgumentException.class,
                () -> UriPolicy.fromMap(Map.of("allowed-host", "x")))
            .getMessage());
    assertEquals(
        "instructblip.images.max-images-per-request must be a whole number (at most 2147483647),"
            + " got \"many\"",
        assertThrows(
                IllegalArgumentException.class,
                () -> UriPolicy.fromMap(Map.of("max-images-per-request", "many")))
            .getMessage());
    assertEquals(
        "max images per request must be between 1 and 8 (the engine's limit on frames per"
            + " request), got 9",
        assertThrows(
                IllegalArgumentException.class,
                () -> UriPolicy.fromMap(Map.of("max-images-per-request", "9")))
            .getMessage());
    assertEquals(
        "image file root data is relative; give an absolute folder",
        assertThrows(
                IllegalArgumentException.class,
                () -> UriPolicy.fromMap(Map.of("allowed-file-roots", "data")))
            .getMessage());
  }
}
