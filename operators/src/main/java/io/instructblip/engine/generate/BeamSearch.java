package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search with {@code K = num_beams} rows, as docs/model-format.md says (the HF algorithm with
 * {@code early_stopping=False}).
 *
 * <p>Per step, each beam's scores are {@code log_softmax(logits)} (float32), then the processor
 * chain (repetition penalty on the beam's own ids, min new tokens), plus the beam's running sum.
 * The best {@code max(2, 1 + #eos) * K} (= {@code 2K} with one EOS id) of the {@code K x V}
 * flattened scores, ties to the lower flat index, are walked best first: an EOS within the first
 * {@code K} ranks becomes a finished hypothesis of length {@code n} = generated tokens including
 * the EOS; an EOS further down is ignored; the other candidates fill the {@code K} beams of the
 * next step.
 *
 * <p>Before the first step only the prefill row exists; it stands for the {@code K} identical
 * initial beams, beam 0 with sum 0 and the others with {@code -1e9}, so the first step takes {@code
 * [1][V]} logits and every new beam's parent is row 0.
 *
 * <p>Done when {@link BeamHypotheses#isDone} holds for the best running beam at the new generated
 * count, or at {@code max_new_tokens}, when the running beams join the finished ones (reason {@link
 * FinishReason#LENGTH}, normalized by their length).
 */
public final class BeamSearch implements Search {
  /** The running sum of the initial copies of beam 0 (HF). */
  static final float INITIAL_OTHER_BEAM_SUM = -1e9f;

  private final GenerationParams params;
  private final LogitsProcessorChain chain;
  private final int numBeams;
  private final int candidatesPerStep;
  private final BeamHypotheses finished;

  private TokenHistory[] histories;
  private float[] sums;
  private int[] nextTokens = new int[0];
  private int[] parentRows = new int[0];
  private boolean beforeFirstStep = true;
  private int generated;
  private int vocab;
  private boolean done;

  public BeamSearch(GenerationParams params, int... decoderPrefix) {
    this.params = params;
    this.chain = LogitsProcessorChain.forParams(params);
    this.numBeams = params.numBeams();
    this.candidatesPerStep = Math.max(2, 1 + params.eosTokenIds().size()) * numBeams;
    this.finished = new BeamHypotheses(numBeams, params.lengthPenalty());
    this.histories = new TokenHistory[] {TokenHistory.startingWith(decoderPrefix)};
    this.sums = new float[] {0f};
  }

  @Override
  public int rows() {
    return done ? 0 : histories.length;
  }

  @Override
  public void step(float[][] logits) {
    int v = SearchChecks.vocabSize(logits, rows(), vocab, done);
    if (vocab == 0) {
      SearchChecks.idsWithinVocab(histories[0], params, v);
      vocab = v;
    }
    int beams = beforeFirstStep ? numBeams : histories.length;
    TopCandidates top = new TopCandidates((int) Math.min(candidatesPerStep, (long) beams * v));
    float[] shared = null;
    for (int b = 0; b < beams; b++) {
      float[] scores;
      if (beforeFirstStep) {
        if (shared == null) {
          shared = processed(logits[0], histories[0]);
        }
        scores = shared;
      } else {
        scores = processed(logits[b], histories[b]);
      }
      float sum = beforeFirstStep ? (b == 0 ? 0f : INITIAL_OTHER_BEAM_SUM) : sums[b];
      int base = b * v;
      for (int t = 0; t < v; t++) {
        top.offer(scores[t] + sum, base + t);
      }
    }

    int newGenerated = generated + 1;
    List<TokenHistory> nextHistories = new ArrayList<>(numBeams);
    float[] nextSums = new float[numBeams];
    int[] tokens = new int[numBeams];
    int[] parents = new int[numBeams];
    for (int rank = 0; rank < top.size() && nextHistories.size() < numBeams; rank++) {
      int flat = top.index(rank);
      int beam = flat / v;
      int token = flat % v;
      float score = top.score(rank);
      int parent = beforeFirstStep ? 0 : beam;
      if (params.isEos(token)) {
        if (rank < numBeams) {
          finished.add(histories[parent].generatedIds(), score, newGenerated, FinishReason.EOS);
        }
        continue;
      }
      int slot = nextHistories.size();
      nextHistories.add(histories[parent].append(token));
      nextSums[slot] = score;
      tokens[slot] = token;
      parents[slot] = parent;
    }
    int live = nextHistories.size();
    histories = nextHistories.toArray(new TokenHistory[0]);
    sums = Arrays.copyOf(nextSums, live);
    nextTokens = Arrays.copyOf(tokens, live);
    parentRows = Arrays.copyOf(parents, live);
    generated = newGenerated;
    beforeFirstStep = false;

    if (live == 0) {
      finish();
    } else if (generated >= params.maxNewTokens()) {
      for (int i = 0; i < live; i++) {
        finished.add(histories[i].generatedIds(), sums[i], generated, FinishReason.LENGTH);
      }
      finish();
    } else if (finished.isDone(sums[0], generated)) {
      finish();
    }
  }

  private float[] processed(float[] logits, TokenHistory history) {
    float[] scores = LogProbs.logSoftmax(logits);
    chain.process(scores, history);
    return scores;
  }

  private void finish() {
    done = true;
    nextTokens = new int[0];
    parentRows = new int[0];
  }

  @Override
  public int[] nextTokens() {
    return nextTokens.clone();
  }

  @Override
  public int[] parentRows() {
    return parentRows.clone();
  }

  @Override
  public boolean isDone() {
    return done;
  }

  @Override
  public SearchResult result() {
    List<SearchResult> all = results();
    if (all.isEmpty()) {
      throw new EngineException(ErrorCode.INTERNAL, "beam search finished without a hypothesis");
    }
    return all.get(0);
  }

  @Override
  public List<SearchResult> results() {
    if (!done) {
      throw SearchChecks.notDone();
    }
    List<SearchResult> out = new ArrayList<>();
    for (BeamHypotheses.Hypothesis h : finished.bestFirst()) {
      if (out.size() == params.numReturnSequences()) {
        break;
      }
      out.add(SearchResult.of(h.tokenIds(), h.finishReason(), h.score()));
    }
    return out;
  }

  @Override
  public int generatedCount() {
    return generated;
  }

  /** The running sums of the live beams (for tests and metrics). */
  float[] runningSums() {
    return sums.clone();
  }

  /** The finished hypotheses so far. */
  BeamHypotheses finishedHypotheses() {
    return finished;
  }
}
