"""The directives, per location: PkgIndex, PkgIndexBaseURL, PkgIndexTimeZone,
PkgIndexPageSize, PkgIndexMaxLimit; and configuration errors at startup."""

import json
import os
import shutil
import subprocess

import pytest

import helpers


def get_json(server, path, **kw):
    resp = server.request("GET", path, **kw)
    assert resp.status == 200, resp.body
    return json.loads(resp.body)


def test_links_follow_host_header_without_base_url(multi_server):
    root = get_json(multi_server, "/api/v4/", headers={"Host": "pkgs.example.com:8443"})
    assert root["packages"] == "http://pkgs.example.com:8443/api/v4/packages/"
    pkg = get_json(multi_server, "/api/v4/packages/1/", headers={"Host": "a.example"})
    assert pkg["category"] == "http://a.example/api/v4/categories/1/"


def test_base_url_overrides_host(multi_server):
    pkg = get_json(multi_server, "/london/v4/packages/1/", headers={"Host": "evil.example"})
    assert pkg["category"] == "https://mirror.example.org/london/v4/categories/1/"
    assert all(g.startswith("https://mirror.example.org/london/v4/grids/") for g in pkg["grids"])


def test_default_time_zone_is_new_york(multi_server):
    cat = get_json(multi_server, "/api/v4/categories/1/")
    assert cat["created"] == "2010-08-14T22:47:52-04:00"
    assert cat["modified"] == "2022-03-04T21:48:41.249944-05:00"


def test_time_zone_utc_prints_z(multi_server):
    cat = get_json(multi_server, "/utc/categories/1/")
    assert cat["created"] == "2010-08-15T02:47:52Z"
    assert cat["modified"] == "2022-03-05T02:48:41.249944Z"


def test_time_zone_london_dst(multi_server):
    cat = get_json(multi_server, "/london/v4/categories/1/")
    assert cat["created"] == "2010-08-15T03:47:52+01:00"
    assert cat["modified"] == "2022-03-05T02:48:41.249944Z"


def test_default_page_size_and_max_limit(multi_server):
    page = get_json(multi_server, "/api/v4/packages/")
    assert len(page["results"]) == 20
    page = get_json(multi_server, "/api/v4/packages/?limit=100000")
    assert len(page["results"]) == 45 and page["next"] is None


def test_page_size_and_max_limit_clamp(multi_server):
    page = get_json(multi_server, "/utc/packages/")
    assert len(page["results"]) == 5
    assert page["next"].endswith("/utc/packages/?limit=5&offset=5")
    page = get_json(multi_server, "/utc/packages/?limit=40&offset=3")
    assert len(page["results"]) == 3
    assert page["next"].endswith("/utc/packages/?limit=3&offset=6")
    assert page["previous"].endswith("/utc/packages/?limit=3")


def test_max_limit_zero_is_unlimited(multi_server):
    page = get_json(multi_server, "/london/v4/packages/?limit=99999999999999999999999")
    assert len(page["results"]) == 45
    assert page["next"] is None and page["previous"] is None


def test_each_location_claims_its_prefix(multi_server):
    assert multi_server.request("GET", "/utc/").status == 200
    resp = multi_server.request("GET", "/london/v4")
    assert resp.status == 301 and resp.headers["Location"] == "/london/v4/"
    assert multi_server.request("GET", "/london/").status == 404


def startup_failure(extra_conf):
    """Start a server with EXTRA_CONF, expect it to refuse; return what it said."""
    workdir = helpers.make_www_tmpdir("pkgindex-conftest-")
    try:
        server = helpers.Server(os.path.join(workdir, "none.sqlite3"), extra_conf, workdir=workdir)
        with pytest.raises(RuntimeError) as err:
            server.start(timeout=5)
        return str(err.value)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("conf,message", [
    ("PkgIndexTimeZone Mars/Olympus_Mons", "PkgIndexTimeZone Mars/Olympus_Mons"),
    ("PkgIndexTimeZone ../../etc/passwd", "PkgIndexTimeZone"),
    ("PkgIndexBaseURL djangopackages.org", "PkgIndexBaseURL must be an absolute http or https URL"),
    ("PkgIndexBaseURL ftp://x.org", "PkgIndexBaseURL must be an absolute http or https URL"),
    ("PkgIndexPageSize 0", "PkgIndexPageSize must be an integer"),
    ("PkgIndexPageSize ten", "PkgIndexPageSize must be an integer"),
    ("PkgIndexMaxLimit -1", "PkgIndexMaxLimit must be an integer"),
    ("<Directory /tmp>\nPkgIndex On\n</Directory>", "PkgIndex"),
    ("PkgIndexCacheSize lots", "PkgIndexCacheSize must be a size in bytes"),
    ("<Location /x/>\nPkgIndexCacheSize 1M\n</Location>", "PkgIndexCacheSize"),
])
def test_configuration_errors_stop_startup(module_so, conf, message):
    assert message in startup_failure(conf)


def test_links_without_host_header_keep_the_port(multi_server):
    raw = multi_server.raw(b"GET /api/v4/ HTTP/1.0\r\n\r\n")
    body = raw.partition(b"\r\n\r\n")[2]
    assert json.loads(body)["grids"] == f"http://127.0.0.1:{multi_server.port}/api/v4/grids/"


def test_serve_refuses_a_busy_port(multi_server):
    res = subprocess.run([helpers.SERVE, "--port", str(multi_server.port), "--db", "sqlite3:/nonexistent/x",
                          "--rundir", os.path.join(multi_server.workdir, "run2")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
    assert res.returncode != 0
    assert f"port {multi_server.port} is in use" in res.stdout
