"""Runs a Flink SQL script (as `instore export-sql --dialect flink` writes it) on a local
Flink MiniCluster through PyFlink, and waits until its job ends: bounded inputs (the
filesystem connector) end it; Kafka inputs run until interrupted.

    python tools/flink_sql.py SCRIPT.sql [SCRIPT.sql ...]

Statements run in order, each script in a fresh table environment (streaming mode,
parallelism 1 unless FLINK_PARALLELISM says otherwise); an `EXECUTE STATEMENT SET BEGIN …
END;` block runs as one job. Prints one line per script: its name and the job's wall time.
"""

import os
import re
import sys
import time

from pyflink.table import EnvironmentSettings, TableEnvironment


def statements(text):
    """The script's statements, comments dropped, a statement set kept whole."""
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("--")]
    out, current, in_set = [], [], False
    for line in lines:
        current.append(line)
        stripped = line.strip()
        if re.match(r"(?i)^EXECUTE\s+STATEMENT\s+SET", stripped):
            in_set = True
        if in_set:
            if re.match(r"(?i)^END\s*;$", stripped):
                out.append("\n".join(current).strip().rstrip(";"))
                current, in_set = [], False
        elif stripped.endswith(";"):
            out.append("\n".join(current).strip().rstrip(";"))
            current = []
    rest = "\n".join(current).strip()
    if rest:
        out.append(rest)
    return [s for s in out if s]


def run(path):
    settings = EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    env.get_config().set("parallelism.default", os.environ.get("FLINK_PARALLELISM", "1"))
    with open(path, encoding="utf-8") as f:
        script = f.read()
    started = time.monotonic()
    for statement in statements(script):
        result = env.execute_sql(statement)
        if result.get_job_client() is not None:
            result.wait()
    return time.monotonic() - started


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        seconds = run(path)
        print(f"{path}: {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main()
