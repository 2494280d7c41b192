// A failing task stops the run: nothing downstream of it starts, and compute() throws a
// dagflow::TaskError that names the task and carries the original exception.
//
//   parse("42") --> double_it --+
//                               +--> add --> (never runs)
//   parse("4x2") -- throws -----+
#include <cstdio>
#include <stdexcept>
#include <string>

#include <dagflow/dagflow.hpp>

#include "example_support.hpp"

constexpr const char* kUsage =
    "usage: error_handling [--threads T]\n"
    "Runs a DAG in which one task throws, and shows what compute() reports.\n"
    "  --threads T   worker threads (default 0: all cores)\n";

int parse(const std::string& text) {
  std::size_t used = 0;
  const int value = std::stoi(text, &used);
  if (used != text.size()) throw std::invalid_argument("not a number: '" + text + "'");
  return value;
}

int main(int argc, char** argv) {
  const std::size_t threads = example::common_options(argc, argv, kUsage);
  dagflow::Graph g;
  auto good = g.delayed(dagflow::op("parse", parse), std::string("42"));
  auto doubled = g.delayed([](int x) { return 2 * x; }, good);
  auto bad = g.delayed(dagflow::op("parse", parse), std::string("4x2"));
  auto total = g.delayed([](int a, int b) { return a + b; }, doubled, bad);

  dagflow::Executor ex({.threads = threads});
  try {
    std::printf("total = %d\n", ex.compute(total));
  } catch (const dagflow::TaskError& e) {
    std::printf("caught: %s\n", e.what());
    // The Executor is still usable, and the good branch computes on its own.
    const int d = ex.compute(doubled);
    std::printf("doubled = %d\n", d);
    return e.label() == "parse" && d == 84 ? 0 : 1;
  }
  return 1;  // the run should have failed
}
