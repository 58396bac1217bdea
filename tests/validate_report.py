#!/usr/bin/env python3
"""Validates report JSON files against docs/report.schema.json (exit 1 on the first failure)."""
import json
import pathlib
import sys

import jsonschema

schema_path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"
schema = json.loads(schema_path.read_text())
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
for path in sys.argv[1:]:
    report = json.loads(pathlib.Path(path).read_text())
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    for e in errors[:10]:
        print(f"{path}: {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"{path}: valid against {schema_path.name} ({len(report['anomalies'])} anomalies)")
