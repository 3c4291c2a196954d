/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* import_scan.c, the importer's stream splitter: the input after its first byte is the stream;
 * the first byte sets how many bytes each read hands over (0: as many as asked; else 1..255,
 * as a pipe may). Every call must consume a byte or end the scan, so the calls are counted
 * against the input's length: a splitter that loops fails here, not by libFuzzer's timeout.
 * Each record must be the input's own bytes at the position it names (line included), records
 * must follow each other, and once the scan has ended it must say the same again. */

#include "fuzz.h"
#include "import_scan.h"

typedef struct stream {
    const uint8_t *data;
    size_t size, pos, piece;
} stream;

static apr_status_t read_piece(void *ctx, char *buf, apr_size_t *len)
{
    stream *s = ctx;
    size_t n = s->size - s->pos;

    if (s->piece && n > s->piece) {
        n = s->piece;
    }
    if (n > *len) {
        n = *len;
    }
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    *len = n;
    return n ? APR_SUCCESS : APR_EOF;
}

static long line_at(const uint8_t *data, apr_off_t byte)
{
    long line = 1;
    apr_off_t i;

    for (i = 0; i < byte; i++) {
        line += data[i] == '\n';
    }
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    stream s;
    pki_scanner *sc;
    pki_buf rec;
    pki_scan_pos at, again_at;
    pki_scan_result r, again;
    const char *why, *again_why;
    apr_off_t next = 0; /* where the next record may start, at the earliest */
    size_t calls = 0;
    int records = 0;

    if (size < 1) {
        return 0;
    }
    pool = fuzz_pool();
    s.data = data + 1;
    s.size = size - 1;
    s.pos = 0;
    s.piece = data[0];
    sc = pki_scanner_make(pool, read_piece, &s);
    pki_buf_init(&rec, pool, 256);
    for (;;) {
        why = NULL;
        r = pki_scan_next(sc, &rec, &at, &why);
        /* each call consumes a byte, or ends the scan (plus one for the end itself) */
        FUZZ_CHECK(++calls <= s.size + 1);
        FUZZ_CHECK(at.byte >= 0 && (size_t)at.byte <= s.size);
        FUZZ_CHECK(at.line == line_at(s.data, at.byte));
        if (r == PKI_SCAN_RECORD) {
            FUZZ_CHECK(rec.len > 0 && at.byte >= next && (size_t)at.byte + rec.len <= s.size);
            FUZZ_CHECK(memcmp(rec.data, s.data + at.byte, rec.len) == 0);
            next = at.byte + (apr_off_t)rec.len;
            records++;
            continue;
        }
        /* no record reaches 64 MiB here */
        FUZZ_CHECK(r == PKI_SCAN_DONE || r == PKI_SCAN_FATAL);
        break;
    }
    FUZZ_CHECK(r == PKI_SCAN_DONE ? why == NULL : why && *why);
    FUZZ_CHECK(r == PKI_SCAN_FATAL || s.pos == s.size);
    FUZZ_CHECK(pki_scan_read_error(sc) == APR_SUCCESS);
    FUZZ_CHECK(!pki_scan_empty(sc) || (r == PKI_SCAN_DONE && !records));
    again = pki_scan_next(sc, &rec, &again_at, &again_why);
    FUZZ_CHECK(again == r && again_at.byte == at.byte && again_at.line == at.line);
    FUZZ_CHECK(again_why == why || (why && again_why && !strcmp(why, again_why)));
    apr_pool_destroy(pool);
    return 0;
}
