package io.instructblip.job.fetch;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;

/**
 * Reads the bytes of an image given by URI, within a {@link UriPolicy}:
 *
 * <ul>
 *   <li>{@code file:} through java.nio; the path must lie in an allowed root as written (after
 *       removing {@code .} and {@code ..}), and is then opened one component at a time below the
 *       root's real path without following links (a link is resolved and its target walked again
 *       from the root it lies in), so neither {@code ..} nor a link, nor a link swapped in while
 *       the file is opened, can escape the root;
 *   <li>{@code http:} and {@code https:} through java.net.http, only on allowed hosts, without
 *       following redirects (a redirect could lead to any host), within the connect and read
 *       timeouts;
 *   <li>any other allowed scheme ({@code s3}, {@code hdfs}, ...) through Flink's {@link FileSystem}
 *       (where the cluster has the plugin), only under an allowed URI prefix.
 * </ul>
 *
 * Failures are {@link EngineException}s: {@code IMAGE_URI_FORBIDDEN} (scheme, root, host or prefix
 * not allowed), {@code IMAGE_TOO_LARGE} (more than the policy's bytes per image), {@code
 * IMAGE_UNREADABLE} (missing, unreachable, HTTP error, timeout). Thread-safe.
 */
public final class ImageUriResolver {
  private final UriPolicy policy;
  private final List<Path> realRoots;
  private volatile HttpClient httpClient;

  public ImageUriResolver(UriPolicy policy) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.realRoots = new ArrayList<>();
    for (Path root : policy.allowedFileRoots()) {
      Path normalized = root.normalize();
      try {
        realRoots.add(normalized.toRealPath());
      } catch (IOException e) {
        // A root that does not exist (yet) can only match lexically; keep it so that files that
        // appear later are readable, but a link can never resolve into it while it is missing.
        realRoots.add(normalized);
      }
    }
  }

  /** The policy this resolver enforces. */
  public UriPolicy policy() {
    return policy;
  }

  /** Throws {@code INVALID_IMAGE_COUNT} when a request has more images than the policy allows. */
  public void checkImageCount(int images) {
    if (images > policy.maxImagesPerRequest()) {
      throw new EngineException(
          ErrorCode.INVALID_IMAGE_COUNT,
          "the request has "
              + images
              + " images, more than the "
              + policy.maxImagesPerRequest()
              + " allowed per request");
    }
  }

  /** Reads the image at {@code uri}, or throws an {@link EngineException} that says why not. */
  public byte[] read(String uri) {
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      throw forbidden("image URI \"" + uri + "\" is not a valid URI: " + e.getReason());
    }
    String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.isEmpty()) {
      throw forbidden(
          "image URI \"" + uri + "\" has no scheme; write e.g. file:///data/images/cat.jpg");
    }
    if (!policy.allowedSchemes().contains(scheme)) {
      throw forbidden(
          "image URI scheme \""
              + scheme
              + "\" is not allowed (allowed: "
              + String.join(", ", new java.util.TreeSet<>(policy.allowedSchemes()))
              + ")");
    }
    return switch (scheme) {
      case "file" -> readFile(parsed, uri);
      case "http", "https" -> readHttp(parsed, uri);
      default -> readFlinkFileSystem(parsed, uri);
    };
  }

  private byte[] readFile(URI uri, String text) {
    if (uri.getAuthority() != null && !uri.getAuthority().equalsIgnoreCase("localhost")) {
      throw forbidden(
          "file URI \"" + text + "\" names host " + uri.getAuthority() + "; only local files");
    }
    if (uri.getPath() == null || uri.getPath().isEmpty()) {
      throw forbidden("file URI \"" + text + "\" has no path; write file:///absolute/path");
    }
    Path path;
    try {
      path = Paths.get(uri.getPath()).normalize();
    } catch (RuntimeException e) {
      throw forbidden("file URI \"" + text + "\" is not a valid path: " + e.getMessage());
    }
    List<Path> roots = policy.allowedFileRoots().stream().map(Path::normalize).toList();
    int root = rootOf(path, roots);
    if (root < 0) {
      throw forbidden(
          "file " + path + " is outside the allowed image folders " + policy.allowedFileRoots());
    }
    try {
      return new ConfinedWalk(path, text)
          .read(realRoots.get(root), roots.get(root).relativize(path));
    } catch (NoSuchFileException e) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "image file " + path + " does not exist");
    } catch (IOException e) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "cannot read image file " + path + ": " + e, e);
    }
  }

  /** The index of the first root that {@code path} lies in, or -1. */
  private static int rootOf(Path path, List<Path> roots) {
    for (int i = 0; i < roots.size(); i++) {
      if (path.startsWith(roots.get(i))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Opens a file below a real root one component at a time, each relative to the directory opened
   * before and never following a link ({@code openat} with {@code O_NOFOLLOW}, through {@link
   * SecureDirectoryStream}): what is opened is what was checked, so swapping a directory for a link
   * while the file is opened cannot lead out of the root. A link below the root is followed by
   * reading its target and walking the resulting path again from the real root it lies in (or
   * refusing it when it lies in none).
   */
  private final class ConfinedWalk {
    private static final int MAX_LINKS = 40;
    private final Path path;
    private final String text;
    private final List<java.io.Closeable> open = new ArrayList<>();

    ConfinedWalk(Path path, String text) {
      this.path = path;
      this.text = text;
    }

    byte[] read(Path realRoot, Path relative) throws IOException {
      try {
        return walk(realRoot, relative);
      } finally {
        for (java.io.Closeable c : open) {
          c.close();
        }
      }
    }

    private byte[] walk(Path realRoot, Path relative) throws IOException {
      Deque<Path> todo = components(relative);
      Path at = realRoot;
      SecureDirectoryStream<Path> dir = openRoot(realRoot);
      int links = 0;
      while (true) {
        if (todo.isEmpty()) {
          throw new EngineException(
              ErrorCode.IMAGE_UNREADABLE, "image path " + path + " is not a file");
        }
        Path name = todo.pop();
        BasicFileAttributes attributes =
            dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
        if (attributes.isSymbolicLink()) {
          if (++links > MAX_LINKS) {
            throw new EngineException(
                ErrorCode.IMAGE_UNREADABLE, "image file " + path + " has too many links");
          }
          Path target = at.resolve(Files.readSymbolicLink(at.resolve(name))).normalize();
          for (Path rest : todo) {
            target = target.resolve(rest);
          }
          int root = rootOf(target, realRoots);
          if (root < 0) {
            throw forbidden(
                "file "
                    + path
                    + " is a link to "
                    + target
                    + ", outside the allowed image folders "
                    + policy.allowedFileRoots());
          }
          todo = components(realRoots.get(root).relativize(target));
          at = realRoots.get(root);
          dir = openRoot(at);
        } else if (todo.isEmpty()) {
          if (!attributes.isRegularFile()) {
            throw new EngineException(
                ErrorCode.IMAGE_UNREADABLE, "image path " + path + " is not a file");
          }
          checkSize(attributes.size(), text);
          SeekableByteChannel channel =
              dir.newByteChannel(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
          open.add(channel);
          checkSize(channel.size(), text);
          return readBounded(Channels.newInputStream(channel), text);
        } else {
          dir = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
          open.add(dir);
          at = at.resolve(name);
        }
      }
    }

    private SecureDirectoryStream<Path> openRoot(Path realRoot) throws IOException {
      DirectoryStream<Path> stream = Files.newDirectoryStream(realRoot);
      open.add(stream);
      if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
        throw new EngineException(
            ErrorCode.IMAGE_UNREADABLE,
            "this platform cannot open files relative to a folder without following links;"
                + " file: image URIs are not supported here");
      }
      return secure;
    }

    private static Deque<Path> components(Path relative) {
      Deque<Path> out = new ArrayDeque<>();
      for (Path name : relative) {
        if (!name.toString().isEmpty()) {
          out.add(name);
        }
      }
      return out;
    }
  }

  private byte[] readHttp(URI uri, String text) {
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    if (!policy.allowedHosts().contains(host)) {
      throw forbidden(
          "image host \""
              + host
              + "\" is not allowed (allowed: "
              + String.join(", ", new java.util.TreeSet<>(policy.allowedHosts()))
              + ")");
    }
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(policy.readTimeout()).GET().build();
    CompletableFuture<HttpResponse<byte[]>> future =
        client()
            .sendAsync(
                request,
                info ->
                    new BoundedBodySubscriber(
                        policy.maxBytesPerImage(),
                        info.headers().firstValueAsLong("Content-Length").orElse(-1)));
    HttpResponse<byte[]> response;
    try {
      response = future.get(policy.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw notDownloadedInTime(text);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "interrupted while downloading " + text);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause != null && !(cause instanceof TooLarge) && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof TooLarge) {
        throw tooLarge(text);
      }
      if (e.getCause() instanceof java.net.http.HttpTimeoutException) {
        // The request's own timeout, the same limit as the wait above: whichever fires first.
        throw notDownloadedInTime(text);
      }
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "cannot download image " + text + ": " + e.getCause(), e);
    }
    if (response.statusCode() != 200) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE,
          "downloading image " + text + " answered HTTP " + response.statusCode());
    }
    return response.body();
  }

  private HttpClient client() {
    HttpClient c = httpClient;
    if (c == null) {
      synchronized (this) {
        if (httpClient == null) {
          httpClient =
              HttpClient.newBuilder()
                  .connectTimeout(policy.connectTimeout())
                  .followRedirects(HttpClient.Redirect.NEVER)
                  .build();
        }
        c = httpClient;
      }
    }
    return c;
  }

  private byte[] readFlinkFileSystem(URI uri, String text) {
    String normalized = uri.normalize().toString();
    if (uri.getPath() != null
        && (uri.getPath().contains("/../") || uri.getPath().endsWith("/.."))) {
      throw forbidden("image URI \"" + text + "\" contains \"..\"");
    }
    boolean allowed = false;
    for (String prefix : policy.allowedUriPrefixes()) {
      allowed |= normalized.startsWith(prefix);
    }
    if (!allowed) {
      throw forbidden(
          "image URI \""
              + text
              + "\" is not under an allowed prefix "
              + policy.allowedUriPrefixes());
    }
    try {
      org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(uri);
      FileSystem fs = FileSystem.get(uri);
      FileStatus status = fs.getFileStatus(path);
      checkSize(status.getLen(), text);
      try (InputStream in = fs.open(path)) {
        return readBounded(in, text);
      }
    } catch (IOException e) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "cannot read image " + text + ": " + e, e);
    }
  }

  private void checkSize(long size, String text) {
    if (size > policy.maxBytesPerImage()) {
      throw tooLarge(text);
    }
  }

  private byte[] readBounded(InputStream in, String text) throws IOException {
    long max = policy.maxBytesPerImage();
    byte[] bytes = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
    if (bytes.length > max) {
      throw tooLarge(text);
    }
    return bytes;
  }

  private EngineException notDownloadedInTime(String text) {
    return new EngineException(
        ErrorCode.IMAGE_UNREADABLE,
        "image " + text + " was not downloaded within " + policy.readTimeout().toMillis() + " ms");
  }

  private EngineException tooLarge(String text) {
    return new EngineException(
        ErrorCode.IMAGE_TOO_LARGE,
        "image "
            + text
            + " has more than the "
            + policy.maxBytesPerImage()
            + " bytes allowed per image");
  }

  private static EngineException forbidden(String message) {
    return new EngineException(ErrorCode.IMAGE_URI_FORBIDDEN, message);
  }

  /** Marks a body that went over the byte limit. */
  private static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("body over the byte limit");
    }
  }

  /**
   * Collects a response body, cancelling the download before it starts when the declared {@code
   * Content-Length} exceeds the limit, and as soon as the body exceeds it otherwise.
   */
  private static final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final long max;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    private final long declaredLength;

    BoundedBodySubscriber(long max, long declaredLength) {
      this.max = max;
      this.declaredLength = declaredLength;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      if (declaredLength > max) {
        subscription.cancel();
        result.completeExceptionally(new TooLarge());
        return;
      }
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      for (ByteBuffer item : items) {
        if (buffer.size() + (long) item.remaining() > max) {
          subscription.cancel();
          result.completeExceptionally(new TooLarge());
          return;
        }
        byte[] chunk = new byte[item.remaining()];
        item.get(chunk);
        buffer.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
      result.complete(buffer.toByteArray());
    }
  }
}
