"""Spec §5: headers, methods and errors on every route.

Every API response carries exactly `Allow: GET, HEAD, OPTIONS` and `Vary: Accept`, and the
JSON content type without charset; HEAD mirrors GET without a body; OPTIONS answers
metadata even for missing objects; other methods are 405 with DRF's text; a route without
its trailing slash is a 301 (Django's APPEND_SLASH, which sends neither Allow nor Vary).
"""

import json

import pytest

ALLOW = "GET, HEAD, OPTIONS"

# (path, status of GET, OPTIONS name)
ROUTES = [
    ("/api/v4/", 200, "Api Root"),
    ("/api/v4/packages/", 200, "Package List"),
    ("/api/v4/packages/1/", 200, "Package Instance"),
    ("/api/v4/packages/django-metrics-adapter/", 200, "Package Instance"),
    ("/api/v4/packages/424242/", 404, "Package Instance"),
    ("/api/v4/grids/", 200, "Grid List"),
    ("/api/v4/grids/1/", 200, "Grid Instance"),
    ("/api/v4/grids/job-queues/", 200, "Grid Instance"),
    ("/api/v4/grids/999/", 404, "Grid Instance"),
    ("/api/v4/categories/", 200, "Category List"),
    ("/api/v4/categories/1/", 200, "Category Instance"),
    ("/api/v4/categories/77/", 404, "Category Instance"),
    ("/api/v4/packages.json", 200, "Package List"),
    ("/api/v4/packages/1.json", 200, "Package Instance"),
    ("/api/v4/.json", 200, "Api Root"),
]


def assert_api_headers(resp, content_type="application/json"):
    assert resp.headers.get_all("Allow") == [ALLOW]
    assert resp.headers.get_all("Vary") == ["Accept"]
    assert resp.headers.get("Content-Type") == content_type
    assert int(resp.headers["Content-Length"]) == len(resp.body) or resp.body == b""


@pytest.mark.parametrize("path,status,name", ROUTES)
def test_get_and_head(conformance_server, path, status, name):
    get = conformance_server.request("GET", path)
    assert get.status == status
    assert_api_headers(get)
    json.loads(get.body)
    head = conformance_server.request("HEAD", path)
    assert head.status == status
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(get.body))
    assert head.headers.get_all("Allow") == [ALLOW]
    assert head.headers.get_all("Vary") == ["Accept"]


@pytest.mark.parametrize("path,status,name", ROUTES)
def test_options(conformance_server, path, status, name):
    resp = conformance_server.request("OPTIONS", path)
    assert resp.status == 200
    assert_api_headers(resp)
    meta = json.loads(resp.body)
    assert list(meta) == ["name", "description", "renders", "parses"]
    assert meta["name"] == name
    assert meta["renders"] == ["application/json", "text/html"]
    assert meta["parses"] == ["application/json", "application/x-www-form-urlencoded",
                              "multipart/form-data"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"])
@pytest.mark.parametrize("path", ["/api/v4/", "/api/v4/packages/", "/api/v4/packages/1/",
                                  "/api/v4/grids/1/", "/api/v4/categories/", "/api/v4/search/"])
def test_unsupported_methods(conformance_server, method, path):
    resp = conformance_server.request(method, path, headers={"Content-Type": "application/json"},
                                      body='{"title": "x"}')
    assert resp.status == 405
    assert_api_headers(resp)
    assert resp.body == ('{"detail":"Method \\"%s\\" not allowed."}' % method).encode()


def test_405_keeps_connection_usable(conformance_server):
    """The refused body is discarded, not parsed as the next request."""
    body = "GET /api/v4/packages/1/ HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = (f"POST /api/v4/packages/ HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n{body}"
           "GET /api/v4/categories/1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    out = conformance_server.raw(raw)
    assert out.count(b"HTTP/1.1 ") == 2
    assert b"405 Method Not Allowed" in out and b'"title":"App"' in out


@pytest.mark.parametrize("path,location", [
    ("/api/v4", "/api/v4/"),
    ("/api/v4?limit=2", "/api/v4/?limit=2"),
    ("/api/v4/packages", "/api/v4/packages/"),
    ("/api/v4/packages/1", "/api/v4/packages/1/"),
    ("/api/v4/packages/django-mail", "/api/v4/packages/django-mail/"),
    ("/api/v4/grids?limit=2&offset=1", "/api/v4/grids/?limit=2&offset=1"),
    ("/api/v4/categories/3", "/api/v4/categories/3/"),
    ("/api/v4/search?q=x", "/api/v4/search/?q=x"),
])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_append_slash_redirect(conformance_server, method, path, location):
    resp = conformance_server.request(method, path)
    assert resp.status == 301
    assert resp.headers["Location"] == location
    assert "Allow" not in resp.headers and "Vary" not in resp.headers
    assert resp.body == b""


@pytest.mark.parametrize("path,detail", [
    ("/api/v4/nope/", "Not found."),
    ("/api/v4/nope", "Not found."),
    ("/api/v4/packages/1/extra/", "Not found."),
    ("/api/v4/packages/1.JSON", "Not found."),
    ("/api/v4/packages/1.5/", "Not found."),
    ("/api/v4/packages/1/?format=yaml", "Not found."),
    ("/api/v4/packages.xml", "Not found."),
    ("/api/v4/.yaml", "Not found."),
    ("/api/v4/categories/apps/", "Not found."),
    ("/api/v4/categories/1.5/", "Not found."),
    ("/api/v4/packages/424242/", "No Package matches the given query."),
    ("/api/v4/packages/no-such-slug/", "No Package matches the given query."),
    ("/api/v4/grids/no-such-grid/", "No Grid matches the given query."),
    ("/api/v4/categories/0/", "No Category matches the given query."),
])
def test_not_found(conformance_server, path, detail):
    resp = conformance_server.request("GET", path)
    assert resp.status == 404
    assert_api_headers(resp)
    assert resp.body == json.dumps({"detail": detail}, separators=(",", ":")).encode()


@pytest.mark.parametrize("accept", ["application/xml", "image/png", "", "text/plain, application/xml"])
def test_not_acceptable(conformance_server, accept):
    resp = conformance_server.request("GET", "/api/v4/packages/1/", headers={"Accept": accept})
    assert resp.status == 406
    assert_api_headers(resp)
    assert resp.body == b'{"detail":"Could not satisfy the request Accept header."}'


def test_format_json_overrides_nothing_else(conformance_server):
    """?format=json with an Accept that JSON cannot satisfy is still 406, as in DRF."""
    resp = conformance_server.request("GET", "/api/v4/?format=json", headers={"Accept": "text/html"})
    assert resp.status == 406


@pytest.mark.parametrize("accept,indent", [
    ("application/json; indent=4", 4), ("*/*; indent=2", 2), ("application/json; indent=99", 8),
    ("application/json; indent=0", None), ("application/json; indent=x", None),
])
def test_indent(conformance_server, accept, indent):
    resp = conformance_server.request("GET", "/api/v4/categories/1/", headers={"Accept": accept})
    assert resp.status == 200
    obj = json.loads(resp.body)
    expected = json.dumps(obj, ensure_ascii=False, indent=indent,
                          separators=(",", ": ") if indent else (",", ":"))
    assert resp.body.decode() == expected


def test_indented_error_body(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/packages/424242/",
                                      headers={"Accept": "application/json; indent=2"})
    assert resp.status == 404
    assert resp.body == b'{\n  "detail": "No Package matches the given query."\n}'


def test_format_param_decorates_links(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/grids/1/?format=json")
    grid = json.loads(resp.body)
    assert grid["packages"] and all(u.endswith("/?format=json") for u in grid["packages"])
    resp = conformance_server.request("GET", "/api/v4/packages/1.json?format=json")
    pkg = json.loads(resp.body)
    assert pkg["category"] == "https://djangopackages.org/api/v4/categories/1.json?format=json"
    resp = conformance_server.request("GET", "/api/v4/?format=")
    root = json.loads(resp.body)
    assert root["grids"] == "https://djangopackages.org/api/v4/grids/?format="


def test_root_body(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/")
    assert resp.body == (b'{"packages":"https://djangopackages.org/api/v4/packages/",'
                         b'"search":"https://djangopackages.org/api/v4/search/",'
                         b'"grids":"https://djangopackages.org/api/v4/grids/",'
                         b'"categories":"https://djangopackages.org/api/v4/categories/"}')


def test_html_pages_carry_the_api_headers(conformance_server):
    for path, headers in (("/api/v4/?format=api", {}), ("/api/v4/.api", {}),
                          ("/api/v4/", {"Accept": "text/html"})):
        resp = conformance_server.request("GET", path, headers=headers)
        assert resp.status == 200
        assert_api_headers(resp, "text/html; charset=utf-8")


def test_outside_prefix_is_not_ours(conformance_server):
    resp = conformance_server.request("GET", "/api/v5/packages/")
    assert resp.status == 404
    assert "Allow" not in resp.headers


@pytest.mark.parametrize("path", ["/api/v4//packages/", "/api/v4/packages//", "/api/v4/./packages/",
                                  "/api/v4/grids/../packages/", "/api/v4/packages/1//"])
def test_routes_match_the_path_as_sent(conformance_server, path):
    """Django does not merge slashes or resolve dot segments; httpd's r->uri does."""
    raw = conformance_server.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 ")
    assert json.loads(body) == {"detail": "Not found."}


@pytest.mark.parametrize("path", ["/api/v4/grids%2F1/", "/api/v4/grids%2f", "/api/v4/packages/1%2F"])
def test_encoded_slash_routes_nowhere(conformance_server, path):
    """An encoded '/' would reach a route other than the one <Location> access rules saw."""
    resp = conformance_server.request("GET", path)
    assert resp.status == 404
    assert json.loads(resp.body) == {"detail": "Not found."}


def test_raw_path_outside_prefix_is_not_a_route(conformance_server):
    """'/api//v4/' is '/api/v4/' to httpd, but not to Django's router."""
    raw = conformance_server.raw(b"GET /api//v4/packages/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 ") and json.loads(body) == {"detail": "Not found."}


def test_absolute_form_request_target(conformance_server):
    raw = conformance_server.raw(b"GET http://x/api/v4/categories/1/?format=json HTTP/1.1\r\n"
                                 b"Host: x\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["id"] == 1


def test_page_links_keep_a_suffix_slash(conformance_server):
    """DRF builds page links from the request URI: "packages.json/" stays."""
    page = json.loads(conformance_server.request("GET", "/api/v4/packages.json/?limit=1").body)
    assert page["next"] == "https://djangopackages.org/api/v4/packages.json/?limit=1&offset=1"
    assert page["results"][0]["category"].endswith("/categories/1.json")
