/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_strings.h>

#include "import_scan.h"

#define SCAN_CHUNK 65536
/* Enough of the input's first bytes to recognise what it is (see sniff). */
#define SNIFF_BYTES 6
/* Brackets whose kind is remembered, to end a record at a mismatch (json-c refuses nesting
 * deeper than this long before). */
#define TRACKED_DEPTH 256

struct pki_scanner {
    pki_scan_read_fn read;
    void *ctx;
    char chunk[SCAN_CHUNK];
    apr_size_t pos, len;
    apr_off_t base; /* the input offset of chunk[0] */
    int eof;
    apr_status_t read_error;
    long line;
    int started;              /* the input's first bytes were looked at */
    int values;               /* top-level values (or arrays) seen */
    int in_array;             /* inside a top-level array: its elements are the records */
    int first;                /* no element of that array read yet */
    pki_scan_result over;     /* DONE or FATAL once the scan has ended, else RECORD */
    char open[TRACKED_DEPTH]; /* the open brackets of the value being read */
    const char *over_why;
    pki_scan_pos over_at;
};

static apr_status_t read_file(void *ctx, char *buf, apr_size_t *len)
{
    return apr_file_read(ctx, buf, len);
}

pki_scanner *pki_scanner_make(apr_pool_t *pool, pki_scan_read_fn read, void *ctx)
{
    pki_scanner *sc = apr_pcalloc(pool, sizeof(*sc));

    sc->read = read;
    sc->ctx = ctx;
    sc->line = 1;
    sc->over = PKI_SCAN_RECORD;
    return sc;
}

pki_scanner *pki_scanner_file(apr_pool_t *pool, apr_file_t *file)
{
    return pki_scanner_make(pool, read_file, file);
}

apr_status_t pki_scan_read_error(const pki_scanner *sc)
{
    return sc->read_error;
}

int pki_scan_empty(const pki_scanner *sc)
{
    return sc->values == 0 && sc->over == PKI_SCAN_DONE;
}

/* Refills the chunk once it is used up; at least MIN bytes when the input has them (a pipe
 * may hand them over one at a time). 0 at the end of the input. */
static int fill(pki_scanner *sc, apr_size_t min)
{
    if (sc->pos < sc->len) {
        return 1;
    }
    sc->base += sc->len;
    sc->pos = sc->len = 0;
    while (!sc->eof && sc->len < min) {
        apr_size_t n = SCAN_CHUNK - sc->len;
        apr_status_t rv = sc->read(sc->ctx, sc->chunk + sc->len, &n);
        if (rv != APR_SUCCESS || n == 0) {
            if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv)) {
                sc->read_error = rv;
            }
            sc->eof = 1;
        }
        sc->len += n;
    }
    return sc->len > 0;
}

static int peek(pki_scanner *sc)
{
    return fill(sc, 1) ? (unsigned char)sc->chunk[sc->pos] : -1;
}

static void advance(pki_scanner *sc)
{
    sc->line += sc->chunk[sc->pos] == '\n';
    sc->pos++;
}

static void here(const pki_scanner *sc, pki_scan_pos *at)
{
    at->line = sc->line;
    at->byte = sc->base + (apr_off_t)sc->pos;
}

static int skip_ws(pki_scanner *sc)
{
    int c;

    while ((c = peek(sc)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
        advance(sc);
    }
    return c;
}

/* Ends the scan: this and every later call answer RESULT. */
static pki_scan_result end(pki_scanner *sc, pki_scan_result result, const pki_scan_pos *at,
                           const char *why)
{
    sc->over = result;
    sc->over_at = *at;
    sc->over_why = why;
    return result;
}

static const char *byte_name(apr_pool_t *pool, int c)
{
    if (c == 0) {
        return "NUL byte (binary data, or UTF-16/UTF-32 text?)";
    }
    if (c > ' ' && c < 0x7f) {
        return apr_psprintf(pool, "'%c'", c);
    }
    return apr_psprintf(pool, "byte 0x%02X", c);
}

static pki_scan_result syntax_error(pki_scanner *sc, apr_pool_t *pool, pki_scan_pos *at,
                                    const char **why, const char *what)
{
    *why = apr_psprintf(pool, "invalid JSON at byte %" APR_OFF_T_FMT ": %s", at->byte, what);
    return end(sc, PKI_SCAN_FATAL, at, *why);
}

/* What the input is when its first bytes say it is not UTF-8 text. */
static const struct {
    const char *magic;
    apr_size_t len;
    const char *what;
} not_text[] = {
    {"\x1f\x8b", 2,
     "gzip-compressed data, not JSON text: decompress it first "
     "(zcat FILE.gz | pkgindex-import --db ... -)"},
    {"BZh", 3,
     "bzip2-compressed data, not JSON text: decompress it first "
     "(bzcat FILE.bz2 | pkgindex-import --db ... -)"},
    {"\xfd"
     "7zXZ",
     5,
     "xz-compressed data, not JSON text: decompress it first "
     "(xzcat FILE.xz | pkgindex-import --db ... -)"},
    {"\x28\xb5\x2f\xfd", 4,
     "zstd-compressed data, not JSON text: decompress it first "
     "(zstdcat FILE.zst | pkgindex-import --db ... -)"},
    {"PK\x03\x04", 4, "a zip archive, not JSON text: extract the JSON files first"},
    {"\xff\xfe\0\0", 4,
     "UTF-32 text (little-endian byte order mark): convert it to UTF-8 first "
     "(iconv -f UTF-32 -t UTF-8 FILE)"},
    {"\0\0\xfe\xff", 4,
     "UTF-32 text (big-endian byte order mark): convert it to UTF-8 first "
     "(iconv -f UTF-32 -t UTF-8 FILE)"},
    {"\xff\xfe", 2,
     "UTF-16 text (little-endian byte order mark): convert it to UTF-8 first "
     "(iconv -f UTF-16 -t UTF-8 FILE)"},
    {"\xfe\xff", 2,
     "UTF-16 text (big-endian byte order mark): convert it to UTF-8 first "
     "(iconv -f UTF-16 -t UTF-8 FILE)"},
};

#define UTF8_BOM "\xef\xbb\xbf"

/* Looks at the input's first bytes once: a UTF-8 byte order mark is skipped; compressed data
 * and other encodings end the scan with their name. */
static int sniff(pki_scanner *sc, pki_scan_pos *at, const char **why)
{
    const unsigned char *b = (const unsigned char *)sc->chunk;
    apr_size_t i;

    sc->started = 1;
    if (!fill(sc, SNIFF_BYTES)) {
        return 1;
    }
    here(sc, at);
    for (i = 0; i < sizeof(not_text) / sizeof(not_text[0]); i++) {
        if (sc->len >= not_text[i].len && memcmp(b, not_text[i].magic, not_text[i].len) == 0) {
            *why = not_text[i].what;
            end(sc, PKI_SCAN_FATAL, at, *why);
            return 0;
        }
    }
    /* UTF-32 without a byte order mark: ASCII text with three NULs to a character */
    if (sc->len >= 4 && ((b[0] && !b[1] && !b[2] && !b[3]) || (!b[0] && !b[1] && !b[2] && b[3]))) {
        *why = "UTF-32 text (no byte order mark): convert it to UTF-8 first "
               "(iconv -f UTF-32 -t UTF-8 FILE)";
        end(sc, PKI_SCAN_FATAL, at, *why);
        return 0;
    }
    /* UTF-16 without a byte order mark: ASCII text with every other byte NUL */
    if (sc->len >= 2 && (b[0] == 0) != (b[1] == 0) && b[0] < 0x80 && b[1] < 0x80) {
        *why = "UTF-16 text (no byte order mark): convert it to UTF-8 first "
               "(iconv -f UTF-16 -t UTF-8 FILE)";
        end(sc, PKI_SCAN_FATAL, at, *why);
        return 0;
    }
    if (sc->len >= 3 && memcmp(b, UTF8_BOM, 3) == 0) {
        sc->pos = 3;
    }
    return 1;
}

/* A byte that may start a bare value (a number, true, false, null; json-c judges the rest). */
static int bare_byte(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

/* Reads one JSON value into REC: a container by bracket depth, a string to its closing quote
 * (escapes respected), a bare value while its bytes last. Past PKI_IMPORT_MAX_RECORD bytes it
 * keeps reading but stops keeping, so a gigabyte line costs no memory. The caller has seen
 * that the next byte starts a value. */
static pki_scan_result read_value(pki_scanner *sc, pki_buf *rec, pki_scan_pos *at, const char **why)
{
    int c = peek(sc), depth = 0, in_string = 0, escaped = 0, too_large = 0, bare = bare_byte(c),
        done = 0;

    here(sc, at);
    rec->len = 0;
    sc->values++;
    /* Scan the buffered chunk in place and copy whole spans: this loop sees every byte. */
    while (!done && fill(sc, 1)) {
        const char *start = sc->chunk + sc->pos, *stop = sc->chunk + sc->len, *p;

        for (p = start; p < stop && !done; p++) {
            c = (unsigned char)*p;
            if (c == '\0') {
                at->line = sc->line;
                at->byte = sc->base + (apr_off_t)(p - sc->chunk);
                sc->pos = p - sc->chunk;
                return syntax_error(
                    sc, rec->pool, at, why,
                    apr_pstrcat(rec->pool, "unexpected ", byte_name(rec->pool, c), NULL));
            }
            if (bare) {
                if (!bare_byte(c)) {
                    break;
                }
            } else if (in_string) {
                sc->line += c == '\n'; /* raw, so invalid, but counted: even escaped */
                if (escaped) {
                    escaped = 0;
                } else if (c == '\\') {
                    escaped = 1;
                } else if (c == '"') {
                    in_string = 0;
                    done = depth == 0;
                }
            } else if (c == '"') {
                in_string = 1;
            } else if (c == '{' || c == '[') {
                if (depth < TRACKED_DEPTH) {
                    sc->open[depth] = (char)c;
                }
                depth++;
            } else if (c == '}' || c == ']') {
                /* a '}' for a '[' ends the record here: json-c says where it is wrong, and
                 * the rest of the input is read as what it is */
                done = --depth == 0 ||
                       (depth < TRACKED_DEPTH && sc->open[depth] != (c == '}' ? '{' : '['));
            } else if (c == '\n') {
                sc->line++;
            }
        }
        done |= p < stop; /* a bare value ended at a byte it does not own */
        if (!too_large) {
            if (rec->len + (apr_size_t)(p - start) > PKI_IMPORT_MAX_RECORD) {
                too_large = 1;
            } else {
                pki_buf_put(rec, start, p - start);
            }
        }
        sc->pos += p - start;
    }
    if (too_large) {
        *why = apr_psprintf(rec->pool, "record larger than %d MiB", PKI_IMPORT_MAX_RECORD >> 20);
        return PKI_SCAN_BAD;
    }
    if (!bare && !done) {
        long start = at->line;
        here(sc, at);
        *why = apr_psprintf(rec->pool,
                            "truncated JSON at byte %" APR_OFF_T_FMT
                            ": the input ends inside a value that starts on line %ld",
                            at->byte, start);
        return end(sc, PKI_SCAN_FATAL, at, *why);
    }
    return PKI_SCAN_RECORD;
}

static int value_start(int c)
{
    return c == '{' || c == '[' || c == '"' || bare_byte(c);
}

pki_scan_result pki_scan_next(pki_scanner *sc, pki_buf *rec, pki_scan_pos *at, const char **why)
{
    apr_pool_t *pool = rec->pool;
    int c;

    if (sc->over != PKI_SCAN_RECORD) {
        *at = sc->over_at;
        *why = sc->over_why;
        return sc->over;
    }
    if (!sc->started && !sniff(sc, at, why)) {
        return PKI_SCAN_FATAL;
    }
    for (;;) {
        c = skip_ws(sc);
        here(sc, at);
        if (!sc->in_array) {
            if (c < 0) {
                *why = NULL;
                return end(sc, PKI_SCAN_DONE, at, NULL);
            }
            if (c == '[') {
                advance(sc);
                sc->values++;
                sc->in_array = 1;
                sc->first = 1;
                continue;
            }
            if (!value_start(c)) {
                return syntax_error(
                    sc, pool, at, why,
                    apr_pstrcat(pool, "unexpected ", byte_name(pool, c),
                                c == ',' || c == '}' || c == ']'
                                    ? " between records (a file holds JSON objects, one after "
                                      "the other or one per line, or arrays of them)"
                                    : "",
                                NULL));
            }
            return read_value(sc, rec, at, why);
        }
        if (c < 0) {
            *why = apr_psprintf(
                pool, "truncated JSON at byte %" APR_OFF_T_FMT ": the input ends inside an array",
                at->byte);
            return end(sc, PKI_SCAN_FATAL, at, *why);
        }
        if (c == ']') {
            advance(sc);
            sc->in_array = 0;
            continue;
        }
        if (!sc->first) {
            if (c != ',') {
                return syntax_error(sc, pool, at, why,
                                    apr_pstrcat(pool,
                                                "expected ',' or ']' after an array element, "
                                                "found ",
                                                byte_name(pool, c), NULL));
            }
            advance(sc);
            c = skip_ws(sc);
            here(sc, at);
            if (c < 0) {
                continue; /* truncated: said above */
            }
        }
        if (!value_start(c)) {
            return syntax_error(
                sc, pool, at, why,
                apr_pstrcat(pool, "expected an array element, found ", byte_name(pool, c), NULL));
        }
        sc->first = 0;
        return read_value(sc, rec, at, why);
    }
}
