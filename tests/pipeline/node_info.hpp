// node_info: one node's outcome in a pipeline run, for the pipeline tests.
#pragma once

#include <string_view>

#include <catch2/catch.hpp>

#include <dagflow/pipeline/pipeline.hpp>

namespace dagflow::test {

/// The run's entry for node `id`; fails the test (and returns the first) when there is none.
inline const NodeRunInfo& info(const PipelineResult& r, std::string_view id) {
  for (const auto& n : r.nodes) {
    if (n.id == id) return n;
  }
  FAIL("no node " << id);
  return r.nodes.front();
}

}  // namespace dagflow::test
