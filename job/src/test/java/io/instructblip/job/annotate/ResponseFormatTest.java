package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.FinishReason;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RankedCandidate;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificData;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both writers, read back: Parquet with parquet-avro, JSONL with the response codec. */
class ResponseFormatTest {
  @TempDir Path tmp;

  static List<InferenceResponse> rows() {
    InferenceResponse ok =
        InferenceResponse.newBuilder()
            .setId("cats/1.jpg")
            .setStatus(ResponseStatus.OK)
            .setText("a cat")
            .setTokenIds(List.of(5, 6, 2))
            .setCandidates(
                List.of(
                    RankedCandidate.newBuilder()
                        .setText("cat")
                        .setSumLogprob(-0.5)
                        .setMeanLogprob(-0.5)
                        .build()))
            .setFinishReason(FinishReason.EOS)
            .setPromptTokens(40)
            .setGeneratedTokens(3)
            .setTimings(StageTimings.newBuilder().setLlm(1234L).build())
            .setModel("tiny")
            .setMetadata(Map.of("image", "cats/1.jpg"))
            .setCompletedAtMs(17)
            .build();
    InferenceResponse error =
        InferenceResponse.newBuilder()
            .setId("bad.jpg")
            .setStatus(ResponseStatus.ERROR)
            .setTimings(StageTimings.newBuilder().build())
            .setError(ErrorInfo.newBuilder().setCode("IMAGE_UNREADABLE").setMessage("no").build())
            .setCompletedAtMs(18)
            .build();
    return List.of(ok, error);
  }

  @Test
  void parquetRowsReadBackWithParquetAvro() throws Exception {
    Path file = write(ResponseFormat.PARQUET, "rows.parquet");
    List<InferenceResponse> read = new ArrayList<>();
    try (ParquetReader<InferenceResponse> reader =
        AvroParquetReader.<InferenceResponse>builder(
                new LocalInputFile(file), new PlainParquetConfiguration())
            .withDataModel(SpecificData.getForClass(InferenceResponse.class))
            .withCodecFactory(new SnappyCodecs())
            .build()) {
      InferenceResponse r;
      while ((r = reader.read()) != null) {
        read.add(r);
      }
    }
    assertEquals(rows(), read);
  }

  @Test
  void jsonlRowsAreTheResponseJsonForm() throws Exception {
    Path file = write(ResponseFormat.JSONL, "rows.jsonl");
    MessageCodec<InferenceResponse> codec = MessageCodec.responses();
    List<InferenceResponse> read = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      read.add(codec.decode(line.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    assertEquals(rows(), read);
  }

  private Path write(ResponseFormat format, String name) throws Exception {
    Path file = tmp.resolve(name);
    try (OutputStream os = Files.newOutputStream(file)) {
      FSDataOutputStream out = new Stream(os);
      BulkWriter<InferenceResponse> writer = format.writerFactory().create(out);
      for (InferenceResponse r : rows()) {
        writer.addElement(r);
      }
      writer.finish();
    }
    return file;
  }

  /** A Flink output stream over a plain one, counting its position. */
  private static final class Stream extends FSDataOutputStream {
    private final OutputStream out;
    private long pos;

    Stream(OutputStream out) {
      this.out = out;
    }

    @Override
    public long getPos() {
      return pos;
    }

    @Override
    public void write(int b) throws java.io.IOException {
      out.write(b);
      pos++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      out.write(b, off, len);
      pos += len;
    }

    @Override
    public void flush() throws java.io.IOException {
      out.flush();
    }

    @Override
    public void sync() throws java.io.IOException {
      out.flush();
    }

    @Override
    public void close() throws java.io.IOException {
      out.close();
    }
  }
}
