// reduce keeps init in the graph for every run: a move-only result type is refused.
#include <memory>
#include <vector>

#include <dagflow/dagflow.hpp>

int main() {
  dagflow::Graph g;
  std::vector<int*> xs;
  auto d = dagflow::reduce(
      g, [](std::unique_ptr<int> a, auto&&) { return a; }, std::unique_ptr<int>(), xs);
  (void)d;
}
