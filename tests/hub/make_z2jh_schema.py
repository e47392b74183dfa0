"""Rebuild ``z2jh-values-schema.yaml`` (the test fixture) from the Zero to JupyterHub chart's own schema.

    python tests/hub/make_z2jh_schema.py Z2JH_CHECKOUT COMMIT

(``Z2JH_CHECKOUT``: a checkout of github.com/jupyterhub/zero-to-jupyterhub-k8s at ``COMMIT``.)

The chart's ``jupyterhub/values.schema.yaml`` (a JSON schema, draft 7, in YAML) documents every value the
chart takes. The fixture keeps all of it but the ``description`` texts, and drops the ``required`` lists of
objects: helm checks those on the chart's defaults merged with a config.yaml, and a config.yaml alone rightly
leaves most values at their defaults. ``oneOf`` alternatives keep theirs. The repository's LICENSE file
(BSD-3-Clause, with an Apache-2.0 part) is copied verbatim into the fixture's header.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
HEADER = """\
# The Zero to JupyterHub Helm chart's values schema, without its descriptions and without the `required` lists
# of objects (see make_z2jh_schema.py). From https://github.com/jupyterhub/zero-to-jupyterhub-k8s,
# jupyterhub/values.schema.yaml at commit {commit}.
# Used by tests/hub/test_z2jh_config.py to check deploy/z2jh/config.yaml. That repository's LICENSE file, verbatim:
#
{license}
"""
def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items()
                if k != "description" and not (k == "required" and "properties" in node)}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit("usage: make_z2jh_schema.py Z2JH_CHECKOUT COMMIT")
    checkout = Path(argv[0])
    schema = strip(yaml.safe_load((checkout / "jupyterhub" / "values.schema.yaml").read_text()))
    license_text = (checkout / "LICENSE").read_text()
    commented = "\n".join(f"#   {line}".rstrip() for line in license_text.splitlines())
    text = HEADER.format(commit=argv[1], license=commented)
    text += yaml.safe_dump(schema, sort_keys=False, default_flow_style=None, width=110)
    (HERE / "z2jh-values-schema.yaml").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
