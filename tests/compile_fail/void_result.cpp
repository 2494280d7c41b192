// A task must produce a value.
#include <dagflow/dagflow.hpp>

void log_it(int) {}

int main() {
  dagflow::Graph g;
  auto d = g.delayed(log_it, 1);
  (void)d;
}
