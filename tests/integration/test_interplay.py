"""The module among other httpd modules, as a Debian install has them: access rules on
<Location>, mod_rewrite and mod_alias, mod_mime's extension maps, nested prefixes, and
PkgIndex Off in an inner location."""

import json

import pytest

import helpers

CONF = """
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule negotiation_module /usr/lib/apache2/modules/mod_negotiation.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
PkgIndexBaseURL https://djangopackages.org
TypesConfig /etc/mime.types
AddHandler type-map var
AddLanguage en .en
AddEncoding gzip .gz

<Location /api/v4/grids/>
    Require all denied
</Location>
<Location /api/v4/packages/secret/>
    PkgIndex Off
</Location>
<Location /other/>
    PkgIndex On
    PkgIndexPageSize 2
</Location>
<Location /other/nested/>
    PkgIndex On
    PkgIndexPageSize 3
</Location>

RewriteEngine On
RewriteRule ^/old-api/(.*)$ /api/v4/$1 [PT]
RewriteRule ^/api/v4/legacy/ https://example.org/ [R=302,L]
Redirect 301 /api/v4/moved https://example.org/moved
"""


@pytest.fixture(scope="module")
def server(module_so, conformance_inputs, driver):
    yield from helpers.serving(conformance_inputs, CONF, "pkgindex-interplay-", module_so, driver)


def test_location_access_rules_apply(server):
    assert server.request("GET", "/api/v4/grids/1/").status == 403
    assert server.request("GET", "/api/v4/packages/1/").status == 200
    for path in ("/api/v4/grids%2F1/", "/api/v4/grids%2f"):
        resp = server.request("GET", path)
        assert resp.status == 404 and json.loads(resp.body) == {"detail": "Not found."}


def test_rewrite_into_the_api(server):
    resp = server.request("GET", "/old-api/categories/1/")
    assert resp.status == 200 and json.loads(resp.body)["id"] == 1


def test_rewrite_and_redirect_under_the_prefix_win(server):
    resp = server.request("GET", "/api/v4/legacy/x")
    assert resp.status == 302 and resp.headers["Location"] == "https://example.org/"
    resp = server.request("GET", "/api/v4/moved")
    assert resp.status == 301 and resp.headers["Location"] == "https://example.org/moved"


@pytest.mark.parametrize("path,status", [("/api/v4/packages/foo.var", 404), ("/api/v4/packages/1.en", 404),
                                         ("/api/v4/packages/1.gz", 404), ("/api/v4/packages/1.json", 200)])
def test_mime_maps_do_not_touch_api_responses(server, path, status):
    resp = server.request("GET", path)
    assert resp.status == status
    assert resp.headers["Content-Type"] == "application/json"
    assert "Content-Language" not in resp.headers and "Content-Encoding" not in resp.headers
    json.loads(resp.body)


def test_pkgindex_off_in_an_inner_location(server):
    resp = server.request("GET", "/api/v4/packages/secret/")
    assert resp.status == 404
    assert "Allow" not in resp.headers  # not the API's answer: httpd's own
    assert server.request("GET", "/api/v4/packages/1/").status == 200


def test_longest_prefix_wins(server):
    assert len(json.loads(server.request("GET", "/other/packages/").body)["results"]) == 2
    page = json.loads(server.request("GET", "/other/nested/packages/").body)
    assert len(page["results"]) == 3
    assert page["next"] == "https://djangopackages.org/other/nested/packages/?limit=3&offset=3"
    assert server.request("GET", "/other/nested").status == 301
