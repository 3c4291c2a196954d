"""A schema change made by another process while httpd serves (CREATE INDEX, VACUUM, a
migration) must not cost a single failed request: the pooled connections' statements were
prepared and used before it, and are expired by it."""

import json
import os
import shutil

import helpers


def test_schema_change_by_another_process(module_so, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-schema-")
    try:
        os.mkdir(os.path.join(workdir, "db"), 0o755)
        db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), driver=driver)
        # no response cache: every request runs the statements
        with helpers.Server(db, "PkgIndexCacheSize 0", workdir=workdir, module=module_so) as srv:
            paths = ["/api/v4/packages/wagtail-whoosh/", "/api/v4/packages/?limit=5",
                     "/api/v4/grids/2/", "/api/v4/categories/1/", "/api/v4/search/?q=wagtail"]
            # several rounds: the requests reach several of the pool's connections
            before = [[srv.request("GET", p) for p in paths] for _ in range(4)][-1]
            assert [r.status for r in before] == [200] * len(paths)
            for sql in ("CREATE INDEX unrelated_index ON package_package (title)", "VACUUM"):
                db.execute(sql)
                for _ in range(4):
                    after = [srv.request("GET", p) for p in paths]
                    assert [(r.status, json.loads(r.body)) for r in after] == \
                           [(r.status, json.loads(r.body)) for r in before], sql
            assert "PkgIndex" not in srv.error_log()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
