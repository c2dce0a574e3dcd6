# ctest install_and_consume: install the build tree to a temporary prefix, then configure,
# build and run tests/consumer against it through find_package(braid).
#
# cmake -D BUILD_DIR=... -D CONSUMER_DIR=... -D WORK_DIR=... [-D GENERATOR=...]
#       [-D CXX_COMPILER=...] [-D BUILD_TYPE=...] -P TestInstall.cmake

foreach(var BUILD_DIR CONSUMER_DIR WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "TestInstall.cmake: -D ${var}=... is required")
    endif()
endforeach()
if(NOT BUILD_TYPE)
    set(BUILD_TYPE Debug)
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
    string(REPLACE ";" " " shown "${ARGN}")
    message(STATUS "install test: ${shown}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install test: command failed (${rc}): ${shown}")
    endif()
endfunction()

run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

set(configure_args -S "${CONSUMER_DIR}" -B "${consumer_build}"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
if(GENERATOR)
    list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${consumer_build}")
run("${consumer_build}/braid_consumer")

# Leave nothing behind once it passed; a failure keeps WORK_DIR for a look.
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "install test: find_package(braid) + braid::braid work from ${prefix}")
