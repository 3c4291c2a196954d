/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* TZif (RFC 8536) reader, POSIX TZ footer rules, and datetime parse/format.
 * All calendar math is proleptic Gregorian on 64-bit integers, so nothing here depends on
 * the C library's notion of the local zone. */

#include <assert.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "tz.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE    (1 << 20) /* real zone files are a few KB */
#define USEC           APR_INT64_C(1000000)

/* One POSIX TZ transition rule: Jn, n or Mm.w.d, plus the local time of day it happens. */
typedef struct {
    char kind; /* 'J', 'N' or 'M' */
    int m, w, d;
    int secs;
} tz_rule;

struct pki_tz {
    int n;           /* number of transitions */
    apr_int64_t *at; /* transition instants, ascending */
    int *off;        /* offset in effect from at[i] */
    int before;      /* offset before at[0] */
    int has_footer;  /* the footer rule governs instants after at[n-1] */
    int has_dst;     /* footer has a DST part */
    int std_off, dst_off;
    tz_rule start, end;
};

static apr_int64_t floordiv(apr_int64_t a, apr_int64_t b)
{
    return a / b - (a % b < 0);
}

/* Howard Hinnant's days_from_civil / civil_from_days, valid for any 64-bit-safe year. */
static apr_int64_t days_from_civil(apr_int64_t y, int m, int d)
{
    apr_int64_t era;
    unsigned yoe, doy;

    y -= m <= 2;
    era = floordiv(y, 400);
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
    return era * 146097 + (apr_int64_t)(yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
}

static void civil_from_days(apr_int64_t z, apr_int64_t *y, int *m, int *d)
{
    apr_int64_t era = floordiv(z + 719468, 146097);
    unsigned doe = (unsigned)(z + 719468 - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (apr_int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(apr_int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(apr_int64_t y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return md[m - 1] + (m == 2 && is_leap(y));
}

/* Reads 1..MAXD digits into *v, which must lie in [LO, HI]; returns the rest or NULL. */
static const char *num(const char *s, int maxd, int lo, int hi, int *v)
{
    int n = 0;

    *v = 0;
    while (n < maxd && apr_isdigit(s[n])) {
        *v = *v * 10 + (s[n++] - '0');
    }
    return n && *v >= lo && *v <= hi ? s + n : NULL;
}

/* Exactly N digits. */
static const char *fixed(const char *s, int n, int lo, int hi, int *v)
{
    const char *e = num(s, n, lo, hi, v);
    return e && e - s == n ? e : NULL;
}

/* --- POSIX TZ strings (the TZif footer) --- */

static const char *tzs_name(const char *s)
{
    const char *b = s;

    if (*s == '<') {
        while (apr_isalnum(*++s) || *s == '+' || *s == '-') {
        }
        return *s == '>' && s > b + 1 ? s + 1 : NULL;
    }
    while (apr_isalpha(*s)) {
        s++;
    }
    return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]]; offsets allow 24 hours, rule times 167 (RFC 8536 section 3.3.1). */
static const char *tzs_time(const char *s, int maxh, int *secs)
{
    int neg = *s == '-', h, m = 0, x = 0;

    s += *s == '-' || *s == '+';
    if (!(s = num(s, 3, 0, maxh, &h))) {
        return NULL;
    }
    if (*s == ':' && !(s = num(s + 1, 2, 0, 59, &m))) {
        return NULL;
    }
    if (*s == ':' && !(s = num(s + 1, 2, 0, 59, &x))) {
        return NULL;
    }
    *secs = (neg ? -1 : 1) * (h * 3600 + m * 60 + x);
    return s;
}

static const char *tzs_rule(const char *s, tz_rule *r)
{
    r->secs = 7200; /* POSIX default: 02:00 */
    if (*s == 'M') {
        r->kind = 'M';
        if (!(s = num(s + 1, 2, 1, 12, &r->m)) || *s != '.' || !(s = num(s + 1, 1, 1, 5, &r->w)) ||
            *s != '.' || !(s = num(s + 1, 1, 0, 6, &r->d))) {
            return NULL;
        }
    } else if (*s == 'J') {
        r->kind = 'J';
        s = num(s + 1, 3, 1, 365, &r->d);
    } else {
        r->kind = 'N';
        s = num(s, 3, 0, 365, &r->d);
    }
    if (s && *s == '/') {
        s = tzs_time(s + 1, 167, &r->secs);
    }
    return s;
}

static int tzs_parse(pki_tz *tz, const char *s)
{
    int x;

    if (!(s = tzs_name(s)) || !(s = tzs_time(s, 24, &x))) {
        return -1;
    }
    tz->std_off = -x; /* POSIX offsets are positive west of Greenwich */
    if (!*s) {
        return 0;
    }
    if (!(s = tzs_name(s))) {
        return -1;
    }
    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = tzs_time(s, 24, &x))) {
            return -1;
        }
        tz->dst_off = -x;
    }
    if (!*s) {
        /* No rules: POSIX leaves it implementation-defined; glibc uses the US rules. */
        s = ",M3.2.0,M11.1.0";
    }
    if (*s != ',' || !(s = tzs_rule(s + 1, &tz->start)) || *s != ',' ||
        !(s = tzs_rule(s + 1, &tz->end))) {
        return -1;
    }
    return *s ? -1 : 0;
}

/* Instant at which rule R fires in year Y, for a local clock running at offset OFF. */
static apr_int64_t rule_at(const tz_rule *r, apr_int64_t y, int off)
{
    apr_int64_t day;

    if (r->kind == 'M') {
        apr_int64_t first = days_from_civil(y, r->m, 1);
        int dow = (int)((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
        int mday = 1 + (r->d - dow + 7) % 7 + (r->w - 1) * 7;

        while (mday > month_days(y, r->m)) {
            mday -= 7;
        }
        day = first + mday - 1;
    } else {
        /* Jn never counts February 29; n does. */
        int yday = r->kind == 'J' ? r->d - 1 + (is_leap(y) && r->d >= 60) : r->d;
        day = days_from_civil(y, 1, 1) + yday;
    }
    return day * 86400 + r->secs - off;
}

static int footer_offset(const pki_tz *tz, apr_int64_t t)
{
    apr_int64_t y, k;
    int m, d, north;

    if (!tz->has_dst) {
        return tz->std_off;
    }
    /* Keep the year arithmetic far from overflow; the answer for such instants is moot. */
    t = t < -(APR_INT64_C(1) << 40) ? -(APR_INT64_C(1) << 40) : t;
    t = t > (APR_INT64_C(1) << 40) ? (APR_INT64_C(1) << 40) : t;
    civil_from_days(floordiv(t, 86400), &y, &m, &d);
    /* Neighbouring years too, so rules whose periods straddle New Year still work. */
    north = rule_at(&tz->start, y, tz->std_off) < rule_at(&tz->end, y, tz->dst_off);
    for (k = y - 1; k <= y + 1; k++) {
        apr_int64_t s = rule_at(&tz->start, k, tz->std_off);
        apr_int64_t e = rule_at(&tz->end, k, tz->dst_off);

        if (north ? (t >= s && t < e) : (t >= e && t < s)) {
            return north ? tz->dst_off : tz->std_off;
        }
    }
    return north ? tz->std_off : tz->dst_off;
}

int pki_tz_offset(const pki_tz *tz, apr_int64_t t)
{
    int lo = 0, hi = tz->n;

    if (tz->n == 0 || t < tz->at[0]) {
        return tz->n == 0 && tz->has_footer ? footer_offset(tz, t) : tz->before;
    }
    if (t > tz->at[tz->n - 1] && tz->has_footer) {
        return footer_offset(tz, t);
    }
    /* Largest i with at[i] <= t; at[0] <= t holds here. */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return tz->off[lo];
}

/* --- TZif --- */

static apr_uint32_t be32(const unsigned char *p)
{
    return (apr_uint32_t)p[0] << 24 | (apr_uint32_t)p[1] << 16 | (apr_uint32_t)p[2] << 8 | p[3];
}

static apr_int64_t be64(const unsigned char *p)
{
    return (apr_int64_t)((apr_uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Header counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt. Returns the size of
 * the data block that follows, or 0 when the header is bad or the block does not fit. */
static apr_uint64_t tzif_header(const unsigned char *p, apr_size_t left, int tsize,
                                apr_uint32_t c[6])
{
    apr_uint64_t size;
    int i;

    if (left < 44 || memcmp(p, "TZif", 4) != 0) {
        return 0;
    }
    for (i = 0; i < 6; i++) {
        c[i] = be32(p + 20 + 4 * i);
    }
    size = (apr_uint64_t)c[3] * (tsize + 1) + (apr_uint64_t)c[4] * 6 + c[5] +
           (apr_uint64_t)c[2] * (tsize + 4) + c[1] + c[0];
    if (c[4] == 0 || c[4] > 256 || (c[1] && c[1] != c[4]) || (c[0] && c[0] != c[4]) ||
        size > left - 44) {
        return 0;
    }
    return size;
}

static const char *tzif_parse(pki_tz *tz, apr_pool_t *pool, const unsigned char *p, apr_size_t len)
{
    const unsigned char *end = p + len, *idx, *types;
    apr_uint32_t c[6];
    apr_uint64_t size;
    int tsize = 4, i, ntypes, *utoff;

    if (len < 4 || memcmp(p, "TZif", 4) != 0) {
        return "not a TZif file";
    }
    if (!(size = tzif_header(p, len, 4, c))) {
        return "truncated or corrupt TZif header";
    }
    if (p[4] >= '2') {
        /* Skip the 32-bit data; the 64-bit header and data follow. */
        p += 44 + size;
        tsize = 8;
        if (!(size = tzif_header(p, (apr_size_t)(end - p), 8, c))) {
            return "truncated or corrupt TZif v2+ header";
        }
    }
    p += 44;
    tz->n = (int)c[3];
    ntypes = (int)c[4];
    tz->at = apr_palloc(pool, sizeof(*tz->at) * (tz->n + 1));
    tz->off = apr_palloc(pool, sizeof(*tz->off) * (tz->n + 1));
    utoff = apr_palloc(pool, sizeof(*utoff) * ntypes);
    idx = p + (apr_size_t)tz->n * tsize;
    types = idx + tz->n;
    for (i = 0; i < ntypes; i++) {
        apr_int32_t u = (apr_int32_t)be32(types + 6 * i);
        if (u < -89999 || u > 93599 || types[6 * i + 4] > 1) { /* RFC 8536: within +-26h */
            return "corrupt TZif time type";
        }
        utoff[i] = u;
    }
    /* Before any transition: the first standard-time type, as Python's zoneinfo does. */
    tz->before = utoff[0];
    for (i = 0; i < ntypes; i++) {
        if (!types[6 * i + 4]) {
            tz->before = utoff[i];
            break;
        }
    }
    for (i = 0; i < tz->n; i++) {
        tz->at[i] = tsize == 8 ? be64(p + 8 * i) : (apr_int32_t)be32(p + 4 * i);
        if (idx[i] >= ntypes || (i && tz->at[i] <= tz->at[i - 1])) {
            return "corrupt TZif transitions";
        }
        tz->off[i] = utoff[idx[i]];
    }
    if (tsize == 8) {
        const unsigned char *f = p + size, *nl;
        if (f >= end || *f != '\n' || !(nl = memchr(f + 1, '\n', (apr_size_t)(end - f - 1)))) {
            return "TZif footer missing";
        }
        if (nl > f + 1) {
            if (tzs_parse(tz, apr_pstrmemdup(pool, (const char *)f + 1, nl - f - 1)) != 0) {
                return "bad TZ string in TZif footer";
            }
            tz->has_footer = 1;
        }
    }
    return NULL;
}

apr_status_t pki_tz_load(pki_tz **tzp, apr_pool_t *pool, const char *name, const char *dir,
                         const char **err)
{
    apr_pool_t *tmp;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    apr_status_t rv;
    unsigned char *data = NULL;
    const char *path, *msg;
    pki_tz *tz;
    char ebuf[120];

    if (!name || !*name || *name == '/' || strstr(name, "..")) {
        *err = apr_psprintf(pool, "invalid time zone name '%s'", name ? name : "");
        return APR_EINVAL;
    }
    path = apr_pstrcat(pool, dir ? dir : TZ_DEFAULT_DIR, "/", name, NULL);
    apr_pool_create(&tmp, pool);
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, tmp);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
        if (rv == APR_SUCCESS && (fi.filetype != APR_REG || fi.size > TZ_MAX_FILE)) {
            rv = APR_EINVAL;
        }
        if (rv == APR_SUCCESS) {
            len = (apr_size_t)fi.size;
            data = apr_palloc(tmp, len + 1);
            rv = apr_file_read_full(f, data, len, &len);
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "unknown time zone '%s': %s: %s", name, path,
                            rv == APR_EINVAL ? "not a regular zone file"
                                             : apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_pool_destroy(tmp);
        return rv;
    }
    tz = apr_pcalloc(pool, sizeof(*tz));
    if ((msg = tzif_parse(tz, pool, data, len)) != NULL) {
        *err = apr_psprintf(pool, "time zone '%s': %s: %s", name, path, msg);
        apr_pool_destroy(tmp);
        return APR_EGENERAL;
    }
    apr_pool_destroy(tmp);
    *tzp = tz;
    return APR_SUCCESS;
}

/* --- Datetimes --- */

/* Fractions longer than 6 digits are rejected (the header promises f{1,6}). */
static int parse_general(const char *s, apr_int64_t *usec);

/* Digit pairs at fixed places: the form SQLite stores ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC),
 * parsed without the general path's helpers; anything else falls through to it. */
#define D(i) ((unsigned)(s[i] - '0'))
static int parse_stored(const char *s, apr_int64_t *usec)
{
    int y, mo, d, h, mi, sec, frac = 0, i;

    for (i = 0; i < 19; i++) {
        if (i == 4 || i == 7     ? s[i] != '-'
            : i == 10            ? s[i] != ' '
            : i == 13 || i == 16 ? s[i] != ':'
                                 : D(i) > 9) {
            return -1;
        }
    }
    if (s[19] == '.') {
        for (i = 20; i < 26; i++) {
            if (D(i) > 9) {
                return -1;
            }
            frac = frac * 10 + (int)D(i);
        }
        if (s[26]) {
            return -1;
        }
    } else if (s[19]) {
        return -1;
    }
    y = (int)(D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3));
    mo = (int)(D(5) * 10 + D(6));
    d = (int)(D(8) * 10 + D(9));
    h = (int)(D(11) * 10 + D(12));
    mi = (int)(D(14) * 10 + D(15));
    sec = (int)(D(17) * 10 + D(18));
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 59) {
        return -1;
    }
    *usec = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * USEC + frac;
    return 0;
}
#undef D

int pki_time_parse(const char *s, apr_int64_t *usec)
{
    if (parse_stored(s, usec) == 0) {
        return 0;
    }
    return parse_general(s, usec);
}

static int parse_general(const char *s, apr_int64_t *usec)
{
    int y, mo, d, h, mi, sec, frac = 0, off = 0;

    if (!(s = fixed(s, 4, 1, 9999, &y)) || *s != '-' || !(s = fixed(s + 1, 2, 1, 12, &mo)) ||
        *s != '-' || !(s = fixed(s + 1, 2, 1, month_days(y, mo), &d)) || (*s != ' ' && *s != 'T') ||
        !(s = fixed(s + 1, 2, 0, 23, &h)) || *s != ':' || !(s = fixed(s + 1, 2, 0, 59, &mi)) ||
        *s != ':' || !(s = fixed(s + 1, 2, 0, 59, &sec))) {
        return -1;
    }
    if (*s == '.') {
        const char *b = s + 1;
        int nd;

        if (!(s = num(b, 6, 0, 999999, &frac)) || apr_isdigit(*s)) {
            return -1;
        }
        for (nd = (int)(s - b); nd < 6; nd++) {
            frac *= 10; /* pad right: ".4" is 400000 */
        }
    }
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om = 0, os = 0;

        if (!(s = fixed(s + 1, 2, 0, 23, &oh))) {
            return -1;
        }
        if (apr_isdigit(*s)) {
            s = fixed(s, 2, 0, 59, &om); /* +HHMM */
        } else if (*s == ':' && (s = fixed(s + 1, 2, 0, 59, &om)) && *s == ':') {
            s = fixed(s + 1, 2, 0, 59, &os);
        }
        if (!s) {
            return -1;
        }
        off = sign * (oh * 3600 + om * 60 + os);
    }
    if (*s) {
        return -1;
    }
    *usec = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off) * USEC + frac;
    return 0;
}

static char *digits(char *o, int v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + n;
}

/* "YYYY-MM-DD" SEP "HH:MM:SS[.ffffff]" of USEC shifted by OFF seconds; returns the end. */
static char *format_local(apr_int64_t usec, int off, char sep, char *o)
{
    int rem = (int)(usec % USEC), frac = rem < 0 ? rem + (int)USEC : rem, m, d, sod;
    apr_int64_t local = usec / USEC - (rem < 0) + off, y; /* floor without overflow */

    civil_from_days(floordiv(local, 86400), &y, &m, &d);
    sod = (int)(local - floordiv(local, 86400) * 86400);
    o = digits(o, (int)y, 4);
    *o++ = '-';
    o = digits(o, m, 2);
    *o++ = '-';
    o = digits(o, d, 2);
    *o++ = sep;
    o = digits(o, sod / 3600, 2);
    *o++ = ':';
    o = digits(o, sod / 60 % 60, 2);
    *o++ = ':';
    o = digits(o, sod % 60, 2);
    if (frac) {
        *o++ = '.';
        o = digits(o, frac, 6);
    }
    return o;
}

apr_size_t pki_time_format(const pki_tz *tz, apr_int64_t usec, char out[PKI_TIME_MAX])
{
    int rem = (int)(usec % USEC), off, a;
    char *o;

    off = pki_tz_offset(tz, usec / USEC - (rem < 0));
    o = format_local(usec, off, 'T', out);
    if (!off) {
        *o++ = 'Z';
    } else {
        a = off < 0 ? -off : off;
        *o++ = off < 0 ? '-' : '+';
        o = digits(o, a / 3600, 2);
        *o++ = ':';
        o = digits(o, a / 60 % 60, 2);
        if (a % 60) {
            *o++ = ':';
            o = digits(o, a % 60, 2);
        }
    }
    *o = '\0';
    return (apr_size_t)(o - out);
}

apr_size_t pki_time_format_sql(apr_int64_t usec, char out[PKI_TIME_MAX])
{
    char *o;

    /* a year of other than four digits would be stored as text nothing reads back */
    assert(usec >= PKI_TIME_FIRST && usec <= PKI_TIME_LAST);
    o = format_local(usec, 0, ' ', out);

    *o = '\0';
    return (apr_size_t)(o - out);
}
