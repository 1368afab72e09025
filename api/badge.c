/* SPDX-License-Identifier: Apache-2.0 */
/* GET …/badge.svg: a small SVG badge of a model's amortized footprint for a model
 * card or a README ("CO2e | 83 kg", "CO2e | 0.33 g / inference"). Reads the
 * footprint as GET …/footprint does; every text written is XML-escaped. */
#include "api_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A mass in grams as three significant figures in a unit that keeps the number
 * short: t, kg, g (down to 0.01 g, so "0.33 g / inference" reads as such), mg
 * below that, and g again for zero. */
static void format_mass(double g, char *buf, size_t buf_len)
{
    static const struct {
        double from_g; /* the smallest magnitude written in this unit */
        double unit_g;
        const char *unit;
    } units[] = {
        {1e6, 1e6, "t"}, {1e3, 1e3, "kg"}, {1e-2, 1.0, "g"}, {1e-12, 1e-3, "mg"}, {0.0, 1.0, "g"}};
    size_t i = 0;

    while (i + 1 < sizeof units / sizeof units[0] && fabs(g) < units[i].from_g)
        i++;
    snprintf(buf, buf_len, "%.3g %s", g / units[i].unit_g, units[i].unit);
}

static void xml_escaped(struct core_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            core_buf_append_str(b, "&amp;");
            break;
        case '<':
            core_buf_append_str(b, "&lt;");
            break;
        case '>':
            core_buf_append_str(b, "&gt;");
            break;
        case '"':
            core_buf_append_str(b, "&quot;");
            break;
        case '\'':
            core_buf_append_str(b, "&apos;");
            break;
        default:
            core_buf_append(b, s, 1);
        }
    }
}

/* An approximate width in pixels of text at 11 px Verdana (about 7 px a
 * character), enough to size the two halves without measuring fonts. */
static int text_width(const char *text)
{
    return (int)strlen(text) * 7 + 10;
}

static void write_badge(struct core_buf *b, const char *label, const char *value, const char *title)
{
    int left = text_width(label), right = text_width(value);

    core_buf_printf(b,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" "
                    "role=\"img\" aria-label=\"",
                    left + right);
    xml_escaped(b, title);
    core_buf_append_str(b, "\"><title>");
    xml_escaped(b, title);
    core_buf_printf(b,
                    "</title><rect width=\"%d\" height=\"20\" fill=\"#555\"/>"
                    "<rect x=\"%d\" width=\"%d\" height=\"20\" fill=\"#2e7d32\"/>"
                    "<g fill=\"#fff\" text-anchor=\"middle\" "
                    "font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">"
                    "<text x=\"%d\" y=\"14\">",
                    left, left, right, left / 2);
    xml_escaped(b, label);
    core_buf_printf(b, "</text><text x=\"%d\" y=\"14\">", left + right / 2);
    xml_escaped(b, value);
    core_buf_append_str(b, "</text></g></svg>\n");
}

static enum err badge_metric(const struct api_request *req, bool *is_per_inference,
                             struct api_problem *problem)
{
    const char *metric = api_query_get(req, "metric");

    *is_per_inference = false;
    if (metric == NULL || strcmp(metric, "total") == 0)
        return ERR_OK;
    if (strcmp(metric, "per_inference") == 0) {
        *is_per_inference = true;
        return ERR_OK;
    }
    api_field_error(problem, "metric", "must be total or per_inference");
    return api_fail(problem, ERR_BAD_REQUEST,
                    "query parameter 'metric' must be total or per_inference");
}

enum err api_badge_get(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply)
{
    static const char *const allowed[] = {"policy", "metric", NULL};
    struct core_model_id id;
    struct api_footprint footprint;
    enum core_policy policy;
    bool is_per_inference;
    char value[64], title[160 + sizeof id.ns + sizeof id.name];
    struct core_buf b = {0};
    char *text;
    size_t len;
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_policy_from_query(req, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = badge_metric(req, &is_per_inference, &reply->problem);
    if (rc == ERR_OK)
        rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    rc = api_footprint_load(req->db, 0, &id, policy, &footprint);
    if (rc == ERR_NOT_FOUND)
        return api_fail(&reply->problem, rc, "model '%s' is not registered",
                        CORE_MODEL_ID_TEXT(&id));
    if (rc != ERR_OK)
        return rc;
    if (!is_per_inference) {
        format_mass(footprint.fp.total_kg.value * 1e3, value, sizeof value);
    } else if (footprint.fp.has_g_per_inference) {
        format_mass(footprint.fp.total_g_per_inference.value, value, sizeof value);
        strcat(value, " / inference");
    } else {
        snprintf(value, sizeof value, "no inferences yet");
    }
    api_footprint_cleanup(&footprint);
    snprintf(title, sizeof title, "CO2e of %s (%s): %s", CORE_MODEL_ID_TEXT(&id),
             core_policy_name(policy), value);
    write_badge(&b, "CO2e", value, title);
    if (b.failed) {
        core_buf_cleanup(&b);
        return ERR_NO_MEMORY;
    }
    api_reply_header(reply, "Cache-Control", "no-cache");
    text = core_buf_steal(&b, &len);
    return api_reply_bytes_etag(req, reply, text, len, "image/svg+xml");
}
