#!/usr/bin/env bash
# A/B of the tile path between a git revision and the working tree, in one run: the same published folder is
# served by `twin serve` from REV (an archive of it in a temp folder) and from this tree, and wrk loads
# tileset.json and the median glb on each in turn, ROUNDS times, alternating so load from others hits both.
#
#   bench/serve/ab.sh REV [BUILD_FOLDER] [WORKERS] [DURATION] [ROUNDS]
#
# Prints one line per run and, last, the median req/s per side and target with the ratio (this tree / REV).
# Used to check that a change to server/tiles.py does not slow the default directory store down.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
REV=${1:?usage: bench/serve/ab.sh REV [BUILD_FOLDER] [WORKERS] [DURATION] [ROUNDS]}
WORKERS=${3:-2}
DURATION=${4:-5s}
ROUNDS=${5:-3}
WORK=$(mktemp -d /tmp/twin-ab.XXXXXX)
trap 'kill $(cat $WORK/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$WORK"' EXIT

FOLDER=${2:-}
[ -n "$FOLDER" ] && FOLDER=$(realpath "$FOLDER")
if [ -z "$FOLDER" ]; then
  FOLDER=$WORK/build
  "$PY" -c "import sys; sys.path.insert(0, 'tests/server'); from buildfolder import make_build; make_build(__import__('pathlib').Path('$FOLDER'))"
fi
N=$(ls "$FOLDER"/blobs/*.glb | wc -l)
GLB=$(cd "$FOLDER" && ls -S blobs/*.glb | awk -v m=$((N / 2 + 1)) 'NR==m{print}')
mkdir -p "$WORK/a"
git archive "$REV" server twin | tar -x -C "$WORK/a"

export TWIN_DATA_DIR=$WORK/data TWIN_SCENES_DIR=$WORK/none TWIN_VIEWER_DIR=$WORK/none
export TWIN_MAX_CONNECTIONS_PER_CLIENT=1000
"$PY" -c "from pathlib import Path; from server.cli import publish_folder; from server.settings import load_settings; publish_folder(load_settings(), 'bench', Path('$FOLDER'))"
SERVE="import server; print('serving', server.__file__, flush=True); from server.cli import serve; from server.settings import load_settings; serve(load_settings())"
(cd "$WORK/a" && TWIN_PORT=8781 TWIN_WORKERS=$WORKERS exec "$PY" -c "$SERVE") &
echo $! > "$WORK/a.pid"
TWIN_PORT=8782 TWIN_WORKERS=$WORKERS "$PY" -c "$SERVE" &
echo $! > "$WORK/b.pid"
for port in 8781 8782; do
  for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/tiles/bench/tileset.json" && break; sleep 0.2; done
done

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $WORKERS workers, $REV vs working tree"
for round in $(seq "$ROUNDS"); do
  for target in tileset.json "$GLB"; do
    for side in a b; do
      port=$([ $side = a ] && echo 8781 || echo 8782)
      rps=$(wrk -t2 -c32 -d"$DURATION" "http://127.0.0.1:$port/tiles/bench/$target" | awk '/Requests\/sec/{print $2}')
      echo "run $round $side $(basename "$target") $rps"
    done
  done
done | tee "$WORK/runs.txt"
"$PY" - "$WORK/runs.txt" "$REV" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.startswith("run ")]
for target in dict.fromkeys(r[3] for r in rows):
    a = statistics.median(float(r[4]) for r in rows if r[3] == target and r[2] == "a")
    b = statistics.median(float(r[4]) for r in rows if r[3] == target and r[2] == "b")
    print(f"median {target:<40} {sys.argv[2]}: {a:9.0f} req/s   working tree: {b:9.0f} req/s   ratio {b / a:.3f}")
EOF
