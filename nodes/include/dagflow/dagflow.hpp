// The whole public API of dagflow in one include.
#pragma once

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/file.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/traversal.hpp>
#include <dagflow/version.hpp>
