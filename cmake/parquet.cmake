# Apache Arrow / Parquet C++ from the pyarrow wheel (Debian 12 packages no Arrow C++): scripts/fetch_pyarrow.sh
# installs it into a venv; here its headers and versioned shared libraries (libarrow.so.NNNN,
# libparquet.so.NNNN, no unversioned names) become the imported target scitune_parquet, linked by full path
# with an RPATH to the wheel's folder so ./build/scitune runs without LD_LIBRARY_PATH (the wheel's own
# libraries find each other through their RUNPATH $ORIGIN).
#   SCITUNE_PARQUET      AUTO (default: use it when found), ON (required), OFF (never)
#   SCITUNE_PYARROW_DIR  the wheel's pyarrow/ package folder; default: searched in the venv under
#                        $SCITUNE_DATA (default ~/.cache/scitune)/pyarrow-venv
# Sets SCITUNE_HAVE_PARQUET.
set(SCITUNE_PARQUET AUTO CACHE STRING "Read .parquet datasets through the pyarrow wheel's Arrow C++: AUTO, ON or OFF")
set_property(CACHE SCITUNE_PARQUET PROPERTY STRINGS AUTO ON OFF)
set(SCITUNE_PYARROW_DIR "" CACHE PATH "pyarrow package folder (with include/ and libparquet.so.*); empty: search")
set(SCITUNE_HAVE_PARQUET OFF)

if(NOT SCITUNE_PARQUET STREQUAL "OFF")
  if(DEFINED ENV{SCITUNE_DATA} AND NOT "$ENV{SCITUNE_DATA}" STREQUAL "")
    set(pa_venv $ENV{SCITUNE_DATA}/pyarrow-venv)
  else()
    set(pa_venv $ENV{HOME}/.cache/scitune/pyarrow-venv)
  endif()
  set(pa_dir ${SCITUNE_PYARROW_DIR})
  if(NOT pa_dir)
    file(GLOB pa_dirs LIST_DIRECTORIES true ${pa_venv}/lib/python3*/site-packages/pyarrow)
    list(SORT pa_dirs)
    if(pa_dirs)
      list(GET pa_dirs -1 pa_dir)  # the newest Python's, should a venv hold several
    endif()
  endif()
  set(pa_why "")
  if(NOT pa_dir)
    set(pa_why "no pyarrow in ${pa_venv}")
  elseif(NOT EXISTS ${pa_dir}/include/parquet/arrow/reader.h)
    set(pa_why "${pa_dir}/include/parquet/arrow/reader.h is missing")
  else()
    # Versioned names only; the plain 4-digit suffix (libarrow.so.2600) is the SONAME.
    file(GLOB pa_arrow ${pa_dir}/libarrow.so.[0-9][0-9]*)
    file(GLOB pa_parquet ${pa_dir}/libparquet.so.[0-9][0-9]*)
    list(FILTER pa_arrow EXCLUDE REGEX "\\.so\\.[0-9]+\\.")
    list(FILTER pa_parquet EXCLUDE REGEX "\\.so\\.[0-9]+\\.")
    list(LENGTH pa_arrow n_arrow)
    list(LENGTH pa_parquet n_parquet)
    if(NOT n_arrow EQUAL 1 OR NOT n_parquet EQUAL 1)
      set(pa_why "expected one libarrow.so.N and one libparquet.so.N in ${pa_dir}, found '${pa_arrow}' and '${pa_parquet}'")
    endif()
  endif()
  if(pa_why)
    if(SCITUNE_PARQUET STREQUAL "ON")
      message(FATAL_ERROR "SCITUNE_PARQUET=ON but ${pa_why}: run scripts/fetch_pyarrow.sh (or set SCITUNE_PYARROW_DIR)")
    endif()
    message(STATUS "Parquet input disabled (${pa_why}): run scripts/fetch_pyarrow.sh, then configure again")
  else()
    # Linked by full path: CMake puts their folder in every linking binary's build RPATH.
    add_library(scitune_arrow SHARED IMPORTED GLOBAL)
    set_target_properties(scitune_arrow PROPERTIES IMPORTED_LOCATION ${pa_arrow})
    # SYSTEM: Arrow's headers are not held to our warning flags.
    target_include_directories(scitune_arrow SYSTEM INTERFACE ${pa_dir}/include)
    add_library(scitune_parquet SHARED IMPORTED GLOBAL)
    set_target_properties(scitune_parquet PROPERTIES IMPORTED_LOCATION ${pa_parquet}
                          INTERFACE_LINK_LIBRARIES scitune_arrow)
    set(SCITUNE_HAVE_PARQUET ON)
    string(REGEX REPLACE ".*\\.so\\." "" pa_version ${pa_parquet})
    message(STATUS "Parquet input: Arrow C++ ${pa_version} from ${pa_dir}")
  endif()
else()
  message(STATUS "Parquet input disabled (SCITUNE_PARQUET=OFF)")
endif()
