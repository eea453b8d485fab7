package io.instructblip.sql;

import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.generate.RankedCandidate;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * The model's {@code OUTPUT (...)} columns, each one of the {@link Field}s by its name, in any
 * order and any subset; builds the row of one answer.
 */
record OutputLayout(List<Field> fields) implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What an output column can hold (its name is the field's lower-case name). */
  enum Field {
    /** STRING: the answer; for ranking, the best candidate; null on error. */
    TEXT,
    /** STRING: {@code OK} or {@code ERROR}. */
    STATUS,
    /** STRING: the error's code (docs/messages.md), null when OK. */
    ERROR_CODE,
    /** STRING: the error's message, null when OK. */
    ERROR_MESSAGE,
    /** STRING: {@code EOS}, {@code LENGTH}, {@code RANK} or {@code ERROR}. */
    FINISH_REASON,
    /** ARRAY&lt;INT&gt;: the answer's token ids. */
    TOKEN_IDS,
    /** INT: tokens generated. */
    GENERATED_TOKENS,
    /** INT: prompt tokens. */
    PROMPT_TOKENS,
    /** ARRAY&lt;STRING&gt;: ranking: every candidate, best first. */
    RANKED_CANDIDATES;

    String columnName() {
      return name().toLowerCase(Locale.ROOT);
    }

    boolean accepts(LogicalType type) {
      return switch (this) {
        case TEXT, STATUS, ERROR_CODE, ERROR_MESSAGE, FINISH_REASON ->
            type.is(LogicalTypeFamily.CHARACTER_STRING);
        case GENERATED_TOKENS, PROMPT_TOKENS -> type.is(LogicalTypeRoot.INTEGER);
        case TOKEN_IDS, RANKED_CANDIDATES -> type.is(LogicalTypeRoot.ARRAY);
      };
    }
  }

  /** Checks {@code output}; the message lists the columns the provider can fill. */
  static OutputLayout of(ResolvedSchema output) {
    List<Field> fields = new ArrayList<>();
    for (Column column : output.getColumns()) {
      Field field = null;
      for (Field f : Field.values()) {
        if (f.columnName().equalsIgnoreCase(column.getName())) {
          field = f;
        }
      }
      if (field == null) {
        throw new IllegalArgumentException(
            "output column "
                + column.getName()
                + " is none the instructblip provider fills; use any of text STRING, status STRING,"
                + " error_code STRING, error_message STRING, finish_reason STRING, token_ids"
                + " ARRAY<INT>, generated_tokens INT, prompt_tokens INT, ranked_candidates"
                + " ARRAY<STRING>");
      }
      LogicalType type = column.getDataType().getLogicalType();
      if (!field.accepts(type)) {
        throw new IllegalArgumentException(
            "output column " + column.getName() + " has type " + type + ", which cannot hold it");
      }
      fields.add(field);
    }
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("the model has no output columns; add e.g. text STRING");
    }
    return new OutputLayout(List.copyOf(fields));
  }

  /** The output row of {@code outcome}. */
  RowData row(EngineOutcome outcome) {
    GenericRowData row = new GenericRowData(fields.size());
    for (int i = 0; i < fields.size(); i++) {
      row.setField(
          i,
          outcome instanceof EngineFailure f
              ? value(fields.get(i), f)
              : value(fields.get(i), (EngineResult) outcome));
    }
    return row;
  }

  /** A failed row: status and finish reason {@code ERROR}, the code and message, no answer. */
  private static Object value(Field field, EngineFailure f) {
    return switch (field) {
      case TEXT -> null;
      case STATUS, FINISH_REASON -> StringData.fromString("ERROR");
      case ERROR_CODE -> string(f.code().name());
      case ERROR_MESSAGE -> string(f.message());
      case TOKEN_IDS -> new GenericArrayData(new Integer[0]);
      case GENERATED_TOKENS, PROMPT_TOKENS -> 0;
      case RANKED_CANDIDATES -> new GenericArrayData(new StringData[0]);
    };
  }

  private static Object value(Field field, EngineResult r) {
    return switch (field) {
      case TEXT -> string(r.text());
      case STATUS -> StringData.fromString("OK");
      case ERROR_CODE, ERROR_MESSAGE -> null;
      case FINISH_REASON -> string(r.finishReason().name());
      case TOKEN_IDS -> new GenericArrayData(r.tokenIds().toArray(new Integer[0]));
      case GENERATED_TOKENS -> r.generatedTokens();
      case PROMPT_TOKENS -> r.promptTokens();
      case RANKED_CANDIDATES -> {
        List<RankedCandidate> candidates = r.candidates();
        StringData[] texts = new StringData[candidates.size()];
        for (int i = 0; i < texts.length; i++) {
          texts[i] = StringData.fromString(candidates.get(i).text());
        }
        yield new GenericArrayData(texts);
      }
    };
  }

  private static StringData string(String value) {
    return value == null ? null : StringData.fromString(value);
  }
}
