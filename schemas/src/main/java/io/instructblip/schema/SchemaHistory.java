package io.instructblip.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/**
 * Every published version of a message schema, read from the classpath resources {@code
 * io/instructblip/schema/history/<Name>.v1.avsc}, {@code <Name>.v2.avsc}, ... (numbered from 1
 * without gaps). A decoder resolves a message written with any of them to the current schema.
 *
 * <p>Changing a schema means: add fields with defaults only, then add its new version as the next
 * history file (a test checks that the current schema is the newest one recorded).
 */
public final class SchemaHistory {
  static final String RESOURCE_DIR = "io/instructblip/schema/history/";

  private final String recordName;
  private final List<Schema> versions;

  private SchemaHistory(String recordName, List<Schema> versions) {
    this.recordName = recordName;
    this.versions = List.copyOf(versions);
  }

  /**
   * Loads the history of the record {@code recordName} (simple name, e.g. {@code
   * InferenceRequest}).
   *
   * @throws IllegalStateException if not even version 1 is on the classpath
   */
  public static SchemaHistory load(String recordName) {
    ClassLoader loader = SchemaHistory.class.getClassLoader();
    List<Schema> versions = new ArrayList<>();
    for (int version = 1; ; version++) {
      String resource = RESOURCE_DIR + recordName + ".v" + version + ".avsc";
      try (InputStream in = loader.getResourceAsStream(resource)) {
        if (in == null) {
          break;
        }
        versions.add(new Schema.Parser().parse(in));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read schema history resource " + resource, e);
      }
    }
    if (versions.isEmpty()) {
      throw new IllegalStateException(
          "no schema history for "
              + recordName
              + ": expected the resource "
              + RESOURCE_DIR
              + recordName
              + ".v1.avsc on the classpath");
    }
    return new SchemaHistory(recordName, versions);
  }

  /** A history from schemas at hand (oldest first), e.g. to test schema evolution. */
  static SchemaHistory of(String recordName, List<Schema> versions) {
    if (versions.isEmpty()) {
      throw new IllegalArgumentException("a schema history needs at least one version");
    }
    return new SchemaHistory(recordName, versions);
  }

  /** The simple name of the record these schemas describe. */
  public String recordName() {
    return recordName;
  }

  /** All versions, oldest (v1) first. */
  public List<Schema> versions() {
    return versions;
  }

  /** The newest recorded version. */
  public Schema latest() {
    return versions.get(versions.size() - 1);
  }

  /** A schema store that resolves the fingerprint of every recorded version. */
  public SchemaStore toSchemaStore() {
    SchemaStore.Cache store = new SchemaStore.Cache();
    versions.forEach(store::addSchema);
    return store;
  }

  /** The CRC-64-AVRO fingerprint of a schema's parsing canonical form, as in message headers. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }
}
