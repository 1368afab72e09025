/* SPDX-License-Identifier: Apache-2.0 */
/* The two figures of sharing, as footprints and family pages write them: the
 * sharing dividend (what descendants avoided by building on shared models) and
 * the day inference overtakes training. Internal to api/. */
#ifndef API_SHARING_H
#define API_SHARING_H

#include "dividend.h"
#include "json_text.h"
#include "overtake.h"

#include <stdbool.h>

/* How each figure is computed, as the answers state it. */
#define API_DIVIDEND_METHOD                                                                        \
    "Each descendant would otherwise have paid the pre-training (training activities) of "         \
    "every distinct root it builds on, times counterfactual_fraction; what it avoided is that "    \
    "less its own emissions, never below zero. The multiple is what the family and separate "      \
    "trainings would have emitted, over what the family emitted."
#define API_LEDGER_DIVIDEND_METHOD                                                                 \
    "Each descendant (a model with parents, counted once, a merge of two families included) "      \
    "would otherwise have paid the pre-training (training activities) of every distinct root "     \
    "it builds on; what it avoided is that less its own emissions, never below zero, summed "      \
    "over the descendants. emitted_co2e_kg is every model's own emissions, "                       \
    "counterfactual_co2e_kg emitted plus avoided, the multiple counterfactual over emitted. "      \
    "Every write keeps the sum, at counterfactual_fraction 1."
#define API_FAMILY_OVERTAKE_METHOD                                                                 \
    "Cumulative inference CO2e of the family's members (each day's counts times the CO2e of "      \
    "one inference under the profile that applies to each member; members without one add "        \
    "nothing) against the training and fine-tuning CO2e of the family and of the ancestors of "    \
    "the model it is read below: the day it was reached, a day's inferences spread evenly over "   \
    "it, else projected at the mean daily rate of the last window_days days (bounded by the "      \
    "last 7 days' mean)."
#define API_OVERTAKE_METHOD                                                                        \
    "Cumulative inference CO2e (daily counts times CO2e per inference) against the training "      \
    "and fine-tuning CO2e of the model and its ancestors: the day it was reached, a day's "        \
    "inferences spread evenly over it, else projected at the mean daily rate of the last "         \
    "window_days days (bounded by the last 7 days' mean)."

/* Reads ?counterfactual_fraction (0 < f <= 1; default 1) into *out: 400 naming the
 * parameter otherwise. */
enum err api_dividend_fraction(const struct api_request *req, double *out,
                               struct api_problem *problem);

/* Reads ?window_days (1..366; default 28) into *out: 400 naming the parameter
 * otherwise. */
enum err api_overtake_window(const struct api_request *req, int *out, struct api_problem *problem);

/* The family's dividend object {status, avoided_co2e_kg, emitted_co2e_kg,
 * counterfactual_co2e_kg, multiple, descendants, descendants_without_pretraining,
 * counterfactual_fraction, method}. */
void api_dividend_write(struct text *t, const struct core_dividend *d, double fraction);

/* The ledger's or a namespace's dividend as a new object of the same members as
 * api_dividend_write's, at fraction 1: n_descendants descendants of which n_unknown
 * build on a root without known pre-training, avoided_kg their shares' sum,
 * emitted_kg what every model emitted itself. New reference; NULL when out of
 * memory. */
json_t *api_ledger_dividend_json(int64_t n_descendants, int64_t n_unknown,
                                 struct core_range avoided_kg, struct core_range emitted_kg);

/* One descendant's share {status, counterfactual_co2e_kg, avoided_co2e_kg}. */
void api_dividend_share_write(struct text *t, const struct core_dividend_share *share);

/* The overtake object {status, reason, training_co2e_kg, inference_co2e_kg,
 * rate_co2e_kg_per_day, window_days, first_use_date, date, days_after_first_use,
 * method}; has_profile false writes status "no_profile". is_family: a family's
 * (its reasons and method say so). */
void api_overtake_write(struct text *t, const struct core_overtake *o, bool has_profile,
                        int window_days, bool is_family);

/* The overtake of model_key whose inferences cost g_per_inference each, as of
 * today (UTC): reads the lineage's training and the model's series. */
enum err api_overtake_compute(struct db *db, int64_t model_key, struct core_range g_per_inference,
                              int window_days, struct core_overtake *out);

/* The overtake of the family D(model_key) (model_key included), as of today (UTC):
 * the family's training and fine-tuning and those of model_key's ancestors, against
 * every member's inferences, each priced by the profile that applies to it, from
 * the maintained family series (O(representatives x (ancestors + days))). A member
 * whose lineage has no profile adds nothing; *has_profile says whether any has one. */
enum err api_family_overtake_compute(struct db *db, int64_t model_key, int window_days,
                                     bool *has_profile, struct core_overtake *out);

#endif
