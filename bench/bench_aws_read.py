"""The AWS read of `check` (sources/aws.py) against moto's server on 127.0.0.1, with a simulated network
latency: a botocore `before-send` hook waits `--latency` seconds before each request leaves. Prints the
wall time of `read_aws_network` with the Describe calls one after another (AWS_CONCURRENCY = 1) and side by
side (the default), and the round trips each made.

    .venv/bin/python bench/bench_aws_read.py [--latency 0.1] [--repeat 5] [--instances 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--instances", type=int, default=2)
    args = ap.parse_args()
    os.environ.update(
        AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log

    import test_aws  # tests/test_aws.py: the moto world of the tests
    from vizdoctor.sources import aws

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        w = test_aws.build(endpoint, "bench", count=args.instances)
        nodes, pods = test_aws.cluster_nodes(w)
        print(f"moto on {endpoint}, {args.instances} instances, {args.latency:g}s before each request")
        for label, concurrency in (("one after another", 1), ("side by side", aws.AWS_CONCURRENCY)):
            times: list[float] = []
            calls: list[str] = []
            for _ in range(args.repeat):
                s = test_aws._session()
                calls = []

                def delay(event_name: str, **_: Any) -> None:
                    calls.append(event_name.split(".", 1)[1])  # noqa: B023 (this run's list)
                    time.sleep(args.latency)

                s.events.register("before-send", delay)
                saved = aws.AWS_CONCURRENCY
                aws.AWS_CONCURRENCY = concurrency
                try:
                    t0 = time.perf_counter()
                    aws.read_aws_network(
                        nodes, pods, cluster_name=None, region=None, endpoint_url=endpoint, session=s
                    )
                    times.append(time.perf_counter() - t0)
                finally:
                    aws.AWS_CONCURRENCY = saved
            print(
                f"  {label:18} median {statistics.median(times):.3f}s  min {min(times):.3f}s  "
                f"round trips {len(calls)} ({', '.join(calls)})"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
