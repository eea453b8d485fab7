/**
 * InstructBLIP as a Flink SQL model: {@code CREATE MODEL ... WITH ('provider' = 'instructblip')}
 * and {@code ML_PREDICT} (docs/sql.md). Compiles against {@code flink-table-common} only, which the
 * cluster and the SQL client provide.
 */
package io.instructblip.sql;
