"""The 40 real package records of djangopackages.org, served from the real sample.

Each record is the original's answer to GET /api/v4/packages/{id}/ (some with
?format=api, whose hyperlinks then carry ?format=api).  The browsable HTML
page is not compared here; instead each record is checked in the two JSON
forms it implies (spec section 4): the plain path, whose hyperlinks have no
query, and ?format=json, whose hyperlinks all carry ?format=json.
"""

import os

import pytest

import helpers

RECORDS = helpers.read_jsonl(os.path.join(helpers.DATA, "real-packages.jsonl"))


def with_link_query(obj, query):
    """The package with its hyperlinks (category, grids) rewritten to end in `query`."""
    def link(url):
        return url.replace("?format=api", "") + query
    out = dict(obj)
    out["category"] = link(obj["category"])
    out["grids"] = [link(u) for u in obj["grids"]]
    return out


def variants():
    for rec in RECORDS:
        method, target = rec["request"].split(" ", 1)
        assert method == "GET"
        path = target.split("?", 1)[0]
        pid = rec["json"]["id"]
        yield pytest.param(path, with_link_query(rec["json"], ""), id=f"{pid} {path}")
        yield pytest.param(path + "?format=json", with_link_query(rec["json"], "?format=json"),
                           id=f"{pid} {path}?format=json")


@pytest.mark.parametrize("path,expected", variants())
def test_real_record(real_server, path, expected):
    status, headers, body = real_server.request("GET", path)
    want = helpers.drf_json(expected)
    assert status == 200
    assert headers.get("Allow") == "GET, HEAD, OPTIONS"
    assert headers.get("Vary") == "Accept"
    assert headers.get("Content-Type") == "application/json"
    assert int(headers.get("Content-Length", "-1")) == len(want)
    assert body == want
