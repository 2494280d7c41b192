// A void task produces no value, so it cannot be another task's argument (Graph::after orders
// a task after it instead).
#include <dagflow/dagflow.hpp>

void log_it(int) {}
int twice(int x) { return 2 * x; }

int main() {
  dagflow::Graph g;
  auto step = g.delayed(log_it, 1);
  auto d = g.delayed(twice, step);
  (void)d;
}
