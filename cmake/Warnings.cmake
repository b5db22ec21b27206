# Warnings as errors on our own targets only; dependency headers are SYSTEM.
function(immudb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()
