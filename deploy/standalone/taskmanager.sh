#!/usr/bin/env bash
# Runs one TaskManager in the foreground (exec: this PID becomes the JVM's); start as many as needed.
#   deploy/standalone/taskmanager.sh [-D taskmanager.resource-id=tm-1 ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/flink-env.sh"
mkdir -p "$FLINK_LOG_DIR"
mapfile -t params < <(flink_memory_params GET_TM_RESOURCE_PARAMS "$@")
[ "${#params[@]}" -ge 2 ] || { echo "BashJavaUtils found no TaskManager memory in $FLINK_CONF_DIR" >&2; exit 1; }
# The DJL tokenizers stay offline and on their CPU build (no download on a CUDA machine).
export DJL_OFFLINE="${DJL_OFFLINE:-true}" OPT_OUT_TRACKING="${OPT_OUT_TRACKING:-true}" RUST_FLAVOR="${RUST_FLAVOR:-cpu}"
# shellcheck disable=SC2086
exec "$JAVA_RUN" $FLINK_DEFAULT_JVM_OPTS ${params[0]} -Dai.djl.offline=true ${FLINK_ENV_JAVA_OPTS:-} \
  -Dlog.file="$FLINK_LOG_DIR/${FLINK_LOG_NAME:-taskmanager-$$}.log" \
  -Dlog4j.configurationFile="file:$FLINK_CONF_DIR/log4j.properties" \
  -cp "$(flink_classpath)" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
  --configDir "$FLINK_CONF_DIR" ${params[1]} "$@"
