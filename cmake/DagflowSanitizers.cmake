# DAGFLOW_SANITIZE=<list> (e.g. "address,undefined" or "thread") instruments every target.
if(DAGFLOW_SANITIZE)
  add_compile_options(-fsanitize=${DAGFLOW_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${DAGFLOW_SANITIZE})
endif()

# dagflow_tbb_sources(<files>): the translation units that instantiate oneTBB's header code.
# - ThreadSanitizer: Debian's libtbb is not built with TSan, so TSan cannot see the
#   synchronisation inside it. These files are compiled uninstrumented, like libtbb itself, and
#   dagflow publishes every hand-off through its own atomics, which TSan does see. No TSan
#   suppression is needed and none names dagflow code.
# - UBSan: oneTBB 2021.8's graph_task::destruct_and_deallocate (_flow_graph_impl.h) static_casts
#   `this` to the derived type after running the destructor, which the `vptr` check reports.
#   That is oneTBB's code; only that one check is turned off, only in these files.
function(dagflow_tbb_sources)
  set(options "")
  if(DAGFLOW_SANITIZE MATCHES "thread")
    list(APPEND options -fno-sanitize=thread)
  endif()
  if(DAGFLOW_SANITIZE MATCHES "undefined")
    list(APPEND options -fno-sanitize=vptr)
  endif()
  if(options)
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "${options}")
  endif()
endfunction()
