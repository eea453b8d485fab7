package io.instructblip.job.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.job.parse.RequestParser;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class SerializersTest {
  private static final RawRecord RECORD =
      new RawRecord(
          "requests",
          3,
          17,
          1234L,
          bytes("k"),
          bytes("not a message"),
          List.of(RawHeader.utf8("trace", "t-1"), new RawHeader("empty", null)));

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void deserializerKeepsEverythingAndNeverLooksAtTheBytes() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", bytes("t-1"));
    headers.add("empty", null);
    ConsumerRecord<byte[], byte[]> consumed =
        new ConsumerRecord<>(
            "requests",
            3,
            17,
            1234L,
            TimestampType.CREATE_TIME,
            1,
            13,
            bytes("k"),
            bytes("not a message"),
            headers,
            java.util.Optional.empty());
    List<RawRecord> out = new ArrayList<>();
    new RawRecordDeserializer()
        .deserialize(
            consumed,
            new Collector<>() {
              @Override
              public void collect(RawRecord record) {
                out.add(record);
              }

              @Override
              public void close() {}
            });
    assertEquals(List.of(RECORD), out);
  }

  @Test
  void aDeadLetterOverTheRecordLimitLeavesOutTheOriginalAndSaysSo() {
    // 200 KB of junk under a 64 KB max.request.size: a sink failure and a restart loop before.
    RawRecord junk =
        new RawRecord(
            "requests",
            1,
            13,
            5L,
            bytes("k"),
            new byte[200_000],
            List.of(RawHeader.utf8("h", "v")));
    ProducerRecord<byte[], byte[]> r =
        new DeadLetterSerializer("dlq", 64 * 1024)
            .serialize(new DeadLetter(junk, "UNDECODABLE", "bad"), null, 99L);
    assertNull(r.value());
    assertNull(r.key());
    List<String> keys = new ArrayList<>();
    r.headers().forEach(h -> keys.add(h.key()));
    assertEquals(
        List.of(
            "x-instructblip-error-code",
            "x-instructblip-error-message",
            "x-instructblip-source-topic",
            "x-instructblip-source-partition",
            "x-instructblip-source-offset",
            "x-instructblip-dropped"),
        keys);
    assertEquals(
        "key (1 bytes), value (200000 bytes) and 1 headers left out: the dead letter would exceed"
            + " max.request.size (65536 bytes); read the original at the source offset",
        new String(
            r.headers().lastHeader("x-instructblip-dropped").value(), StandardCharsets.UTF_8));
  }

  @Test
  void deadLetterKeepsTheOriginalAndAddsErrorAndSourceHeaders() {
    ProducerRecord<byte[], byte[]> r =
        new DeadLetterSerializer("dlq")
            .serialize(new DeadLetter(RECORD, "UNDECODABLE", "bad"), null, 99L);
    assertEquals("dlq", r.topic());
    assertNull(r.partition());
    assertEquals(99L, r.timestamp());
    assertArrayEquals(bytes("k"), r.key());
    assertArrayEquals(bytes("not a message"), r.value());
    List<String> headers = new ArrayList<>();
    for (Header h : r.headers()) {
      headers.add(
          h.key()
              + "="
              + (h.value() == null ? "null" : new String(h.value(), StandardCharsets.UTF_8)));
    }
    assertEquals(
        List.of(
            "trace=t-1",
            "empty=null",
            "x-instructblip-error-code=UNDECODABLE",
            "x-instructblip-error-message=bad",
            "x-instructblip-source-topic=requests",
            "x-instructblip-source-partition=3",
            "x-instructblip-source-offset=17"),
        headers);
  }

  @Test
  void responseIsKeyedByIdInTheConfiguredFormatWithTheRequestHeaders() throws Exception {
    InferenceResponse response = RequestParser.errorResponse("req-9", Map.of(), "X", "m", 5L);
    ResponseEnvelope envelope =
        new ResponseEnvelope(response, List.of(RawHeader.utf8("trace", "t")));
    for (WireFormat format : List.of(WireFormat.AVRO, WireFormat.JSON)) {
      ProducerRecord<byte[], byte[]> r =
          new ResponseSerializer("out", format).serialize(envelope, null, null);
      assertEquals("out", r.topic());
      assertArrayEquals(bytes("req-9"), r.key());
      assertEquals(format, WireFormat.detect(r.value()));
      assertEquals(response, MessageCodec.responses().decode(r.value()));
      assertEquals(List.of(new RecordHeader("trace", bytes("t"))), List.of(r.headers().toArray()));
    }
  }

  @Test
  void aResponseOverTheRecordLimitIsAnsweredWithAShortErrorUnderTheSameId() throws Exception {
    // 600 KB of metadata echoed back: over a 64 KB max.request.size, a sink failure before.
    InferenceResponse response =
        RequestParser.errorResponse("req-big", Map.of("k", "v".repeat(600_000)), "X", "m", 5L);
    ResponseEnvelope envelope =
        new ResponseEnvelope(response, List.of(RawHeader.utf8("trace", "t")));
    for (WireFormat format : List.of(WireFormat.AVRO, WireFormat.JSON)) {
      ProducerRecord<byte[], byte[]> r =
          new ResponseSerializer("out", format, 64 * 1024).serialize(envelope, null, null);
      assertArrayEquals(bytes("req-big"), r.key());
      assertTrue(r.value().length < 1024, "short error: " + r.value().length + " bytes");
      InferenceResponse back = MessageCodec.responses().decode(r.value());
      assertEquals("req-big", back.getId());
      assertEquals(ResponseStatus.ERROR, back.getStatus());
      assertEquals("RESPONSE_TOO_LARGE", back.getError().getCode());
      assertTrue(back.getMetadata().isEmpty());
      assertEquals(List.of(new RecordHeader("trace", bytes("t"))), List.of(r.headers().toArray()));
    }
    // Headers that alone fill the record are dropped too.
    ResponseEnvelope bigHeaders =
        new ResponseEnvelope(response, List.of(RawHeader.utf8("h", "x".repeat(70_000))));
    ProducerRecord<byte[], byte[]> r =
        new ResponseSerializer("out", WireFormat.JSON, 64 * 1024).serialize(bigHeaders, null, null);
    assertEquals(0, r.headers().toArray().length);
    assertEquals(
        "RESPONSE_TOO_LARGE", MessageCodec.responses().decode(r.value()).getError().getCode());
  }

  @Test
  void flinkCopiesAndSerializesTheEnvelopesWithoutLosingAnything() throws Exception {
    InferenceRequest decoded =
        MessageCodec.requests()
            .decode(
                MessageCodec.requests()
                    .encode(
                        InferenceRequest.newBuilder()
                            .setId("r")
                            .setImages(List.of(ImageInput.newBuilder().setUri("file:///a").build()))
                            .setInstruction("i")
                            .setCandidates(List.of("a"))
                            .build()));
    roundTrip(RawRecord.class, RECORD);
    roundTrip(DeadLetter.class, new DeadLetter(RECORD, "C", "m"));
    roundTrip(RequestEnvelope.class, new RequestEnvelope(decoded, RECORD.headers()));
    roundTrip(
        ResponseEnvelope.class,
        new ResponseEnvelope(
            RequestParser.errorResponse("r", Map.of("a", "b"), "C", "m", 1L), RECORD.headers()));
  }

  private static <T> void roundTrip(Class<T> type, T value) throws Exception {
    TypeSerializer<T> serializer =
        TypeInformation.of(type).createSerializer(new SerializerConfigImpl());
    assertEquals(value, serializer.copy(value));
    DataOutputSerializer out = new DataOutputSerializer(256);
    serializer.serialize(value, out);
    assertEquals(
        value,
        serializer.deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length())));
  }
}
