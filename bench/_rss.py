"""Run a command and append its peak RSS (MB) to a file: `_rss.py OUT -- CMD...`.

The command inherits this process's terminal, so it can run under bench/ttfp.py's pty."""

import os
import signal
import sys

out, cmd = sys.argv[1], sys.argv[3:]
pid = os.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))  # pass it on, then report
_, status, usage = os.wait4(pid, 0)
with open(out, "a") as f:
    f.write(f"{usage.ru_maxrss / 1024:.1f}\n")
sys.exit(os.waitstatus_to_exitcode(status))
