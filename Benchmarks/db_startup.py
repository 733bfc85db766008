#!/usr/bin/env python3
"""Launch to first prompt with a session database beside the same launch with --no-log (no database
opened), alternated run by run (startup.py's pseudo-terminal measure). Prints one JSON object of
medians in milliseconds.

Usage: db_startup.py AGENT_REPL_BINARY DATABASE [RUNS]
"""
import json, os, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from startup import launch_to_prompt


def main():
    binary = os.path.abspath(sys.argv[1])
    database = os.path.abspath(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    home = tempfile.mkdtemp()
    os.chdir(home)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8", "TERM": "xterm", "AGENT_DB": database}
    with_db, no_log = [], []
    for _ in range(runs):
        with_db.append(launch_to_prompt(binary, env))
        no_log.append(launch_to_prompt(binary, env, ["--demo", "--no-log"]))
    ms = lambda xs: round(statistics.median(xs) * 1000, 1) if xs and all(x is not None for x in xs) else None
    print(json.dumps({"with_db_ms": ms(with_db), "no_log_ms": ms(no_log), "runs": runs}))


if __name__ == "__main__":
    main()
