package io.instructblip.engine.inference;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.stage.QFormerRunner;
import io.instructblip.engine.stage.VisionEncoderRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The two visual stages over a batch of prepared requests: the vision encoder (every frame of every
 * request in one run) and the instruction-aware Q-Former (each frame with its request's
 * instruction), giving each request its query outputs {@code [frames x Q, Dl]} in frame order.
 * Thread-safe (ONNX Runtime sessions are).
 */
public final class VisualFeatures {
  private final VisionEncoderRunner vision;
  private final QFormerRunner qformer;

  public VisualFeatures(VisionEncoderRunner vision, QFormerRunner qformer) {
    this.vision = Objects.requireNonNull(vision, "vision");
    this.qformer = Objects.requireNonNull(qformer, "qformer");
  }

  /** Image embeddings of each request, {@code [frames, N, Dv]}, in batch order. */
  public List<FloatTensor> encode(List<PreparedRequest> batch) {
    int frames = 0;
    int floats = 0;
    for (PreparedRequest r : batch) {
      frames += r.frames();
      floats += r.pixels().length;
    }
    float[] pixels = new float[floats];
    int offset = 0;
    for (PreparedRequest r : batch) {
      System.arraycopy(r.pixels(), 0, pixels, offset, r.pixels().length);
      offset += r.pixels().length;
    }
    FloatTensor all = vision.encode(pixels, frames);
    return splitRows(all, batch.stream().mapToInt(PreparedRequest::frames).toArray());
  }

  /**
   * Query outputs of each request, {@code [frames x Q, Dl]}: every frame through the Q-Former with
   * its request's instruction, concatenated in frame order.
   *
   * @param imageEmbeds per request, as {@link #encode} returns them
   */
  public List<FloatTensor> queryOutputs(
      List<PreparedRequest> batch, List<FloatTensor> imageEmbeds) {
    if (batch.size() != imageEmbeds.size()) {
      throw new IllegalArgumentException(
          batch.size() + " requests but " + imageEmbeds.size() + " image embeddings");
    }
    int frames = batch.stream().mapToInt(PreparedRequest::frames).sum();
    FloatTensor first = imageEmbeds.get(0);
    int n = first.dim(1);
    int dv = first.dim(2);
    float[] embeds = new float[frames * n * dv];
    long[][] ids = new long[frames][];
    int row = 0;
    for (int i = 0; i < batch.size(); i++) {
      FloatTensor e = imageEmbeds.get(i);
      System.arraycopy(e.data(), 0, embeds, row * n * dv, e.data().length);
      for (int f = 0; f < batch.get(i).frames(); f++) {
        ids[row++] = batch.get(i).qformerIds();
      }
    }
    FloatTensor queries = qformer.run(new FloatTensor(new int[] {frames, n, dv}, embeds), ids);
    List<FloatTensor> perRequest = new ArrayList<>(batch.size());
    int q = queries.dim(1);
    int dl = queries.dim(2);
    int at = 0;
    for (PreparedRequest r : batch) {
      int size = r.frames() * q * dl;
      float[] data = new float[size];
      System.arraycopy(queries.data(), at, data, 0, size);
      at += size;
      perRequest.add(new FloatTensor(new int[] {r.frames() * q, dl}, data));
    }
    return perRequest;
  }

  /** Splits {@code [sum(counts), ...]} into consecutive blocks of {@code counts[i]} rows. */
  private static List<FloatTensor> splitRows(FloatTensor all, int[] counts) {
    int[] shape = all.shape();
    int rowSize = all.data().length / shape[0];
    List<FloatTensor> parts = new ArrayList<>(counts.length);
    int at = 0;
    for (int count : counts) {
      int[] partShape = shape.clone();
      partShape[0] = count;
      float[] data = new float[count * rowSize];
      System.arraycopy(all.data(), at, data, 0, data.length);
      at += data.length;
      parts.add(new FloatTensor(partShape, data));
    }
    return parts;
  }
}
