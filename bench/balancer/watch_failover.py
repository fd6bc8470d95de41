"""Kills one backend (by PID) after a delay and watches the balancer's admin API to find when
the dead server stopped being selected. Usage: watch_failover.py ADMIN_PORT SERVER PID DELAY TOTAL"""
import json
import os
import signal
import sys
import time
import urllib.request

admin_port, server, pid, delay, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])


def selected() -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/servers/{server}", timeout=2) as response:
        return json.load(response)["selected"]


start = time.monotonic()
time.sleep(delay)
last_value = selected()
os.kill(pid, signal.SIGKILL)
killed_at = time.monotonic()
last_change = killed_at
while time.monotonic() - start < total:
    value = selected()
    if value != last_value:
        last_value, last_change = value, time.monotonic()
    time.sleep(0.01)
with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/servers/{server}", timeout=2) as response:
    status = json.load(response)
print(f"  dead server last selected {last_change - killed_at:.3f} s after the kill "
      f"(health now: {status['health']}, attempts that failed on it: {status['failures']})")
