#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Parses a YAML document with libyaml (PyYAML's C loader, YAML 1.1) as strictly as
# the strictest YAML parsers in use, and prints it as JSON for yaml_parsers.mjs to
# compare with its own parse. Refuses, with the line:
#   - a mapping key given twice (PyYAML keeps the last one silently);
#   - a plain scalar holding ':' inside a flow collection, e.g. [models:write]
#     (YAML 1.1 parsers such as PyYAML before 5.1 and libyaml before 0.2.1 stop
#     there; quote it);
#   - a value JSON cannot carry, e.g. an unquoted date, which YAML 1.1 reads as a
#     timestamp and YAML 1.2 as a string.
#   python3 yaml_libyaml.py <file.yaml>
import json
import sys

import yaml

if not getattr(yaml, "__with_libyaml__", False):
    sys.exit("PyYAML is built without libyaml (Debian: python3-yaml)")


class StrictLoader(yaml.CSafeLoader):
    pass


def construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice (first on line {seen[key] + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)


def flow_colons(text):
    problems = []
    level = 0
    for token in yaml.scan(text, Loader=yaml.CSafeLoader):
        if isinstance(token, (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken)):
            level += 1
        elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)):
            level -= 1
        elif isinstance(token, yaml.ScalarToken) and level > 0 and token.plain and ":" in token.value:
            problems.append(f"line {token.start_mark.line + 1}: plain scalar '{token.value}' "
                            "holds ':' in a flow collection; quote it")
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: yaml_libyaml.py <file.yaml>")
    text = open(sys.argv[1], encoding="utf-8").read()
    try:
        problems = flow_colons(text)
        doc = yaml.load(text, Loader=StrictLoader)
        out = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    except (yaml.YAMLError, TypeError, ValueError) as e:
        sys.exit(f"{sys.argv[1]}: libyaml: {e}")
    if problems:
        sys.exit("\n".join(f"{sys.argv[1]}: libyaml: {p}" for p in problems))
    sys.stdout.write(out)


main()
