package io.instructblip.sql;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * What the model's {@code INPUT (...)} columns are, in the order of {@code DESCRIPTOR(...)}: the
 * image (bytes, or a URI string), the instruction (string), and optionally the candidates to rank
 * ({@code ARRAY<STRING>}; a row with candidates is ranked, one without generates).
 *
 * @param imageIsUri whether the image column holds URIs rather than image bytes
 * @param hasCandidates whether there is a third, candidates column
 */
record InputLayout(boolean imageIsUri, boolean hasCandidates) implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Checks {@code input}; the message says what the model's INPUT clause should look like. */
  static InputLayout of(ResolvedSchema input) {
    List<Column> columns = input.getColumns();
    String expected =
        "; an instructblip model takes INPUT (image BYTES or image_uri STRING, instruction STRING"
            + " [, candidates ARRAY<STRING>])";
    if (columns.size() < 2 || columns.size() > 3) {
      throw new IllegalArgumentException(
          "the model has " + columns.size() + " input columns " + names(columns) + expected);
    }
    LogicalType image = columns.get(0).getDataType().getLogicalType();
    boolean uri;
    if (image.is(LogicalTypeFamily.BINARY_STRING)) {
      uri = false;
    } else if (image.is(LogicalTypeFamily.CHARACTER_STRING)) {
      uri = true;
    } else {
      throw new IllegalArgumentException(
          "input column " + columns.get(0).getName() + " is " + image + expected);
    }
    if (!columns.get(1).getDataType().getLogicalType().is(LogicalTypeFamily.CHARACTER_STRING)) {
      throw new IllegalArgumentException(
          "input column "
              + columns.get(1).getName()
              + " is "
              + columns.get(1).getDataType().getLogicalType()
              + expected);
    }
    if (columns.size() == 3) {
      LogicalType candidates = columns.get(2).getDataType().getLogicalType();
      if (!candidates.is(LogicalTypeRoot.ARRAY)
          || !((ArrayType) candidates).getElementType().is(LogicalTypeFamily.CHARACTER_STRING)) {
        throw new IllegalArgumentException(
            "input column " + columns.get(2).getName() + " is " + candidates + expected);
      }
    }
    return new InputLayout(uri, columns.size() == 3);
  }

  private static List<String> names(List<Column> columns) {
    List<String> names = new ArrayList<>();
    columns.forEach(c -> names.add(c.getName()));
    return names;
  }

  /** The image bytes of {@code row}, or null (absent, or the image column holds URIs). */
  byte[] imageBytes(RowData row) {
    return imageIsUri || row.isNullAt(0) ? null : row.getBinary(0);
  }

  /** The image URI of {@code row}, or null. */
  String imageUri(RowData row) {
    return !imageIsUri || row.isNullAt(0) ? null : row.getString(0).toString();
  }

  /** The instruction of {@code row}, or null. */
  String instruction(RowData row) {
    return row.isNullAt(1) ? null : row.getString(1).toString();
  }

  /** The candidates of {@code row}; empty without a candidates column or value. */
  List<String> candidates(RowData row) {
    if (!hasCandidates || row.isNullAt(2)) {
      return List.of();
    }
    ArrayData array = row.getArray(2);
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      out.add(array.isNullAt(i) ? "" : array.getString(i).toString());
    }
    return out;
  }
}
