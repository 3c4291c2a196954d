/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* render.c and links.c against the original's bytes: the expected documents are taken verbatim
 * from tests/data (the conformance set and cases.jsonl, and real-packages.jsonl, the latter with
 * ?format=api links), and the models are those objects converted back by hand: hyperlinks to
 * ids, datetimes as the API printed them (pki_time_parse reads the offsets), participants
 * joined with ',' and commits_over_52 as JSON text. Datetimes render in America/New_York. */

#include "unit.h"

#include <apr_strings.h>

#include "links.h"
#include "render.h"
#include "tz.h"

#define BASE   "https://djangopackages.org"
#define PREFIX "/api/v4/"

/* --- models from text --- */

typedef struct package_src {
    apr_int64_t id, category_id;
    const char *title, *slug, *last_updated, *last_fetched, *repo_url, *pypi_version, *created,
        *modified;
    apr_int64_t repo_forks;
    const char *repo_description, *pypi_url, *documentation_url;
    apr_int64_t repo_watchers;
    const char *commits, *participants;
    apr_int64_t grids[4];
    int ngrids;
} package_src;

typedef struct grid_src {
    apr_int64_t id;
    const char *title, *slug, *description;
    int is_locked, header;
    const char *created, *modified;
    apr_int64_t packages[12];
    int npackages;
} grid_src;

typedef struct category_src {
    apr_int64_t id;
    const char *title, *slug, *description, *title_plural;
    int show_pypi;
    const char *created, *modified;
} category_src;

/* A datetime as the API prints it, or NULL for null. */
static apr_int64_t when(const char *iso)
{
    apr_int64_t us;

    if (!iso) {
        return PKI_TIME_NULL;
    }
    if (pki_time_parse(iso, &us) != 0) {
        fail_msg("bad datetime '%s'", iso);
    }
    return us;
}

static pki_package package(const package_src *s)
{
    pki_package p;

    p.id = s->id;
    p.category_id = s->category_id;
    p.title = s->title;
    p.slug = s->slug;
    p.last_updated = when(s->last_updated);
    p.last_fetched = when(s->last_fetched);
    p.repo_url = s->repo_url;
    p.pypi_version = s->pypi_version;
    p.created = when(s->created);
    p.modified = when(s->modified);
    p.repo_forks = s->repo_forks;
    p.repo_description = s->repo_description;
    p.pypi_url = s->pypi_url;
    p.documentation_url = s->documentation_url;
    p.repo_watchers = s->repo_watchers;
    p.commits_over_52 = s->commits;
    p.participants = s->participants;
    p.grids.ids = s->grids;
    p.grids.count = s->ngrids;
    return p;
}

static pki_grid grid(const grid_src *s)
{
    pki_grid g;

    g.id = s->id;
    g.title = s->title;
    g.slug = s->slug;
    g.description = s->description;
    g.is_locked = s->is_locked;
    g.packages.ids = s->packages;
    g.packages.count = s->npackages;
    g.header = s->header;
    g.created = when(s->created);
    g.modified = when(s->modified);
    return g;
}

static pki_category category(const category_src *s)
{
    pki_category c;

    c.id = s->id;
    c.title = s->title;
    c.slug = s->slug;
    c.description = s->description;
    c.title_plural = s->title_plural;
    c.show_pypi = s->show_pypi;
    c.created = when(s->created);
    c.modified = when(s->modified);
    return c;
}

/* --- data: generated from tests/data --- */

/* conformance/packages.jsonl */
static const package_src pkg16 = {
    .id = 16,
    .category_id = 1,
    .title = "django-json-phone",
    .slug = "django-json-phone",
    .last_updated = "2015-04-08T02:03:46-04:00",
    .last_fetched = "2026-02-15T18:13:49.729253-05:00",
    .repo_url = "https://github.com/ana-becker/django-json-phone",
    .pypi_version = NULL,
    .created = "2013-07-06T22:13:09.587817-04:00",
    .modified = "2026-01-29T12:57:21.917572-05:00",
    .repo_forks = 0,
    .repo_description =
        "A lightweight library to upload audit logs in Django. \r\n Utilities to sort "
        "health checks from the Django admin. Yet another way to monitor websocket events. "
        "No JavaScript required. Say \"hello\" to forms. \342\200\250 line separator",
    .pypi_url = "",
    .documentation_url = "https://ana-becker.github.io/django-json-phone/",
    .repo_watchers = 5,
    .commits = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
               "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
    .participants = "ana-becker",
    .grids = {1},
    .ngrids = 1,
};

static const package_src pkg2 = {
    .id = 2,
    .category_id = 1,
    .title = "dj-session-pages-webpack",
    .slug = "dj-session-pages-webpack",
    .last_updated = "2014-02-27T03:00:10-05:00",
    .last_fetched = "2026-05-26T09:35:10.022749-04:00",
    .repo_url = "https://github.com/sentry/dj-session-pages-webpack",
    .pypi_version = NULL,
    .created = "2010-08-30T04:43:08.231223-04:00",
    .modified = "2026-01-28T14:42:08.176549-05:00",
    .repo_forks = 3,
    .repo_description = "Notifications made easy for Django projects.",
    .pypi_url = "",
    .documentation_url = "",
    .repo_watchers = 12,
    .commits = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
               "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
    .participants = "lucanovak",
    .grids = {3},
    .ngrids = 1,
};

/* real-packages.jsonl: GET /api/v4/packages/1105/?format=api */
static const package_src pkg1105 = {
    .id = 1105,
    .category_id = 1,
    .title = "Django OAuth 2.0 Server App",
    .slug = "oauth2app",
    .last_updated = "2014-06-13T13:25:30-04:00",
    .last_fetched = "2026-02-15T11:04:58.325745-05:00",
    .repo_url = "https://github.com/hiidef/oauth2app",
    .pypi_version = NULL,
    .created = "2012-01-11T10:26:22.892842-05:00",
    .modified = "2026-01-28T13:10:17.667932-05:00",
    .repo_forks = 114,
    .repo_description = "Django OAuth 2.0 Server App. Please fork and improve!",
    .pypi_url = "",
    .documentation_url = "https://readthedocs.org/projects/oauth2app/",
    .repo_watchers = 270,
    .commits = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
               "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
    .participants = "wehriam,bhagany,schmichael,gabrielgrant,ckelly,chrisdev,hpk,mk-fg,trezorg",
    .grids = {126, 125, 7},
    .ngrids = 3,
};

/* conformance/packages.jsonl, commits and participants text reformatted */
static const package_src pkg50 = {
    .id = 50,
    .category_id = 1,
    .title = "django-markdown-attach",
    .slug = "django-markdown-attach",
    .last_updated = "2026-03-13T07:50:34-04:00",
    .last_fetched = "2026-05-26T13:45:44.283350-04:00",
    .repo_url = "https://github.com/mia-petrov/django-markdown-attach",
    .pypi_version = "1.3",
    .created = "2026-05-20T06:02:17.997858-04:00",
    .modified = "2026-05-20T06:07:52.399250-04:00",
    .repo_forks = 3,
    .repo_description =
        "Django REST framework helpers to store settings. Simple audit logs for Django. "
        "Provides OAuth tokens and email templates for Django. Utilities to display "
        "websocket events from the Django admin. Fully tested.",
    .pypi_url = "http://pypi.python.org/pypi/django-markdown-attach",
    .documentation_url = NULL,
    .repo_watchers = 50,
    .commits = "[\n 0,\n 1,\n 0,\n 0,\n 4,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 1,\n 0,"
               "\n 1,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n"
               " 0,\n 0,\n 0,\n 1,\n 0,\n 0,\n 11,\n 2,\n 0,\n 3,\n 0,\n 0,\n 0,\n 0,\n 0,\n 0,\n "
               "0,\n 0,\n 0,\n 0\n]",
    .participants = "",
    .grids = {2, 7},
    .ngrids = 2,
};

static const package_src pkg48 = {
    .id = 48,
    .category_id = 4,
    .title = "drf-test-polls",
    .slug = "drf-test-polls",
    .last_updated = "2024-05-17T17:49:20-04:00",
    .last_fetched = "2026-02-16T01:13:28.624337-05:00",
    .repo_url = "https://github.com/davidgreen/drf-test-polls",
    .pypi_version = "4.1.14",
    .created = "2025-04-06T21:53:15.214961-04:00",
    .modified = "2025-12-23T23:17:33.147392-05:00",
    .repo_forks = 20,
    .repo_description =
        "Django REST framework helpers to store audit logs. Django REST framework helpers "
        "to store notifications. Fully tested.",
    .pypi_url = "http://pypi.python.org/pypi/drf-test-polls",
    .documentation_url = "",
    .repo_watchers = 179,
    .commits = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
               "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
    .participants = "davidgreen",
    .grids = {3, 7, 2},
    .ngrids = 3,
};

static const package_src pkg47 = {
    .id = 47,
    .category_id = 1,
    .title = "dj-graphql-channels",
    .slug = "dj-graphql-channels",
    .last_updated = "2024-12-18T10:38:17-05:00",
    .last_fetched = "2026-02-16T04:20:50.590007-05:00",
    .repo_url = "https://github.com/paul822/dj-graphql-channels",
    .pypi_version = "1.3",
    .created = "2024-08-10T14:54:28.012170-04:00",
    .modified = "2026-01-28T16:56:35.352966-05:00",
    .repo_forks = 0,
    .repo_description =
        "Wagtail module to search sitemaps. Fully tested. Django REST framework helpers to "
        "manage thumbnails. Utilities to sort feature flags from the Django admin. "
        "Configurable via settings.",
    .pypi_url = "https://pypi.org/project/dj-graphql-channels",
    .documentation_url = NULL,
    .repo_watchers = 2,
    .commits = "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
               "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
    .participants =
        " paul822, peter-jensen ,,marknovak,\tpaul-taylor,lucaolsen,carlhall,andrewdubois,"
        "lauragarcia, ",
    .grids = {3},
    .ngrids = 1,
};

static const char pkg16_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/1/\"],\"id\":16,"
    "\"title\":\"django-json-phone\",\"slug\":\"django-json-phone\","
    "\"last_updated\":\"2015-04-08T02:03:46-04:00\","
    "\"last_fetched\":\"2026-02-15T18:13:49.729253-05:00\","
    "\"repo_url\":\"https://github.com/ana-becker/django-json-phone\",\"pypi_version\":null,"
    "\"created\":\"2013-07-06T22:13:09.587817-04:00\","
    "\"modified\":\"2026-01-29T12:57:21.917572-05:00\",\"repo_forks\":0,"
    "\"repo_description\":\"A lightweight library to upload audit logs in Django. \\r\\n "
    "Utilities to sort health checks from the Django admin. Yet another way to monitor "
    "websocket events. No JavaScript required. Say \\\"hello\\\" to forms. \\u2028 line "
    "separator\",\"pypi_url\":\"\",\"documentation_url\":\"https://ana-becker.github.io/django-"
    "json-phone/\",\"repo_watchers\":5,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
    "\"participants\":[\"ana-becker\"]}";

static const char pkg2_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/3/\"],\"id\":2,"
    "\"title\":\"dj-session-pages-webpack\",\"slug\":\"dj-session-pages-webpack\","
    "\"last_updated\":\"2014-02-27T03:00:10-05:00\","
    "\"last_fetched\":\"2026-05-26T09:35:10.022749-04:00\","
    "\"repo_url\":\"https://github.com/sentry/dj-session-pages-webpack\",\"pypi_version\":null,"
    "\"created\":\"2010-08-30T04:43:08.231223-04:00\","
    "\"modified\":\"2026-01-28T14:42:08.176549-05:00\",\"repo_forks\":3,"
    "\"repo_description\":\"Notifications made easy for Django projects.\",\"pypi_url\":\"\","
    "\"documentation_url\":\"\",\"repo_watchers\":12,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
    "\"participants\":[\"lucanovak\"]}";

/* real-packages.jsonl, as served with ?format=api */
static const char pkg1105_api_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/?format=api\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/126/?format=api\","
    "\"https://djangopackages.org/api/v4/grids/125/?format=api\","
    "\"https://djangopackages.org/api/v4/grids/7/?format=api\"],\"id\":1105,\"title\":\"Django "
    "OAuth 2.0 Server App\",\"slug\":\"oauth2app\",\"last_updated\":\"2014-06-13T13:25:30-04:00"
    "\",\"last_fetched\":\"2026-02-15T11:04:58.325745-05:00\","
    "\"repo_url\":\"https://github.com/hiidef/oauth2app\",\"pypi_version\":null,"
    "\"created\":\"2012-01-11T10:26:22.892842-05:00\","
    "\"modified\":\"2026-01-28T13:10:17.667932-05:00\",\"repo_forks\":114,"
    "\"repo_description\":\"Django OAuth 2.0 Server App. Please fork and improve!\","
    "\"pypi_url\":\"\",\"documentation_url\":\"https://readthedocs.org/projects/oauth2app/\","
    "\"repo_watchers\":270,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"participants\":[\"wehriam\","
    "\"bhagany\",\"schmichael\",\"gabrielgrant\",\"ckelly\",\"chrisdev\",\"hpk\",\"mk-fg\","
    "\"trezorg\"]}";

/* the same with a .json suffix, then without and with both */
static const char pkg1105_suffix_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1.json\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/126.json\","
    "\"https://djangopackages.org/api/v4/grids/125.json\","
    "\"https://djangopackages.org/api/v4/grids/7.json\"],\"id\":1105,\"title\":\"Django OAuth "
    "2.0 Server App\",\"slug\":\"oauth2app\",\"last_updated\":\"2014-06-13T13:25:30-04:00\","
    "\"last_fetched\":\"2026-02-15T11:04:58.325745-05:00\","
    "\"repo_url\":\"https://github.com/hiidef/oauth2app\",\"pypi_version\":null,"
    "\"created\":\"2012-01-11T10:26:22.892842-05:00\","
    "\"modified\":\"2026-01-28T13:10:17.667932-05:00\",\"repo_forks\":114,"
    "\"repo_description\":\"Django OAuth 2.0 Server App. Please fork and improve!\","
    "\"pypi_url\":\"\",\"documentation_url\":\"https://readthedocs.org/projects/oauth2app/\","
    "\"repo_watchers\":270,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"participants\":[\"wehriam\","
    "\"bhagany\",\"schmichael\",\"gabrielgrant\",\"ckelly\",\"chrisdev\",\"hpk\",\"mk-fg\","
    "\"trezorg\"]}";

static const char pkg1105_plain_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/126/\","
    "\"https://djangopackages.org/api/v4/grids/125/\","
    "\"https://djangopackages.org/api/v4/grids/7/\"],\"id\":1105,\"title\":\"Django OAuth 2.0 "
    "Server App\",\"slug\":\"oauth2app\",\"last_updated\":\"2014-06-13T13:25:30-04:00\","
    "\"last_fetched\":\"2026-02-15T11:04:58.325745-05:00\","
    "\"repo_url\":\"https://github.com/hiidef/oauth2app\",\"pypi_version\":null,"
    "\"created\":\"2012-01-11T10:26:22.892842-05:00\","
    "\"modified\":\"2026-01-28T13:10:17.667932-05:00\",\"repo_forks\":114,"
    "\"repo_description\":\"Django OAuth 2.0 Server App. Please fork and improve!\","
    "\"pypi_url\":\"\",\"documentation_url\":\"https://readthedocs.org/projects/oauth2app/\","
    "\"repo_watchers\":270,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"participants\":[\"wehriam\","
    "\"bhagany\",\"schmichael\",\"gabrielgrant\",\"ckelly\",\"chrisdev\",\"hpk\",\"mk-fg\","
    "\"trezorg\"]}";

static const char pkg1105_both_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1.json?format=api\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/126.json?format=api\","
    "\"https://djangopackages.org/api/v4/grids/125.json?format=api\","
    "\"https://djangopackages.org/api/v4/grids/7.json?format=api\"],\"id\":1105,"
    "\"title\":\"Django OAuth 2.0 Server App\",\"slug\":\"oauth2app\","
    "\"last_updated\":\"2014-06-13T13:25:30-04:00\","
    "\"last_fetched\":\"2026-02-15T11:04:58.325745-05:00\","
    "\"repo_url\":\"https://github.com/hiidef/oauth2app\",\"pypi_version\":null,"
    "\"created\":\"2012-01-11T10:26:22.892842-05:00\","
    "\"modified\":\"2026-01-28T13:10:17.667932-05:00\",\"repo_forks\":114,"
    "\"repo_description\":\"Django OAuth 2.0 Server App. Please fork and improve!\","
    "\"pypi_url\":\"\",\"documentation_url\":\"https://readthedocs.org/projects/oauth2app/\","
    "\"repo_watchers\":270,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"participants\":[\"wehriam\","
    "\"bhagany\",\"schmichael\",\"gabrielgrant\",\"ckelly\",\"chrisdev\",\"hpk\",\"mk-fg\","
    "\"trezorg\"]}";

/* package 2 with every nullable field null and no grids */
static const char pkg2_nulls_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/\",\"grids\":[],\"id\":2,"
    "\"title\":\"dj-session-pages-webpack\",\"slug\":\"dj-session-pages-webpack\","
    "\"last_updated\":null,\"last_fetched\":null,\"repo_url\":\"https://github.com/sentry/dj-se"
    "ssion-pages-webpack\",\"pypi_version\":null,\"created\":\"2010-08-30T04:43:08.231223-04:00"
    "\",\"modified\":\"2026-01-28T14:42:08.176549-05:00\",\"repo_forks\":3,"
    "\"repo_description\":\"Notifications made easy for Django projects.\",\"pypi_url\":\"\","
    "\"documentation_url\":null,\"repo_watchers\":12,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
    "\"participants\":[\"lucanovak\"]}";

static const char grid2_json[] =
    "{\"id\":2,\"title\":\"Ratings\",\"slug\":\"ratings\",\"description\":\"Apps to import "
    "search indexes in Django.\",\"is_locked\":false,"
    "\"packages\":[\"https://djangopackages.org/api/v4/packages/6/\","
    "\"https://djangopackages.org/api/v4/packages/11/\","
    "\"https://djangopackages.org/api/v4/packages/46/\","
    "\"https://djangopackages.org/api/v4/packages/29/\","
    "\"https://djangopackages.org/api/v4/packages/21/\","
    "\"https://djangopackages.org/api/v4/packages/50/\","
    "\"https://djangopackages.org/api/v4/packages/22/\","
    "\"https://djangopackages.org/api/v4/packages/7/\","
    "\"https://djangopackages.org/api/v4/packages/48/\","
    "\"https://djangopackages.org/api/v4/packages/25/\"],\"header\":false,"
    "\"created\":\"2012-08-11T05:00:28.453268-04:00\","
    "\"modified\":\"2012-08-11T05:00:43.409071-04:00\"}";

/* cases.jsonl: GET /api/v4/grids/2/, Accept: application/json; indent=2 */
static const char grid2_indent2_json[] =
    "{\n  \"id\": 2,\n  \"title\": \"Ratings\",\n  \"slug\": \"ratings\",\n  \"description\": "
    "\"Apps to import search indexes in Django.\",\n  \"is_locked\": false,\n  \"packages\": "
    "[\n    \"https://djangopackages.org/api/v4/packages/6/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/11/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/46/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/29/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/21/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/50/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/22/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/7/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/48/\",\n    "
    "\"https://djangopackages.org/api/v4/packages/25/\"\n  ],\n  \"header\": false,\n  "
    "\"created\": \"2012-08-11T05:00:28.453268-04:00\",\n  \"modified\": "
    "\"2012-08-11T05:00:43.409071-04:00\"\n}";

static const char cat3_json[] =
    "{\"id\":3,\"title\":\"Project\",\"slug\":\"projects\",\"description\":\"Complete Django "
    "projects and sites you can study, fork or deploy.\",\"title_plural\":\"Projects\","
    "\"show_pypi\":true,\"created\":\"2010-08-14T22:49:31-04:00\","
    "\"modified\":\"2010-09-12T22:43:17-04:00\"}";

/* cases.jsonl: GET /api/v4/categories/3/, Accept: application/json; indent=4 */
static const char cat3_indent4_json[] =
    "{\n    \"id\": 3,\n    \"title\": \"Project\",\n    \"slug\": \"projects\",\n    "
    "\"description\": \"Complete Django projects and sites you can study, fork or deploy.\",\n "
    "   \"title_plural\": \"Projects\",\n    \"show_pypi\": true,\n    \"created\": "
    "\"2010-08-14T22:49:31-04:00\",\n    \"modified\": \"2010-09-12T22:43:17-04:00\"\n}";

/* cases.jsonl: GET /api/v4/categories/?limit=2&offset=1 */
static const char cat_page_json[] =
    "{\"count\":5,\"next\":\"https://djangopackages.org/api/v4/categories/?limit=2&offset=3\","
    "\"previous\":\"https://djangopackages.org/api/v4/categories/?limit=2\","
    "\"results\":[{\"id\":4,\"title\":\"Other\",\"slug\":\"other\",\"description\":\"Packages "
    "that do not fit in the other categories: tools, utilities and libraries used alongside "
    "Django.\",\"title_plural\":\"Other\",\"show_pypi\":true,"
    "\"created\":\"2013-02-20T11:04:09.512330-05:00\","
    "\"modified\":\"2013-02-20T11:04:09.512367-05:00\"},{\"id\":3,\"title\":\"Project\","
    "\"slug\":\"projects\",\"description\":\"Complete Django projects and sites you can study, "
    "fork or deploy.\",\"title_plural\":\"Projects\",\"show_pypi\":true,"
    "\"created\":\"2010-08-14T22:49:31-04:00\",\"modified\":\"2010-09-12T22:43:17-04:00\"}]}";

/* cases.jsonl: GET /api/v4/packages.json?limit=2&offset=2 */
static const char pkg_page_suffix_json[] =
    "{\"count\":45,\"next\":\"https://djangopackages.org/api/v4/packages.json?limit=2&offset=4"
    "\",\"previous\":\"https://djangopackages.org/api/v4/packages.json?limit=2\","
    "\"results\":[{\"category\":\"https://djangopackages.org/api/v4/categories/4.json\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/3.json\","
    "\"https://djangopackages.org/api/v4/grids/7.json\","
    "\"https://djangopackages.org/api/v4/grids/2.json\"],\"id\":48,"
    "\"title\":\"drf-test-polls\",\"slug\":\"drf-test-polls\","
    "\"last_updated\":\"2024-05-17T17:49:20-04:00\","
    "\"last_fetched\":\"2026-02-16T01:13:28.624337-05:00\","
    "\"repo_url\":\"https://github.com/davidgreen/drf-test-polls\",\"pypi_version\":\"4.1.14\","
    "\"created\":\"2025-04-06T21:53:15.214961-04:00\","
    "\"modified\":\"2025-12-23T23:17:33.147392-05:00\",\"repo_forks\":20,"
    "\"repo_description\":\"Django REST framework helpers to store audit logs. Django REST "
    "framework helpers to store notifications. Fully tested.\","
    "\"pypi_url\":\"http://pypi.python.org/pypi/drf-test-polls\",\"documentation_url\":\"\","
    "\"repo_watchers\":179,\"commits_over_52\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
    "\"participants\":[\"davidgreen\"]},{\"category\":\"https://djangopackages.org/api/v4/categ"
    "ories/1.json\",\"grids\":[\"https://djangopackages.org/api/v4/grids/3.json\"],\"id\":47,"
    "\"title\":\"dj-graphql-channels\",\"slug\":\"dj-graphql-channels\","
    "\"last_updated\":\"2024-12-18T10:38:17-05:00\","
    "\"last_fetched\":\"2026-02-16T04:20:50.590007-05:00\","
    "\"repo_url\":\"https://github.com/paul822/dj-graphql-channels\",\"pypi_version\":\"1.3\","
    "\"created\":\"2024-08-10T14:54:28.012170-04:00\","
    "\"modified\":\"2026-01-28T16:56:35.352966-05:00\",\"repo_forks\":0,"
    "\"repo_description\":\"Wagtail module to search sitemaps. Fully tested. Django REST "
    "framework helpers to manage thumbnails. Utilities to sort feature flags from the Django "
    "admin. Configurable via settings.\",\"pypi_url\":\"https://pypi.org/project/dj-graphql-cha"
    "nnels\",\"documentation_url\":null,\"repo_watchers\":2,\"commits_over_52\":[0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
    "0],\"participants\":[\"paul822\",\"peter-jensen\",\"marknovak\",\"paul-taylor\","
    "\"lucaolsen\",\"carlhall\",\"andrewdubois\",\"lauragarcia\"]}]}";

/* cases.jsonl: GET /api/v4/packages/?limit=1, Accept: application/json; indent=2 and 4 */
static const char pkg_page_indent2_json[] =
    "{\n  \"count\": 45,\n  \"next\": \"https://djangopackages.org/api/v4/packages/?limit=1&off"
    "set=1\",\n  \"previous\": null,\n  \"results\": [\n    {\n      \"category\": "
    "\"https://djangopackages.org/api/v4/categories/1/\",\n      \"grids\": [\n        "
    "\"https://djangopackages.org/api/v4/grids/2/\",\n        "
    "\"https://djangopackages.org/api/v4/grids/7/\"\n      ],\n      \"id\": 50,\n      "
    "\"title\": \"django-markdown-attach\",\n      \"slug\": \"django-markdown-attach\",\n     "
    " \"last_updated\": \"2026-03-13T07:50:34-04:00\",\n      \"last_fetched\": "
    "\"2026-05-26T13:45:44.283350-04:00\",\n      \"repo_url\": "
    "\"https://github.com/mia-petrov/django-markdown-attach\",\n      \"pypi_version\": "
    "\"1.3\",\n      \"created\": \"2026-05-20T06:02:17.997858-04:00\",\n      \"modified\": "
    "\"2026-05-20T06:07:52.399250-04:00\",\n      \"repo_forks\": 3,\n      "
    "\"repo_description\": \"Django REST framework helpers to store settings. Simple audit "
    "logs for Django. Provides OAuth tokens and email templates for Django. Utilities to "
    "display websocket events from the Django admin. Fully tested.\",\n      \"pypi_url\": "
    "\"http://pypi.python.org/pypi/django-markdown-attach\",\n      \"documentation_url\": "
    "null,\n      \"repo_watchers\": 50,\n      \"commits_over_52\": [\n        0,\n        1,"
    "\n        0,\n        0,\n        4,\n        0,\n        0,\n        0,\n        0,\n    "
    "    0,\n        0,\n        0,\n        0,\n        0,\n        1,\n        0,\n        1,"
    "\n        0,\n        0,\n        0,\n        0,\n        0,\n        0,\n        0,\n    "
    "    0,\n        0,\n        0,\n        0,\n        0,\n        0,\n        0,\n        0,"
    "\n        0,\n        0,\n        0,\n        1,\n        0,\n        0,\n        11,\n   "
    "     2,\n        0,\n        3,\n        0,\n        0,\n        0,\n        0,\n        "
    "0,\n        0,\n        0,\n        0,\n        0,\n        0\n      ],\n      "
    "\"participants\": []\n    }\n  ]\n}";

static const char pkg_page_indent4_json[] =
    "{\n    \"count\": 45,\n    \"next\": \"https://djangopackages.org/api/v4/packages/?limit=1"
    "&offset=1\",\n    \"previous\": null,\n    \"results\": [\n        {\n            "
    "\"category\": \"https://djangopackages.org/api/v4/categories/1/\",\n            "
    "\"grids\": [\n                \"https://djangopackages.org/api/v4/grids/2/\",\n           "
    "     \"https://djangopackages.org/api/v4/grids/7/\"\n            ],\n            \"id\": "
    "50,\n            \"title\": \"django-markdown-attach\",\n            \"slug\": "
    "\"django-markdown-attach\",\n            \"last_updated\": \"2026-03-13T07:50:34-04:00\","
    "\n            \"last_fetched\": \"2026-05-26T13:45:44.283350-04:00\",\n            "
    "\"repo_url\": \"https://github.com/mia-petrov/django-markdown-attach\",\n            "
    "\"pypi_version\": \"1.3\",\n            \"created\": \"2026-05-20T06:02:17.997858-04:00\","
    "\n            \"modified\": \"2026-05-20T06:07:52.399250-04:00\",\n            "
    "\"repo_forks\": 3,\n            \"repo_description\": \"Django REST framework helpers to "
    "store settings. Simple audit logs for Django. Provides OAuth tokens and email templates "
    "for Django. Utilities to display websocket events from the Django admin. Fully tested.\","
    "\n            \"pypi_url\": \"http://pypi.python.org/pypi/django-markdown-attach\",\n     "
    "       \"documentation_url\": null,\n            \"repo_watchers\": 50,\n            "
    "\"commits_over_52\": [\n                0,\n                1,\n                0,\n      "
    "          0,\n                4,\n                0,\n                0,\n                "
    "0,\n                0,\n                0,\n                0,\n                0,\n      "
    "          0,\n                0,\n                1,\n                0,\n                "
    "1,\n                0,\n                0,\n                0,\n                0,\n      "
    "          0,\n                0,\n                0,\n                0,\n                "
    "0,\n                0,\n                0,\n                0,\n                0,\n      "
    "          0,\n                0,\n                0,\n                0,\n                "
    "0,\n                1,\n                0,\n                0,\n                11,\n     "
    "           2,\n                0,\n                3,\n                0,\n               "
    " 0,\n                0,\n                0,\n                0,\n                0,\n     "
    "           0,\n                0,\n                0,\n                0\n            ],\n"
    "            \"participants\": []\n        }\n    ]\n}";

/* cases.jsonl: every OPTIONS request */
static const struct {
    pki_resource res;
    int detail;
    const char *body;
} options_cases[] = {
    /* OPTIONS /api/v4/ */
    {PKI_RES_ROOT, 0,
     "{\"name\":\"Api Root\",\"description\":\"The default basic root view for DefaultRouter\","
     "\"renders\":[\"application/json\",\"text/html\"],\"parses\":[\"application/json\","
     "\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/packages/ */
    {PKI_RES_PACKAGES, 0,
     "{\"name\":\"Package List\",\"description\":\"API endpoint that allows packages to be "
     "viewed or edited.\",\"renders\":[\"application/json\",\"text/html\"],"
     "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/packages/3/ */
    {PKI_RES_PACKAGES, 1,
     "{\"name\":\"Package Instance\",\"description\":\"API endpoint that allows packages to be "
     "viewed or edited.\",\"renders\":[\"application/json\",\"text/html\"],"
     "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/grids/ */
    {PKI_RES_GRIDS, 0,
     "{\"name\":\"Grid List\",\"description\":\"\",\"renders\":[\"application/json\","
     "\"text/html\"],\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/grids/1/ */
    {PKI_RES_GRIDS, 1,
     "{\"name\":\"Grid Instance\",\"description\":\"\",\"renders\":[\"application/json\","
     "\"text/html\"],\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/categories/ */
    {PKI_RES_CATEGORIES, 0,
     "{\"name\":\"Category List\",\"description\":\"\",\"renders\":[\"application/json\","
     "\"text/html\"],\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/categories/2/ */
    {PKI_RES_CATEGORIES, 1,
     "{\"name\":\"Category Instance\",\"description\":\"\",\"renders\":[\"application/json\","
     "\"text/html\"],\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/search/ */
    {PKI_RES_SEARCH, 0,
     "{\"name\":\"Search V3 List\",\"description\":\"Accepts a 'q' GET parameter.\\n\\nReturns "
     "SearchV3 (PostgreSQL FTS) results.\",\"renders\":[\"application/json\",\"text/html\"],"
     "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
    /* OPTIONS /api/v4/packages/424242/ */
    {PKI_RES_PACKAGES, 1,
     "{\"name\":\"Package Instance\",\"description\":\"API endpoint that allows packages to be "
     "viewed or edited.\",\"renders\":[\"application/json\",\"text/html\"],"
     "\"parses\":[\"application/json\",\"application/x-www-form-urlencoded\","
     "\"multipart/form-data\"]}"},
};

/* cases.jsonl: GET /api/v4/, /api/v4/.json, /api/v4/?format=json */
static const char root_plain_json[] =
    "{\"packages\":\"https://djangopackages.org/api/v4/packages/\","
    "\"search\":\"https://djangopackages.org/api/v4/search/\","
    "\"grids\":\"https://djangopackages.org/api/v4/grids/\","
    "\"categories\":\"https://djangopackages.org/api/v4/categories/\"}";

static const char root_suffix_json[] =
    "{\"packages\":\"https://djangopackages.org/api/v4/packages.json\","
    "\"search\":\"https://djangopackages.org/api/v4/search.json\","
    "\"grids\":\"https://djangopackages.org/api/v4/grids.json\","
    "\"categories\":\"https://djangopackages.org/api/v4/categories.json\"}";

static const char root_format_json[] =
    "{\"packages\":\"https://djangopackages.org/api/v4/packages/?format=json\","
    "\"search\":\"https://djangopackages.org/api/v4/search/?format=json\","
    "\"grids\":\"https://djangopackages.org/api/v4/grids/?format=json\","
    "\"categories\":\"https://djangopackages.org/api/v4/categories/?format=json\"}";

static const char root_both_json[] =
    "{\"packages\":\"https://djangopackages.org/api/v4/packages.json?format=json\","
    "\"search\":\"https://djangopackages.org/api/v4/search.json?format=json\","
    "\"grids\":\"https://djangopackages.org/api/v4/grids.json?format=json\","
    "\"categories\":\"https://djangopackages.org/api/v4/categories.json?format=json\"}";

/* conformance/grids.jsonl and categories.jsonl */
static const grid_src grid2 = {
    .id = 2,
    .title = "Ratings",
    .slug = "ratings",
    .description = "Apps to import search indexes in Django.",
    .is_locked = 0,
    .header = 0,
    .created = "2012-08-11T05:00:28.453268-04:00",
    .modified = "2012-08-11T05:00:43.409071-04:00",
    .packages = {6, 11, 46, 29, 21, 50, 22, 7, 48, 25},
    .npackages = 10,
};

static const category_src cat3 = {
    .id = 3,
    .title = "Project",
    .slug = "projects",
    .description = "Complete Django projects and sites you can study, fork or deploy.",
    .title_plural = "Projects",
    .show_pypi = 1,
    .created = "2010-08-14T22:49:31-04:00",
    .modified = "2010-09-12T22:43:17-04:00",
};

static const category_src cat4 = {
    .id = 4,
    .title = "Other",
    .slug = "other",
    .description =
        "Packages that do not fit in the other categories: tools, utilities and libraries used "
        "alongside Django.",
    .title_plural = "Other",
    .show_pypi = 1,
    .created = "2013-02-20T11:04:09.512330-05:00",
    .modified = "2013-02-20T11:04:09.512367-05:00",
};

/* --- helpers --- */

static const pki_tz *zone(apr_pool_t *p)
{
    pki_tz *tz = NULL;
    const char *err = NULL;

    if (pki_tz_load(&tz, p, "America/New_York", NULL, &err) != APR_SUCCESS) {
        fail_msg("America/New_York: %s", err);
    }
    return tz;
}

static const pki_links *links(apr_pool_t *p, const char *suffix, const char *format)
{
    pki_links *l = apr_palloc(p, sizeof(*l));

    pki_links_init(l, p, BASE, PREFIX, suffix, format);
    return l;
}

static pki_json *writer(apr_pool_t *p, int indent)
{
    pki_buf *b = apr_palloc(p, sizeof(*b));
    pki_json *j = apr_palloc(p, sizeof(*j));

    pki_buf_init(b, p, 16);
    pki_json_init(j, b, indent);
    return j;
}

/* The writer's bytes, checked to be a complete document. */
static const char *text(pki_json *j)
{
    assert_int_equal(j->depth, 0);
    return pki_buf_cstr(j->out);
}

/* Compares documents, reporting where they first differ. */
static void same(const char *got, const char *want)
{
    size_t i = 0;

    while (got[i] && got[i] == want[i]) {
        i++;
    }
    if (got[i] != want[i]) {
        fail_msg("differ at byte %zu:\n got: ...%.60s\nwant: ...%.60s", i,
                 got + (i > 20 ? i - 20 : 0), want + (i > 20 ? i - 20 : 0));
    }
}

static const char *render_package(apr_pool_t *p, const pki_links *l, const pki_package *pkg,
                                  int indent)
{
    pki_json *j = writer(p, indent);

    pki_render_package(j, l, zone(p), pkg);
    return text(j);
}

/* --- objects --- */

static void test_package(void **state)
{
    apr_pool_t *p = *state;
    pki_package pkg;

    pkg = package(&pkg16); /* \r\n, quotes and U+2028 in the description, pypi_version null */
    same(render_package(p, links(p, NULL, NULL), &pkg, 0), pkg16_json);
    pkg = package(&pkg2); /* pypi_version null, documentation_url "" */
    same(render_package(p, links(p, NULL, NULL), &pkg, 0), pkg2_json);

    /* A real response of the original, requested with ?format=api, and its variants. */
    pkg = package(&pkg1105);
    same(render_package(p, links(p, NULL, "api"), &pkg, 0), pkg1105_api_json);
    same(render_package(p, links(p, NULL, NULL), &pkg, 0), pkg1105_plain_json);
    same(render_package(p, links(p, "json", NULL), &pkg, 0), pkg1105_suffix_json);
    same(render_package(p, links(p, "json", "api"), &pkg, 0), pkg1105_both_json);
}

static void test_package_nulls(void **state)
{
    apr_pool_t *p = *state;
    pki_package pkg = package(&pkg2);

    pkg.last_updated = PKI_TIME_NULL;
    pkg.last_fetched = PKI_TIME_NULL;
    pkg.documentation_url = NULL;
    pkg.grids.ids = NULL;
    pkg.grids.count = 0;
    same(render_package(p, links(p, NULL, NULL), &pkg, 0), pkg2_nulls_json);
}

/* The value of KEY in a rendered package: from after "KEY": to just before ,"NEXT" (or the
 * closing brace when NEXT is NULL). */
static const char *field(apr_pool_t *p, const char *doc, const char *key, const char *next)
{
    const char *k = apr_pstrcat(p, "\"", key, "\":", NULL), *start = strstr(doc, k), *end;

    assert_non_null(start);
    start += strlen(k);
    end = next ? strstr(start, apr_pstrcat(p, ",\"", next, "\":", NULL)) : doc + strlen(doc) - 1;
    assert_non_null(end);
    return apr_pstrndup(p, start, end - start);
}

/* Asserts that DOC contains PART. */
static void contains(const char *doc, const char *part)
{
    if (!strstr(doc, part)) {
        fail_msg("'%s'\nlacks '%s'", doc, part);
    }
}

static const struct {
    const char *text;
    const char *json;
} participants_cases[] = {
    {"", "[]"},
    {"solo", "[\"solo\"]"},
    {" a , b,,c ", "[\"a\",\"b\",\"c\"]"},
    {",", "[]"},
    {" , ,\t,", "[]"},
    {"a,b,", "[\"a\",\"b\"]"},
    {",a", "[\"a\"]"},
    {"\ta\r\n,\vb\f", "[\"a\",\"b\"]"}, /* \t \n \v \f \r are whitespace to str.strip() */
    {"a b , c\td", "[\"a b\",\"c\\td\"]"},
    {"renovate[bot],x\"y", "[\"renovate[bot]\",\"x\\\"y\"]"},
    {"caf\303\251 , \346\227\245\346\234\254", "[\"caf\303\251\",\"\346\227\245\346\234\254\"]"},
    {"a\342\200\250b", "[\"a\\u2028b\"]"},
};

static void test_participants(void **state)
{
    apr_pool_t *p = *state;
    pki_package pkg = package(&pkg2);
    size_t i;

    for (i = 0; i < sizeof(participants_cases) / sizeof(participants_cases[0]); i++) {
        pkg.participants = participants_cases[i].text;
        assert_string_equal(
            field(p, render_package(p, links(p, NULL, NULL), &pkg, 0), "participants", NULL),
            participants_cases[i].json);
    }
    /* Indented: one name per line; an empty list stays on its line. */
    pkg.participants = " a , b,,c ";
    contains(render_package(p, links(p, NULL, NULL), &pkg, 2),
             "\n  \"participants\": [\n    \"a\",\n    \"b\",\n    \"c\"\n  ]\n}");
    pkg.participants = "";
    contains(render_package(p, links(p, NULL, NULL), &pkg, 2), "\n  \"participants\": []\n}");
}

/* BUG: render.c write_participants trims only ASCII \t..\r and ' ', but its own comment and
 * the original (Python's str.strip()) also strip \x1c-\x1f, U+0085, U+00A0, U+2000-U+200A,
 * U+3000 and the other Unicode spaces: " a\x1f, \xc2\xa0b\xc2\xa0" is ["a","b"] there. */
static void test_bug_participants_unicode_space(void **state)
{
    apr_pool_t *p = *state;
    pki_package pkg = package(&pkg2);

    pkg.participants = "a\037,\034b, \302\240c\302\240,\343\200\200d";
    assert_string_equal(
        field(p, render_package(p, links(p, NULL, NULL), &pkg, 0), "participants", NULL),
        "[\"a\",\"b\",\"c\",\"d\"]");
}

static const struct {
    const char *text;
    const char *json;
} commits_cases[] = {
    {"[]", "[]"},
    {"[0, 1,2 ,3]", "[0,1,2,3]"},
    {" [ ] ", "[]"},
    {"[\n 1,\n\t2\r\n]\n", "[1,2]"},
    {"[-1, 0, -0]", "[-1,0,0]"},
    /* no whitespace, yet not Python's bytes: written number by number, not copied */
    {"[-0]", "[0]"},
    {"[007,1]", "[7,1]"},
    {"[-01,2]", "[-1,2]"},
    {"[1,2]", "[1,2]"},
    {"[1234567890123456789]", "[1234567890123456789]"},
    {"[9223372036854775807,-9223372036854775808]", "[9223372036854775807,-9223372036854775808]"},
    /* Not the integer shape (the spec's type): [] */
    {"[1,\"a/b\",null,true,[2],{\"k\":3}]", "[]"},
    {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "[]"},
    {"[1.5]", "[]"},
    /* Not an array: [] */
    {"not json", "[]"},
    {"", "[]"},
    {"null", "[]"},
    {"42", "[]"},
    {"\"[1]\"", "[]"},
    {"{\"a\":[1]}", "[]"},
    {"[1,2", "[]"},
    {"[", "[]"},
};

static void test_commits(void **state)
{
    apr_pool_t *p = *state;
    pki_package pkg = package(&pkg2);
    size_t i;

    for (i = 0; i < sizeof(commits_cases) / sizeof(commits_cases[0]); i++) {
        pkg.commits_over_52 = commits_cases[i].text;
        assert_string_equal(field(p, render_package(p, links(p, NULL, NULL), &pkg, 0),
                                  "commits_over_52", "participants"),
                            commits_cases[i].json);
    }
    pkg.commits_over_52 = "[1, 2]";
    contains(render_package(p, links(p, NULL, NULL), &pkg, 1),
             "\n \"commits_over_52\": [\n  1,\n  2\n ],\n \"participants\": ");
    pkg.commits_over_52 = "[[1]]";
    contains(render_package(p, links(p, NULL, NULL), &pkg, 4),
             "\n    \"commits_over_52\": [],\n    \"participants\": ");
}

static void test_grid(void **state)
{
    apr_pool_t *p = *state;
    pki_grid g = grid(&grid2);
    pki_json *j;

    j = writer(p, 0);
    pki_render_grid(j, links(p, NULL, NULL), zone(p), &g);
    same(text(j), grid2_json);
    j = writer(p, 2);
    pki_render_grid(j, links(p, NULL, NULL), zone(p), &g);
    same(text(j), grid2_indent2_json);

    /* No packages, both flags set, links decorated. */
    g.packages.count = 1;
    g.is_locked = 1;
    g.header = 1;
    g.description = "";
    j = writer(p, 0);
    pki_render_grid(j, links(p, "json", "json"), zone(p), &g);
    same(text(j), "{\"id\":2,\"title\":\"Ratings\",\"slug\":\"ratings\",\"description\":\"\","
                  "\"is_locked\":true,\"packages\":[\"https://djangopackages.org/api/v4/packages/"
                  "6.json?format=json\"],\"header\":true,\"created\":\"2012-08-11T05:00:28.453268-"
                  "04:00\",\"modified\":\"2012-08-11T05:00:43.409071-04:00\"}");
    g.packages.count = 0;
    j = writer(p, 2);
    pki_render_grid(j, links(p, NULL, NULL), zone(p), &g);
    assert_non_null(strstr(text(j), "\n  \"packages\": [],\n"));
}

static void test_category(void **state)
{
    apr_pool_t *p = *state;
    pki_category c = category(&cat3);
    pki_json *j;

    j = writer(p, 0);
    pki_render_category(j, zone(p), &c);
    same(text(j), cat3_json);
    j = writer(p, 4);
    pki_render_category(j, zone(p), &c);
    same(text(j), cat3_indent4_json);

    c.show_pypi = 0;
    c.created = PKI_TIME_NULL;
    c.title = "\"Quoted\"\n";
    j = writer(p, 0);
    pki_render_category(j, zone(p), &c);
    same(text(j), "{\"id\":3,\"title\":\"\\\"Quoted\\\"\\n\",\"slug\":\"projects\",\"description\":"
                  "\"Complete Django projects and sites you can study, fork or deploy.\","
                  "\"title_plural\":\"Projects\",\"show_pypi\":false,\"created\":null,"
                  "\"modified\":\"2010-09-12T22:43:17-04:00\"}");
}

/* --- pages --- */

static void test_page(void **state)
{
    apr_pool_t *p = *state;
    const pki_links *l;
    pki_category cats[2] = {category(&cat4), category(&cat3)};
    pki_package pkgs[2] = {package(&pkg48), package(&pkg47)}, one = package(&pkg50);
    pki_grid grids[1] = {grid(&grid2)};
    pki_page page;
    pki_json *j;

    /* GET /api/v4/categories/?limit=2&offset=1 */
    l = links(p, NULL, NULL);
    page.count = 5;
    page.items = cats;
    page.n = 2;
    j = writer(p, 0);
    pki_render_page(j, l, zone(p), PKI_RES_CATEGORIES, &page,
                    pki_links_page(l, PKI_RES_CATEGORIES, "limit=2&offset=3"),
                    pki_links_page(l, PKI_RES_CATEGORIES, "limit=2"));
    same(text(j), cat_page_json);

    /* GET /api/v4/packages.json?limit=2&offset=2 */
    l = links(p, "json", NULL);
    page.count = 45;
    page.items = pkgs;
    page.n = 2;
    j = writer(p, 0);
    pki_render_page(j, l, zone(p), PKI_RES_PACKAGES, &page,
                    pki_links_page(l, PKI_RES_PACKAGES, "limit=2&offset=4"),
                    pki_links_page(l, PKI_RES_PACKAGES, "limit=2"));
    same(text(j), pkg_page_suffix_json);

    /* GET /api/v4/packages/?limit=1 with indent=2 and indent=4 */
    l = links(p, NULL, NULL);
    page.items = &one;
    page.n = 1;
    j = writer(p, 2);
    pki_render_page(j, l, zone(p), PKI_RES_PACKAGES, &page,
                    pki_links_page(l, PKI_RES_PACKAGES, "limit=1&offset=1"), NULL);
    same(text(j), pkg_page_indent2_json);
    j = writer(p, 4);
    pki_render_page(j, l, zone(p), PKI_RES_PACKAGES, &page,
                    pki_links_page(l, PKI_RES_PACKAGES, "limit=1&offset=1"), NULL);
    same(text(j), pkg_page_indent4_json);

    /* Grids */
    page.count = 6;
    page.items = grids;
    page.n = 1;
    j = writer(p, 0);
    pki_render_page(j, l, zone(p), PKI_RES_GRIDS, &page, NULL, NULL);
    same(text(j), apr_pstrcat(p, "{\"count\":6,\"next\":null,\"previous\":null,\"results\":[",
                              grid2_json, "]}", NULL));

    /* Past the end */
    page.count = 45;
    page.items = NULL;
    page.n = 0;
    j = writer(p, 0);
    pki_render_page(j, l, zone(p), PKI_RES_PACKAGES, &page, NULL,
                    pki_links_page(l, PKI_RES_PACKAGES, "limit=20&offset=80"));
    same(text(j), "{\"count\":45,\"next\":null,\"previous\":\"https://djangopackages.org/api/v4/"
                  "packages/?limit=20&offset=80\",\"results\":[]}");
    page.count = 0;
    j = writer(p, 2);
    pki_render_page(j, l, zone(p), PKI_RES_GRIDS, &page, NULL, NULL);
    same(text(j),
         "{\n  \"count\": 0,\n  \"next\": null,\n  \"previous\": null,\n  \"results\": []\n}");
}

/* --- root, OPTIONS, errors --- */

static void test_root(void **state)
{
    apr_pool_t *p = *state;
    pki_json *j;

    j = writer(p, 0);
    pki_render_root(j, links(p, NULL, NULL));
    same(text(j), root_plain_json);
    j = writer(p, 0);
    pki_render_root(j, links(p, "json", NULL));
    same(text(j), root_suffix_json);
    j = writer(p, 0);
    pki_render_root(j, links(p, NULL, "json"));
    same(text(j), root_format_json);
    j = writer(p, 0);
    pki_render_root(j, links(p, "json", "json"));
    same(text(j), root_both_json);
    j = writer(p, 2);
    pki_render_root(j, links(p, NULL, NULL));
    same(text(j), "{\n"
                  "  \"packages\": \"https://djangopackages.org/api/v4/packages/\",\n"
                  "  \"search\": \"https://djangopackages.org/api/v4/search/\",\n"
                  "  \"grids\": \"https://djangopackages.org/api/v4/grids/\",\n"
                  "  \"categories\": \"https://djangopackages.org/api/v4/categories/\"\n"
                  "}");
}

static void test_options(void **state)
{
    apr_pool_t *p = *state;
    size_t i;
    pki_json *j;

    for (i = 0; i < sizeof(options_cases) / sizeof(options_cases[0]); i++) {
        j = writer(p, 0);
        pki_render_options(j, options_cases[i].res, options_cases[i].detail);
        same(text(j), options_cases[i].body);
    }
    /* The root and search have no detail routes: the names do not change. */
    for (i = 0; i < sizeof(options_cases) / sizeof(options_cases[0]); i++) {
        if (options_cases[i].res == PKI_RES_SEARCH || options_cases[i].res == PKI_RES_ROOT) {
            j = writer(p, 0);
            pki_render_options(j, options_cases[i].res, 1);
            same(text(j), options_cases[i].body);
        }
    }
    j = writer(p, 2);
    pki_render_options(j, PKI_RES_GRIDS, 0);
    same(text(j), "{\n  \"name\": \"Grid List\",\n  \"description\": \"\",\n  \"renders\": [\n"
                  "    \"application/json\",\n    \"text/html\"\n  ],\n  \"parses\": [\n"
                  "    \"application/json\",\n    \"application/x-www-form-urlencoded\",\n"
                  "    \"multipart/form-data\"\n  ]\n}");
}

static void test_detail(void **state)
{
    apr_pool_t *p = *state;
    pki_json *j;

    j = writer(p, 0);
    pki_render_detail(j, "Not found.");
    same(text(j), "{\"detail\":\"Not found.\"}");
    j = writer(p, 0);
    pki_render_detail(j, "Method \"POST\" not allowed.");
    same(text(j), "{\"detail\":\"Method \\\"POST\\\" not allowed.\"}");
    j = writer(p, 2);
    pki_render_detail(j, "No Package matches the given query.");
    same(text(j), "{\n  \"detail\": \"No Package matches the given query.\"\n}");
}

static void test_names(void **state)
{
    assert_string_equal(pki_view_name(PKI_RES_ROOT, 0), "Api Root");
    assert_string_equal(pki_view_name(PKI_RES_PACKAGES, 0), "Package List");
    assert_string_equal(pki_view_name(PKI_RES_PACKAGES, 1), "Package Instance");
    assert_string_equal(pki_view_name(PKI_RES_GRIDS, 0), "Grid List");
    assert_string_equal(pki_view_name(PKI_RES_GRIDS, 1), "Grid Instance");
    assert_string_equal(pki_view_name(PKI_RES_CATEGORIES, 0), "Category List");
    assert_string_equal(pki_view_name(PKI_RES_CATEGORIES, 1), "Category Instance");
    assert_string_equal(pki_view_name(PKI_RES_SEARCH, 0), "Search V3 List");
    assert_string_equal(pki_view_description(PKI_RES_ROOT),
                        "The default basic root view for DefaultRouter");
    assert_string_equal(pki_view_description(PKI_RES_PACKAGES),
                        "API endpoint that allows packages to be viewed or edited.");
    assert_string_equal(pki_view_description(PKI_RES_GRIDS), "");
    assert_string_equal(pki_view_description(PKI_RES_CATEGORIES), "");
    assert_string_equal(pki_model_name(PKI_RES_PACKAGES), "Package");
    assert_string_equal(pki_model_name(PKI_RES_GRIDS), "Grid");
    assert_string_equal(pki_model_name(PKI_RES_CATEGORIES), "Category");
}

/* --- links --- */

static void test_links(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *suffix, *format;
        const char *collection; /* of grids */
        const char *item;       /* category 1 */
        const char *page;       /* packages, "limit=1&offset=1" */
    } cases[] = {
        {NULL, NULL, BASE "/api/v4/grids/", BASE "/api/v4/categories/1/",
         BASE "/api/v4/packages/?limit=1&offset=1"},
        {"json", NULL, BASE "/api/v4/grids.json", BASE "/api/v4/categories/1.json",
         BASE "/api/v4/packages.json?limit=1&offset=1"},
        {"api", NULL, BASE "/api/v4/grids.api", BASE "/api/v4/categories/1.api",
         BASE "/api/v4/packages.api?limit=1&offset=1"},
        {NULL, "json", BASE "/api/v4/grids/?format=json", BASE "/api/v4/categories/1/?format=json",
         BASE "/api/v4/packages/?limit=1&offset=1"},
        {"json", "json", BASE "/api/v4/grids.json?format=json",
         BASE "/api/v4/categories/1.json?format=json",
         BASE "/api/v4/packages.json?limit=1&offset=1"},
        /* Present but empty, and a value that needs quote_plus. */
        {NULL, "", BASE "/api/v4/grids/?format=", BASE "/api/v4/categories/1/?format=",
         BASE "/api/v4/packages/?limit=1&offset=1"},
        {NULL, "a b&c/\303\251", BASE "/api/v4/grids/?format=a+b%26c%2F%C3%A9",
         BASE "/api/v4/categories/1/?format=a+b%26c%2F%C3%A9",
         BASE "/api/v4/packages/?limit=1&offset=1"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const pki_links *l = links(p, cases[i].suffix, cases[i].format);
        pki_json *j = writer(p, 0);

        assert_string_equal(pki_links_collection(l, PKI_RES_GRIDS), cases[i].collection);
        assert_string_equal(pki_links_page(l, PKI_RES_PACKAGES, "limit=1&offset=1"), cases[i].page);
        pki_links_write_item(j, l, PKI_RES_CATEGORIES, 1);
        assert_string_equal(text(j), apr_pstrcat(p, "\"", cases[i].item, "\"", NULL));
    }
}

static void test_link_items(void **state)
{
    apr_pool_t *p = *state;
    pki_links l;
    pki_json *j = writer(p, 0);

    pki_links_init(&l, p, BASE, PREFIX, NULL, NULL);
    pki_json_array_begin(j);
    pki_links_write_item(j, &l, PKI_RES_PACKAGES, 0);
    pki_links_write_item(j, &l, PKI_RES_GRIDS, APR_INT64_MAX);
    pki_json_array_end(j);
    same(text(j), "[\"https://djangopackages.org/api/v4/packages/0/\","
                  "\"https://djangopackages.org/api/v4/grids/9223372036854775807/\"]");

    /* Another host, port and prefix; characters JSON must escape are escaped in items. */
    pki_links_init(&l, p, "http://localhost:8080", "/x\"y/", NULL, NULL);
    j = writer(p, 0);
    pki_links_write_item(j, &l, PKI_RES_PACKAGES, 26);
    same(text(j), "\"http://localhost:8080/x\\\"y/packages/26/\"");
    assert_string_equal(pki_links_collection(&l, PKI_RES_PACKAGES),
                        "http://localhost:8080/x\"y/packages/");
    j = writer(p, 0);
    pki_render_root(j, &l);
    same(text(j), "{\"packages\":\"http://localhost:8080/x\\\"y/packages/\","
                  "\"search\":\"http://localhost:8080/x\\\"y/search/\","
                  "\"grids\":\"http://localhost:8080/x\\\"y/grids/\","
                  "\"categories\":\"http://localhost:8080/x\\\"y/categories/\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_package, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_package_nulls, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_participants, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_bug_participants_unicode_space, pool_setup,
                                        pool_teardown),
        cmocka_unit_test_setup_teardown(test_commits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_grid, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_category, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_page, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_root, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_options, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_detail, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_names, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_links, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_link_items, pool_setup, pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
