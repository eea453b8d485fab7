package io.instructblip.job.annotate;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.SingletonResultIterator;

/**
 * A FileSource format that reads nothing: each file split becomes one record, the file's URI. The
 * image bytes are read later, by the job's read-images step under its URI policy, so the source
 * stays cheap and a file that cannot be read becomes an error row, not a failed source. A split
 * whose record was emitted before a checkpoint is not emitted again after a restore.
 */
public final class ImagePathFormat implements BulkFormat<String, FileSourceSplit> {
  private static final long serialVersionUID = 1L;

  @Override
  public Reader<String> createReader(Configuration config, FileSourceSplit split) {
    return new PathReader(split, false);
  }

  @Override
  public Reader<String> restoreReader(Configuration config, FileSourceSplit split) {
    boolean emitted =
        split.getReaderPosition().map(p -> p.getRecordsAfterOffset() > 0).orElse(false);
    return new PathReader(split, emitted);
  }

  @Override
  public boolean isSplittable() {
    return false;
  }

  @Override
  public TypeInformation<String> getProducedType() {
    return Types.STRING;
  }

  /** Emits the split's path once. */
  private static final class PathReader implements Reader<String> {
    private final FileSourceSplit split;
    private boolean emitted;

    PathReader(FileSourceSplit split, boolean emitted) {
      this.split = split;
      this.emitted = emitted;
    }

    @Override
    public RecordIterator<String> readBatch() {
      if (emitted) {
        return null;
      }
      emitted = true;
      SingletonResultIterator<String> batch = new SingletonResultIterator<>();
      batch.set(split.path().toUri().toString(), CheckpointedPosition.NO_OFFSET, 1);
      return batch;
    }

    @Override
    public void close() {}
  }
}
