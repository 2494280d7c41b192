// NodeId: how the tasks of a Graph are numbered, and kNoNode, the id of no task.
//
// Plain integer values: copy them and share them between threads freely.
#pragma once

#include <cstdint>

namespace dagflow {

/// A task's id in its Graph. Ids are dense and handed out in creation order, and a task can only
/// depend on tasks that already exist, so ascending ids are always a topological order.
using NodeId = std::uint32_t;

/// The id of no task: what an empty (default-constructed) Delayed holds.
inline constexpr NodeId kNoNode = UINT32_MAX;

}  // namespace dagflow
