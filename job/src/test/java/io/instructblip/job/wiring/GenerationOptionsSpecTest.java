package io.instructblip.job.wiring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.inference.RequestPreparer;
import io.instructblip.job.cli.AnnotateCommand;
import io.instructblip.job.cli.GenerationFlags;
import io.instructblip.job.cli.InferCommand;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.parse.ParseResult;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.sql.ModelOptionsAccess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every entry point of the generation parameters reads the one specification, {@link
 * GenerationParameter}: the Avro schema has exactly its fields, the CLI flags and the SQL options
 * are made from it, and a value is refused alike on every path.
 */
class GenerationOptionsSpecTest {
  private static final Path MESSAGES_DOC = Path.of("..", "docs", "messages.md");

  /**
   * A field added to the avsc without the specification (or the reverse) fails the build here; each
   * is nullable with a null default (null: the model's default).
   */
  @Test
  void theSchemaHasExactlyTheSpecificationsFieldsInItsOrder() {
    List<String> schema = new ArrayList<>();
    for (Schema.Field f : GenerationOptions.getClassSchema().getFields()) {
      assertEquals(2, f.schema().getTypes().size(), f.name());
      Schema type = f.schema().getTypes().get(1);
      schema.add(f.name() + ":" + type.getName());
      assertEquals(Schema.Type.NULL, f.schema().getTypes().get(0).getType(), f.name());
      assertEquals(
          JsonProperties.NULL_VALUE,
          f.defaultVal(),
          f.name() + ": a generation field needs \"default\": null");
    }
    List<String> spec = new ArrayList<>();
    for (GenerationParameter p : GenerationParameter.values()) {
      spec.add(p.key() + ":" + p.type().avroName());
    }
    assertEquals(spec, schema);
  }

  /**
   * The avsc's field docs and the {@code generation.*} rows of docs/messages.md state the
   * specification's text ({@link GenerationParameter#documentation()}: description, rule, default),
   * so that neither can drift from the rules the job applies. The rows may say more after it, and
   * may set names in backticks.
   */
  @Test
  void theSchemaAndTheMessageDocsStateEveryRuleAndDefault() throws IOException {
    for (GenerationParameter p : GenerationParameter.values()) {
      Schema.Field f = GenerationOptions.getClassSchema().getField(p.key());
      assertStates("InferenceRequest.avsc GenerationOptions." + p.key() + " doc", p, f.doc());
    }
    List<String> rows = new ArrayList<>();
    for (String line : Files.readAllLines(MESSAGES_DOC)) {
      if (line.startsWith("| `generation.")) {
        String[] cells = line.substring(2, line.length() - 2).split(" \\| ");
        String key = cells[0].substring("`generation.".length(), cells[0].length() - 1);
        rows.add(key);
        GenerationParameter p = GenerationParameter.forKey(key);
        assertNotNull(p, MESSAGES_DOC + " documents generation." + key + ", not a parameter");
        assertEquals(p.type().avroName() + " or null", cells[1], MESSAGES_DOC + " type of " + key);
        assertEquals("null", cells[2], MESSAGES_DOC + " default of " + key);
        assertStates(MESSAGES_DOC + " row generation." + key, p, cells[3].replace("`", ""));
      }
    }
    assertEquals(
        Arrays.stream(GenerationParameter.values()).map(GenerationParameter::key).toList(),
        rows,
        MESSAGES_DOC + ": one generation.* row per parameter, in the specification's order");
  }

  private static void assertStates(String where, GenerationParameter p, String text) {
    String expected = p.documentation();
    assertTrue(
        text.contains(expected),
        () ->
            where
                + " must state GenerationParameter."
                + p
                + ".documentation() (the rule and default the job applies; write it there, or change"
                + " the specification)\n  expected: "
                + expected
                + "\n  in:       "
                + text);
  }

  @Test
  void theCommandsHaveOneFlagPerParameter() {
    for (Object command : List.of(new InferCommand(), new AnnotateCommand())) {
      CommandLine cli = new CommandLine(command);
      for (GenerationParameter p : GenerationParameter.values()) {
        OptionSpec option = cli.getCommandSpec().findOption(GenerationFlags.flag(p));
        assertEquals(p.type().javaType(), option.type(), p.key());
      }
    }
  }

  @Test
  void theSqlOptionsAreTheParameters() {
    List<String> keys = new ArrayList<>();
    for (GenerationParameter p : GenerationParameter.values()) {
      keys.add(p.dashedKey());
    }
    assertEquals(keys, ModelOptionsAccess.generationKeys());
  }

  @Test
  void everyParameterSurvivesTheCodecsBothWays() throws Exception {
    GenerationOverrides all =
        GenerationOverrides.builder()
            .maxNewTokens(7)
            .minNewTokens(2)
            .numBeams(1)
            .lengthPenalty(0.5)
            .repetitionPenalty(1.2)
            .doSample(true)
            .temperature(0.7)
            .topK(5)
            .topP(0.8)
            .seed(42L)
            .numReturnSequences(1)
            .build();
    for (WireFormat format : List.of(WireFormat.JSON, WireFormat.AVRO)) {
      InferenceRequest request = request(StageItems.options(all));
      byte[] bytes = MessageCodec.requests().encode(request, format);
      InferenceRequest back = MessageCodec.requests().decode(bytes);
      assertEquals(all, StageItems.overrides(back.getGeneration()), format.name());
    }
  }

  /**
   * An infinite temperature is refused with the same message whichever way it comes: a Kafka
   * request (JSON), a CLI flag, an SQL option (each resolved as the engine resolves them).
   */
  @Test
  void anInfiniteTemperatureIsRefusedAlikeOnEveryPath() throws Exception {
    String expected =
        "temperature must be a number between 0.01 and 100.0 (lower values overflow; 0.01 is all"
            + " but greedy, or set do_sample false), got Infinity";
    String json =
        "{\"id\":\"t-1\",\"images\":[{\"base64\":\"AAEC\"}],\"instruction\":\"Describe\","
            + "\"generation\":{\"do_sample\":true,\"num_beams\":1,\"temperature\":1e999}}";
    ParseResult.Rejected rejected =
        assertInstanceOf(
            ParseResult.Rejected.class,
            new RequestParser()
                .parse(
                    new RawRecord(
                        "requests", 0, 1, 7L, null, json.getBytes(StandardCharsets.UTF_8), null)));
    assertEquals(expected, rejected.errorResponse().response().getError().getMessage());

    CommandLine cli = new CommandLine(new InferCommand());
    cli.parseArgs(
        "--image", "x.png", "--do-sample", "--num-beams", "1", "--temperature", "Infinity");
    assertEquals(expected, refusal(flags(cli).overrides()));

    GenerationOverrides sql =
        ModelOptionsAccess.overrides(
            Map.of("do-sample", "true", "num-beams", "1", "temperature", "Infinity"));
    assertEquals(expected, refusal(sql));
  }

  private static GenerationFlags flags(CommandLine cli) {
    return (GenerationFlags) cli.getCommandSpec().mixins().get("generation").userObject();
  }

  private static String refusal(GenerationOverrides o) {
    return assertThrows(
            EngineException.class,
            () -> RequestPreparer.resolve(GenerationDefaults.REFERENCE, 2, o, "r"))
        .getMessage();
  }

  private static InferenceRequest request(GenerationOptions options) {
    return InferenceRequest.newBuilder()
        .setId("r")
        .setImages(
            List.of(ImageInput.newBuilder().setBytes(ByteBuffer.wrap(new byte[] {1})).build()))
        .setInstruction("Describe")
        .setGeneration(options)
        .build();
  }
}
