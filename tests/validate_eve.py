#!/usr/bin/env python3
"""Validates EVE JSON lines files against Suricata's schema (path in argv[1]); exit 1 on the
first invalid line, 3 when the schema file is absent."""
import json
import pathlib
import sys

import jsonschema

schema_path = pathlib.Path(sys.argv[1])
if not schema_path.exists():
    print(f"{schema_path} absent", file=sys.stderr)
    sys.exit(3)
validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
for path in sys.argv[2:]:
    lines = pathlib.Path(path).read_text().splitlines()
    for n, line in enumerate(lines, 1):
        errors = list(validator.iter_errors(json.loads(line)))
        for e in errors[:5]:
            print(f"{path}:{n}: {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
        if errors:
            sys.exit(1)
    print(f"{path}: {len(lines)} lines valid against {schema_path.name}")
