package io.instructblip.job.annotate;

import io.instructblip.job.kafka.RequestEnvelope;
import java.net.URI;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * One request per image file of the input folder: its id is the file's path relative to the input
 * root (so results join back to files, and a re-run makes the same ids), its image the file's URI.
 */
public final class FolderRequests implements MapFunction<String, RequestEnvelope> {
  private static final long serialVersionUID = 1L;
  private final URI root;
  private final RequestTemplate template;

  public FolderRequests(URI root, RequestTemplate template) {
    this.root = RelativePaths.asFolder(root);
    this.template = template;
  }

  @Override
  public RequestEnvelope map(String fileUri) {
    String relative = RelativePaths.relativize(root, URI.create(fileUri));
    return new RequestEnvelope(template.request(relative, fileUri, relative, null), List.of());
  }
}
