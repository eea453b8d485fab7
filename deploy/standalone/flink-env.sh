# Sourced by the scripts in this folder: the classpath and JVM options of a Flink 2.2 JVM, as a Flink
# distribution's bin/config.sh builds them, for a cluster assembled from Maven Central jars.
#   FLINK_RUNTIME_LIB  Flink's own jars (default: target/flink-lib here, from `mvn -pl deploy/standalone package`)
#   FLINK_USER_LIB     what goes into Flink's lib/ for this job (default: job/target/cluster/lib)
#   FLINK_CONF_DIR     config.yaml and log4j.properties (default: conf/ here)
#   FLINK_LOG_DIR      log files (default: target/log here)
#   FLINK_ENV_JAVA_OPTS  extra JVM options (e.g. -Djava.io.tmpdir=...)
STANDALONE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$STANDALONE_DIR/../.." && pwd)"
FLINK_RUNTIME_LIB="${FLINK_RUNTIME_LIB:-$STANDALONE_DIR/target/flink-lib}"
FLINK_USER_LIB="${FLINK_USER_LIB:-$REPO_DIR/job/target/cluster/lib}"
FLINK_CONF_DIR="${FLINK_CONF_DIR:-$STANDALONE_DIR/conf}"
FLINK_LOG_DIR="${FLINK_LOG_DIR:-$STANDALONE_DIR/target/log}"
JAVA_RUN="${JAVA_HOME:+$JAVA_HOME/bin/}java"
export FLINK_CONF_DIR

# Flink's default env.java.default-opts.all (the distribution's config.yaml): without them the client fails
# with InaccessibleObjectException on java.util, and Kryo/serializers on others.
FLINK_DEFAULT_JVM_OPTS="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"

# lib/ jars sorted, then Flink's own jars: the order of bin/config.sh (constructFlinkClassPath).
flink_classpath() {
  local cp="" jar
  for dir in "$FLINK_USER_LIB" "$FLINK_RUNTIME_LIB"; do
    if [ ! -d "$dir" ]; then
      echo "missing $dir: build with mvn -B -ntp package -DskipTests (see deploy/README.md)" >&2
      return 1
    fi
    for jar in $(find "$dir" -maxdepth 1 -name '*.jar' | LC_ALL=C sort); do
      cp="$cp${cp:+:}$jar"
    done
  done
  echo "$cp"
}

# The JVM memory flags (line 1) and dynamic -D properties (line 2) Flink derives from config.yaml:
# flink_memory_params GET_TM_RESOURCE_PARAMS|GET_JM_RESOURCE_PARAMS [-D key=value ...]
flink_memory_params() {
  local what="$1"; shift
  "$JAVA_RUN" -Xmx128m -cp "$(flink_classpath)" org.apache.flink.runtime.util.bash.BashJavaUtils \
    "$what" --configDir "$FLINK_CONF_DIR" "$@" 2>/dev/null \
    | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}
