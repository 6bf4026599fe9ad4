#!/bin/sh
# Docker HEALTHCHECK of the defect-inspector image (installed as /usr/local/bin/defect-inspector-healthcheck).
#
# Asks the daemon's liveness endpoint, /healthz on Health:Url (default http://127.0.0.1:8080), and reports what it
# says: 200 is healthy; 503 (a pipeline loop failed, or a camera read or inference batch has been stuck longer than
# Pipeline:StallTimeoutSeconds), any other answer, no answer or a timeout is unhealthy. A broker outage or an
# unreachable camera is not: the daemon is alive and retrying, and /readyz says what is not ready.
#
# The URL: DEFECTINSPECTOR_HEALTHCHECK_URL if set, else /healthz on DEFECTINSPECTOR_Health__Url (0.0.0.0 or [::]
# asked as loopback), else the default. With DEFECTINSPECTOR_Health__Url set empty the endpoints are off and the
# check passes (the container running is all it can see). DEFECTINSPECTOR_HEALTHCHECK_STRICT=0 also passes when
# nothing listens, for a daemon built before the endpoints existed.
if [ -n "${DEFECTINSPECTOR_HEALTHCHECK_URL:-}" ]; then
  url="$DEFECTINSPECTOR_HEALTHCHECK_URL"
elif [ "${DEFECTINSPECTOR_Health__Url+set}" = set ]; then
  if [ -z "$DEFECTINSPECTOR_Health__Url" ]; then
    echo "health endpoints turned off (Health:Url empty); the daemon process is running"
    exit 0
  fi
  url="$(printf '%s' "${DEFECTINSPECTOR_Health__Url%/}" | sed -e 's#//0\.0\.0\.0#//127.0.0.1#' -e 's#//\[::\]#//[::1]#')/healthz"
else
  url="http://127.0.0.1:8080/healthz"
fi

code=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 4 "$url")
rc=$?
if [ "$rc" -eq 0 ]; then
  case "$code" in
    200) exit 0 ;;
    *) echo "unhealthy: $url answered HTTP $code"; exit 1 ;;
  esac
fi
# curl exit code 7: could not connect (nothing listens there).
if [ "$rc" -eq 7 ] && [ "${DEFECTINSPECTOR_HEALTHCHECK_STRICT:-1}" = 0 ]; then
  echo "no health endpoint at $url; DEFECTINSPECTOR_HEALTHCHECK_STRICT=0, so the running process counts as healthy"
  exit 0
fi
echo "unhealthy: $url did not answer (curl exit code $rc)"
exit 1
