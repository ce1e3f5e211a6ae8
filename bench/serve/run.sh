#!/usr/bin/env bash
# Serve one build folder with nginx and with our server (uvicorn + httptools + uvloop, N workers) and load
# both with wrk on loopback: tileset.json and a typical glb at 32 connections, then 200 connections for
# 60 s against our server (errors must be 0). Needs: apt-get install -y wrk nginx.
#
#   bench/serve/run.sh [BUILD_FOLDER] [WORKERS] [DURATION]
#
# Without BUILD_FOLDER a small folder is made by tests/server/buildfolder.py. Results go to stdout and to
# bench/serve/results.txt (or $RESULTS). `make bench-setup` installs wrk and nginx.
#
# ACCEL=1 adds, in the same run, our server behind nginx in X-Accel-Redirect mode (docs/scaleout.md, "Tiles
# behind nginx or a CDN"): nginx proxies /tiles/ to a second `twin serve` with TWIN_ACCEL_REDIRECT=/_twin_blobs/,
# which checks the request and answers published blobs with a header naming public-blobs/, which nginx then
# sends itself. Each target is loaded as nginx static, twin alone, twin behind nginx; LONG=0 skips the 200-client
# run; bench/serve/table.py turns the output into the README's table and JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
WORKERS=${2:-2}
DURATION=${3:-10s}
LONG=${LONG:-60s}
WORK=$(mktemp -d /tmp/twin-bench.XXXXXX); chmod 755 "$WORK"
trap 'kill $(cat $WORK/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT

FOLDER=${1:-}
# nginx resolves a relative root against its own prefix: always hand it an absolute path.
[ -n "$FOLDER" ] && FOLDER=$(realpath "$FOLDER")
if [ -z "$FOLDER" ]; then
  FOLDER=$WORK/build
  "$PY" -c "import sys; sys.path.insert(0, 'tests/server'); from buildfolder import make_build; make_build(__import__('pathlib').Path('$FOLDER'))"
fi
GLB=$(cd "$FOLDER" && ls -S blobs/*.glb | awk 'NR==1{print}')   # the largest blob: a "typical" full tile
# pick the median-size blob instead when there are many
N=$(ls "$FOLDER"/blobs/*.glb | wc -l)
if [ "$N" -gt 2 ]; then GLB=$(cd "$FOLDER" && ls -S blobs/*.glb | awk -v m=$((N / 2 + 1)) 'NR==m{print}'); fi
echo "folder $FOLDER, glb $GLB ($(stat -c %s "$FOLDER/$GLB") bytes), tileset.json $(stat -c %s "$FOLDER/tileset.json") bytes"

# our server: import + publish the folder into a fresh data dir
export TWIN_DATA_DIR=$WORK/data TWIN_SCENES_DIR=$WORK/none TWIN_VIEWER_DIR=$WORK/none
# wrk opens all its connections from one address; the per-client cap (64, against slow-client floods) would
# answer most of the 200-connection run with 503, so the benchmark lifts it.
export TWIN_MAX_CONNECTIONS_PER_CLIENT=1000
"$PY" -c "from pathlib import Path; from server.cli import publish_folder; from server.settings import load_settings; publish_folder(load_settings(), 'bench', Path('$FOLDER'))"
TWIN_PORT=8771 TWIN_WORKERS=$WORKERS "$PY" -c "from server.cli import serve; from server.settings import load_settings; serve(load_settings())" &
echo $! > $WORK/twin.pid
if [ "${ACCEL:-0}" = 1 ]; then
  TWIN_PORT=8774 TWIN_WORKERS=$WORKERS TWIN_ACCEL_REDIRECT=/_twin_blobs/ "$PY" -c "from server.cli import serve; from server.settings import load_settings; serve(load_settings())" &
  echo $! > $WORK/twin-accel.pid
fi

# nginx: same folder, sendfile, access log off, one worker per core (its default tuning for static files)
mkdir -p $WORK/nginx
cat > $WORK/nginx/nginx.conf <<NGINX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;
  types { application/json json; model/gltf-binary glb; }
  server { listen 127.0.0.1:8772; root $FOLDER; etag on; gzip_static on; }
  # our server behind nginx: the app decides, nginx sends published blobs from public-blobs/ (X-Accel-Redirect)
  upstream twin { server 127.0.0.1:8774; keepalive 64; }
  server {
    listen 127.0.0.1:8773;
    location /tiles/ { proxy_pass http://twin; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /_twin_blobs/ {
      internal;
      alias $WORK/data/scenes/;
      etag on;
      add_header Access-Control-Allow-Origin \$upstream_http_access_control_allow_origin always;
      add_header Access-Control-Expose-Headers \$upstream_http_access_control_expose_headers always;
    }
  }
}
NGINX
chmod -R a+rX "$WORK" "$FOLDER" 2>/dev/null || true
nginx -c $WORK/nginx/nginx.conf -p $WORK/nginx
for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:8771/tiles/bench/tileset.json && break; sleep 0.2; done
if [ "${ACCEL:-0}" = 1 ]; then
  for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:8773/tiles/bench/tileset.json && break; sleep 0.2; done
  # the blob through nginx must be the folder's bytes, not the app's empty X-Accel answer
  curl -sf http://127.0.0.1:8773/tiles/bench/$GLB | cmp - "$FOLDER/$GLB"
fi

run() {  # name url connections duration
  local out
  out=$(wrk -t2 -c"$3" -d"$4" --latency "$2" 2>&1)
  local rps p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/{print}' | tr '\n' ' ')
  printf '%-28s %-8s c=%-4s %10s req/s  p99 %-9s %s\n' "$1" "$(basename "$2")" "$3" "$rps" "$p99" "${errs:-0 errors}"
}
{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, our server: $WORKERS uvicorn workers"
  if [ "${ACCEL:-0}" = 1 ]; then
    echo "# glb through nginx + X-Accel-Redirect answers with:"
    curl -sI -H 'Origin: https://viewer.example' "http://127.0.0.1:8773/tiles/bench/$GLB" | tr -d '\r' |
      grep -iE '^(http|content-type|content-length|cache-control|etag|access-control|x-accel)' | sed 's/^/#   /'
  fi
  for target in tileset.json "$GLB"; do
    run "nginx" "http://127.0.0.1:8772/$target" 32 "$DURATION"
    run "twin" "http://127.0.0.1:8771/tiles/bench/$target" 32 "$DURATION"
    if [ "${ACCEL:-0}" = 1 ]; then run "twin+nginx x-accel" "http://127.0.0.1:8773/tiles/bench/$target" 32 "$DURATION"; fi
  done
  if [ "$LONG" != 0 ]; then run "twin 200 clients $LONG" "http://127.0.0.1:8771/tiles/bench/$GLB" 200 "$LONG"; fi
} | tee "${RESULTS:-bench/serve/results.txt}"
kill "$(cat $WORK/nginx/nginx.pid)" 2>/dev/null || true
