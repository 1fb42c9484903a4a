"""The default model's fit, timed on data sets in the ml-100k layout, each in a fresh process
one after the other (the same run, so that their ratio is measured on one machine load).

    python -m bench.fit_time var/gen-100k var/gen-1M

Every rater trains, as ``train_model`` trains on the whole database; no database is read
(`make bench-scale` times ``train_model`` itself). Write the folders with
``python -m harness.generate FOLDER --ratings 100000 --raters 943 --movies 1682`` (and
1000000, 6040, 3900: bench.scale's sizes).
"""

import argparse
import json
import subprocess
import sys
import time


def fit_seconds(folder: str) -> float:
    """Seconds of one fit of the default model on every rating of ``folder``."""
    from bench.standin import read_frame
    from coldstart.estimators import DEFAULT_ALGORITHM, make_estimator

    frame, _ = read_frame(folder)
    started = time.perf_counter()
    make_estimator(DEFAULT_ALGORITHM).fit(frame, frame["score"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"folder": args.folders[0], "fit_s": fit_seconds(args.folders[0])}))
        return
    runs = []
    for folder in args.folders:
        child = [sys.executable, "-m", "bench.fit_time", "--child", folder]
        runs.append(json.loads(subprocess.run(child, check=True, capture_output=True).stdout))
        print(json.dumps(runs[-1]), flush=True)
    first = runs[0]["fit_s"]
    for run in runs[1:]:
        print(f"{run['folder']}: {run['fit_s'] / first:.1f}x {runs[0]['folder']}")


if __name__ == "__main__":
    main()
