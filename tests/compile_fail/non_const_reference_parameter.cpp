// Tasks may not modify their inputs: a non-const reference parameter is refused.
#include <dagflow/dagflow.hpp>

int bump(int& x) { return ++x; }

int main() {
  dagflow::Graph g;
  auto a = g.delayed([] { return 1; });
  auto d = g.delayed(bump, a);
  (void)d;
}
