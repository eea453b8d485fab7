package io.instructblip.engine.generate;

/**
 * The part that greedy search and sampling share: one row, the processor chain, stopping at EOS or
 * {@code max_new_tokens}. Subclasses only choose the token from the processed logits.
 */
abstract class SingleRowSearch implements Search {
  private static final int[] NONE = new int[0];
  private static final int[] ROW_ZERO = {0};

  private final GenerationParams params;
  private final LogitsProcessorChain chain;
  private TokenHistory history;
  private int vocab;
  private double sumLogprob;
  private int lastToken = -1;
  private SearchResult result;

  SingleRowSearch(GenerationParams params, int[] decoderPrefix) {
    this.params = params;
    this.chain = LogitsProcessorChain.forParams(params);
    this.history = TokenHistory.startingWith(decoderPrefix);
  }

  /** Chooses the next token from the processed scores of the row. */
  abstract int choose(float[] processed);

  @Override
  public final int rows() {
    return result == null ? 1 : 0;
  }

  @Override
  public final void step(float[][] logits) {
    int v = SearchChecks.vocabSize(logits, rows(), vocab, isDone());
    if (vocab == 0) {
      SearchChecks.idsWithinVocab(history, params, v);
      vocab = v;
    }
    float[] raw = logits[0];
    float[] processed = raw.clone();
    chain.process(processed, history);
    int token = choose(processed);
    sumLogprob += LogProbs.logProbOf(raw, 0, raw.length, token);
    if (params.isEos(token)) {
      result = SearchResult.of(history.generatedIds(), FinishReason.EOS, sumLogprob);
      return;
    }
    history = history.append(token);
    lastToken = token;
    if (history.generatedCount() >= params.maxNewTokens()) {
      result = SearchResult.of(history.generatedIds(), FinishReason.LENGTH, sumLogprob);
    }
  }

  @Override
  public final int[] nextTokens() {
    return result == null && lastToken >= 0 ? new int[] {lastToken} : NONE;
  }

  @Override
  public final int[] parentRows() {
    return result == null && lastToken >= 0 ? ROW_ZERO.clone() : NONE;
  }

  @Override
  public final boolean isDone() {
    return result != null;
  }

  @Override
  public final SearchResult result() {
    if (result == null) {
      throw SearchChecks.notDone();
    }
    return result;
  }

  @Override
  public final int generatedCount() {
    return history.generatedCount();
  }

  /** The row's ids so far. */
  final TokenHistory history() {
    return history;
  }
}
