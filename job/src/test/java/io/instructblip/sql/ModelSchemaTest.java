package io.instructblip.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.junit.jupiter.api.Test;

/** The checks of a model's INPUT and OUTPUT columns, with the messages a SQL user sees. */
class ModelSchemaTest {
  @Test
  void inputIsImageBytesOrUriThenInstructionThenOptionalCandidates() {
    InputLayout bytes =
        InputLayout.of(
            ResolvedSchema.of(
                Column.physical("image", DataTypes.BYTES()),
                Column.physical("instruction", DataTypes.STRING())));
    assertFalse(bytes.imageIsUri());
    assertFalse(bytes.hasCandidates());
    InputLayout uris =
        InputLayout.of(
            ResolvedSchema.of(
                Column.physical("image_uri", DataTypes.STRING()),
                Column.physical("instruction", DataTypes.STRING()),
                Column.physical("candidates", DataTypes.ARRAY(DataTypes.STRING()))));
    assertTrue(uris.imageIsUri());
    assertTrue(uris.hasCandidates());

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                InputLayout.of(
                    ResolvedSchema.of(
                        Column.physical("image", DataTypes.INT()),
                        Column.physical("instruction", DataTypes.STRING()))));
    assertEquals(
        "input column image is INT; an instructblip model takes INPUT (image BYTES or image_uri"
            + " STRING, instruction STRING [, candidates ARRAY<STRING>])",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> InputLayout.of(ResolvedSchema.of(Column.physical("image", DataTypes.BYTES()))));
    assertTrue(e.getMessage().startsWith("the model has 1 input columns [image];"), e.getMessage());
  }

  @Test
  void outputColumnsAreChosenByName() {
    OutputLayout layout =
        OutputLayout.of(
            ResolvedSchema.of(
                Column.physical("STATUS", DataTypes.STRING()),
                Column.physical("text", DataTypes.STRING()),
                Column.physical("token_ids", DataTypes.ARRAY(DataTypes.INT()))));
    assertEquals(
        List.of(OutputLayout.Field.STATUS, OutputLayout.Field.TEXT, OutputLayout.Field.TOKEN_IDS),
        layout.fields());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                OutputLayout.of(ResolvedSchema.of(Column.physical("caption", DataTypes.STRING()))));
    assertTrue(
        e.getMessage()
            .startsWith(
                "output column caption is none the instructblip provider fills; use any of"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> OutputLayout.of(ResolvedSchema.of(Column.physical("text", DataTypes.INT()))));
    assertEquals("output column text has type INT, which cannot hold it", e.getMessage());
  }
}
