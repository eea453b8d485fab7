package io.instructblip.job.annotate;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.xerial.snappy.Snappy;

/**
 * Parquet page compression with snappy-java directly (Parquet's SNAPPY is raw Snappy blocks).
 * Parquet's own codec factory goes through Hadoop's codec classes and configuration, which this job
 * does not ship; this one needs neither. Also decompresses, so tests read the files back the same
 * way.
 */
// BytesInput.toByteArray() is deprecated in favour of allocator-based copies; these codecs work on
// heap arrays for Snappy's array API, which is what toByteArray() gives.
@SuppressWarnings("deprecation")
public final class SnappyCodecs implements CompressionCodecFactory {

  @Override
  public BytesInputCompressor getCompressor(CompressionCodecName codec) {
    requireSnappy(codec);
    return new BytesInputCompressor() {
      @Override
      public BytesInput compress(BytesInput bytes) throws IOException {
        return BytesInput.from(Snappy.compress(bytes.toByteArray()));
      }

      @Override
      public CompressionCodecName getCodecName() {
        return CompressionCodecName.SNAPPY;
      }

      @Override
      public void release() {}
    };
  }

  @Override
  public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
    requireSnappy(codec);
    return new BytesInputDecompressor() {
      @Override
      public BytesInput decompress(BytesInput bytes, int uncompressedSize) throws IOException {
        return BytesInput.from(Snappy.uncompress(bytes.toByteArray()));
      }

      @Override
      public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int size)
          throws IOException {
        byte[] in = new byte[compressedSize];
        input.get(in);
        output.put(Snappy.uncompress(in));
      }

      @Override
      public void release() {}
    };
  }

  @Override
  public void release() {}

  private static void requireSnappy(CompressionCodecName codec) {
    if (codec != CompressionCodecName.SNAPPY) {
      throw new IllegalArgumentException("only SNAPPY is supported here, not " + codec);
    }
  }
}
