# DAGFLOW_SANITIZE=<list> (e.g. "address,undefined" or "thread") instruments every target.
if(DAGFLOW_SANITIZE)
  add_compile_options(-fsanitize=${DAGFLOW_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${DAGFLOW_SANITIZE})
endif()

# Debian's libtbb is not built with ThreadSanitizer, so TSan cannot see the synchronisation inside
# it. The one translation unit that touches oneTBB is therefore compiled uninstrumented, and
# dagflow publishes every hand-off through its own atomics, which TSan does see.
function(dagflow_uninstrumented_for_tsan)
  if(DAGFLOW_SANITIZE MATCHES "thread")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-fno-sanitize=thread")
  endif()
endfunction()
