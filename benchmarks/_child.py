"""The fresh process one side of a benchmark runs in (started by ``common.measure``).

Argument: a JSON spec with ``target`` ("module:function"), ``kwargs``, ``preload`` (modules to
import before the clock starts), ``scratch`` (an empty directory, which the parent removes even
if this process is killed) and ``result`` (where to write the JSON result).
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from pathlib import Path


def main(spec: dict) -> None:
    for name in spec["preload"]:
        importlib.import_module(name)
    module, func = spec["target"].split(":")
    fn = getattr(importlib.import_module(module), func)
    # ru_maxrss so far: the interpreter and its imports, before the measured work
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base_bytes = base if sys.platform == "darwin" else base * 1024
    start = time.perf_counter()
    info = fn(scratch=Path(spec["scratch"]), **spec["kwargs"])
    seconds = time.perf_counter() - start
    Path(spec["result"]).write_text(json.dumps({"seconds": seconds, "base_rss": base_bytes,
                                                "info": info or {}}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
