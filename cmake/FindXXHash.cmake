# FindXXHash: Debian's libxxhash-dev ships a pkg-config file but no CMake package, so look for
# the header and library directly. Installed next to dagflowConfig.cmake for static consumers.
#
# Provides XXHash_FOUND, XXHash_VERSION, XXHash_INCLUDE_DIR, XXHash_LIBRARY and the IMPORTED
# target XXHash::xxhash.
find_path(XXHash_INCLUDE_DIR NAMES xxhash.h)
find_library(XXHash_LIBRARY NAMES xxhash)

if(XXHash_INCLUDE_DIR AND EXISTS "${XXHash_INCLUDE_DIR}/xxhash.h")
  file(STRINGS "${XXHash_INCLUDE_DIR}/xxhash.h" _xxhash_version_lines
       REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE) +[0-9]+")
  foreach(part MAJOR MINOR RELEASE)
    string(REGEX REPLACE ".*XXH_VERSION_${part} +([0-9]+).*" "\\1" _xxhash_${part}
           "${_xxhash_version_lines}")
  endforeach()
  set(XXHash_VERSION "${_xxhash_MAJOR}.${_xxhash_MINOR}.${_xxhash_RELEASE}")
  unset(_xxhash_version_lines)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(XXHash
  REQUIRED_VARS XXHash_LIBRARY XXHash_INCLUDE_DIR
  VERSION_VAR XXHash_VERSION)
mark_as_advanced(XXHash_INCLUDE_DIR XXHash_LIBRARY)

if(XXHash_FOUND AND NOT TARGET XXHash::xxhash)
  add_library(XXHash::xxhash UNKNOWN IMPORTED)
  set_target_properties(XXHash::xxhash PROPERTIES
    IMPORTED_LOCATION "${XXHash_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${XXHash_INCLUDE_DIR}")
endif()
