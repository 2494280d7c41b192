// A shared library that is no dagflow plugin: it has no entry point.
extern "C" __attribute__((visibility("default"))) int not_a_plugin_answer() { return 42; }
