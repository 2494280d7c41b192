// A task may run on any thread, several times: it is called as const.
#include <dagflow/dagflow.hpp>

int main() {
  dagflow::Graph g;
  int calls = 0;
  auto d = g.delayed([calls]() mutable { return ++calls; });
  (void)d;
}
