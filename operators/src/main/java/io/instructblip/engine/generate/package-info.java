/**
 * Generation on plain arrays, no model: parameters ({@link
 * io.instructblip.engine.generate.GenerationParams}), logits processors ({@link
 * io.instructblip.engine.generate.LogitsProcessorChain}), the per-request search chosen at
 * admission ({@link io.instructblip.engine.generate.Search}: greedy, sampling, beam search),
 * ranking by teacher-forced log-likelihood ({@link io.instructblip.engine.generate.Ranking}) and
 * the continuous-batching bookkeeping of the LLM stage ({@link
 * io.instructblip.engine.generate.ContinuousBatchScheduler}).
 *
 * <p>The semantics are those of docs/model-format.md ("Generation semantics", "Ranking"); {@code
 * ReferenceSearchesTest} checks them token for token against the Python reference.
 *
 * <p>Typical loop of the LLM stage for one sequence:
 *
 * <pre>{@code
 * Search search = Search.create(params, decoderPrefix);   // decoder_start for encoder_decoder
 * float[][] logits = prefill(...);                          // [1][V], last prompt position
 * while (true) {
 *   search.step(logits);
 *   if (search.isDone()) break;
 *   reorderKv(search.parentRows());                         // beams: rows follow their parents
 *   logits = decode(search.nextTokens());                   // [search.rows()][V]
 * }
 * SearchResult answer = search.result();
 * }</pre>
 */
package io.instructblip.engine.generate;
