"""schemathesis against the live server: every operation of /api/schema/, hundreds of
generated requests, every check (server errors, status codes, response schemas, ...).

    python -m ops.fuzz [--max-examples N] [--seed N]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.live import CheckFailed, Gunicorn, login, prepare, production_env, reported


def fuzz(workdir: Path, *, max_examples: int, seed: int | None) -> dict:
    # Login is fuzzed too: high throttle rates keep its answers about the input, not 429.
    env = production_env(
        workdir, LOGIN_THROTTLE_RATE="1000000/min", LOGIN_FAILURE_BUDGET="1000000/min"
    )
    prepare(env)
    report = workdir / "schemathesis.json"
    with Gunicorn(env, workdir / "server.log") as server:
        token = login(server.port, env["SESSION_PASSWORD"])
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"http://127.0.0.1:{server.port}/api/schema/",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            str(max_examples),
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        if seed is not None:
            command += ["--seed", str(seed)]
        run = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
        # Read the log before shutdown: a clean worker exit is not the point.
        server_log = server.output()
    if run.returncode:
        raise CheckFailed(f"schemathesis found problems:\n{run.stdout}{run.stderr}")
    if "Traceback" in server_log:
        raise CheckFailed(f"the server logged an exception:\n{server_log}")
    return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300, help="per operation")
    parser.add_argument(
        "--seed", type=int, help="repeat a run (its seed is printed; `make fuzz` passes 0)"
    )
    args = parser.parse_args()
    with reported("fuzz"), tempfile.TemporaryDirectory(prefix="recsite-fuzz-") as workdir:
        result = fuzz(Path(workdir), max_examples=args.max_examples, seed=args.seed)
        cases, operations = result["test_cases"], result["operations"]
        print(
            f"fuzz: {cases['generated']} cases generated over {operations['tested']} operations, "
            f"all checks, {cases['with_failures']} failing, {cases['errored']} errored; "
            f"seed {result['seed']}, {result['running_time']:.0f}s"
        )


if __name__ == "__main__":
    main()
