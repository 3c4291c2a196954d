"""The browsable API (issue 5, server side): what a browser gets for every route.

The page's response block must read exactly `GET <path>` / `HTTP 200 OK` / the headers /
a blank line / the JSON indented by 4, with every http(s) URL in it a link; data is
HTML-escaped; lists have pagination controls.
"""

import html.parser
import json
import os
import re
import shutil

import pytest

import helpers

REAL = helpers.read_jsonl(os.path.join(helpers.DATA, "real-packages.jsonl"))


class Page(html.parser.HTMLParser):
    """The visible text of the response block, its links, and the page's other links."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.block, self.links, self.nav, self.title, self.h1 = "", [], [], "", ""
        self._in_block = self._in_a = self._in_h1 = self._in_title = False
        self._depth = 0
        self.scripts = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "response":
            self._in_block = True
        if tag == "script":
            self.scripts += 1
        if tag == "a":
            (self.links if self._in_block else self.nav).append(attrs.get("href"))
        self._in_h1 = self._in_h1 or tag == "h1"
        self._in_title = self._in_title or tag == "title"

    def handle_endtag(self, tag):
        if tag == "div" and self._in_block:
            self._in_block = False
        if tag == "h1":
            self._in_h1 = False
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_block:
            self.block += data
        if self._in_h1:
            self.h1 += data
        if self._in_title:
            self.title += data


def indented(obj):
    return json.dumps(obj, ensure_ascii=False, indent=4, separators=(",", ": "))


@pytest.mark.parametrize("rec", [r for r in REAL if r["request"].endswith("?format=api")],
                         ids=lambda r: r["request"])
def test_real_record_page_block(real_server, rec):
    path = rec["request"].split(" ", 1)[1]
    resp = real_server.request("GET", path)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS" and resp.headers["Vary"] == "Accept"
    page = Page(resp.body.decode())
    expected = (f"GET {path}\nHTTP 200 OK\nAllow: GET, HEAD, OPTIONS\n"
                f"Content-Type: application/json\nVary: Accept\n\n{indented(rec['json'])}")
    assert page.block == expected
    assert page.h1 == "Package Instance"
    urls = [rec["json"]["category"]] + rec["json"]["grids"]
    assert all(u in page.links for u in urls)
    assert all(u.endswith("?format=api") for u in urls)
    assert page.scripts == 0


@pytest.mark.parametrize("path,headers,name", [
    ("/api/v4/", {"Accept": "text/html"}, "Api Root"),
    ("/api/v4/.api", {}, "Api Root"),
    ("/api/v4/packages/?format=api", {}, "Package List"),
    ("/api/v4/grids/1/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "Grid Instance"),
    ("/api/v4/categories/", {"Accept": "text/*"}, "Category List"),
    ("/api/v4/packages/424242/?format=api", {}, "Package Instance"),
])
def test_every_route_has_a_page(conformance_server, path, headers, name):
    resp = conformance_server.request("GET", path, headers=headers)
    page = Page(resp.body.decode())
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.h1 == name and name in page.title
    status = "404 Not Found" if "424242" in path else "200 OK"
    assert page.block.split("\n")[1] == f"HTTP {status}"
    body = json.loads(page.block.split("\n\n", 1)[1])
    assert isinstance(body, dict)
    head = conformance_server.request("HEAD", path, headers=headers)
    assert head.status == resp.status and head.body == b""
    assert head.headers["Content-Length"] == str(len(resp.body))


def test_list_pagination_and_format_switch(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/packages/?format=api&limit=5&offset=10&x=1")
    page = Page(resp.body.decode())
    assert "https://djangopackages.org/api/v4/packages/?format=api&limit=5&offset=5&x=1" in page.nav
    assert "https://djangopackages.org/api/v4/packages/?format=api&limit=5&offset=15&x=1" in page.nav
    assert "https://djangopackages.org/api/v4/packages/?format=api&limit=5&x=1" in page.nav  # page 1
    assert "https://djangopackages.org/api/v4/packages/?format=api&limit=5&offset=40&x=1" in page.nav
    assert "/api/v4/packages/?limit=5&offset=10&x=1&format=json" in page.nav
    assert b'<span class="current">3</span>' in resp.body
    # the JSON page it switches to
    fmt = conformance_server.request("GET", "/api/v4/packages/?limit=5&offset=10&x=1&format=json")
    assert fmt.headers["Content-Type"] == "application/json"


def test_options_metadata_on_the_page(conformance_server):
    resp = conformance_server.request("GET", "/api/v4/grids/?format=api")
    assert b"<summary>OPTIONS</summary>" in resp.body
    assert b"&quot;name&quot;: &quot;Grid List&quot;" in resp.body


def test_escaping_and_no_javascript_links(module_so, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-html-")
    try:
        os.mkdir(os.path.join(workdir, "db"), 0o755)
        cats = helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "categories.jsonl"))
        pkg = helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "packages.jsonl"))[0]
        pkg = dict(pkg, grids=[], repo_description="<script>alert(1)</script> & \"q\" 'a'",
                   documentation_url="javascript:alert(1)", repo_url="https://x.example/a?b=1&c=<2>")
        src = os.path.join(workdir, "in.jsonl")
        with open(src, "w") as f:
            for o in cats + [pkg]:
                f.write(json.dumps(o) + "\n")
        db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), src, driver=driver)
        with helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir, module=module_so) as srv:
            resp = srv.request("GET", f"/api/v4/packages/{pkg['id']}/?format=api")
            text = resp.body.decode()
            assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
            page = Page(text)
            assert json.loads(page.block.split("\n\n", 1)[1])["repo_description"] == pkg["repo_description"]
            assert not any(u and u.startswith("javascript:") for u in page.links)
            assert "https://x.example/a?b=1&c=<2>" in page.links  # escaped in the attribute, intact here
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("path", ["/api/v4/?format=api", "/api/v4/packages/?format=api&limit=3&offset=6",
                                  "/api/v4/grids/1/?format=api", "/api/v4/categories/77/?format=api"])
def test_pages_are_valid_html5(conformance_server, path):
    """html5lib's strict parser raises on any HTML5 parse error."""
    import html5lib
    html5lib.HTMLParser(strict=True).parse(conformance_server.request("GET", path).body)


def test_conditional_requests_on_pages(conformance_server):
    first = conformance_server.request("GET", "/api/v4/grids/2/?format=api")
    etag = first.headers["ETag"]
    json_etag = conformance_server.request("GET", "/api/v4/grids/2/?format=json").headers["ETag"]
    assert etag != json_etag  # another representation, another tag
    again = conformance_server.request("GET", "/api/v4/grids/2/?format=api", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""


def test_search_page_has_a_search_box(real_server):
    import html5lib
    for path, keep_format in (("/api/v4/search/?format=api&q=gallery", True),
                              ("/api/v4/search.api?q=gallery", False),
                              ("/api/v4/search/?q=gallery", False)):
        resp = real_server.request("GET", path, headers={"Accept": "text/html"})
        assert resp.status == 200, path
        html5lib.HTMLParser(strict=True).parse(resp.body)
        text = resp.body.decode()
        form = re.search(r'<form class="search"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', text)
        assert form, path
        assert form.group(1) == path.split("?")[0]
        assert 'name="q"' in form.group(2) and 'value="gallery"' in form.group(2)
        assert ('name="format" value="api"' in form.group(2)) == keep_format
        page = Page(text)
        assert json.loads(page.block.split("\n\n", 1)[1])[0]["title"] in (
            "Django Starcross Gallery", "gnocchi-gallery")
    # the query shown back is escaped; other pages have no search box
    resp = real_server.request("GET", "/api/v4/search/?format=api&q=%22%3E%3Cscript%3Ex")
    assert '<script>x' not in resp.body.decode() and 'value="&quot;&gt;&lt;script&gt;x"' in resp.body.decode()
    assert b'class="search"' not in real_server.request("GET", "/api/v4/?format=api").body


def test_json_link_of_a_long_query(conformance_server):
    """900 parameters (as many as a request line holds): the page's json link keeps them in
    order, duplicates and all, re-encoded, with ?format= replaced by format=json at the end."""
    sent = [f"k{i % 10}={i}" if i % 9 else f"k{i % 10}=%2f{i}" for i in range(900)]
    path = "/api/v4/categories/?" + "&".join(sent[:300] + ["format=api"] + sent[300:])
    assert len(path) < 8000  # under httpd's LimitRequestLine
    resp = conformance_server.request("GET", path)
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    want = "/api/v4/categories/?" + "&".join(s.replace("%2f", "%2F") for s in sent) + "&format=json"
    assert Page(resp.body.decode()).nav.count(want) == 1
