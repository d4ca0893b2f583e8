"""The worker's allocator setting (ecabinet/core/memory.py): the memory of a burst of large blocks, freed,
goes back to the system instead of staying in the heap between the small blocks that outlived them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A burst of joins, in miniature: each makes a large answer (freed once sent) and leaves a small block
# behind (the socket's own state). Then every answer is freed. Prints the memory the burst left, in KB.
BURST = textwrap.dedent("""
    import sys
    from ecabinet.core.memory import keep_large_blocks_apart

    if sys.argv[1] == "on":
        assert keep_large_blocks_apart()

    def rss_kb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    first = bytes(160_000)
    del first  # glibc raises its threshold to this block's size here, unless it was kept fixed
    before = rss_kb()
    answers, left_behind = [], []
    for _ in range(1000):
        answers.append(bytes(160_000))
        left_behind.append(bytes(1_000))
    answers.clear()
    print(rss_kb() - before)
""")


def _left_after_burst(setting: str) -> int:
    done = subprocess.run([sys.executable, "-c", BURST, setting], capture_output=True, text=True, timeout=60,
                          check=True)
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sets glibc's malloc")
def test_the_memory_of_a_burst_of_large_blocks_goes_back_to_the_system():
    assert _left_after_burst("off") > 100_000  # about 160 MB stays without the setting
    assert _left_after_burst("on") < 10_000  # only the small blocks that are still alive (about 1 MB)
