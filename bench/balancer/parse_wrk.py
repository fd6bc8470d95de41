"""Reads wrk --latency output on stdin; prints "requests_per_second p50_ms p99_ms errors"."""
import re
import sys

text = sys.stdin.read()


def millis(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = millis(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = millis(re.search(r"\s99%\s+(\S+)", text).group(1))
errors = 0
socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if socket_errors:
    errors += sum(int(n) for n in socket_errors.groups())
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if non2xx:
    errors += int(non2xx.group(1))
print(f"{rps:.1f} {p50:.3f} {p99:.3f} {errors}")
