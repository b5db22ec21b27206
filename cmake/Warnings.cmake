# Warnings as errors on our own targets only; dependency headers are SYSTEM.
# -Wno-restrict: GCC 12 reports false -Wrestrict errors inside libstdc++'s
# std::string concatenation at -O2/-O3 (GCC bug 105329).
function(immudb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
endfunction()
