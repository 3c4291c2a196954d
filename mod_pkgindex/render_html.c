/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include "render_html.h"

static void html_escape(pki_buf *out, const char *s, apr_size_t n)
{
    const char *end = s + n, *run = s;

    for (; s < end; s++) {
        const char *rep;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#x27;";
            break;
        default:
            continue;
        }
        pki_buf_put(out, run, s - run);
        pki_buf_puts(out, rep);
        run = s + 1;
    }
    pki_buf_put(out, run, end - run);
}

static void esc(pki_buf *out, const char *s)
{
    html_escape(out, s, strlen(s));
}

static const char *status_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 412:
        return "Precondition Failed";
    case 503:
        return "Service Unavailable";
    default:
        return "";
    }
}

/* The JSON text with every string that is an http(s) URL made a link. Only those: a
 * "javascript:" value stays text. A string holding a backslash escape is left as text too,
 * rather than guessing its unescaped form. */
static void write_json(pki_buf *out, const char *s, apr_size_t n)
{
    const char *end = s + n, *run = s;

    while (s < end) {
        const char *q, *content;
        apr_size_t len;

        if (*s != '"') {
            s++;
            continue;
        }
        for (q = s + 1; q < end && *q != '"'; q++) {
            if (*q == '\\') {
                q++;
            }
        }
        if (q >= end) {
            break;
        }
        content = s + 1;
        len = q - content;
        if ((len > 7 && strncmp(content, "http://", 7) == 0) ||
            (len > 8 && strncmp(content, "https://", 8) == 0)) {
            if (!memchr(content, '\\', len)) {
                html_escape(out, run, s - run);
                pki_buf_puts(out, "<a href=\"");
                html_escape(out, content, len);
                pki_buf_puts(out, "\" rel=\"nofollow\">");
                html_escape(out, s, q + 1 - s);
                pki_buf_puts(out, "</a>");
                run = q + 1;
            }
        }
        s = q + 1;
    }
    html_escape(out, run, end - run);
}

static const char style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1f2328;background:#f6f8fa}"
    "header{background:#0c4b33;color:#fff;padding:.6rem 1rem}"
    "header a{color:#fff;text-decoration:none;font-weight:600}"
    "main{max-width:72rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.6rem;margin:.5rem 0}"
    ".description p{margin:.3rem 0;color:#57606a}"
    ".bar{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end;align-items:start}"
    ".bar a,.bar summary,nav a,nav span{display:inline-block;padding:.3rem .7rem;border:1px solid"
    " #d0d7de;border-radius:6px;background:#fff;color:#0c4b33;text-decoration:none;"
    "cursor:pointer}"
    "details pre{max-height:20rem}"
    "pre{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem;overflow:auto;"
    "white-space:pre-wrap;word-break:break-word;font:14px/1.45 ui-monospace,SFMono-Regular,"
    "Menlo,Consolas,monospace}"
    "pre a{color:#0a58ca}"
    ".meta{color:#57606a}"
    "nav{display:flex;flex-wrap:wrap;gap:.3rem;margin:.8rem 0}"
    "nav .current{background:#0c4b33;color:#fff;border-color:#0c4b33}"
    "nav .gap{border:none;background:none}"
    "form.search{display:flex;gap:.5rem;margin:.8rem 0}"
    "form.search input{flex:1;min-width:0;font:inherit;padding:.4rem .7rem;border:1px solid"
    " #d0d7de;border-radius:6px}"
    "form.search button{font:inherit;padding:.4rem 1rem;border:1px solid #0c4b33;border-radius:6px;"
    "background:#0c4b33;color:#fff;cursor:pointer}";

/* A GET form: the browser builds ?q=…, the page answers with the results below it. */
static void search_form(pki_buf *out, const pki_html_page *p)
{
    if (!p->search_action) {
        return;
    }
    pki_buf_puts(out, "<form class=\"search\" role=\"search\" method=\"get\" action=\"");
    esc(out, p->search_action);
    pki_buf_puts(out, "\"><input type=\"search\" name=\"q\" maxlength=\"400\" "
                      "placeholder=\"Search packages and grids\" aria-label=\"Search\" value=\"");
    esc(out, p->search_q ? p->search_q : "");
    pki_buf_puts(out, "\">");
    if (p->search_format) {
        pki_buf_puts(out, "<input type=\"hidden\" name=\"format\" value=\"");
        esc(out, p->search_format);
        pki_buf_puts(out, "\">");
    }
    pki_buf_puts(out, "<button type=\"submit\">Search</button></form>");
}

static void pagination(pki_buf *out, const pki_html_page *p)
{
    int i;

    if (!p->pages || p->pages->nelts < 2) {
        return;
    }
    pki_buf_puts(out, "<nav aria-label=\"pages\">");
    if (p->previous) {
        pki_buf_puts(out, "<a rel=\"prev\" href=\"");
        esc(out, p->previous);
        pki_buf_puts(out, "\">&laquo; Previous</a>");
    }
    for (i = 0; i < p->pages->nelts; i++) {
        const pki_html_page_link *l = &((const pki_html_page_link *)p->pages->elts)[i];
        if (!l->number) {
            pki_buf_puts(out, "<span class=\"gap\">&hellip;</span>");
        } else if (l->current) {
            pki_buf_printf(out, "<span class=\"current\">%" APR_INT64_T_FMT "</span>", l->number);
        } else {
            pki_buf_puts(out, "<a href=\"");
            esc(out, l->url);
            pki_buf_printf(out, "\">%" APR_INT64_T_FMT "</a>", l->number);
        }
    }
    if (p->next) {
        pki_buf_puts(out, "<a rel=\"next\" href=\"");
        esc(out, p->next);
        pki_buf_puts(out, "\">Next &raquo;</a>");
    }
    pki_buf_puts(out, "</nav>");
}

void pki_render_html(pki_buf *out, const pki_html_page *p)
{
    const char *d = p->description;

    pki_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>");
    esc(out, p->name);
    pki_buf_puts(out, " &ndash; Django Packages API</title><style>");
    pki_buf_puts(out, style);
    pki_buf_puts(out, "</style></head><body><header><a href=\"");
    esc(out, p->root_url);
    pki_buf_puts(out, "\">Django Packages API</a></header><main><div class=\"bar\">"
                      "<details class=\"options\"><summary>OPTIONS</summary><pre>");
    esc(out, p->options_json);
    pki_buf_puts(out, "</pre></details><a class=\"format\" href=\"");
    esc(out, p->json_url);
    pki_buf_puts(out, "\">json</a></div><h1>");
    esc(out, p->name);
    pki_buf_puts(out, "</h1><div class=\"description\">");
    /* paragraphs: the description's blank lines */
    while (*d) {
        const char *e = strstr(d, "\n\n");
        apr_size_t n = e ? (apr_size_t)(e - d) : strlen(d);
        pki_buf_puts(out, "<p>");
        html_escape(out, d, n);
        pki_buf_puts(out, "</p>");
        d += n;
        while (*d == '\n') {
            d++;
        }
    }
    pki_buf_puts(out, "</div>");
    search_form(out, p);
    pagination(out, p);
    pki_buf_puts(out, "<div class=\"response\"><pre><span class=\"meta\"><b>");
    esc(out, p->method);
    pki_buf_puts(out, "</b> ");
    esc(out, p->target);
    pki_buf_printf(out, "\n<b>HTTP %d %s</b>\n", p->status, status_reason(p->status));
    pki_buf_puts(out, "<b>Allow:</b> ");
    esc(out, p->allow);
    pki_buf_puts(out, "\n<b>Content-Type:</b> application/json\n<b>Vary:</b> Accept\n\n</span>");
    write_json(out, p->json, p->json_len);
    pki_buf_puts(out, "</pre></div>");
    pagination(out, p);
    pki_buf_puts(out, "</main></body></html>\n");
}
