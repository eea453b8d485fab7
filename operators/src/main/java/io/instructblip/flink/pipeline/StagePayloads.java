package io.instructblip.flink.pipeline;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.flink.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings stage items up to the payload a stage needs, in batches: prepared inputs, then image
 * embeddings, then query outputs. Items that already have a payload pass through; items restored
 * from a checkpoint (no payload) are re-derived from their request. A failure of one item (a bad
 * image, say) becomes that item's error result; the others go on.
 */
final class StagePayloads {
  private StagePayloads() {}

  /** Every item with prepared inputs, or its preparation error. */
  static List<Result<StageItem>> prepared(InstructBlipEngine engine, List<StageItem> items) {
    List<Result<StageItem>> out = new ArrayList<>(items.size());
    for (StageItem item : items) {
      if (item.prepared() != null) {
        out.add(Result.ok(item.id(), item));
        continue;
      }
      try {
        out.add(Result.ok(item.id(), item.withPrepared(engine.preparer().prepare(item.request()))));
      } catch (EngineException e) {
        out.add(Result.error(item.id(), e.code(), e.getMessage()));
      }
    }
    return out;
  }

  /** Every item with image embeddings (pixels dropped), or its error. */
  static List<Result<StageItem>> withImageEmbeds(InstructBlipEngine engine, List<StageItem> items) {
    List<Result<StageItem>> out = new ArrayList<>(items.size());
    List<Integer> todo = new ArrayList<>();
    List<Result<StageItem>> prepared = prepared(engine, needing(items, todo, Level.EMBEDS));
    fill(out, items, Level.EMBEDS);
    List<Integer> ready = new ArrayList<>();
    List<PreparedRequest> batch = new ArrayList<>();
    for (int j = 0; j < todo.size(); j++) {
      Result<StageItem> r = prepared.get(j);
      if (r.isOk()) {
        ready.add(todo.get(j));
        batch.add(r.value().prepared());
      } else {
        out.set(todo.get(j), r);
      }
    }
    if (!batch.isEmpty()) {
      long start = System.nanoTime();
      List<FloatTensor> embeds = engine.visualFeatures().encode(batch);
      long micros = (System.nanoTime() - start) / 1_000;
      for (int j = 0; j < ready.size(); j++) {
        PreparedRequest p = batch.get(j);
        StageItem item = items.get(ready.get(j));
        PreparedRequest slim = p.withoutPixels().withTimings(p.timings().withVision(micros));
        out.set(ready.get(j), Result.ok(item.id(), item.withImageEmbeds(slim, embeds.get(j))));
      }
    }
    return out;
  }

  /** Every item with query outputs (image embeddings dropped), or its error. */
  static List<Result<StageItem>> withQueryOutputs(
      InstructBlipEngine engine, List<StageItem> items) {
    List<Result<StageItem>> out = new ArrayList<>(items.size());
    List<Integer> todo = new ArrayList<>();
    List<Result<StageItem>> embedded = withImageEmbeds(engine, needing(items, todo, Level.QUERIES));
    fill(out, items, Level.QUERIES);
    List<Integer> ready = new ArrayList<>();
    List<StageItem> batch = new ArrayList<>();
    for (int j = 0; j < todo.size(); j++) {
      Result<StageItem> r = embedded.get(j);
      if (r.isOk()) {
        ready.add(todo.get(j));
        batch.add(r.value());
      } else {
        out.set(todo.get(j), r);
      }
    }
    if (!batch.isEmpty()) {
      List<PreparedRequest> prepared = batch.stream().map(StageItem::prepared).toList();
      List<FloatTensor> embeds = batch.stream().map(StageItem::imageEmbeds).toList();
      long start = System.nanoTime();
      List<FloatTensor> queries = engine.visualFeatures().queryOutputs(prepared, embeds);
      long micros = (System.nanoTime() - start) / 1_000;
      for (int j = 0; j < ready.size(); j++) {
        StageItem item = batch.get(j);
        PreparedRequest p = item.prepared();
        out.set(
            ready.get(j),
            Result.ok(
                item.id(),
                item.withQueryOutputs(
                    p.withTimings(p.timings().withQformer(micros)), queries.get(j))));
      }
    }
    return out;
  }

  private enum Level {
    EMBEDS,
    QUERIES
  }

  private static boolean has(StageItem item, Level level) {
    return level == Level.EMBEDS ? item.imageEmbeds() != null : item.queryOutputs() != null;
  }

  /** The items below {@code level}; their indexes go to {@code indexes}. */
  private static List<StageItem> needing(
      List<StageItem> items, List<Integer> indexes, Level level) {
    List<StageItem> need = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (!has(items.get(i), level)) {
        indexes.add(i);
        need.add(items.get(i));
      }
    }
    return need;
  }

  /** Puts the items that are at {@code level} already into {@code out}, as they are. */
  private static void fill(List<Result<StageItem>> out, List<StageItem> items, Level level) {
    out.clear();
    for (StageItem item : items) {
      out.add(has(item, level) ? Result.ok(item.id(), item) : null);
    }
  }
}
