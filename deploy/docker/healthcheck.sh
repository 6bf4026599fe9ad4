#!/bin/sh
# Docker HEALTHCHECK of the defect-inspector image (installed as /usr/local/bin/defect-inspector-healthcheck).
#
# Asks the daemon's health endpoint (Health:Url, default http://127.0.0.1:8080; the path /healthz is assumed) and
# reports what it says: a 2xx answer is healthy, any other answer or a timeout is unhealthy.
#
# Tolerant until the endpoint exists: the health endpoint arrives with its own issue. While nothing listens on the
# port (connection refused), the check passes, because the container running at all means the daemon (PID 1, or
# tini's only child) is alive; that is all this check can say then. Set DEFECTINSPECTOR_HEALTHCHECK_STRICT=1 to
# count a refused connection as unhealthy (do that once the image has the endpoint).
url="${DEFECTINSPECTOR_HEALTHCHECK_URL:-http://127.0.0.1:8080/healthz}"

code=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 4 "$url")
rc=$?
if [ "$rc" -eq 0 ]; then
  case "$code" in
    2??) exit 0 ;;
    *) echo "unhealthy: $url answered HTTP $code"; exit 1 ;;
  esac
fi
# curl exit code 7: could not connect (nothing listens there).
if [ "$rc" -eq 7 ] && [ "${DEFECTINSPECTOR_HEALTHCHECK_STRICT:-0}" != 1 ]; then
  echo "no health endpoint at $url (not in this build yet?); the daemon process is running"
  exit 0
fi
echo "unhealthy: $url did not answer (curl exit code $rc)"
exit 1
