package io.instructblip.job.annotate;

import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.IOException;
import org.apache.avro.specific.SpecificData;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * How {@code annotate} writes its rows: one {@link InferenceResponse} per request, as Parquet with
 * the response's Avro schema (parquet-avro, Snappy, standard 3-level lists) or as JSON lines in the
 * response JSON form of docs/messages.md.
 */
public enum ResponseFormat {
  PARQUET(".parquet"),
  JSONL(".jsonl");

  /** Parquet row groups are buffered in memory up to this size before they are written. */
  public static final int ROW_GROUP_BYTES = 16 << 20;

  private final String suffix;

  ResponseFormat(String suffix) {
    this.suffix = suffix;
  }

  /** The part files' name suffix. */
  public String suffix() {
    return suffix;
  }

  /** A writer factory for FileSink's bulk format. */
  public BulkWriter.Factory<InferenceResponse> writerFactory() {
    return this == PARQUET ? new ParquetRows() : new JsonLines();
  }

  /** Parquet over parquet-avro, without Hadoop at run time. */
  static final class ParquetRows implements BulkWriter.Factory<InferenceResponse> {
    private static final long serialVersionUID = 1L;

    @Override
    public BulkWriter<InferenceResponse> create(FSDataOutputStream out) throws IOException {
      PlainParquetConfiguration conf = new PlainParquetConfiguration();
      conf.set("parquet.avro.write-old-list-structure", "false");
      ParquetWriter<InferenceResponse> writer =
          AvroParquetWriter.<InferenceResponse>builder(new StreamOutputFile(out))
              .withSchema(InferenceResponse.getClassSchema())
              .withDataModel(SpecificData.getForClass(InferenceResponse.class))
              .withConf(conf)
              .withCodecFactory(new SnappyCodecs())
              .withCompressionCodec(CompressionCodecName.SNAPPY)
              .withRowGroupSize((long) ROW_GROUP_BYTES)
              .build();
      return new BulkWriter<>() {
        @Override
        public void addElement(InferenceResponse element) throws IOException {
          writer.write(element);
        }

        @Override
        public void flush() {
          // Parquet writes whole row groups; finish() writes the last one and the footer.
        }

        @Override
        public void finish() throws IOException {
          writer.close(); // StreamOutputFile does not close Flink's stream
        }
      };
    }
  }

  /** One response JSON object per line. */
  static final class JsonLines implements BulkWriter.Factory<InferenceResponse> {
    private static final long serialVersionUID = 1L;

    @Override
    public BulkWriter<InferenceResponse> create(FSDataOutputStream out) {
      MessageCodec<InferenceResponse> codec = MessageCodec.responses();
      return new BulkWriter<>() {
        @Override
        public void addElement(InferenceResponse element) throws IOException {
          out.write(codec.encode(element, WireFormat.JSON));
          out.write('\n');
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }

        @Override
        public void finish() throws IOException {
          out.flush();
        }
      };
    }
  }
}
