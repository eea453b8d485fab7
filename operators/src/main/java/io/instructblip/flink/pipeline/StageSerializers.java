package io.instructblip.flink.pipeline;

import java.io.IOException;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializers and type information for {@link StageItem} and {@link StageAnswer}: explicit
 * binary layouts ({@link StageWire}), no Kryo. Both types are immutable, so Flink passes them
 * between chained operators without copying.
 */
public final class StageSerializers {
  private StageSerializers() {}

  /** Type information of {@link StageItem}. */
  public static final TypeInformation<StageItem> ITEM =
      new StageTypeInfo<>(StageItem.class, ItemSerializer.INSTANCE);

  /** Type information of {@link StageAnswer}. */
  public static final TypeInformation<StageAnswer> ANSWER =
      new StageTypeInfo<>(StageAnswer.class, AnswerSerializer.INSTANCE);

  /** Serializer of {@link StageItem}. */
  public static final class ItemSerializer extends ImmutableSerializer<StageItem> {
    private static final long serialVersionUID = 1L;
    public static final ItemSerializer INSTANCE = new ItemSerializer();

    @Override
    public void serialize(StageItem record, DataOutputView target) throws IOException {
      StageWire.writeItem(record, target);
    }

    @Override
    public StageItem deserialize(DataInputView source) throws IOException {
      return StageWire.readItem(source);
    }

    @Override
    public TypeSerializerSnapshot<StageItem> snapshotConfiguration() {
      return new ItemSnapshot();
    }
  }

  /** Serializer of {@link StageAnswer}. */
  public static final class AnswerSerializer extends ImmutableSerializer<StageAnswer> {
    private static final long serialVersionUID = 1L;
    public static final AnswerSerializer INSTANCE = new AnswerSerializer();

    @Override
    public void serialize(StageAnswer record, DataOutputView target) throws IOException {
      StageWire.writeAnswer(record, target);
    }

    @Override
    public StageAnswer deserialize(DataInputView source) throws IOException {
      return StageWire.readAnswer(source);
    }

    @Override
    public TypeSerializerSnapshot<StageAnswer> snapshotConfiguration() {
      return new AnswerSnapshot();
    }
  }

  /** Snapshot of {@link ItemSerializer} (for savepoint compatibility). */
  public static final class ItemSnapshot extends SimpleTypeSerializerSnapshot<StageItem> {
    public ItemSnapshot() {
      super(() -> ItemSerializer.INSTANCE);
    }
  }

  /** Snapshot of {@link AnswerSerializer} (for savepoint compatibility). */
  public static final class AnswerSnapshot extends SimpleTypeSerializerSnapshot<StageAnswer> {
    public AnswerSnapshot() {
      super(() -> AnswerSerializer.INSTANCE);
    }
  }

  /** The parts every serializer of an immutable, variable-length type shares. */
  abstract static class ImmutableSerializer<T> extends TypeSerializerSingleton<T> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
      return true;
    }

    @Override
    public T createInstance() {
      return null;
    }

    @Override
    public T copy(T from) {
      return from;
    }

    @Override
    public T copy(T from, T reuse) {
      return from;
    }

    @Override
    public int getLength() {
      return -1;
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
      return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
      serialize(deserialize(source), target);
    }
  }

  /** Type information backed by one of the serializers above. */
  static final class StageTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;
    private final TypeSerializer<T> serializer;

    StageTypeInfo(Class<T> type, TypeSerializer<T> serializer) {
      this.type = type;
      this.serializer = serializer;
    }

    @Override
    public boolean isBasicType() {
      return false;
    }

    @Override
    public boolean isTupleType() {
      return false;
    }

    @Override
    public int getArity() {
      return 1;
    }

    @Override
    public int getTotalFields() {
      return 1;
    }

    @Override
    public Class<T> getTypeClass() {
      return type;
    }

    @Override
    public boolean isKeyType() {
      return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
      return serializer;
    }

    @Override
    public String toString() {
      return type.getSimpleName();
    }

    @Override
    public boolean equals(Object obj) {
      return obj instanceof StageTypeInfo<?> other && other.type == type;
    }

    @Override
    public int hashCode() {
      return type.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
      return obj instanceof StageTypeInfo;
    }
  }
}
