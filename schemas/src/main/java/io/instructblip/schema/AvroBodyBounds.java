package io.instructblip.schema;

import org.apache.avro.Schema;

/**
 * Walks an Avro binary body against its writer schema without allocating anything, and fails where
 * a declared length, count or union branch does not fit the bytes that are actually there.
 *
 * <p>Avro's decoder trusts declared lengths: a 16-byte message that declares a 2 GB string makes it
 * allocate 2 GB before it notices the end of input. Checking first bounds every allocation by the
 * message's own size.
 */
final class AvroBodyBounds {
  private static final int MAX_VARINT_BYTES = 10;

  private final byte[] data;
  private int position;

  private AvroBodyBounds(byte[] data, int offset) {
    this.data = data;
    this.position = offset;
  }

  /**
   * Checks the body that starts at {@code offset} and must end exactly at the end of {@code data}.
   *
   * @return null when the body fits, else what is wrong
   */
  static String check(Schema writer, byte[] data, int offset) {
    AvroBodyBounds walk = new AvroBodyBounds(data, offset);
    try {
      walk.value(writer);
    } catch (OutOfBounds e) {
      return e.getMessage();
    }
    if (walk.position != data.length) {
      return (data.length - walk.position)
          + " bytes follow the end of the record (at byte "
          + walk.position
          + ")";
    }
    return null;
  }

  private void value(Schema schema) throws OutOfBounds {
    switch (schema.getType()) {
      case NULL:
        return;
      case BOOLEAN:
        skip(1, "boolean");
        return;
      case INT:
      case LONG:
      case ENUM:
        varLong();
        return;
      case FLOAT:
        skip(4, "float");
        return;
      case DOUBLE:
        skip(8, "double");
        return;
      case FIXED:
        skip(schema.getFixedSize(), "fixed " + schema.getFullName());
        return;
      case STRING:
      case BYTES:
        lengthPrefixed(schema.getType().getName());
        return;
      case RECORD:
        for (Schema.Field field : schema.getFields()) {
          value(field.schema());
        }
        return;
      case UNION:
        int at = position;
        long branch = varLong();
        if (branch < 0 || branch >= schema.getTypes().size()) {
          throw new OutOfBounds(
              "union branch " + branch + " at byte " + at + " does not exist in " + schema);
        }
        value(schema.getTypes().get((int) branch));
        return;
      case ARRAY:
        blocks(schema.getElementType(), false);
        return;
      case MAP:
        blocks(schema.getValueType(), true);
        return;
      default:
        throw new OutOfBounds("unsupported schema type " + schema.getType());
    }
  }

  /** Array and map items come in blocks: a count (negative: followed by a byte size), items. */
  private void blocks(Schema item, boolean withKeys) throws OutOfBounds {
    while (true) {
      int at = position;
      long count = varLong();
      if (count == 0) {
        return;
      }
      if (count < 0) {
        count = -count;
        varLong(); // the block's size in bytes, only a hint for skipping
      }
      if (count > data.length - position) {
        throw new OutOfBounds(
            "a block of "
                + count
                + " items at byte "
                + at
                + " cannot fit in the "
                + (data.length - position)
                + " bytes left");
      }
      for (long i = 0; i < count; i++) {
        if (withKeys) {
          lengthPrefixed("map key");
        }
        value(item);
      }
    }
  }

  private void lengthPrefixed(String what) throws OutOfBounds {
    int at = position;
    long length = varLong();
    if (length < 0 || length > data.length - position) {
      throw new OutOfBounds(
          "a "
              + what
              + " at byte "
              + at
              + " declares "
              + length
              + " bytes but "
              + (data.length - position)
              + " are left");
    }
    position += (int) length;
  }

  private void skip(int bytes, String what) throws OutOfBounds {
    if (bytes > data.length - position) {
      throw new OutOfBounds("the message ends inside a " + what + " at byte " + position);
    }
    position += bytes;
  }

  /** A zig-zag variable-length long, as Avro writes int, long, lengths and counts. */
  private long varLong() throws OutOfBounds {
    int start = position;
    long raw = 0;
    for (int shift = 0, n = 0; ; shift += 7, n++) {
      if (position >= data.length) {
        throw new OutOfBounds("the message ends inside a number at byte " + start);
      }
      if (n == MAX_VARINT_BYTES) {
        throw new OutOfBounds("the number at byte " + start + " is longer than 10 bytes");
      }
      int b = data[position++] & 0xFF;
      raw |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
  }

  /** Control flow for the first misfit found; never leaves this class. */
  private static final class OutOfBounds extends Exception {
    private static final long serialVersionUID = 1L;

    OutOfBounds(String message) {
      super(message, null, false, false);
    }
  }
}
