/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <errno.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "buf.h"
#include "parse.h"
#include "tz.h"

/* The original's column sizes (Django max_length counts characters, not bytes). */
#define MAX_PACKAGE_TITLE 100
#define MAX_SLUG          50
#define MAX_URL           255
#define MAX_DOC_URL       200
#define MAX_VERSION       100
#define MAX_GRID_TITLE    100
#define MAX_CATEGORY_TEXT 50
#define MAX_PARTICIPANTS  4096

pki_resource pki_parse_kind(struct json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object)) {
        return PKI_RES_ROOT;
    }
    if (json_object_object_get_ex(obj, "repo_url", NULL)) {
        return PKI_RES_PACKAGES;
    }
    if (json_object_object_get_ex(obj, "is_locked", NULL)) {
        return PKI_RES_GRIDS;
    }
    if (json_object_object_get_ex(obj, "title_plural", NULL)) {
        return PKI_RES_CATEGORIES;
    }
    return PKI_RES_ROOT;
}

apr_int64_t pki_parse_link(const char *url, pki_resource res)
{
    const char *seg = pki_resource_segment[res], *p, *end;
    apr_size_t n = strlen(seg), len;
    apr_int64_t id = 0;

    /* Only the path counts: drop the query and fragment. */
    len = strcspn(url, "?#");
    end = url + len;
    /* ".../seg/ID/" or ".../seg/ID.fmt" or ".../seg/ID.fmt/" */
    if (end > url && end[-1] == '/') {
        end--;
    }
    for (p = end; p > url && p[-1] != '/'; p--) {
    }
    /* p..end is "ID" or "ID.fmt" */
    if (p == url || !apr_isdigit(*p)) {
        return -1;
    }
    for (; p < end && apr_isdigit(*p); p++) {
        if (id > (APR_INT64_MAX - (*p - '0')) / 10) {
            return -1;
        }
        id = id * 10 + (*p - '0');
    }
    if (p < end) {
        const char *f = p + 1;
        if (*p != '.' || f == end) {
            return -1;
        }
        for (; f < end; f++) {
            if (!apr_islower(*f) && !apr_isdigit(*f)) {
                return -1;
            }
        }
    }
    /* The segment before the id names the collection. */
    for (p = end; p > url && p[-1] != '/'; p--) {
    }
    p--; /* the '/' before the id */
    if ((apr_size_t)(p - url) < n + 1 || strncmp(p - n, seg, n) != 0 || p[-(long)n - 1] != '/') {
        return -1;
    }
    return id;
}

/* --- Field readers: each appends an error and returns 0 when the value does not fit. --- */

typedef struct ctx {
    apr_pool_t *pool;
    struct json_object *obj;
    apr_array_header_t *errs;
    int nerrs;
} ctx;

static void fail(ctx *c, const char *field, const char *message)
{
    pki_field_error *e = apr_array_push(c->errs);

    e->field = field;
    e->message = message;
    c->nerrs++;
}

static struct json_object *field(ctx *c, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(c->obj, key, &v)) {
        fail(c, key, "This field is required.");
        return NULL;
    }
    return v;
}

/* A value that must be present and not null. */
static struct json_object *value(ctx *c, const char *key)
{
    struct json_object *v = field(c, key);

    if (!v && json_object_object_get_ex(c->obj, key, NULL)) {
        fail(c, key, "This field may not be null.");
    }
    return v;
}

/* A value that must be a JSON array (DRF's ListField/ManyRelatedField complaint otherwise). */
static struct json_object *list_value(ctx *c, const char *key)
{
    struct json_object *v = value(c, key);

    if (v && !json_object_is_type(v, json_type_array)) {
        fail(c, key, "Expected a list of items.");
        return NULL;
    }
    return v;
}

static apr_size_t utf8_chars(const char *s, apr_size_t n)
{
    apr_size_t i, chars = 0;

    for (i = 0; i < n; i++) {
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return chars;
}

/* A string (or null when NULLABLE) of at most MAX characters (0: any). */
static int get_string(ctx *c, const char *key, apr_size_t max, int nullable, const char **out)
{
    struct json_object *v = field(c, key);
    const char *s;
    int n;

    *out = NULL;
    if (!v && !json_object_object_get_ex(c->obj, key, NULL)) {
        return 0;
    }
    if (!v) {
        if (nullable) {
            return 1;
        }
        fail(c, key, "This field may not be null.");
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)) {
        fail(c, key, "Not a valid string.");
        return 0;
    }
    s = json_object_get_string(v);
    n = json_object_get_string_len(v);
    if (memchr(s, '\0', n)) {
        fail(c, key, "Null characters are not allowed.");
        return 0;
    }
    if (max && utf8_chars(s, n) > max) {
        fail(c, key,
             apr_psprintf(c->pool,
                          "Ensure this field has no more than %" APR_SIZE_T_FMT " characters.",
                          max));
        return 0;
    }
    *out = apr_pstrmemdup(c->pool, s, n);
    return 1;
}

static int get_slug(ctx *c, const char *key, const char **out)
{
    const char *p;

    if (!get_string(c, key, MAX_SLUG, 0, out)) {
        return 0;
    }
    for (p = *out; *p; p++) {
        if (!apr_isalnum(*p) && *p != '-' && *p != '_') {
            break;
        }
    }
    if (!**out || *p) {
        fail(c, key,
             "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.");
        return 0;
    }
    return 1;
}

static int get_int(ctx *c, const char *key, apr_int64_t min, apr_int64_t *out)
{
    struct json_object *v = value(c, key);

    *out = 0;
    if (!v) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        fail(c, key, "A valid integer is required.");
        return 0;
    }
    errno = 0;
    *out = json_object_get_int64(v);
    if (errno || *out < min ||
        (*out == APR_INT64_MAX && json_object_get_uint64(v) > (apr_uint64_t)APR_INT64_MAX)) {
        fail(c, key,
             apr_psprintf(c->pool,
                          "Ensure this value is between %" APR_INT64_T_FMT
                          " and 9223372036854775807.",
                          min));
        return 0;
    }
    return 1;
}

static int get_bool(ctx *c, const char *key, int *out)
{
    struct json_object *v = value(c, key);

    *out = 0;
    if (!v) {
        return 0;
    }
    if (!json_object_is_type(v, json_type_boolean)) {
        fail(c, key, "Must be a valid boolean.");
        return 0;
    }
    *out = json_object_get_boolean(v);
    return 1;
}

/* A datetime with an explicit offset (or Z): the API always writes one. */
static int get_time(ctx *c, const char *key, int nullable, apr_int64_t *out)
{
    const char *s;
    apr_size_t n;

    *out = PKI_TIME_NULL;
    if (!get_string(c, key, 64, nullable, &s)) {
        return 0;
    }
    if (!s) {
        return 1; /* null, where allowed */
    }
    n = strlen(s);
    if (n < 20 || pki_time_parse(s, out) != 0 ||
        !(s[n - 1] == 'Z' || strchr(s + 19, '+') || strchr(s + 19, '-'))) {
        *out = PKI_TIME_NULL;
        fail(c, key,
             "Datetime has wrong format. Use one of these formats instead: "
             "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
        return 0;
    }
    /* An offset can carry year 1 or 9999 past the years a datetime has in UTC (DRF's
     * 'overflow' complaint, where its astimezone() raises). */
    if (*out < PKI_TIME_FIRST || *out > PKI_TIME_LAST) {
        *out = PKI_TIME_NULL;
        fail(c, key, "Datetime value out of range.");
        return 0;
    }
    return 1;
}

static int get_link(ctx *c, const char *key, struct json_object *v, pki_resource res,
                    apr_int64_t *out)
{
    if (!json_object_is_type(v, json_type_string)) {
        fail(c, key, "Incorrect type. Expected URL string.");
        return 0;
    }
    if ((*out = pki_parse_link(json_object_get_string(v), res)) < 1) {
        fail(c, key, "Invalid hyperlink - No URL match.");
        return 0;
    }
    return 1;
}

static int get_links(ctx *c, const char *key, pki_resource res, pki_ids *out)
{
    struct json_object *v = list_value(c, key);
    apr_int64_t *ids;
    apr_size_t i, j, n;

    out->ids = NULL;
    out->count = 0;
    if (!v) {
        return 0;
    }
    n = json_object_array_length(v);
    ids = apr_palloc(c->pool, sizeof(*ids) * (n + 1));
    for (i = 0; i < n; i++) {
        if (!get_link(c, key, json_object_array_get_idx(v, i), res, &ids[i])) {
            return 0;
        }
        for (j = 0; j < i; j++) {
            if (ids[j] == ids[i]) {
                fail(c, key, "Duplicate hyperlink.");
                return 0;
            }
        }
    }
    out->ids = ids;
    out->count = (int)n;
    return 1;
}

/* commits_over_52: integers, stored as compact JSON text. */
static int get_commits(ctx *c, const char *key, const char **out)
{
    struct json_object *v = list_value(c, key);
    pki_buf b;
    apr_size_t i, n;

    *out = "[]";
    if (!v) {
        return 0;
    }
    n = json_object_array_length(v);
    pki_buf_init(&b, c->pool, 4 * n + 3);
    pki_buf_putc(&b, '[');
    for (i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(v, i);
        if (!json_object_is_type(item, json_type_int)) {
            fail(c, key, "A valid integer is required.");
            return 0;
        }
        if (i) {
            pki_buf_putc(&b, ',');
        }
        pki_buf_put_int(&b, json_object_get_int64(item));
    }
    pki_buf_putc(&b, ']');
    *out = pki_buf_cstr(&b);
    return 1;
}

/* participants: strings stored comma-joined, so each must survive the split on ',' and the
 * trim the API applies. */
static int get_participants(ctx *c, const char *key, const char **out)
{
    struct json_object *v = list_value(c, key);
    pki_buf b;
    apr_size_t i, n;

    *out = "";
    if (!v) {
        return 0;
    }
    n = json_object_array_length(v);
    pki_buf_init(&b, c->pool, 16 * n + 1);
    for (i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(v, i);
        const char *s;
        int len;
        if (!json_object_is_type(item, json_type_string)) {
            fail(c, key, "Not a valid string.");
            return 0;
        }
        s = json_object_get_string(item);
        len = json_object_get_string_len(item);
        if (len == 0 || memchr(s, ',', len) || memchr(s, '\0', len) || apr_isspace(s[0]) ||
            apr_isspace(s[len - 1])) {
            fail(c, key,
                 "Each participant must be a non-empty name without commas or "
                 "surrounding spaces.");
            return 0;
        }
        if (i) {
            pki_buf_putc(&b, ',');
        }
        pki_buf_put(&b, s, len);
    }
    if (b.len > MAX_PARTICIPANTS * 16) {
        fail(c, key, "Too many participants.");
        return 0;
    }
    *out = pki_buf_cstr(&b);
    return 1;
}

static int start(ctx *c, apr_pool_t *pool, struct json_object *obj, apr_array_header_t *errs)
{
    c->pool = pool;
    c->obj = obj;
    c->errs = errs;
    c->nerrs = 0;
    if (!json_object_is_type(obj, json_type_object)) {
        fail(c, "", "Invalid data. Expected a dictionary.");
        return 0;
    }
    return 1;
}

int pki_parse_package(apr_pool_t *pool, struct json_object *obj, pki_package *p,
                      apr_array_header_t *errs)
{
    ctx c;
    struct json_object *v;

    memset(p, 0, sizeof(*p));
    if (!start(&c, pool, obj, errs)) {
        return c.nerrs;
    }
    if ((v = value(&c, "category"))) {
        get_link(&c, "category", v, PKI_RES_CATEGORIES, &p->category_id);
    }
    get_links(&c, "grids", PKI_RES_GRIDS, &p->grids);
    get_int(&c, "id", 1, &p->id);
    get_string(&c, "title", MAX_PACKAGE_TITLE, 0, &p->title);
    get_slug(&c, "slug", &p->slug);
    get_time(&c, "last_updated", 1, &p->last_updated);
    get_time(&c, "last_fetched", 1, &p->last_fetched);
    get_string(&c, "repo_url", MAX_URL, 0, &p->repo_url);
    get_string(&c, "pypi_version", MAX_VERSION, 1, &p->pypi_version);
    get_time(&c, "created", 0, &p->created);
    get_time(&c, "modified", 0, &p->modified);
    get_int(&c, "repo_forks", APR_INT64_MIN, &p->repo_forks);
    get_string(&c, "repo_description", 0, 0, &p->repo_description);
    get_string(&c, "pypi_url", MAX_URL, 0, &p->pypi_url);
    get_string(&c, "documentation_url", MAX_DOC_URL, 1, &p->documentation_url);
    get_int(&c, "repo_watchers", APR_INT64_MIN, &p->repo_watchers);
    get_commits(&c, "commits_over_52", &p->commits_over_52);
    get_participants(&c, "participants", &p->participants);
    return c.nerrs;
}

int pki_parse_grid(apr_pool_t *pool, struct json_object *obj, pki_grid *g, apr_array_header_t *errs)
{
    ctx c;

    memset(g, 0, sizeof(*g));
    if (!start(&c, pool, obj, errs)) {
        return c.nerrs;
    }
    get_int(&c, "id", 1, &g->id);
    get_string(&c, "title", MAX_GRID_TITLE, 0, &g->title);
    get_slug(&c, "slug", &g->slug);
    get_string(&c, "description", 0, 0, &g->description);
    get_bool(&c, "is_locked", &g->is_locked);
    get_links(&c, "packages", PKI_RES_PACKAGES, &g->packages);
    get_bool(&c, "header", &g->header);
    get_time(&c, "created", 0, &g->created);
    get_time(&c, "modified", 0, &g->modified);
    return c.nerrs;
}

int pki_parse_category(apr_pool_t *pool, struct json_object *obj, pki_category *cat,
                       apr_array_header_t *errs)
{
    ctx c;

    memset(cat, 0, sizeof(*cat));
    if (!start(&c, pool, obj, errs)) {
        return c.nerrs;
    }
    get_int(&c, "id", 1, &cat->id);
    get_string(&c, "title", MAX_CATEGORY_TEXT, 0, &cat->title);
    get_slug(&c, "slug", &cat->slug);
    get_string(&c, "description", 0, 0, &cat->description);
    get_string(&c, "title_plural", MAX_CATEGORY_TEXT, 0, &cat->title_plural);
    get_bool(&c, "show_pypi", &cat->show_pypi);
    get_time(&c, "created", 0, &cat->created);
    get_time(&c, "modified", 0, &cat->modified);
    return c.nerrs;
}

/* The value of the four hex digits at S (which has at least four bytes), or -1. */
static int hex4(const char *s)
{
    int i, v = 0;

    for (i = 0; i < 4; i++) {
        int c = (unsigned char)s[i];
        if (!apr_isxdigit(c)) {
            return -1;
        }
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

#define SURROGATE_HIGH_FIRST 0xD800
#define SURROGATE_LOW_FIRST  0xDC00
#define SURROGATE_LAST       0xDFFF

apr_ssize_t pki_json_lone_surrogate(const char *text, apr_size_t len)
{
    apr_size_t i = 0;
    int in_string = 0;

    while (i < len) {
        char c = text[i];
        int u;

        if (!in_string) {
            in_string = c == '"';
            i++;
            continue;
        }
        if (c == '"') {
            in_string = 0;
            i++;
            continue;
        }
        if (c != '\\') {
            i++;
            continue;
        }
        /* an escape: \u and four hex digits, or a backslash and one byte */
        if (i + 6 > len || text[i + 1] != 'u' || (u = hex4(text + i + 2)) < 0) {
            i += 2;
            continue;
        }
        if (u >= SURROGATE_LOW_FIRST && u <= SURROGATE_LAST) {
            return (apr_ssize_t)i; /* a low half with no high half before it */
        }
        if (u >= SURROGATE_HIGH_FIRST && u < SURROGATE_LOW_FIRST) {
            int low = i + 12 <= len && text[i + 6] == '\\' && text[i + 7] == 'u'
                          ? hex4(text + i + 8)
                          : -1;
            if (low < SURROGATE_LOW_FIRST || low > SURROGATE_LAST) {
                return (apr_ssize_t)i;
            }
            i += 12;
            continue;
        }
        i += 6;
    }
    return -1;
}

apr_ssize_t pki_utf8_invalid_at(const char *text, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    apr_size_t i = 0;

    while (i < len) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        apr_size_t n, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
            hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80; /* no overlongs */
            hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
        } else {
            return (apr_ssize_t)i; /* a continuation byte, C0, C1 or F5..FF first */
        }
        if (n >= len - i) {
            return (apr_ssize_t)i; /* cut short */
        }
        for (k = 1; k <= n; k++) {
            unsigned b = s[i + k];
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
                return (apr_ssize_t)i;
            }
        }
        i += n + 1;
    }
    return -1;
}
