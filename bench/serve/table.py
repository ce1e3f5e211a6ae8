"""Turn bench/serve/run.sh output into a markdown table (req/s, p99, ratio to nginx) and a JSON record.

python bench/serve/table.py bench/results/serve_accel.txt [--json bench/results/serve_accel.json]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

LINE = re.compile(
    r"^(?P<name>.+?)\s+(?P<target>\S+)\s+c=(?P<conn>\d+)\s+(?P<rps>[\d.]+) req/s\s+p99 (?P<p99>\S+)\s+(?P<rest>.*)$"
)


def _ms(value: str) -> float:
    """wrk's latency (``850.00us``, ``5.28ms``, ``1.02s``) in milliseconds."""
    m = re.match(r"^([\d.]+)(us|ms|s)$", value)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def parse(text: str) -> dict[str, object]:
    """Rows of one run (name, target, connections, req/s, p99 ms, errors) and its header comment."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m:
            rows.append(
                {
                    "name": m["name"].strip(),
                    "target": "glb" if m["target"].endswith(".glb") else m["target"],
                    "connections": int(m["conn"]),
                    "rps": float(m["rps"]),
                    "p99_ms": _ms(m["p99"]),
                    "errors": m["rest"].strip(),
                }
            )
    header = next((line[2:] for line in text.splitlines() if line.startswith("# 20")), "")
    return {"run": header, "rows": rows}


def table(run: dict[str, object]) -> str:
    """The markdown table: one row per server and target, req/s and p99, and the ratio to nginx's req/s."""
    rows = run["rows"]
    assert isinstance(rows, list)
    nginx = {r["target"]: r["rps"] for r in rows if r["name"] == "nginx"}
    out = ["| target | server | req/s | p99 | × nginx |", "|---|---|---:|---:|---:|"]
    for r in rows:
        base = nginx.get(r["target"])
        ratio = f"{r['rps'] / base:.2f}×" if base and r["connections"] == 32 else "–"
        out.append(
            f"| {r['target']} (c={r['connections']}) | {r['name']} | {r['rps']:,.0f} | {r['p99_ms']:.1f} ms | {ratio} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    run = parse(args.results.read_text(encoding="utf-8"))
    print(table(run))
    if args.json:
        args.json.write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
