"""Bad input never yields a 500, a crash or a hang: each request gets the spec's status and
a JSON `detail` (or, where the original answers 200, a well-formed 200)."""

import json

import pytest

LONG_QUERY = "&".join(f"p{i:03}=" + "x" * 40 for i in range(172))  # 8 KB, just under LimitRequestLine

# (path, headers, status, detail or None for a 200 JSON body)
CASES = [
    # malformed percent-encoding and NUL bytes in the path
    ("/api/v4/packages/%zz/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/%/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/%e9%/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/a%00b/", {}, 404, "Not found."),
    ("/api/v4/%00/", {}, 404, "Not found."),
    ("/api/v4/grids/%2F/", {}, 404, "Not found."),
    # ids past int64, odd digits
    ("/api/v4/packages/99999999999999999999999/", {}, 404, "No Package matches the given query."),
    ("/api/v4/grids/9223372036854775808/", {}, 404, "No Grid matches the given query."),
    ("/api/v4/categories/99999999999999999999/", {}, 404, "No Category matches the given query."),
    ("/api/v4/packages/-1/", {}, 404, "No Package matches the given query."),
    ("/api/v4/categories/-1/", {}, 404, "Not found."),
    ("/api/v4/categories/%D9%A3/", {}, 404, "Not found."),
    # SQL metacharacters, non-ASCII and invalid UTF-8 in slugs
    ("/api/v4/packages/x'%20OR%20'1'='1/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/%27%3B%20DROP%20TABLE%20package_package%3B--/", {}, 404,
     "No Package matches the given query."),
    ("/api/v4/packages/%25%25s%25d/", {}, 404, "No Package matches the given query."),
    ("/api/v4/grids/caf%C3%A9/", {}, 404, "No Grid matches the given query."),
    ("/api/v4/grids/%F0%9F%A6%84/", {}, 404, "No Grid matches the given query."),
    ("/api/v4/packages/%FF%FE/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/%C0%80/", {}, 404, "No Package matches the given query."),
    ("/api/v4/packages/" + "a" * 4000 + "/", {}, 404, "No Package matches the given query."),
    # limit and offset: negative, garbage, huge
    ("/api/v4/packages/?limit=-5&offset=-7", {}, 200, None),
    ("/api/v4/packages/?limit=abc&offset=1e3", {}, 200, None),
    ("/api/v4/packages/?limit=99999999999999999999999999", {}, 200, None),
    ("/api/v4/packages/?offset=99999999999999999999999999", {}, 200, None),
    ("/api/v4/packages/?limit=%00&offset=%zz", {}, 200, None),
    ("/api/v4/packages/?limit=1%00", {}, 200, None),
    ("/api/v4/categories/?offset=9223372036854775807&limit=9223372036854775807", {}, 200, None),
    # invalid UTF-8 and odd bytes in the query
    ("/api/v4/packages/?q=%FF%FE&x=%C3", {}, 200, None),
    ("/api/v4/packages/?%=%&&&=&a", {}, 200, None),
    ("/api/v4/packages/?" + LONG_QUERY, {}, 200, None),
    ("/api/v4/packages/?" + "&".join(["a=1"] * 1001), {}, 400, "Too many query parameters."),
    # odd Accept headers
    ("/api/v4/", {"Accept": ""}, 406, "Could not satisfy the request Accept header."),
    ("/api/v4/", {"Accept": ";;;,,,"}, 406, "Could not satisfy the request Accept header."),
    ("/api/v4/", {"Accept": "application/json;indent=" + "9" * 400}, 200, None),
    ("/api/v4/", {"Accept": ", ".join(["text/plain"] * 200) + ", */*"}, 200, None),
    ("/api/v4/", {"Accept": ", ".join(["text/plain"] * 200)}, 406,
     "Could not satisfy the request Accept header."),
    ("/api/v4/", {"Accept": "*/*;q=abc"}, 200, None),
    ("/api/v4/", {"Accept": "application/json; indent=\"4"}, 200, None),
    ("/api/v4/?format=%00", {}, 404, "Not found."),
    ("/api/v4/?format=json%00", {}, 404, "Not found."),
]


@pytest.mark.parametrize("path,headers,status,detail", CASES,
                         ids=[f"{c[0][:80]} {c[1]}" for c in CASES])
def test_bad_input(conformance_server, path, headers, status, detail):
    resp = conformance_server.request("GET", path, headers=headers)
    assert resp.status == status, resp.body[:300]
    assert resp.headers["Content-Type"] == "application/json"
    body = json.loads(resp.body)
    if detail is not None:
        assert body == {"detail": detail}
    else:
        assert isinstance(body, dict)
    assert int(resp.headers["Content-Length"]) == len(resp.body)


def test_huge_offset_previous_link_is_exact(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/packages/?offset=99999999999999999999999999")
    page = json.loads(resp.body)
    assert page["results"] == [] and page["next"] is None
    assert page["previous"] == ("https://djangopackages.org/api/v4/packages/"
                                "?limit=20&offset=99999999999999999999999979")


def test_query_reencoded_like_django(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/packages/?q=caf%C3%A9+au+lait&z=%FF&a=&offset=25")
    page = json.loads(resp.body)
    assert page["previous"] == ("https://djangopackages.org/api/v4/packages/"
                                "?a=&limit=20&offset=5&q=caf%C3%A9+au+lait&z=%EF%BF%BD")


def test_server_survives(conformance_server):
    """After all of the above, the same server still answers normally."""
    resp = conformance_server.request("GET", "/api/v4/packages/1/")
    assert resp.status == 200
    assert "AH00052" not in conformance_server.error_log()  # child pid exit signal (a crash)


def test_request_line_too_long_is_json(conformance_server):
    """httpd refuses it before any hook; ErrorDocument brings it back to the API."""
    path = "/api/v4/packages/?" + "&".join(f"p{i:03}=" + "x" * 60 for i in range(140))
    resp = conformance_server.request("GET", path)
    assert resp.status == 414
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS" and resp.headers["Vary"] == "Accept"
    assert json.loads(resp.body) == {"detail": "Request URI is too long."}


def test_malformed_path_outside_decoding_is_json(conformance_server):
    """A path httpd cannot normalise (above the root) is its 400, answered in JSON."""
    raw = conformance_server.raw(b"GET /api/v4/../../../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert b"Allow: GET, HEAD, OPTIONS" in head and b"Vary: Accept" in head
    assert json.loads(body) == {"detail": "Bad request."}
