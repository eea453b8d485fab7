package io.instructblip.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.job.annotate.SnappyCodecs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;

/**
 * Reads annotate's committed part files back with independent readers (parquet-avro for Parquet,
 * Jackson for JSONL) into plain rows. Hidden and in-progress files are not output and are skipped,
 * as any reader of the folder does.
 */
final class AnnotateOutput {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One output row, as a reader sees it. */
  record Row(
      String id,
      String status,
      List<Integer> tokenIds,
      String errorCode,
      String image,
      String text) {}

  private AnnotateOutput() {}

  /** Every row of every committed part file under {@code dst}, in no particular order. */
  static List<Row> read(Path dst) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (Stream<Path> files = Files.list(dst)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (!name.startsWith("part-")) {
          continue;
        }
        if (name.endsWith(".parquet")) {
          rows.addAll(parquet(f));
        } else if (name.endsWith(".jsonl")) {
          rows.addAll(jsonl(f));
        }
      }
    }
    return rows;
  }

  /** Rows per id (a duplicate id fails). */
  static Map<String, Row> byId(List<Row> rows) {
    Map<String, Row> map = new TreeMap<>();
    for (Row r : rows) {
      if (map.put(r.id(), r) != null) {
        throw new AssertionError("duplicate row " + r.id());
      }
    }
    return map;
  }

  private static List<Row> parquet(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (ParquetReader<GenericRecord> reader =
        AvroParquetReader.<GenericRecord>builder(
                new LocalInputFile(file), new PlainParquetConfiguration())
            .withDataModel(GenericData.get())
            .withCodecFactory(new SnappyCodecs())
            .build()) {
      GenericRecord r;
      while ((r = reader.read()) != null) {
        List<Integer> tokens = new ArrayList<>();
        for (Object t : (List<?>) r.get("token_ids")) {
          tokens.add((Integer) t);
        }
        GenericRecord error = (GenericRecord) r.get("error");
        Map<?, ?> metadata = (Map<?, ?>) r.get("metadata");
        Object image = null;
        for (Map.Entry<?, ?> e : metadata.entrySet()) {
          if (e.getKey().toString().equals("image")) {
            image = e.getValue();
          }
        }
        rows.add(
            new Row(
                r.get("id").toString(),
                r.get("status").toString(),
                tokens,
                error == null ? null : error.get("code").toString(),
                image == null ? null : image.toString(),
                r.get("text") == null ? null : r.get("text").toString()));
      }
    }
    return rows;
  }

  private static List<Row> jsonl(Path file) {
    List<Row> rows = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = JSON.readTree(line);
        List<Integer> tokens = new ArrayList<>();
        n.path("token_ids").forEach(t -> tokens.add(t.asInt()));
        JsonNode error = n.path("error");
        rows.add(
            new Row(
                n.get("id").asText(),
                n.get("status").asText(),
                tokens,
                error.isObject() ? error.get("code").asText() : null,
                n.path("metadata").path("image").asText(null),
                n.path("text").isTextual() ? n.get("text").asText() : null));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }
}
