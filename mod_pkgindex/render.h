/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The API's objects as DRF's serializers write them: field order, types and derivations of
 * spec §2, through the JSON writer. */

#ifndef PKI_RENDER_H
#define PKI_RENDER_H

#include "jsonw.h"
#include "links.h"
#include "model.h"
#include "tz.h"

void pki_render_package(pki_json *j, const pki_links *l, const pki_tz *tz, const pki_package *p);
void pki_render_grid(pki_json *j, const pki_links *l, const pki_tz *tz, const pki_grid *g);
void pki_render_category(pki_json *j, const pki_tz *tz, const pki_category *c);

/* {"count":…,"next":…,"previous":…,"results":[…]} of resource RES. */
void pki_render_page(pki_json *j, const pki_links *l, const pki_tz *tz, pki_resource res,
                     const pki_page *page, const char *next, const char *previous);

/* The bare array of search results. */
void pki_render_search(pki_json *j, const pki_tz *tz, const pki_search_hit *hits, int n);

void pki_render_root(pki_json *j, const pki_links *l);

/* The OPTIONS metadata of a route (read-only mode). */
void pki_render_options(pki_json *j, pki_resource res, int detail);

/* {"detail":"…"} */
void pki_render_detail(pki_json *j, const char *detail);

/* The view name and description DRF shows for a route ("Package List", …). */
const char *pki_view_name(pki_resource res, int detail);
const char *pki_view_description(pki_resource res);

/* The model name in "No Package matches the given query." */
const char *pki_model_name(pki_resource res);

#endif
