// The whole public API of dagflow in one include.
#pragma once

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/disk_cache.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/file.hpp>
#include <dagflow/engine/observer.hpp>
#include <dagflow/engine/this_task.hpp>
#include <dagflow/engine/trace.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/graph/graph.hpp>
#include <dagflow/graph/hashing.hpp>
#include <dagflow/graph/keys.hpp>
#include <dagflow/graph/serialization.hpp>
#include <dagflow/graph/task_options.hpp>
#include <dagflow/graph/traversal.hpp>
#include <dagflow/graph/types.hpp>
#include <dagflow/graph/value_size.hpp>
#include <dagflow/nodes/csv.hpp>
#include <dagflow/nodes/image.hpp>
#include <dagflow/nodes/op_registry.hpp>
#include <dagflow/nodes/random.hpp>
#include <dagflow/nodes/table.hpp>
#include <dagflow/nodes/text.hpp>
#include <dagflow/nodes/value.hpp>
#include <dagflow/pipeline/pipeline.hpp>
#include <dagflow/version.hpp>
