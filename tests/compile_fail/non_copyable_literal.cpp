// Literals are captured by value, so a move-only literal is refused.
#include <memory>

#include <dagflow/dagflow.hpp>

int main() {
  dagflow::Graph g;
  auto d = g.delayed([](const std::unique_ptr<int>& p) { return *p; }, std::make_unique<int>(1));
  (void)d;
}
