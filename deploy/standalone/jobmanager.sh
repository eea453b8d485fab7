#!/usr/bin/env bash
# Runs a Flink session cluster's JobManager in the foreground (exec: this PID becomes the JVM's).
#   deploy/standalone/jobmanager.sh [-D key=value ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/flink-env.sh"
mkdir -p "$FLINK_LOG_DIR"
mapfile -t params < <(flink_memory_params GET_JM_RESOURCE_PARAMS "$@")
[ "${#params[@]}" -ge 1 ] || { echo "BashJavaUtils found no JobManager memory in $FLINK_CONF_DIR" >&2; exit 1; }
# shellcheck disable=SC2086
exec "$JAVA_RUN" $FLINK_DEFAULT_JVM_OPTS ${params[0]} ${FLINK_ENV_JAVA_OPTS:-} \
  -Dlog.file="$FLINK_LOG_DIR/${FLINK_LOG_NAME:-jobmanager}.log" \
  -Dlog4j.configurationFile="file:$FLINK_CONF_DIR/log4j.properties" \
  -cp "$(flink_classpath)" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
  --configDir "$FLINK_CONF_DIR" ${params[1]:-} "$@"
