/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The query string as Django 4.2 and DRF read it.
 *
 * QueryDict: WSGI hands Django the raw bytes, which it decodes as UTF-8, or as Latin-1 when
 * the whole string is not valid UTF-8; then parse_qsl: split on '&', first '=', '+' is a
 * space, %XX a byte, and the bytes are UTF-8 with errors='replace'.
 *
 * Pagination links: DRF parses request.build_absolute_uri(), whose query is iri_to_uri() of
 * the Latin-1 QUERY_STRING, so there raw bytes >= 0x80 are always Latin-1. */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "query.h"

/* Python's sys.int_info.default_max_str_digits: int() refuses longer strings. */
#define PY_INT_MAX_DIGITS 4300

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Length of the valid UTF-8 sequence at S (N > 0 bytes), or 0 with *BAD set to the length of
 * the maximal invalid subpart, which Python's decoder replaces with one U+FFFD. */
static apr_size_t utf8_seq(const unsigned char *s, apr_size_t n, apr_size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    apr_size_t need, i;

    if (c < 0x80) {
        return 1;
    }
    if (c < 0xC2 || c > 0xF4) {
        *bad = 1;
        return 0;
    }
    if (c < 0xE0) {
        need = 1;
    } else if (c < 0xF0) {
        need = 2;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong */
        } else if (c == 0xED) {
            hi = 0x9F; /* surrogates */
        }
    } else {
        need = 3;
        if (c == 0xF0) {
            lo = 0x90; /* overlong */
        } else if (c == 0xF4) {
            hi = 0x8F; /* beyond U+10FFFF */
        }
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

static int utf8_valid(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0, len, bad;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if (!(len = utf8_seq(s + i, n - i, &bad))) {
            return 0;
        }
        i += len;
    }
    return 1;
}

/* S as bytes.decode('utf-8', 'replace'); DST has room for 3 * N bytes. */
static apr_size_t utf8_replace(char *dst, const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0, len, bad;
    char *d = dst;

    while (i < n) {
        if ((len = utf8_seq(s + i, n - i, &bad))) {
            memcpy(d, s + i, len);
            d += len;
            i += len;
        } else {
            memcpy(d, "\xEF\xBF\xBD", 3);
            d += 3;
            i += bad;
        }
    }
    return d - dst;
}

/* Decodes S[0..N) into DST like unquote_plus: '+' is a space, a valid %XX a byte, anything
 * else literal; with LATIN1 a raw byte >= 0x80 is the character U+0080..U+00FF. Returns the
 * end of the output; *PCT_HIGH tells that a %XX gave a byte >= 0x80, which may be invalid
 * UTF-8 (raw bytes never are: they were checked, or became Latin-1). */
static char *unquote(char *dst, const unsigned char *s, apr_size_t n, int latin1, int *pct_high)
{
    apr_size_t i;
    unsigned char c;
    int h, l;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (c == '+') {
            *dst++ = ' ';
        } else if (c == '%' && n - i > 2 && (h = hexval(s[i + 1])) >= 0 &&
                   (l = hexval(s[i + 2])) >= 0) {
            c = (unsigned char)(h << 4 | l);
            *dst++ = (char)c;
            *pct_high |= c >= 0x80;
            i += 2;
        } else if (c >= 0x80 && latin1) {
            *dst++ = (char)(0xC0 | c >> 6);
            *dst++ = (char)(0x80 | (c & 0x3F));
        } else {
            *dst++ = (char)c;
        }
    }
    return dst;
}

/* Decodes one key or value at *BUF, advancing it past the NUL; returns the string. */
static const char *decode(apr_pool_t *pool, char **buf, const char *s, apr_size_t n, int latin1,
                          apr_size_t *len)
{
    char *start = *buf, *end, *fixed;
    int pct_high = 0;

    end = unquote(start, (const unsigned char *)s, n, latin1, &pct_high);
    *end = '\0';
    *buf = end + 1;
    *len = end - start;
    if (pct_high && !utf8_valid((const unsigned char *)start, *len)) {
        fixed = apr_palloc(pool, *len * 3 + 1);
        *len = utf8_replace(fixed, (const unsigned char *)start, *len);
        fixed[*len] = '\0';
        return fixed;
    }
    return start;
}

/* LINK selects the decoding of pagination links: raw high bytes are Latin-1 regardless. */
static int query_parse(pki_query *q, apr_pool_t *pool, const char *raw, int link)
{
    const unsigned char *u = (const unsigned char *)raw;
    apr_size_t len, fields = 1, klen;
    const char *part, *end, *amp, *eq;
    int high = 0, latin1 = 0;
    char *buf;
    pki_param *p;

    q->link_args = NULL;
    if (!raw || !*raw) {
        q->params = apr_array_make(pool, 1, sizeof(pki_param));
        return 0;
    }
    for (len = 0; u[len]; len++) {
        fields += u[len] == '&';
        high |= u[len] >= 0x80;
    }
    /* parse_qsl counts 1 + qs.count('&'), empty parts included, before parsing anything. */
    if (fields > PKI_QUERY_MAX_FIELDS) {
        q->params = apr_array_make(pool, 1, sizeof(pki_param));
        return -1;
    }
    if (high) {
        if (link || !utf8_valid(u, len)) {
            latin1 = 1;
        } else {
            q->link_args = apr_pstrmemdup(pool, raw, len);
        }
    }

    q->params = apr_array_make(pool, (int)fields, sizeof(pki_param));
    /* Decoding never grows a string, except Latin-1 which doubles it; plus two NULs a part. */
    buf = apr_palloc(pool, (latin1 ? 2 * len : len) + 2 * fields);
    end = raw + len;
    for (part = raw; part < end; part = amp + 1) {
        if (!(amp = memchr(part, '&', end - part))) {
            amp = end;
        }
        if (amp == part) {
            continue;
        }
        eq = memchr(part, '=', amp - part);
        klen = (eq ? eq : amp) - part;
        p = apr_array_push(q->params);
        p->key = decode(pool, &buf, part, klen, latin1, &p->klen);
        if (eq) {
            p->val = decode(pool, &buf, eq + 1, amp - eq - 1, latin1, &p->vlen);
        } else {
            p->val = "";
            p->vlen = 0;
        }
    }
    return 0;
}

int pki_query_parse(pki_query *q, apr_pool_t *pool, const char *raw)
{
    return query_parse(q, pool, raw, 0);
}

static const pki_param *find_last(const pki_query *q, const char *key, apr_size_t klen)
{
    const pki_param *p;
    int i;

    if (!q->params) {
        return NULL;
    }
    p = (const pki_param *)q->params->elts;
    for (i = q->params->nelts - 1; i >= 0; i--) {
        if (p[i].klen == klen && !memcmp(p[i].key, key, klen)) {
            return &p[i];
        }
    }
    return NULL;
}

const char *pki_query_get(const pki_query *q, const char *key)
{
    const pki_param *p = find_last(q, key, strlen(key));

    return p ? p->val : NULL;
}

/* Unicode decimal digits (Nd) as Python 3.11 (Unicode 14.0) knows them: each run of ten
 * starts at one of these zeros. */
static const apr_uint32_t nd_zeros[] = {
    0x660,   0x6F0,   0x7C0,   0x966,   0x9E6,   0xA66,   0xAE6,   0xB66,   0xBE6,   0xC66,
    0xCE6,   0xD66,   0xDE6,   0xE50,   0xED0,   0xF20,   0x1040,  0x1090,  0x17E0,  0x1810,
    0x1946,  0x19D0,  0x1A80,  0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,  0xA8D0,
    0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0};

/* Non-ASCII code points that str.isspace() accepts, so int() strips them. */
static const apr_uint32_t py_spaces[] = {0x85,   0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
                                         0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                         0x2028, 0x2029, 0x202F, 0x205F, 0x3000};

enum { CH_SPACE = 10, CH_PLUS, CH_MINUS, CH_UNDERSCORE, CH_OTHER };

/* A code point as int() sees it: a digit value 0..9 or one of CH_*. */
static int int_class(apr_uint32_t cp)
{
    apr_size_t lo = 0, hi = sizeof(nd_zeros) / sizeof(nd_zeros[0]), mid, i;

    if (cp < 0x7F) {
        if (cp >= '0' && cp <= '9') {
            return cp - '0';
        }
        switch (cp) {
        case ' ':
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
            return CH_SPACE;
        case '+':
            return CH_PLUS;
        case '-':
            return CH_MINUS;
        case '_':
            return CH_UNDERSCORE;
        }
        return CH_OTHER;
    }
    for (i = 0; i < sizeof(py_spaces) / sizeof(py_spaces[0]); i++) {
        if (cp == py_spaces[i]) {
            return CH_SPACE;
        }
    }
    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (nd_zeros[mid] <= cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo && cp - nd_zeros[lo - 1] < 10) {
        return (int)(cp - nd_zeros[lo - 1]);
    }
    return CH_OTHER;
}

typedef struct py_int {
    apr_int64_t value; /* absolute value, saturated at APR_INT64_MAX */
    int negative;      /* a '-' before a non-zero value */
    int zero;
} py_int;

/* Python's int(S) on the UTF-8 string S[0..N): whitespace around, one sign, decimal digits
 * with single underscores between them. Returns -1 where int() raises ValueError. DIGITS, if
 * not NULL, gets the absolute value in canonical decimal (room for N + 1 bytes). */
static int parse_py_int(const char *s, apr_size_t n, char *digits, py_int *r)
{
    const unsigned char *u = (const unsigned char *)s;
    enum { LEAD, SIGN, NUMBER, TRAIL } state = LEAD;
    apr_size_t i = 0, len, bad, ndigits = 0;
    apr_uint32_t cp;
    int cls, underscore = 0, minus = 0;
    char *d = digits;

    r->value = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            cp = u[i++];
        } else {
            if (!(len = utf8_seq(u + i, n - i, &bad))) {
                return -1;
            }
            cp = u[i] & (0x3F >> (len - 1));
            for (bad = 1; bad < len; bad++) {
                cp = cp << 6 | (u[i + bad] & 0x3F);
            }
            i += len;
        }
        cls = int_class(cp);
        if (cls < 10) {
            if (state == TRAIL) {
                return -1;
            }
            state = NUMBER;
            underscore = 0;
            if (++ndigits > PY_INT_MAX_DIGITS) {
                return -1;
            }
            if (d && (cls || d > digits)) {
                *d++ = (char)('0' + cls);
            }
            if (r->value > (APR_INT64_MAX - cls) / 10) {
                r->value = APR_INT64_MAX;
            } else {
                r->value = r->value * 10 + cls;
            }
        } else if (cls == CH_SPACE) {
            if (state == SIGN || underscore) {
                return -1;
            }
            if (state == NUMBER) {
                state = TRAIL;
            }
        } else if ((cls == CH_PLUS || cls == CH_MINUS) && state == LEAD) {
            state = SIGN;
            minus = cls == CH_MINUS;
        } else if (cls == CH_UNDERSCORE && state == NUMBER && !underscore) {
            underscore = 1;
        } else {
            return -1;
        }
    }
    if (state < NUMBER || underscore) {
        return -1;
    }
    r->zero = r->value == 0;
    r->negative = minus && !r->zero;
    if (d) {
        if (d == digits) {
            *d++ = '0';
        }
        *d = '\0';
    }
    return 0;
}

/* Already "0" or digits without a leading zero, as most offsets are. */
static int canonical_decimal(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (!n || (s[0] == '0' && n > 1)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

void pki_query_page_params(const pki_query *q, apr_pool_t *pool, apr_int64_t default_limit,
                           apr_int64_t max_limit, pki_page_params *out)
{
    const pki_param *p;
    py_int v;
    char *digits;

    out->limit = default_limit;
    out->offset = 0;
    out->offset_str = "0";

    /* _positive_int(strict=True, cutoff=max_limit); any failure means the default. */
    p = find_last(q, "limit", 5);
    if (p && !parse_py_int(p->val, p->vlen, NULL, &v) && !v.negative && !v.zero) {
        out->limit = max_limit > 0 && v.value > max_limit ? max_limit : v.value;
    }

    /* _positive_int(): zero is fine, a failure means 0. */
    p = find_last(q, "offset", 6);
    if (!p) {
        return;
    }
    if (canonical_decimal(p->val, p->vlen)) {
        if (!parse_py_int(p->val, p->vlen, NULL, &v)) {
            out->offset = v.value;
            out->offset_str = p->val;
        }
        return;
    }
    digits = apr_palloc(pool, p->vlen + 2);
    if (!parse_py_int(p->val, p->vlen, digits, &v) && !v.negative) {
        out->offset = v.value;
        out->offset_str = digits;
    }
}

/* Characters quote() never encodes. */
static int quote_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '~';
}

static apr_size_t quoted_len(const char *s, apr_size_t n)
{
    apr_size_t i, len = n;

    for (i = 0; i < n; i++) {
        if (!quote_safe(s[i]) && s[i] != ' ') {
            len += 2;
        }
    }
    return len;
}

static char *quote_plus(char *d, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i;
    unsigned char c;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (quote_safe(c)) {
            *d++ = (char)c;
        } else if (c == ' ') {
            *d++ = '+';
        } else {
            *d++ = '%';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 15];
        }
    }
    return d;
}

const char *pki_query_quote_plus(apr_pool_t *pool, const char *value)
{
    apr_size_t n, len;
    char *out, *end;

    if (!value) {
        return "";
    }
    n = strlen(value);
    len = quoted_len(value, n);
    if (len == n && !memchr(value, ' ', n)) {
        return value;
    }
    out = apr_palloc(pool, len + 1);
    end = quote_plus(out, value, n);
    *end = '\0';
    return out;
}

typedef struct link_item {
    const char *key, *val;
    apr_size_t klen, vlen;
    int order;
} link_item;

/* sorted(query_dict.items()): keys by code point, which is UTF-8 byte order; a key's values
 * stay in the order they came. */
static int link_item_cmp(const void *a, const void *b)
{
    const link_item *x = a, *y = b;
    apr_size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);

    if (c) {
        return c;
    }
    if (x->klen != y->klen) {
        return x->klen < y->klen ? -1 : 1;
    }
    return x->order - y->order;
}

static int key_is(const pki_param *p, const char *key, apr_size_t klen)
{
    return p->klen == klen && !memcmp(p->key, key, klen);
}

const char *pki_query_page_link(apr_pool_t *pool, const pki_query *q, const char *limit,
                                const char *offset)
{
    const apr_array_header_t *arr = q->params;
    const pki_param *p;
    pki_query lq;
    link_item *items;
    apr_size_t len = 0;
    char *out, *d;
    int i, n = 0, count;

    if (q->link_args) {
        query_parse(&lq, pool, q->link_args, 1);
        arr = lq.params;
    }
    count = arr ? arr->nelts : 0;
    p = count ? (const pki_param *)arr->elts : NULL;
    items = apr_palloc(pool, (count + 2) * sizeof(*items));
    for (i = 0; i < count; i++) {
        if (key_is(&p[i], "limit", 5) || key_is(&p[i], "offset", 6)) {
            continue;
        }
        items[n].key = p[i].key;
        items[n].klen = p[i].klen;
        items[n].val = p[i].val;
        items[n].vlen = p[i].vlen;
        items[n].order = n;
        n++;
    }
    if (limit) {
        items[n].key = "limit";
        items[n].klen = 5;
        items[n].val = limit;
        items[n].vlen = strlen(limit);
        items[n].order = n;
        n++;
    }
    if (offset) {
        items[n].key = "offset";
        items[n].klen = 6;
        items[n].val = offset;
        items[n].vlen = strlen(offset);
        items[n].order = n;
        n++;
    }
    if (!n) {
        return "";
    }
    qsort(items, n, sizeof(*items), link_item_cmp);

    for (i = 0; i < n; i++) {
        len +=
            quoted_len(items[i].key, items[i].klen) + quoted_len(items[i].val, items[i].vlen) + 2;
    }
    d = out = apr_palloc(pool, len);
    for (i = 0; i < n; i++) {
        if (i) {
            *d++ = '&';
        }
        d = quote_plus(d, items[i].key, items[i].klen);
        *d++ = '=';
        d = quote_plus(d, items[i].val, items[i].vlen);
    }
    *d = '\0';
    return out;
}

void pki_query_put_quote_plus(pki_buf *b, const char *value)
{
    apr_size_t n = strlen(value), len = quoted_len(value, n);
    char *end;

    if (b->len + len > b->cap) {
        pki_buf_grow(b, len);
    }
    end = quote_plus(b->data + b->len, value, n);
    assert(end == b->data + b->len + len);
    b->len += len;
}

/* B in decimal into BUF (room for 21 bytes); returns the number of digits. */
static apr_size_t int64_digits(char *buf, apr_int64_t b)
{
    char tmp[20];
    apr_size_t n = 0, i;
    apr_uint64_t v = b < 0 ? 0 : (apr_uint64_t)b;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    buf[n] = '\0';
    return n;
}

/* A without leading zeros (but "0" stays), and its length. */
static const char *skip_zeros(const char *a, apr_size_t *len)
{
    while (a[0] == '0' && a[1]) {
        a++;
    }
    *len = strlen(a);
    return a;
}

const char *pki_decimal_sub(apr_pool_t *pool, const char *a, apr_int64_t b)
{
    char bd[21], *out;
    apr_size_t la, lb, i;
    int borrow = 0, s;

    a = skip_zeros(a, &la);
    lb = int64_digits(bd, b);
    out = apr_palloc(pool, la + 1);
    out[la] = '\0';
    for (i = 0; i < la; i++) {
        s = a[la - 1 - i] - '0' - borrow;
        if (i < lb) {
            s -= bd[lb - 1 - i] - '0';
        }
        borrow = s < 0;
        out[la - 1 - i] = (char)('0' + (borrow ? s + 10 : s));
    }
    while (out[0] == '0' && out[1]) {
        out++;
    }
    return out;
}

int pki_decimal_cmp(const char *a, apr_int64_t b)
{
    char bd[21];
    apr_size_t la, lb;
    int c;

    a = skip_zeros(a, &la);
    lb = int64_digits(bd, b);
    if (la != lb) {
        return la < lb ? -1 : 1;
    }
    c = memcmp(a, bd, la);
    return c < 0 ? -1 : c > 0;
}
