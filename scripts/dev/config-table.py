#!/usr/bin/env python3
"""Regenerates the key table in docs/configuration.md from Sources/SteadfastConfig/ConfigKey.swift.

ConfigurationTests.everyKeyIsDocumentedWithItsDefault fails when the table is out of date;
run `python3 scripts/dev/config-table.py` after adding or changing a key.
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parents[2]
source = (root / "Sources/SteadfastConfig/ConfigKey.swift").read_text()
order = re.search(r"public static let all: \[ConfigKey\] = \[(.*?)\]", source, re.S).group(1)
names = [n.strip() for n in order.replace("\n", " ").split(",") if n.strip()]
keys = {}
for m in re.finditer(r'public static let (\w+) = ConfigKey\("([^"]+)", default: "([^"]*)", "((?:[^"\\]|\\.)*)"([^)]*)\)', source):
    keys[m.group(1)] = (m.group(2), m.group(3), m.group(4), m.group(5))
rows = []
for variable in names:
    name, default, summary, flags = keys[variable]
    env = "STEADFAST_" + name.upper().replace(".", "_")
    shown = "`" + default + "`" if default else "—"
    note = " (list)" if "isList: true" in flags else (" (structured)" if "isStructured: true" in flags else "")
    rows.append("| `" + name + "` | `" + env + "` | " + shown + " | " + summary.replace("|", "\\|").replace('\\"', '"') + note + " |")
doc_path = root / "docs/configuration.md"
doc = doc_path.read_text()
start = doc.index("| key | environment variable | default | meaning |")
end = doc.index("\n\nA test (")
doc = doc[:start] + "| key | environment variable | default | meaning |\n| --- | --- | --- | --- |\n" + "\n".join(rows) + doc[end:]
doc_path.write_text(doc)
print(f"{len(rows)} keys written to docs/configuration.md")
