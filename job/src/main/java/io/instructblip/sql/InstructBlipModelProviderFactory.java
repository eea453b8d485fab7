package io.instructblip.sql;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;

/**
 * The {@code instructblip} model provider for Flink SQL (found through Java's service loader):
 *
 * <pre>{@code
 * CREATE MODEL captioner
 *   INPUT (image BYTES, instruction STRING)
 *   OUTPUT (text STRING, status STRING, error_code STRING)
 *   WITH ('provider' = 'instructblip', 'model.dir' = '/models/instructblip-vicuna-7b');
 * SELECT * FROM ML_PREDICT(TABLE images, MODEL captioner, DESCRIPTOR(image, instruction));
 * }</pre>
 *
 * The input and output columns are checked here, at planning time ({@link InputLayout}, {@link
 * OutputLayout}); the options are {@link ModelOptions}. Asynchronous only.
 */
public final class InstructBlipModelProviderFactory implements ModelProviderFactory {
  /** The {@code 'provider'} value. */
  public static final String IDENTIFIER = "instructblip";

  @Override
  public String factoryIdentifier() {
    return IDENTIFIER;
  }

  @Override
  public Set<ConfigOption<?>> requiredOptions() {
    return Set.of(ModelOptions.MODEL_DIR);
  }

  @Override
  public Set<ConfigOption<?>> optionalOptions() {
    Set<ConfigOption<?>> options = new LinkedHashSet<>();
    options.add(ModelOptions.DEVICE);
    options.add(ModelOptions.INTRA_OP_THREADS);
    options.add(ModelOptions.MAX_BATCH_ROWS);
    options.add(ModelOptions.MAX_BATCH_WAIT);
    options.add(ModelOptions.ALLOWED_FILE_ROOTS);
    options.addAll(ModelOptions.GENERATION.values());
    return options;
  }

  @Override
  public ModelProvider createModelProvider(Context context) {
    FactoryUtil.ModelProviderFactoryHelper helper =
        FactoryUtil.createModelProviderFactoryHelper(this, context);
    helper.validate();
    ReadableConfig options = helper.getOptions();
    String modelDir = options.get(ModelOptions.MODEL_DIR);
    if (modelDir.isBlank()) {
      throw new IllegalArgumentException("'model.dir' is blank; give the model directory");
    }
    int maxRows = options.get(ModelOptions.MAX_BATCH_ROWS);
    if (maxRows < 1) {
      throw new IllegalArgumentException("'max-batch-rows' must be at least 1, got " + maxRows);
    }
    ResolvedCatalogModel model = context.getCatalogModel();
    EngineKey key =
        new EngineKey(
            modelDir,
            options.get(ModelOptions.DEVICE),
            options.get(ModelOptions.INTRA_OP_THREADS),
            maxRows,
            options.get(ModelOptions.MAX_BATCH_WAIT).toMillis());
    return new Provider(
        key,
        InputLayout.of(model.getResolvedInputSchema()),
        OutputLayout.of(model.getResolvedOutputSchema()),
        generationOptions(options),
        options.get(ModelOptions.ALLOWED_FILE_ROOTS));
  }

  /** The generation options set in {@code config}, as a serializable configuration. */
  static Configuration generationOptions(ReadableConfig config) {
    Configuration out = new Configuration();
    if (config != null) {
      for (ConfigOption<?> option : ModelOptions.GENERATION.values()) {
        copy(option, config, out);
      }
    }
    return out;
  }

  private static <T> void copy(ConfigOption<T> option, ReadableConfig from, Configuration to) {
    from.getOptional(option).ifPresent(value -> to.set(option, value));
  }

  /** Creates the predict function of one {@code ML_PREDICT} call, with its CONFIG. */
  static final class Provider implements AsyncPredictRuntimeProvider {
    private final EngineKey key;
    private final InputLayout input;
    private final OutputLayout output;
    private final Configuration modelOptions;
    private final List<String> allowedFileRoots;

    Provider(
        EngineKey key,
        InputLayout input,
        OutputLayout output,
        Configuration modelOptions,
        List<String> allowedFileRoots) {
      this.key = key;
      this.input = input;
      this.output = output;
      this.modelOptions = modelOptions;
      this.allowedFileRoots = allowedFileRoots;
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
      return new InstructBlipPredictFunction(
          key,
          input,
          output,
          modelOptions,
          generationOptions(context.runtimeConfig()),
          allowedFileRoots);
    }

    @Override
    public ModelProvider copy() {
      return new Provider(key, input, output, modelOptions, allowedFileRoots);
    }
  }
}
