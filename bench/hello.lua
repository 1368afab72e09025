-- SPDX-License-Identifier: Apache-2.0
-- The reference: GET / on the hello server.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
require "common"
function init(args) ok = 0; bad = 0 end
