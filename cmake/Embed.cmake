# SPDX-License-Identifier: Apache-2.0
# embed_files(OUTPUT <file.c> SYMBOL <name> FILES <f1> <f2> ...)
# Generates a C file holding every input file as a byte array, plus a table
#   const struct embedded_file <name>[]; const size_t <name>_count;
# Files are listed in the order given. The generated file includes "embedded.h".
function(embed_files)
    cmake_parse_arguments(E "" "OUTPUT;SYMBOL" "FILES" ${ARGN})
    add_custom_command(
        OUTPUT ${E_OUTPUT}
        COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL}
                "-DFILES=${E_FILES}" -DBASE=${CMAKE_SOURCE_DIR}
                -P ${CMAKE_SOURCE_DIR}/cmake/EmbedRun.cmake
        DEPENDS ${E_FILES} ${CMAKE_SOURCE_DIR}/cmake/EmbedRun.cmake
        COMMENT "Embedding ${E_SYMBOL}"
        VERBATIM)
endfunction()
