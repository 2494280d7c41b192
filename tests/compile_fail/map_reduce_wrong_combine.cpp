// map_reduce's combine must take the accumulator and fn's result: a string combine for int
// results is refused with one message.
#include <string>
#include <vector>

#include <dagflow/dagflow.hpp>

int main() {
  dagflow::Graph g;
  std::vector<int> xs{1, 2, 3};
  auto d = dagflow::map_reduce(
      g, [](int x) { return x * 2; },
      [](const std::string& a, const std::string& b) { return a + b; }, 0, xs);
  (void)d;
}
