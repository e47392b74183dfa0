"""The example Zero to JupyterHub config (deploy/z2jh/config.yaml) and the nbgitpuller link in the lab guide.

These run in the default ``pytest`` (no hub needed): the config is checked against the chart's own values
schema (``z2jh-values-schema.yaml``, see make_z2jh_schema.py), key by key and with a JSON-schema validator,
and against the sizing table of docs/LAB-GUIDE.md; the link is parsed and rebuilt by nbgitpuller's documented
format.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jsonschema
import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = ROOT / "deploy" / "z2jh" / "config.yaml"
GUIDE = ROOT / "docs" / "LAB-GUIDE.md"
# nbgitpuller's URL options (docs/topic/url-options.rst of jupyterhub/nbgitpuller); subpath and app are deprecated
NBGITPULLER_OPTIONS = {"repo", "branch", "urlpath", "depth", "targetpath", "targetPath", "backup"}


@pytest.fixture(scope="module")
def schema():
    return yaml.safe_load((HERE / "z2jh-values-schema.yaml").read_text())


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(CONFIG.read_text())


def unknown_keys(values, node, path=()):
    """Key paths of ``values`` that ``node`` (a JSON schema) does not document: [] when all are known."""
    if not isinstance(values, dict):
        return []
    bad = []
    for key, value in values.items():
        here = (*path, key)
        if key in node.get("properties", {}):
            bad += unknown_keys(value, node["properties"][key], here)
            continue
        pattern = next((s for p, s in node.get("patternProperties", {}).items() if re.search(p, key)), None)
        if pattern is not None:
            bad += unknown_keys(value, pattern, here)
        elif node.get("additionalProperties") is False or "properties" in node and "additionalProperties" not in node:
            bad.append(".".join(here))
        # else: a free-form mapping (extraEnv, a traitlets class's config): any key is the chart's to pass on
    return bad


def test_every_key_of_the_example_config_is_in_the_charts_schema(config, schema):
    assert unknown_keys(config, schema) == []
    for path in ("singleuser.memory.limit", "singleuser.memory.guarantee", "singleuser.cpu.limit",
                 "singleuser.cpu.guarantee", "cull.timeout", "singleuser.image.name"):
        node = config
        for key in path.split("."):
            node = node[key]
        assert node is not None, path


def test_a_misspelt_key_is_caught(config, schema):
    wrong = yaml.safe_load(CONFIG.read_text())
    wrong["singleuser"]["memory"]["limt"] = wrong["singleuser"]["memory"].pop("limit")
    wrong["singleuser"]["storage"]["capcity"] = "1Gi"
    wrong["cul"] = {"enabled": True}
    assert sorted(unknown_keys(wrong, schema)) == ["cul", "singleuser.memory.limt", "singleuser.storage.capcity"]


def test_the_example_config_validates_against_the_charts_schema(config, schema):
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(config), key=lambda e: list(e.path))
    assert [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors] == []
    wrong = yaml.safe_load(CONFIG.read_text())
    wrong["singleuser"]["cpu"]["limit"] = "one"                    # the chart wants a number
    assert not jsonschema.Draft7Validator(schema).is_valid(wrong)


def _bytes(quantity) -> float:
    """A z2jh memory value (bytes, or a number with K, M, G or T, powers of 1024 as JupyterHub reads them)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", str(quantity))
    assert m, f"not a memory quantity JupyterHub reads: {quantity!r}"
    return float(m[1]) * 1024 ** " KMGT".index(m[2] or " ")


def test_the_requests_are_those_of_the_lab_guides_sizing_table(config):
    su = config["singleuser"]
    assert _bytes(su["memory"]["guarantee"]) <= _bytes(su["memory"]["limit"])
    assert 0 < su["cpu"]["guarantee"] <= su["cpu"]["limit"]
    guide = GUIDE.read_text()
    for key, value in [("memory.guarantee", su["memory"]["guarantee"]), ("memory.limit", su["memory"]["limit"]),
                       ("cpu.guarantee", su["cpu"]["guarantee"]), ("cpu.limit", su["cpu"]["limit"])]:
        assert f"`singleuser.{key}: {value}`" in guide, key
    # one BLAS thread per kernel, so a kernel never wants more CPUs than the limit gives it
    assert su["extraEnv"]["OPENBLAS_NUM_THREADS"] == su["extraEnv"]["OMP_NUM_THREADS"] == "1"
    assert su["extraEnv"]["CNNBOOK_BLAS_THREADS"] == "1"  # and one thread for the layers
    assert su["cpu"]["limit"] >= 1


def _guide_link() -> str:
    links = re.findall(r"https://<your-hub>/hub/user-redirect/git-pull\?\S+", GUIDE.read_text())
    assert len(links) == 1, links
    return links[0].rstrip("`")


def test_the_nbgitpuller_link_in_the_guide_follows_the_documented_format():
    link = _guide_link()
    parts = urlsplit(link)
    assert parts.path == "/hub/user-redirect/git-pull"
    query = parse_qs(parts.query, strict_parsing=True)
    assert set(query) <= NBGITPULLER_OPTIONS and all(len(v) == 1 for v in query.values())
    repo, branch, urlpath = query["repo"][0], query["branch"][0], query["urlpath"][0]
    assert urlsplit(repo).scheme == "https" and repo.endswith("/cnnbook-student")
    assert branch == "main"                  # nbgitpuller's default is master: the branch must be named
    # without targetpath, nbgitpuller clones into the repository's last path component, relative to the home
    folder = repo.rstrip("/").split("/")[-1]
    m = re.fullmatch(r"lab/tree/([^/]+)/([^/?]+\.ipynb)(\?autodecode)?", urlpath)
    assert m and m[1] == folder, urlpath
    assert (ROOT / "notebooks" / m[2]).is_file()  # a notebook the student edition has
    rebuilt = "https://<your-hub>/hub/user-redirect/git-pull?" + urlencode(
        {"repo": repo, "branch": branch, "urlpath": urlpath}, quote_via=quote, safe="")
    assert rebuilt == link


def test_a_link_for_another_hub_and_notebook_parses_back():
    repo, notebook = "https://github.com/my-course/cnnbook-student", "08-training-a-cnn.ipynb"
    link = "https://hub.example.edu/hub/user-redirect/git-pull?" + urlencode(
        {"repo": repo, "branch": "main", "urlpath": f"lab/tree/cnnbook-student/{notebook}?autodecode"},
        quote_via=quote, safe="")
    assert "%3Fautodecode" in link and "?autodecode" not in urlsplit(link).query   # one query, not two
    query = parse_qs(urlsplit(link).query)
    assert query == {"repo": [repo], "branch": ["main"], "urlpath": [f"lab/tree/cnnbook-student/{notebook}?autodecode"]}
