// map writes results in place into a std::vector<R>, so R must be default-constructible.
#include <vector>

#include <dagflow/dagflow.hpp>

struct NoDefault {
  explicit NoDefault(int v) : value(v) {}
  int value;
};

int main() {
  dagflow::Graph g;
  auto d = dagflow::map(
      g, [](int x) { return NoDefault(x); }, std::vector<int>{1, 2});
  (void)d;
}
