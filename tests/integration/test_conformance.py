"""Every request of tests/data/conformance/cases.jsonl, answered byte for byte.

The cases are what Django REST Framework answered on the conformance dataset
(see tests/data/conformance/README.md); the server under test serves the same
dataset with PkgIndexBaseURL https://djangopackages.org.  Requests are sent
exactly as recorded: method, path, headers and body.
"""

import json
import os

import pytest

import helpers

CASES = helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "cases.jsonl"))
GET_BODIES = {c["path"]: c["body"] for c in CASES
              if c["method"] == "GET" and not c["request_headers"] and "body" in c}


def expected_length(case):
    """The Content-Length the case implies.

    The recorded bodies of missing objects were normalised to DRF >= 3.15's
    "No Package matches the given query." but their content_length kept the
    older "Not found." size, so the body is the reference: its own length, or
    for HEAD that of the GET of the same path.
    """
    body = case.get("body") if case["method"] != "HEAD" else GET_BODIES.get(case["path"])
    if body:
        return len(body.encode("utf-8"))
    return case["content_length"]


def case_id(case):
    """"GET /api/v4/packages/?limit=4", plus headers and body when the case has them."""
    parts = [case["method"], case["path"]]
    parts += [f"[{k}: {v}]" for k, v in case["request_headers"].items()]
    if "request_body" in case:
        parts.append(f"body={case['request_body']}")
    return " ".join(parts)


def params():
    seen = set()
    for case in CASES:
        cid = case_id(case)
        assert cid not in seen, f"duplicate case id {cid!r}"
        seen.add(cid)
        yield pytest.param(case, id=cid)


@pytest.mark.parametrize("case", params())
def test_case(conformance_server, case):
    status, headers, body = conformance_server.request(
        case["method"], case["path"], headers=case["request_headers"], body=case.get("request_body"))

    assert status == case["status"]
    for key, header in (("allow", "Allow"), ("vary", "Vary"), ("content_type", "Content-Type"),
                        ("location", "Location")):
        if key in case:
            assert headers.get(header) == case[key], header
    if "content_length" in case:
        assert int(headers.get("Content-Length", "-1")) == expected_length(case)
    if case["method"] == "HEAD":
        assert body == b""
        assert_head_sends_no_body(conformance_server, case)
    elif "body" in case:
        assert body == case["body"].encode("utf-8")


def assert_head_sends_no_body(server, case):
    """http.client never reads a HEAD body; look at the raw bytes instead."""
    lines = [f"HEAD {case['path']} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in case["request_headers"].items()]
    lines += ["Connection: close", "", ""]
    raw = server.raw("\r\n".join(lines).encode("latin-1"))
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"no end of headers in {raw[:200]!r}"
    assert rest == b"", "bytes after a HEAD response's headers"
