// An int parameter given a std::string literal.
#include <dagflow/dagflow.hpp>

#include <string>

int square(int x) { return x * x; }

int main() {
  dagflow::Graph g;
  auto d = g.delayed(square, std::string("three"));
  (void)d;
}
