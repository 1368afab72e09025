/* SPDX-License-Identifier: Apache-2.0 */
/* The per-token write rate limit: a token bucket per token id (api/rate_limit.c). Internal to api/.
 */
#ifndef API_RATE_LIMIT_H
#define API_RATE_LIMIT_H

#include <stdint.h>

struct api_rate_limiter;

/* A limiter of per_second writes per token, burst at once; NULL when per_second is
 * not positive or out of memory. The caller owns it (api_rate_limiter_destroy). */
struct api_rate_limiter *api_rate_limiter_create(double per_second, double burst);
void api_rate_limiter_destroy(struct api_rate_limiter *r);

/* Takes one write from the budget of token_id: 0 when it may go ahead, else the
 * seconds to wait (nothing taken). A NULL limiter allows every write. */
int api_rate_limiter_take(struct api_rate_limiter *r, int64_t token_id);

#endif
