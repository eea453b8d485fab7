package io.instructblip.job.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageUriResolverTest {
  private static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4};

  @TempDir Path tmp;
  private Path root;
  private Path outside;
  private HttpServer server;
  private String base;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectories(tmp.resolve("images"));
    outside = Files.createDirectories(tmp.resolve("secret"));
    Files.write(root.resolve("cat.png"), IMAGE);
    Files.write(root.resolve("big.png"), new byte[100]);
    Files.write(outside.resolve("key.png"), IMAGE);

    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/cat.png", ex -> respond(ex, 200, IMAGE, IMAGE.length));
    server.createContext("/big.png", ex -> respond(ex, 200, new byte[100], 100));
    server.createContext("/chunked.png", ex -> respond(ex, 200, new byte[100], 0));
    server.createContext("/missing.png", ex -> respond(ex, 404, new byte[0], -1));
    server.createContext(
        "/moved.png",
        ex -> {
          ex.getResponseHeaders().add("Location", "http://example.org/x.png");
          respond(ex, 302, new byte[0], -1);
        });
    server.createContext(
        "/declared.png",
        ex -> {
          ex.sendResponseHeaders(200, 1_000_000); // declares a large body, then sends nothing yet
          try {
            Thread.sleep(3000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.close();
        });
    server.createContext(
        "/slow.png",
        ex -> {
          try {
            Thread.sleep(3000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          respond(ex, 200, IMAGE, IMAGE.length);
        });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static void respond(
      com.sun.net.httpserver.HttpExchange ex, int status, byte[] body, long length)
      throws java.io.IOException {
    ex.sendResponseHeaders(status, length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    } catch (java.io.IOException ignored) {
      // the client hung up (size limit)
    }
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  /**
   * A resolver whose downloads may take 10 s: the answers here come at once, even on a busy
   * machine.
   */
  private ImageUriResolver resolver() {
    return resolver(Duration.ofSeconds(10));
  }

  private ImageUriResolver resolver(Duration readTimeout) {
    return new ImageUriResolver(
        UriPolicy.builder()
            .allowScheme("file")
            .allowFileRoot(root)
            .allowScheme("HTTP")
            .allowHost("127.0.0.1")
            .allowScheme("s3")
            .allowUriPrefix("s3://bucket/images/")
            .maxBytesPerImage(50)
            .maxImagesPerRequest(4)
            .connectTimeout(Duration.ofSeconds(2))
            .readTimeout(readTimeout)
            .build());
  }

  private static void assertFails(ErrorCode code, String message, Runnable action) {
    EngineException e = assertThrows(EngineException.class, action::run);
    assertEquals(code, e.code(), e.getMessage());
    assertEquals(message, e.getMessage());
  }

  @Test
  void readsAFileInsideTheRoot() {
    assertArrayEquals(IMAGE, resolver().read(root.resolve("cat.png").toUri().toString()));
    assertArrayEquals(IMAGE, resolver().read("file://" + root + "/./sub/../cat.png"));
  }

  @Test
  void refusesTraversalOutOfTheRoot() {
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "file "
            + outside.resolve("key.png")
            + " is outside the allowed image folders ["
            + root
            + "]",
        () -> resolver().read("file://" + root + "/../secret/key.png"));
  }

  @Test
  void refusesAFileOutsideTheRoot() {
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "file /etc/passwd is outside the allowed image folders [" + root + "]",
        () -> resolver().read("file:///etc/passwd"));
  }

  @Test
  void refusesASymbolicLinkThatEscapesTheRoot() throws Exception {
    Path link = Files.createSymbolicLink(root.resolve("link.png"), outside.resolve("key.png"));
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "file "
            + link
            + " is a link to "
            + outside.resolve("key.png").toRealPath()
            + ", outside the allowed image folders ["
            + root
            + "]",
        () -> resolver().read(link.toUri().toString()));
  }

  /**
   * A directory below the root swapped for a link to an outside directory (two atomic renames each
   * way, in a loop on another thread) while the same URI is read many times: no read may ever
   * return the outside file. The check-then-open resolver leaked it in some of the reads.
   */
  @Test
  void aDirectorySwappedForALinkWhileReadingNeverLeadsOutOfTheRoot() throws Exception {
    Path dir = Files.createDirectories(root.resolve("d"));
    Files.write(dir.resolve("img.png"), IMAGE);
    byte[] secret = "SECRET".getBytes(StandardCharsets.US_ASCII);
    Path outsideDir = Files.createDirectories(outside.resolve("d"));
    Files.write(outsideDir.resolve("img.png"), secret);
    Path link = Files.createSymbolicLink(root.resolve("l"), outsideDir);
    Path saved = root.resolve("saved");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger swaps = new AtomicInteger();
    Thread swapper =
        new Thread(
            () -> {
              try {
                while (!stop.get()) {
                  Files.move(dir, saved, StandardCopyOption.ATOMIC_MOVE);
                  Files.move(link, dir, StandardCopyOption.ATOMIC_MOVE);
                  Files.move(dir, link, StandardCopyOption.ATOMIC_MOVE);
                  Files.move(saved, dir, StandardCopyOption.ATOMIC_MOVE);
                  swaps.incrementAndGet();
                }
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    ImageUriResolver resolver = resolver();
    String uri = dir.resolve("img.png").toUri().toString();
    int leaked = 0;
    int inside = 0;
    swapper.start();
    try {
      for (int i = 0; i < 3000; i++) {
        try {
          byte[] bytes = resolver.read(uri);
          if (Arrays.equals(secret, bytes)) {
            leaked++;
          } else {
            assertArrayEquals(IMAGE, bytes);
            inside++;
          }
        } catch (EngineException e) {
          assertTrue(
              e.code() == ErrorCode.IMAGE_UNREADABLE || e.code() == ErrorCode.IMAGE_URI_FORBIDDEN,
              e.getMessage());
        }
      }
    } finally {
      stop.set(true);
      swapper.join();
    }
    assertEquals(0, leaked, "reads that returned the outside file (" + inside + " inside)");
    assertTrue(swaps.get() > 0, "the directory was swapped");
  }

  @Test
  void followsASymbolicLinkThatStaysInsideTheRoot() throws Exception {
    Path link = Files.createSymbolicLink(root.resolve("alias.png"), root.resolve("cat.png"));
    assertArrayEquals(IMAGE, resolver().read(link.toUri().toString()));
  }

  @Test
  void refusesSchemesThatAreNotAllowed() {
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "image URI scheme \"ftp\" is not allowed (allowed: file, http, s3)",
        () -> resolver().read("ftp://127.0.0.1/cat.png"));
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "image URI \"cat.png\" has no scheme; write e.g. file:///data/images/cat.jpg",
        () -> resolver().read("cat.png"));
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "image URI \"s3://other/images/a.png\" is not under an allowed prefix [s3://bucket/images/]",
        () -> resolver().read("s3://other/images/a.png"));
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "image URI \"s3://bucket/images/../private/a.png\" contains \"..\"",
        () -> resolver().read("s3://bucket/images/../private/a.png"));
  }

  @Test
  void refusesFilesOverTheSizeLimitAndReportsMissingOnes() {
    assertFails(
        ErrorCode.IMAGE_TOO_LARGE,
        "image file://" + root + "/big.png has more than the 50 bytes allowed per image",
        () -> resolver().read("file://" + root + "/big.png"));
    assertFails(
        ErrorCode.IMAGE_UNREADABLE,
        "image file " + root.resolve("nope.png") + " does not exist",
        () -> resolver().read("file://" + root + "/nope.png"));
  }

  @Test
  void downloadsFromAnAllowedHost() {
    assertArrayEquals(IMAGE, resolver().read(base + "/cat.png"));
  }

  @Test
  void refusesHostsThatAreNotAllowed() {
    String uri = "http://localhost:" + server.getAddress().getPort() + "/cat.png";
    assertFails(
        ErrorCode.IMAGE_URI_FORBIDDEN,
        "image host \"localhost\" is not allowed (allowed: 127.0.0.1)",
        () -> resolver().read(uri));
  }

  @Test
  void stopsDownloadsOverTheSizeLimit() {
    assertFails(
        ErrorCode.IMAGE_TOO_LARGE,
        "image " + base + "/big.png has more than the 50 bytes allowed per image",
        () -> resolver().read(base + "/big.png"));
    assertFails(
        ErrorCode.IMAGE_TOO_LARGE,
        "image " + base + "/chunked.png has more than the 50 bytes allowed per image",
        () -> resolver().read(base + "/chunked.png"));
  }

  /** Refused from the declared Content-Length, before any of the body (sent late here) arrives. */
  @Test
  void refusesADeclaredContentLengthOverTheLimitBeforeReading() {
    assertFails(
        ErrorCode.IMAGE_TOO_LARGE,
        "image " + base + "/declared.png has more than the 50 bytes allowed per image",
        () -> resolver().read(base + "/declared.png"));
  }

  @Test
  void reportsHttpErrorsRedirectsAndTimeouts() {
    assertFails(
        ErrorCode.IMAGE_UNREADABLE,
        "downloading image " + base + "/missing.png answered HTTP 404",
        () -> resolver().read(base + "/missing.png"));
    assertFails(
        ErrorCode.IMAGE_UNREADABLE,
        "downloading image " + base + "/moved.png answered HTTP 302",
        () -> resolver().read(base + "/moved.png"));
    // the server answers after 3 s: a 500 ms read timeout gives up first, whatever the load
    assertFails(
        ErrorCode.IMAGE_UNREADABLE,
        "image " + base + "/slow.png was not downloaded within 500 ms",
        () -> resolver(Duration.ofMillis(500)).read(base + "/slow.png"));
  }

  @Test
  void limitsTheNumberOfImages() {
    resolver().checkImageCount(4);
    assertFails(
        ErrorCode.INVALID_IMAGE_COUNT,
        "the request has 5 images, more than the 4 allowed per request",
        () -> resolver().checkImageCount(5));
  }

  private static void assertTrue(boolean condition, String message) {
    org.junit.jupiter.api.Assertions.assertTrue(condition, message);
  }
}
