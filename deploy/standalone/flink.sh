#!/usr/bin/env bash
# Flink's command line client (bin/flink): run -d, list, cancel, stop --savepointPath ...
#   deploy/standalone/flink.sh run -d -D instructblip.kafka.bootstrap-servers=... job/target/cluster/instructblip-job.jar run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/flink-env.sh"
mkdir -p "$FLINK_LOG_DIR"
# shellcheck disable=SC2086
exec "$JAVA_RUN" -Xmx256m $FLINK_DEFAULT_JVM_OPTS ${FLINK_ENV_JAVA_OPTS:-} \
  -Dlog.file="$FLINK_LOG_DIR/${FLINK_LOG_NAME:-client}.log" \
  -Dlog4j.configurationFile="file:$FLINK_CONF_DIR/log4j-cli.properties" \
  -cp "$(flink_classpath)" org.apache.flink.client.cli.CliFrontend "$@"
