#!/usr/bin/env bash
# Local single-node Apache Kafka broker for development and tests.
#
#   bash scripts/kafka/kafka.sh up|down|status|reset|logs
#   npm run kafka:up / npm run kafka:down
#
# No Docker and no Kafka tarball: the broker's jars come from Maven Central via
# scripts/kafka/pom.xml (first run only, cached under .cache/kafka/<version>/lib)
# and run on the machine's JDK (JAVA_HOME or `java` on PATH) in KRaft mode as a
# combined broker+controller listening on 127.0.0.1 only.
#
# Environment (all optional):
#   KAFKA_VERSION           Kafka release to run (default below; see README.md)
#   KAFKA_PORT              client listener port (default 19092)
#   KAFKA_CONTROLLER_PORT   KRaft controller port (default KAFKA_PORT + 1)
#   KAFKA_DATA_DIR          data dir (default .cache/kafka/data; a relative path
#                           is taken relative to the repository root)
#   KAFKA_HEAP_OPTS         JVM heap flags (default "-Xms128m -Xmx512m")
#   KAFKA_JVM_OPTS          extra JVM flags appended to the defaults
#   KAFKA_START_TIMEOUT     seconds to wait for the broker to answer (default 90)
#   KAFKA_STOP_TIMEOUT      seconds between SIGTERM and SIGKILL (default 30)
#   KAFKA_MVN_ARGS          extra Maven arguments for the one-time download,
#                           e.g. "-Dmaven.repo.local=/tmp/m2"
#
# Extra client listeners (TLS, SASL; all unset by default: one PLAINTEXT listener):
#   KAFKA_EXTRA_LISTENERS     comma-separated NAME://HOST:PORT, added to listeners and
#                             advertised.listeners, e.g. "SSL://127.0.0.1:39094"
#   KAFKA_EXTRA_PROTOCOL_MAP  comma-separated NAME:PROTOCOL for extra listener names that
#                             are not a security protocol themselves, e.g. "MTLS:SSL"
#   KAFKA_EXTRA_PROPERTIES    a file appended to server.properties on every `up`
#                             (ssl.*, sasl.*, listener.name.<name>.* settings)
#   KAFKA_SCRAM_USERS         SCRAM credentials written when the storage is formatted,
#                             separated by spaces or ";", e.g.
#                             "SCRAM-SHA-256=[name=alice,password=alice-secret]"
set -Eeuo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)

# Newest Kafka on Maven Central that kafkajs 2.2.4 was verified against
# (README.md has the evidence). Keep in sync with <kafka.version> in pom.xml.
DEFAULT_KAFKA_VERSION=4.4.0

KAFKA_VERSION=${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}
KAFKA_HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-.cache/kafka/data}
case $KAFKA_DATA_DIR in /*) ;; *) KAFKA_DATA_DIR=$REPO_ROOT/$KAFKA_DATA_DIR ;; esac
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_MVN_ARGS=${KAFKA_MVN_ARGS:-}
KAFKA_EXTRA_LISTENERS=${KAFKA_EXTRA_LISTENERS:-}
KAFKA_EXTRA_PROTOCOL_MAP=${KAFKA_EXTRA_PROTOCOL_MAP:-}
KAFKA_EXTRA_PROPERTIES=${KAFKA_EXTRA_PROPERTIES:-}
KAFKA_SCRAM_USERS=${KAFKA_SCRAM_USERS:-}

CACHE_ROOT=$REPO_ROOT/.cache/kafka
VERSION_DIR=$CACHE_ROOT/$KAFKA_VERSION
LIB_DIR=$VERSION_DIR/lib

CONFIG_FILE=$KAFKA_DATA_DIR/server.properties
LOG_DIRS=$KAFKA_DATA_DIR/kraft
APP_LOG_DIR=$KAFKA_DATA_DIR/logs
OUT_FILE=$KAFKA_DATA_DIR/kafka.out
PID_FILE=$KAFKA_DATA_DIR/kafka.pid
STATE_FILE=$KAFKA_DATA_DIR/.varstream-kafka
BOOTSTRAP=$KAFKA_HOST:$KAFKA_PORT

info() { printf 'kafka: %s\n' "$*"; }
warn() { printf 'kafka: warning: %s\n' "$*" >&2; }
die() {
  printf 'kafka: error: %s\n' "$*" >&2
  exit 1
}

now_ms() { date +%s%3N; }
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# version_ge A B: true when dotted version A >= B (numeric parts only).
version_ge() {
  local IFS=.
  local -a a=(${1%%[-+]*}) b=(${2%%[-+]*})
  local i
  for i in 0 1 2; do
    local x=${a[i]:-0} y=${b[i]:-0}
    ((10#$x > 10#$y)) && return 0
    ((10#$x < 10#$y)) && return 1
  done
  return 0
}

# ---------------------------------------------------------------- tools ----

find_java() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    JAVA=$JAVA_HOME/bin/java
  elif command -v java >/dev/null 2>&1; then
    JAVA=$(command -v java)
  else
    die "no Java found: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
  fi
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ { print $2; exit }')
  spec=${spec#1.}
  local need=11
  version_ge "$KAFKA_VERSION" 4.0 && need=17
  if [[ -z $spec ]] || ((${spec%%.*} < need)); then
    die "Kafka $KAFKA_VERSION needs Java $need+, but $JAVA is Java ${spec:-unknown}"
  fi
}

find_node() {
  NODE=
  if [[ -x $REPO_ROOT/node_modules/.bin/node ]]; then
    NODE=$REPO_ROOT/node_modules/.bin/node
  elif command -v node >/dev/null 2>&1; then
    NODE=$(command -v node)
  fi
}

# with_lock FILE CMD...: run CMD while holding an exclusive flock on FILE, so
# concurrent `up`s (parallel test jobs) do not download or start twice.
with_lock() {
  local lock=$1
  shift
  mkdir -p "$(dirname "$lock")"
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w 600 9 || die "could not lock $lock within 600 s"
      "$@"
    ) 9>"$lock"
  else
    "$@"
  fi
}

# ------------------------------------------------------ jars from Maven ----

# The cache is complete when the marker exists; it is written last, after Maven
# succeeded, and the lib dir is moved into place atomically.
ensure_lib() {
  [[ -f $LIB_DIR/.complete ]] && return 0
  mkdir -p "$CACHE_ROOT"
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w 900 8 || die "could not lock the download of Kafka $KAFKA_VERSION within 900 s"
      download_lib
    ) 8>"$CACHE_ROOT/.download-$KAFKA_VERSION.lock"
  else
    download_lib
  fi
}

download_lib() {
  [[ -f $LIB_DIR/.complete ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed once to download Kafka $KAFKA_VERSION: apt-get install maven"
  local t0 tmp mvn_log rc=0
  t0=$(now_ms)
  info "downloading Apache Kafka $KAFKA_VERSION and its dependencies from Maven Central (first run only)..."
  mkdir -p "$VERSION_DIR"
  tmp=$(mktemp -d "$VERSION_DIR/lib.tmp.XXXXXX")
  mvn_log=$VERSION_DIR/maven.log
  # -q keeps Maven silent unless something fails; Debian's Maven 3.8.7 still
  # prints stray ANSI resets (ESC[0m) even with -B -q, so its output goes to a
  # log and is shown (without escapes) only on failure.
  # shellcheck disable=SC2086 # KAFKA_MVN_ARGS is a word list on purpose
  mvn -B -q -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
    $KAFKA_MVN_ARGS >"$mvn_log" 2>&1 </dev/null || rc=$?
  if ((rc != 0)); then
    sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' "$mvn_log" >&2
    rm -rf "$tmp"
    die "Maven could not download Kafka $KAFKA_VERSION (exit $rc); full log: $mvn_log"
  fi
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || {
    rm -rf "$tmp"
    die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing from the copied dependencies"
  }
  touch "$tmp/.complete"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  info "cached $(find "$LIB_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1)) in ${LIB_DIR#"$REPO_ROOT"/} in $(elapsed "$t0") s"
}

# ------------------------------------------------------ broker config ----

# ------------------------------------------------ extra listeners ----

# The built-in client listener is PLAINTEXT on 127.0.0.1:KAFKA_PORT; inter-broker
# traffic, the readiness probe (ready.mjs) and the controller keep using it and
# CONTROLLER. KAFKA_EXTRA_LISTENERS adds client listeners (TLS, SASL) next to it;
# their ssl.* / sasl.* settings come from the KAFKA_EXTRA_PROPERTIES file. With
# none of these set, server.properties is exactly what it always was.
EXTRA_LISTENERS=""
EXTRA_ADVERTISED_LISTENERS=""
EXTRA_PROTOCOL_MAP=""
EXTRA_ENDPOINTS=()

# parse_extra_listeners: validate the KAFKA_EXTRA_* variables and fill the above.
parse_extra_listeners() {
  EXTRA_LISTENERS="" EXTRA_ADVERTISED_LISTENERS="" EXTRA_PROTOCOL_MAP="" EXTRA_ENDPOINTS=()
  local -A protocol_of=() seen=()
  local -a items=()
  local item name
  IFS=', ' read -ra items <<<"$KAFKA_EXTRA_PROTOCOL_MAP"
  for item in "${items[@]}"; do
    [[ -n $item ]] || continue
    [[ $item =~ ^([A-Za-z][A-Za-z0-9_]*):(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$ ]] ||
      die "KAFKA_EXTRA_PROTOCOL_MAP: expected NAME:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; got '$item'"
    name=${BASH_REMATCH[1]^^}
    protocol_of[$name]=${BASH_REMATCH[2]}
  done
  IFS=', ' read -ra items <<<"$KAFKA_EXTRA_LISTENERS"
  for item in "${items[@]}"; do
    [[ -n $item ]] || continue
    [[ $item =~ ^([A-Za-z][A-Za-z0-9_]*)://([A-Za-z0-9.-]+):([0-9]{1,5})$ ]] ||
      die "KAFKA_EXTRA_LISTENERS: expected NAME://HOST:PORT, e.g. SSL://127.0.0.1:39094; got '$item'"
    name=${BASH_REMATCH[1]^^}
    local host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]} protocol
    case $name in
      PLAINTEXT | CONTROLLER) die "KAFKA_EXTRA_LISTENERS: the name $name belongs to a built-in listener; pick another (e.g. SSL, SASL_SSL, MTLS)" ;;
    esac
    [[ -z ${seen[$name]:-} ]] || die "KAFKA_EXTRA_LISTENERS: listener $name is listed twice"
    seen[$name]=1
    if [[ -n ${protocol_of[$name]:-} ]]; then
      protocol=${protocol_of[$name]}
    elif [[ $name == SSL || $name == SASL_SSL || $name == SASL_PLAINTEXT ]]; then
      protocol=$name
    else
      die "KAFKA_EXTRA_LISTENERS: listener $name needs a security protocol: add $name:SSL (or SASL_SSL, SASL_PLAINTEXT, PLAINTEXT) to KAFKA_EXTRA_PROTOCOL_MAP"
    fi
    ((port >= 1 && port <= 65535)) || die "KAFKA_EXTRA_LISTENERS: port $port of $name is out of range"
    [[ $port != "$KAFKA_PORT" && $port != "$KAFKA_CONTROLLER_PORT" ]] ||
      die "KAFKA_EXTRA_LISTENERS: port $port of $name is KAFKA_PORT or KAFKA_CONTROLLER_PORT"
    EXTRA_LISTENERS+=",$name://$host:$port"
    EXTRA_ADVERTISED_LISTENERS+=",$name://$host:$port"
    EXTRA_PROTOCOL_MAP+=",$name:$protocol"
    EXTRA_ENDPOINTS+=("$host:$port")
  done
  for name in "${!protocol_of[@]}"; do
    [[ -n ${seen[$name]:-} ]] || die "KAFKA_EXTRA_PROTOCOL_MAP: $name is not a listener of KAFKA_EXTRA_LISTENERS"
  done
  if [[ -n $KAFKA_EXTRA_PROPERTIES ]]; then
    [[ -f $KAFKA_EXTRA_PROPERTIES && -r $KAFKA_EXTRA_PROPERTIES ]] ||
      die "KAFKA_EXTRA_PROPERTIES: $KAFKA_EXTRA_PROPERTIES is not a readable file"
  fi
  return 0
}

extra_listener_properties() {
  [[ -n $KAFKA_EXTRA_PROPERTIES ]] || return 0
  printf '\n# ----- appended from KAFKA_EXTRA_PROPERTIES=%s -----\n' "$KAFKA_EXTRA_PROPERTIES"
  cat -- "$KAFKA_EXTRA_PROPERTIES"
  printf '\n'
}

# SCRAM credentials for `format --add-scram` (KRaft stores them in the metadata
# log, so they can only be given when a data dir is formatted).
SCRAM_ARGS=()
parse_scram_users() {
  SCRAM_ARGS=()
  local -a items=()
  local item
  IFS=$'; \t\n' read -rd '' -a items <<<"$KAFKA_SCRAM_USERS" || true
  for item in "${items[@]}"; do
    [[ -n $item ]] || continue
    [[ $item =~ ^SCRAM-SHA-(256|512)=\[name=[^],]+,password=[^]]+\]$ ]] ||
      die "KAFKA_SCRAM_USERS: expected SCRAM-SHA-256=[name=NAME,password=PASSWORD] (or SCRAM-SHA-512), separated by spaces or ';'; got an entry starting with '${item%%=*}'"
    SCRAM_ARGS+=(--add-scram "$item")
  done
  [[ -z $KAFKA_SCRAM_USERS || ${#SCRAM_ARGS[@]} -gt 0 ]] || die "KAFKA_SCRAM_USERS is set but names no credential"
  return 0
}

scram_digest() { [[ -n $KAFKA_SCRAM_USERS ]] && printf '%s' "$KAFKA_SCRAM_USERS" | sha256sum | cut -c1-16 || true; }

# Kafka >= 3.9 formats a dynamic KRaft quorum with `--standalone`
# (controller.quorum.bootstrap.servers); older versions need static voters.
uses_dynamic_quorum() { version_ge "$KAFKA_VERSION" 3.9; }

write_config() {
  mkdir -p "$KAFKA_DATA_DIR" "$LOG_DIRS" "$APP_LOG_DIR"
  local quorum
  if uses_dynamic_quorum; then
    quorum="controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  else
    quorum="controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  fi
  {
    cat <<EOF
# Generated by scripts/kafka/kafka.sh on every \`up\`; edits are overwritten.
# Single-node KRaft (combined broker + controller) for development and tests.
process.roles=broker,controller
node.id=1
$quorum
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT$EXTRA_LISTENERS
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT$EXTRA_ADVERTISED_LISTENERS
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT$EXTRA_PROTOCOL_MAP
inter.broker.listener.name=PLAINTEXT

log.dirs=$LOG_DIRS

# Dev/test box: explicit topic creation, 3 partitions by default, RF 1.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0

# 10 MiB records (tests send 2 MB values).
message.max.bytes=10485760
replica.fetch.max.bytes=10485760

# Small machine (2 cores).
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
    if version_ge "$KAFKA_VERSION" 4.0; then
      cat <<EOF
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
    fi
    extra_listener_properties
  } >"$CONFIG_FILE.tmp"
  # Appended settings may hold passwords (JAAS users, ssl.key.password).
  [[ -z $KAFKA_EXTRA_PROPERTIES ]] || chmod 600 "$CONFIG_FILE.tmp"
  mv "$CONFIG_FILE.tmp" "$CONFIG_FILE"
}

state_get() { [[ -f $STATE_FILE ]] && awk -F= -v k="$1" '$1 == k { print substr($0, length(k) + 2) }' "$STATE_FILE" || true; }

run_tool() {
  # run_tool LOGFILE MAINCLASS ARGS...: run a Kafka CLI class on the cached classpath.
  local out=$1
  shift
  "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$APP_LOG_DIR" -cp "$LIB_DIR/*" "$@" >"$out" 2>&1 </dev/null
}

# Format the KRaft storage once per data dir (kafka-storage.sh format).
format_storage() {
  if [[ -f $LOG_DIRS/meta.properties ]]; then
    local fmt_ctrl fmt_version
    fmt_ctrl=$(state_get controller_port)
    fmt_version=$(state_get version)
    if [[ -n $fmt_ctrl && $fmt_ctrl != "$KAFKA_CONTROLLER_PORT" ]]; then
      die "$KAFKA_DATA_DIR was formatted with controller port $fmt_ctrl, not $KAFKA_CONTROLLER_PORT; use the old KAFKA_PORT/KAFKA_CONTROLLER_PORT or run \`bash scripts/kafka/kafka.sh reset\`"
    fi
    if [[ -n $fmt_version && $fmt_version != "$KAFKA_VERSION" ]]; then
      warn "$KAFKA_DATA_DIR was formatted by Kafka $fmt_version, now starting $KAFKA_VERSION (upgrades usually work, downgrades do not; \`reset\` wipes the data)"
    fi
    if [[ $(state_get scram_users) != "$(scram_digest)" ]]; then
      warn "KAFKA_SCRAM_USERS differs from when $KAFKA_DATA_DIR was formatted; SCRAM users are only written at format time (\`reset\` wipes the data and formats again)"
    fi
    return 0
  fi
  local t0 cluster_id
  t0=$(now_ms)
  run_tool "$KAFKA_DATA_DIR/format.log" kafka.tools.StorageTool random-uuid ||
    die "kafka.tools.StorageTool random-uuid failed: $(cat "$KAFKA_DATA_DIR/format.log")"
  cluster_id=$(tail -n 1 "$KAFKA_DATA_DIR/format.log" | tr -d '[:space:]')
  [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "unexpected cluster id from StorageTool: $(cat "$KAFKA_DATA_DIR/format.log")"
  local -a args=(format --cluster-id "$cluster_id" --config "$CONFIG_FILE")
  uses_dynamic_quorum && args+=(--standalone)
  ((${#SCRAM_ARGS[@]} == 0)) || args+=("${SCRAM_ARGS[@]}")
  run_tool "$KAFKA_DATA_DIR/format.log" kafka.tools.StorageTool "${args[@]}" || {
    cat "$KAFKA_DATA_DIR/format.log" >&2
    die "formatting KRaft storage in $LOG_DIRS failed"
  }
  printf 'version=%s\ncluster_id=%s\nport=%s\ncontroller_port=%s\nformatted_at=%s\n' \
    "$KAFKA_VERSION" "$cluster_id" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$(date -u +%FT%TZ)" >"$STATE_FILE"
  [[ -z $KAFKA_SCRAM_USERS ]] || printf 'scram_users=%s\n' "$(scram_digest)" >>"$STATE_FILE"
  info "formatted KRaft storage (cluster id $cluster_id) in $(elapsed "$t0") s"
}

# ------------------------------------------------------ process control ----

# pid_alive PID: running and not a zombie.
pid_alive() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  local state
  state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
  [[ $state != Z ]]
}

# broker_pid: print the pid of OUR broker (pid file + the process really is
# kafka.Kafka with our config), else return 1. A stale pid file is removed.
broker_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(tr -dc '0-9' <"$PID_FILE")
  if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONFIG_FILE"; then
    echo "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

# port_open PORT [HOST]: something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/${2:-$KAFKA_HOST}/$1") 2>/dev/null; }

# wait_extra_listeners TIMEOUT_S: every extra listener accepts connections (the
# probe only talks to the PLAINTEXT listener).
wait_extra_listeners() {
  local deadline=$((SECONDS + $1)) endpoint
  for endpoint in "${EXTRA_ENDPOINTS[@]}"; do
    until port_open "${endpoint##*:}" "${endpoint%:*}"; do
      ((SECONDS < deadline)) || return 1
      sleep 0.2
    done
  done
}

rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }

# wait_ready PID TIMEOUT_S: ask the broker for metadata until it answers.
wait_ready() {
  local pid=$1 timeout=$2
  find_node
  if [[ -n $NODE ]]; then
    local rc=0
    "$NODE" "$SCRIPT_DIR/ready.mjs" --brokers "$BOOTSTRAP" --timeout-ms "$((timeout * 1000))" \
      ${pid:+--pid "$pid"} --quiet || rc=$?
    ((rc != 3)) && return "$rc"
    warn "kafkajs is not installed (run npm ci); falling back to a port check"
  else
    warn "node not found; falling back to a port check"
  fi
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    [[ -n $pid ]] && ! pid_alive "$pid" && return 2
    port_open "$KAFKA_PORT" && return 0
    sleep 0.5
  done
  return 1
}

# Byte offsets of the logs when this `up` started the broker, so that a failed
# start shows only its own lines, not those of earlier runs.
declare -A LOG_MARK=()
mark_logs() {
  local f
  for f in "$OUT_FILE" "$APP_LOG_DIR/server.log"; do
    LOG_MARK[$f]=$(stat -c %s "$f" 2>/dev/null || echo 0)
  done
}

show_log_tail() {
  local f from
  for f in "$OUT_FILE" "$APP_LOG_DIR/server.log"; do
    from=$((${LOG_MARK[$f]:-0} + 1))
    (($(stat -c %s "$f" 2>/dev/null || echo 0) >= from)) || continue
    printf -- '----- last 40 lines of %s -----\n' "$f" >&2
    tail -c +"$from" "$f" | tail -n 40 >&2
  done
}

# stop_pid PID: SIGTERM, wait up to KAFKA_STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local pid=$1 deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      warn "broker $pid did not exit ${KAFKA_STOP_TIMEOUT} s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local i
      for i in $(seq 50); do
        pid_alive "$pid" || break
        sleep 0.1
      done
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
}

# The one line meant for machines: the bootstrap address.
print_ready() { echo "export KAFKA_BROKERS=$BOOTSTRAP"; }

# ------------------------------------------------------------ commands ----

cmd_up() {
  local t0 pid
  t0=$(now_ms)
  parse_extra_listeners
  parse_scram_users
  if pid=$(broker_pid); then
    if wait_ready "$pid" "$KAFKA_START_TIMEOUT"; then
      info "already running: Kafka $(state_get version) at $BOOTSTRAP (pid $pid, RSS $(rss_mb "$pid") MiB, data $KAFKA_DATA_DIR)"
      print_ready
      return 0
    fi
    show_log_tail
    die "broker pid $pid is running but does not answer at $BOOTSTRAP; try \`bash scripts/kafka/kafka.sh down\`"
  fi
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "port $KAFKA_HOST:$p is already in use by another process (set KAFKA_PORT to use other ports)"
  done
  local endpoint
  for endpoint in "${EXTRA_ENDPOINTS[@]}"; do
    port_open "${endpoint##*:}" "${endpoint%:*}" && die "port $endpoint of KAFKA_EXTRA_LISTENERS is already in use by another process"
  done

  find_java
  ensure_lib
  write_config
  format_storage

  info "starting Kafka $KAFKA_VERSION (KRaft broker+controller) at $BOOTSTRAP, controller $KAFKA_HOST:$KAFKA_CONTROLLER_PORT, data $KAFKA_DATA_DIR"
  local -a jvm=($KAFKA_HEAP_OPTS
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" -Dkafka.logs.dir="$APP_LOG_DIR"
    $KAFKA_JVM_OPTS)
  local -a detach=()
  # setsid: own session, so the broker outlives the npm/CI step's process group.
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  mark_logs
  echo "===== $(date -u +%FT%TZ) starting Kafka $KAFKA_VERSION =====" >>"$OUT_FILE"
  # 8>&- 9>&-: the broker must not inherit the flock fds (with_lock, ensure_lib),
  # or it would hold the lock for its whole life and block every later command.
  nohup "${detach[@]}" "$JAVA" "${jvm[@]}" -cp "$LIB_DIR/*" kafka.Kafka "$CONFIG_FILE" \
    >>"$OUT_FILE" 2>&1 </dev/null 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local rc=0
  wait_ready "$pid" "$KAFKA_START_TIMEOUT" || rc=$?
  if ((rc != 0)); then
    show_log_tail
    if ((rc == 2)); then
      rm -f "$PID_FILE"
      die "the broker exited during startup (see the logs above; all logs in $APP_LOG_DIR and $OUT_FILE)"
    fi
    stop_pid "$pid"
    die "the broker did not answer at $BOOTSTRAP within $KAFKA_START_TIMEOUT s; stopped it (logs in $APP_LOG_DIR)"
  fi
  if ((${#EXTRA_ENDPOINTS[@]} > 0)); then
    if ! wait_extra_listeners "$KAFKA_START_TIMEOUT"; then
      show_log_tail
      stop_pid "$pid"
      die "the extra listeners ${EXTRA_LISTENERS#,} did not accept connections within $KAFKA_START_TIMEOUT s; stopped the broker (logs in $APP_LOG_DIR)"
    fi
    info "extra listeners: ${EXTRA_LISTENERS#,}"
  fi
  info "Kafka $KAFKA_VERSION is up at $BOOTSTRAP (pid $pid, RSS $(rss_mb "$pid") MiB) in $(elapsed "$t0") s"
  print_ready
}

cmd_down() {
  local t0 pid
  t0=$(now_ms)
  if ! pid=$(broker_pid); then
    info "not running (data $KAFKA_DATA_DIR)"
    return 0
  fi
  info "stopping broker pid $pid..."
  stop_pid "$pid"
  info "stopped in $(elapsed "$t0") s"
}

cmd_status() {
  local pid
  if ! pid=$(broker_pid); then
    info "stopped (version $KAFKA_VERSION, bootstrap $BOOTSTRAP, data $KAFKA_DATA_DIR)"
    return 1
  fi
  if wait_ready "$pid" 5; then
    info "running: Kafka $(state_get version) at $BOOTSTRAP, pid $pid, RSS $(rss_mb "$pid") MiB, data $KAFKA_DATA_DIR"
    print_ready
    return 0
  fi
  info "process $pid is running but the broker does not answer at $BOOTSTRAP"
  return 2
}

cmd_reset() {
  cmd_down
  if [[ ! -e $KAFKA_DATA_DIR ]]; then
    info "nothing to wipe: $KAFKA_DATA_DIR does not exist"
    return 0
  fi
  # Only wipe a directory this script created (or the default location).
  if [[ ! -f $STATE_FILE && ! -f $CONFIG_FILE && $KAFKA_DATA_DIR != "$CACHE_ROOT/data" ]]; then
    die "refusing to wipe $KAFKA_DATA_DIR: it does not look like a kafka.sh data dir"
  fi
  rm -rf -- "$KAFKA_DATA_DIR"
  info "wiped $KAFKA_DATA_DIR"
}

cmd_logs() {
  local f=$APP_LOG_DIR/server.log
  [[ -f $f ]] || die "no log yet at $f"
  tail -n "${1:-100}" "$f"
}

usage() {
  cat <<EOF
usage: bash scripts/kafka/kafka.sh <command>
  up       download Kafka $KAFKA_VERSION once (Maven), format storage once, start the
           broker on $BOOTSTRAP and wait until it answers (no-op if already up)
  down     stop the broker (SIGTERM, SIGKILL after $KAFKA_STOP_TIMEOUT s); safe when stopped
  status   exit 0 running and answering, 1 stopped, 2 running but not answering
  reset    stop and wipe the data dir ($KAFKA_DATA_DIR)
  logs [N] last N lines of the broker log
EOF
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) with_lock "$KAFKA_DATA_DIR.lock" cmd_up ;;
    down) with_lock "$KAFKA_DATA_DIR.lock" cmd_down ;;
    reset) with_lock "$KAFKA_DATA_DIR.lock" cmd_reset ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 64
      ;;
  esac
}

main "$@"
