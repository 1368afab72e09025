# SPDX-License-Identifier: Apache-2.0
# Warning flags every target links through project_warnings.
add_library(project_warnings INTERFACE)
target_compile_options(project_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla
    -Wdouble-promotion -Wfloat-equal -Wconversion -Wno-sign-conversion)
if(WARNINGS_AS_ERRORS)
    target_compile_options(project_warnings INTERFACE -Werror)
endif()
