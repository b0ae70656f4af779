# Sourced by ./slim and .ci/run: points JAVA_HOME at a JDK 25 (the machine's default may be 17).
slim_java_version() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}'
}
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ] \
    || [ "$(slim_java_version "$JAVA_HOME")" -lt 25 ] 2>/dev/null; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/*25*; do
    if [ -x "$candidate/bin/java" ] && [ "$(slim_java_version "$candidate")" -ge 25 ] 2>/dev/null; then
      JAVA_HOME="$candidate"
      break
    fi
  done
  if [ -z "$JAVA_HOME" ]; then
    echo "slim needs JDK 25 or newer: install one (e.g. Temurin 25) and set JAVA_HOME" >&2
    exit 1
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Maven on JDK 25 warns about sun.misc.Unsafe in its own libraries; that noise is not ours.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
