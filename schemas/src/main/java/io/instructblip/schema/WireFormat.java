package io.instructblip.schema;

/**
 * How a message is encoded on the wire. Every record is detected on its own, so one topic may mix
 * all three forms.
 */
public enum WireFormat {
  /**
   * Avro single-object encoding: the marker {@code C3 01}, the 8-byte little-endian CRC-64-AVRO
   * fingerprint of the writer schema, then the Avro binary body.
   */
  AVRO,
  /** A UTF-8 JSON object with the schema's field names (see docs/messages.md). */
  JSON,
  /**
   * Schema Registry framing (the Confluent wire format, also written by Apicurio's, Karapace's and
   * Redpanda's serializers): the magic byte {@code 00}, the writer schema's 4-byte big-endian id in
   * a registry, then the Avro binary body. Reading and writing it needs a {@link SchemaRegistry}.
   */
  REGISTRY;

  /** Bytes before a registry-framed body: the magic byte and the 4-byte schema id. */
  public static final int REGISTRY_HEADER_BYTES = 5;

  private static final int PREVIEW_BYTES = 8;

  /**
   * Detects the format of one message from its first bytes.
   *
   * @throws MessageFormatException with {@link MessageErrorCode#UNDECODABLE} when the message is
   *     empty or starts with anything else than {@code C3 01} or (after whitespace) an opening
   *     brace
   */
  public static WireFormat detect(byte[] message) throws MessageFormatException {
    if (message == null || message.length == 0) {
      throw new MessageFormatException(
          MessageErrorCode.UNDECODABLE,
          "message is empty: expected Avro single-object encoding (C3 01 ...), Schema Registry"
              + " framing (00 + schema id ...) or a JSON object");
    }
    if (message.length >= 2 && (message[0] & 0xFF) == 0xC3 && message[1] == 0x01) {
      return AVRO;
    }
    if (message[0] == 0x00) {
      if (message.length <= REGISTRY_HEADER_BYTES) {
        throw new MessageFormatException(
            MessageErrorCode.UNDECODABLE,
            "message starts like Schema Registry framing (00) but is "
                + message.length
                + " bytes long, too short for the 5-byte header (00 + 4-byte schema id) and a"
                + " body: "
                + hexPreview(message));
      }
      return REGISTRY;
    }
    int i = 0;
    if (message.length >= 3
        && (message[0] & 0xFF) == 0xEF
        && (message[1] & 0xFF) == 0xBB
        && (message[2] & 0xFF) == 0xBF) {
      i = 3; // UTF-8 byte order mark
    }
    while (i < message.length && isJsonWhitespace(message[i])) {
      i++;
    }
    if (i < message.length && message[i] == '{') {
      return JSON;
    }
    throw new MessageFormatException(
        MessageErrorCode.UNDECODABLE,
        "message is neither Avro single-object encoding (starts with C3 01), Schema Registry"
            + " framing (starts with 00) nor a JSON object (starts with '{'); it starts with "
            + hexPreview(message));
  }

  private static boolean isJsonWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  static String hexPreview(byte[] message) {
    StringBuilder hex = new StringBuilder();
    int n = Math.min(PREVIEW_BYTES, message.length);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        hex.append(' ');
      }
      hex.append(String.format("%02X", message[i] & 0xFF));
    }
    if (message.length > n) {
      hex.append(" ...");
    }
    return hex + " (" + message.length + " bytes)";
  }
}
